use super::*;
use crate::check::finding::Severity;
use crate::settings::Name;
use serde_json::json;

const SESSIONS: &str = "w4d_chatsession";

fn name(text: &str) -> Name {
    Name::parse("TEST", text).unwrap()
}

fn action(bound: bool, parameters: &[(&str, Value)]) -> MessageAction {
    MessageAction {
        name: name("w4d_SendMessage"),
        bound,
        parameters: parameters
            .iter()
            .map(|(key, value)| (name(key), value.clone()))
            .collect(),
    }
}

fn parameter(name: &str, kind: ParameterType, optional: bool) -> ApiParameter {
    ApiParameter {
        name: name.into(),
        kind,
        optional,
    }
}

/// A custom API bound to the sessions that takes a required text and an optional number.
fn api() -> CustomApi {
    CustomApi {
        unique_name: "w4d_SendMessage".into(),
        binding_type: 1,
        bound_table: Some(SESSIONS.into()),
        is_function: false,
        parameters: vec![
            parameter("Text", ParameterType::String, false),
            parameter("Priority", ParameterType::Integer, true),
        ],
    }
}

fn about<'a>(findings: &'a [Finding], subject: &str) -> &'a Finding {
    findings.iter().find(|f| f.subject == subject).unwrap()
}

fn severities(findings: &[Finding]) -> Vec<Severity> {
    findings.iter().map(|f| f.severity).collect()
}

#[test]
fn a_bound_custom_api_called_as_configured_is_ok() {
    let findings = custom_api_findings(
        &action(true, &[("Text", json!("{text}"))]),
        &api(),
        SESSIONS,
    );
    assert_eq!(severities(&findings), [Severity::Ok; 3], "{findings:#?}");
}

#[test]
fn a_bound_custom_api_configured_as_unbound_is_an_error_that_says_to_set_bound() {
    let findings = custom_api_findings(
        &action(false, &[("Text", json!("{text}"))]),
        &api(),
        SESSIONS,
    );
    let bound = about(&findings, BOUND);
    assert_eq!(bound.severity, Severity::Error);
    assert_eq!(
        bound.fix.as_deref(),
        Some("set MESSAGE_ACTION_BOUND to true")
    );
}

#[test]
fn an_unbound_custom_api_configured_as_bound_is_an_error() {
    let unbound = CustomApi {
        binding_type: 0,
        bound_table: None,
        ..api()
    };
    let findings = custom_api_findings(
        &action(true, &[("Text", json!("{text}"))]),
        &unbound,
        SESSIONS,
    );
    assert_eq!(about(&findings, BOUND).severity, Severity::Error);
    let as_configured = custom_api_findings(
        &action(false, &[("Text", json!("{text}"))]),
        &unbound,
        SESSIONS,
    );
    assert_eq!(about(&as_configured, BOUND).severity, Severity::Ok);
}

#[test]
fn a_custom_api_bound_to_another_table_is_an_error_naming_it() {
    let contacts = CustomApi {
        bound_table: Some("contact".into()),
        ..api()
    };
    let findings = custom_api_findings(
        &action(true, &[("Text", json!("{text}"))]),
        &contacts,
        SESSIONS,
    );
    let bound = about(&findings, BOUND);
    assert_eq!(bound.severity, Severity::Error);
    assert!(bound.message.contains("contact"), "{}", bound.message);
}

#[test]
fn a_parameter_the_api_does_not_take_is_an_error_that_lists_those_it_takes() {
    let findings = custom_api_findings(
        &action(true, &[("Text", json!("{text}")), ("Channel", json!("wa"))]),
        &api(),
        SESSIONS,
    );
    let parameters = about(&findings, PARAMETERS);
    assert_eq!(parameters.severity, Severity::Error);
    assert!(
        parameters.message.contains("no parameter Channel"),
        "{}",
        parameters.message
    );
    assert_eq!(parameters.suggestions, ["Text", "Priority"]);
}

#[test]
fn a_parameter_in_the_wrong_case_is_told_the_real_name() {
    let findings = custom_api_findings(
        &action(true, &[("text", json!("{text}"))]),
        &api(),
        SESSIONS,
    );
    let parameters = about(&findings, PARAMETERS);
    assert_eq!(parameters.severity, Severity::Error);
    assert!(parameters.fix.as_deref().unwrap().starts_with("write Text"));
}

#[test]
fn a_required_parameter_not_given_is_an_error_and_an_optional_one_is_not() {
    let findings = custom_api_findings(&action(true, &[("Priority", json!(1))]), &api(), SESSIONS);
    let parameters = about(&findings, PARAMETERS);
    assert_eq!(parameters.severity, Severity::Error);
    assert!(
        parameters.message.contains("requires Text"),
        "{}",
        parameters.message
    );
}

#[test]
fn a_parameter_value_of_the_wrong_json_type_is_an_error() {
    let findings = custom_api_findings(
        &action(
            true,
            &[("Text", json!("{text}")), ("Priority", json!("high"))],
        ),
        &api(),
        SESSIONS,
    );
    let parameters = about(&findings, PARAMETERS);
    assert_eq!(parameters.severity, Severity::Error);
    assert!(
        parameters.message.contains("a whole number"),
        "{}",
        parameters.message
    );
}

#[test]
fn a_custom_api_that_is_a_function_or_named_in_another_case_is_an_error() {
    let function = CustomApi {
        is_function: true,
        ..api()
    };
    let configured = action(true, &[("Text", json!("{text}"))]);
    assert_eq!(
        about(&custom_api_findings(&configured, &function, SESSIONS), NAME).severity,
        Severity::Error
    );
    let other_case = CustomApi {
        unique_name: "w4d_sendmessage".into(),
        ..api()
    };
    let named = custom_api_findings(&configured, &other_case, SESSIONS);
    assert_eq!(
        about(&named, NAME).fix.as_deref(),
        Some("set MESSAGE_ACTION to w4d_sendmessage")
    );
}

#[test]
fn a_process_action_is_checked_for_state_and_table_and_its_parameters_are_a_warning() {
    let process = ProcessAction {
        unique_name: "w4d_SendMessage".into(),
        primary_table: SESSIONS.into(),
        activated: true,
    };
    let findings = process_action_findings(
        &action(true, &[("Text", json!("{text}"))]),
        &process,
        SESSIONS,
    );
    assert_eq!(
        severities(&findings),
        [Severity::Ok, Severity::Ok, Severity::Warning]
    );

    let draft = ProcessAction {
        activated: false,
        primary_table: "none".into(),
        ..process
    };
    let findings = process_action_findings(&action(true, &[]), &draft, SESSIONS);
    assert_eq!(about(&findings, NAME).severity, Severity::Error);
    assert_eq!(about(&findings, BOUND).severity, Severity::Error);
}

#[test]
fn an_action_that_is_neither_is_an_error() {
    assert_eq!(
        action_not_found(&action(false, &[])).severity,
        Severity::Error
    );
}
