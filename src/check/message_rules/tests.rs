use super::*;
use crate::check::finding::Severity;
use serde_json::json;

const MESSAGES: &str = "w4d_message";
const SESSIONS: &str = "w4d_chatsession";

fn relationship(navigation: &str, lookup: &str, target: &str) -> ManyToOne {
    ManyToOne {
        navigation: navigation.into(),
        lookup: lookup.into(),
        target: target.into(),
    }
}

fn relationships() -> Vec<ManyToOne> {
    vec![
        relationship("w4d_SessionId", "w4d_sessionid", SESSIONS),
        relationship("ownerid", "ownerid", "systemuser"),
    ]
}

fn column(name: &str, kind: &str) -> ColumnDefinition {
    ColumnDefinition {
        logical_name: name.into(),
        attribute_type: kind.into(),
    }
}

fn choices(values: &[i64]) -> ColumnFacts {
    ColumnFacts {
        options: Some(values.to_vec()),
        max_length: None,
    }
}

fn severity_of(value: Value, kind: &str, facts: &ColumnFacts) -> Severity {
    let column = column("w4d_x", kind);
    fixed_value_finding("w4d_x", &value, Some(&column), facts, MESSAGES).severity
}

#[test]
fn a_date_only_warned_at_column_is_an_error_and_a_user_local_one_is_ok() {
    let date_only = warned_at_behavior_finding("w4d_warnedon", "DateOnly");
    let user_local = warned_at_behavior_finding("w4d_warnedon", "UserLocal");

    assert_eq!(date_only.severity, Severity::Error);
    assert!(date_only.fix.unwrap().contains("User local"));
    assert_eq!(user_local.severity, Severity::Ok);
}

#[test]
fn a_navigation_property_to_the_session_table_is_ok() {
    let finding = navigation_finding("w4d_SessionId", &relationships(), MESSAGES, SESSIONS);
    assert_eq!(finding.severity, Severity::Ok, "{finding:?}");
}

#[test]
fn a_navigation_property_to_another_table_names_the_one_to_the_sessions() {
    let finding = navigation_finding("ownerid", &relationships(), MESSAGES, SESSIONS);

    assert_eq!(finding.severity, Severity::Error);
    assert!(
        finding.message.contains("systemuser"),
        "{}",
        finding.message
    );
    assert_eq!(finding.suggestions, ["w4d_SessionId"]);
}

#[test]
fn a_navigation_property_written_in_the_wrong_case_or_as_its_lookup_is_told_the_real_name() {
    for written in ["w4d_sessionid", "_w4d_sessionid_value"] {
        let finding = navigation_finding(written, &relationships(), MESSAGES, SESSIONS);
        assert_eq!(finding.severity, Severity::Error, "{written}");
        assert_eq!(
            finding.fix.as_deref(),
            Some("set MESSAGE_SESSION_NAVIGATION to w4d_SessionId"),
            "{written}"
        );
    }
}

#[test]
fn an_unknown_navigation_property_suggests_those_that_lead_to_the_sessions() {
    let finding = navigation_finding("w4d_chat", &relationships(), MESSAGES, SESSIONS);

    assert_eq!(finding.severity, Severity::Error);
    assert_eq!(finding.suggestions, ["w4d_SessionId"]);
}

#[test]
fn a_text_column_shorter_than_the_longest_text_is_an_error_naming_that_text() {
    let texts = [("WARNING_MESSAGE_TEXT", 120), ("CLOSING_MESSAGE_TEXT", 180)];

    let short = text_length_finding("w4d_body", Some(150), &texts);
    let exact = text_length_finding("w4d_body", Some(180), &texts);

    assert_eq!(short.severity, Severity::Error);
    assert!(
        short.message.contains("CLOSING_MESSAGE_TEXT has 180"),
        "{}",
        short.message
    );
    assert_eq!(exact.severity, Severity::Ok, "exactly the length fits");
}

#[test]
fn a_text_column_without_a_maximum_length_is_a_warning_not_a_pass() {
    let finding = text_length_finding("w4d_body", None, &[("WARNING_MESSAGE_TEXT", 10)]);
    assert_eq!(finding.severity, Severity::Warning);
}

#[test]
fn a_choice_value_must_be_one_of_its_options() {
    let options = choices(&[1, 2]);

    assert_eq!(severity_of(json!(2), "Picklist", &options), Severity::Ok);
    assert_eq!(severity_of(json!(3), "Picklist", &options), Severity::Error);
    assert_eq!(
        severity_of(json!("2"), "Picklist", &options),
        Severity::Error
    );
}

#[test]
fn a_choice_value_not_among_the_options_names_the_options() {
    let column = column("w4d_direction", "Picklist");
    let finding = fixed_value_finding(
        "w4d_direction",
        &json!(7),
        Some(&column),
        &choices(&[1, 2]),
        MESSAGES,
    );
    assert!(finding.message.contains("1, 2"), "{}", finding.message);
}

#[test]
fn a_value_whose_json_type_does_not_fit_its_column_is_an_error() {
    let none = ColumnFacts::default();
    assert_eq!(severity_of(json!(1.5), "Integer", &none), Severity::Error);
    assert_eq!(severity_of(json!(15), "Integer", &none), Severity::Ok);
    assert_eq!(severity_of(json!("yes"), "Boolean", &none), Severity::Error);
    assert_eq!(severity_of(json!(true), "Boolean", &none), Severity::Ok);
    assert_eq!(severity_of(json!(3), "String", &none), Severity::Error);
    assert_eq!(
        severity_of(json!("WhatsApp"), "String", &none),
        Severity::Ok
    );
    assert_eq!(
        severity_of(json!("soon"), "DateTime", &none),
        Severity::Error
    );
    assert_eq!(
        severity_of(json!("2026-11-24T15:00:00Z"), "DateTime", &none),
        Severity::Ok
    );
    assert_eq!(
        severity_of(json!("x"), "Uniqueidentifier", &none),
        Severity::Error
    );
    assert_eq!(severity_of(json!("2"), "Decimal", &none), Severity::Error);
}

#[test]
fn a_text_value_longer_than_its_column_is_an_error() {
    let facts = ColumnFacts {
        options: None,
        max_length: Some(3),
    };
    assert_eq!(
        severity_of(json!("abcd"), "String", &facts),
        Severity::Error
    );
    assert_eq!(severity_of(json!("abc"), "String", &facts), Severity::Ok);
}

#[test]
fn a_lookup_cannot_be_a_fixed_value() {
    let finding = severity_of(
        json!("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21"),
        "Lookup",
        &ColumnFacts::default(),
    );
    assert_eq!(finding, Severity::Error);
}

#[test]
fn a_column_of_a_type_the_check_cannot_judge_is_a_warning() {
    assert_eq!(
        severity_of(json!(1), "Virtual", &ColumnFacts::default()),
        Severity::Warning
    );
}

#[test]
fn a_fixed_value_for_a_missing_column_or_one_in_the_wrong_case_is_an_error() {
    let direction = column("w4d_direction", "Picklist");
    let missing = fixed_value_finding("w4d_dir", &json!(1), None, &choices(&[1]), MESSAGES);
    let case = fixed_value_finding(
        "W4D_Direction",
        &json!(1),
        Some(&direction),
        &choices(&[1]),
        MESSAGES,
    );

    assert_eq!(missing.severity, Severity::Error);
    assert_eq!(case.severity, Severity::Error);
    assert_eq!(
        case.fix.as_deref(),
        Some("write w4d_direction in MESSAGE_FIXED_VALUES")
    );
}
