use crate::ids::Guid;
use crate::settings::{Name, Settings, SettingsError};
use serde_json::json;

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let mut all = vec![("DATAVERSE_SECRET_ID", "s")];
    all.extend_from_slice(pairs);
    Settings::from_lookup(|name| {
        all.iter()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| value.to_string())
    })
}

const TABLE: [(&str, &str); 3] = [
    ("MESSAGE_TABLE", "w4d_whatsappmessages"),
    ("MESSAGE_SESSION_NAVIGATION", "w4d_ChatSession"),
    ("MESSAGE_TEXT_COLUMN", "w4d_body"),
];

fn with_table(more: &[(&'static str, &'static str)]) -> Vec<(&'static str, &'static str)> {
    let mut pairs = TABLE.to_vec();
    pairs.extend_from_slice(more);
    pairs
}

fn guid(text: &str) -> Guid {
    Guid::parse(text).unwrap()
}

#[test]
fn everything_is_off_by_default() {
    let notify = settings(&[]).unwrap().notify;
    assert_eq!(notify, Default::default());
    assert!(!notify.sends_messages());
}

#[test]
fn a_warning_lead_reads_the_timeout_forms_and_names_the_warned_at_column() {
    let s = settings(&with_table(&[
        ("WARNING_LEAD", "PT15M"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
        ("WARNING_MESSAGE_TEXT", "Still there?"),
    ]))
    .unwrap();
    let warning = s.notify.warning.unwrap();
    assert_eq!(warning.lead.seconds(), 900);
    assert_eq!(warning.text.as_deref(), Some("Still there?"));
    assert_eq!(
        s.schema.warned_at.map(|n| n.to_string()),
        Some("w4d_warnedon".into())
    );
}

#[test]
fn a_warning_nobody_delivers_is_refused() {
    let error = settings(&[
        ("WARNING_LEAD", "15 minutes"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("EVENT_BUS_NAME"), "{error}");
}

#[test]
fn a_warning_the_event_delivers_needs_no_text() {
    let s = settings(&[
        ("WARNING_LEAD", "15 minutes"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
        ("EVENT_BUS_NAME", "default"),
    ])
    .unwrap();
    assert_eq!(s.notify.warning.unwrap().text, None);
}

#[test]
fn a_warning_lead_under_a_minute_is_refused() {
    let error = settings(&with_table(&[
        ("WARNING_LEAD", "PT30S"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
        ("WARNING_MESSAGE_TEXT", "Still there?"),
    ]))
    .unwrap_err();
    assert!(error.to_string().contains("WARNING_LEAD"), "{error}");
    assert!(error.to_string().contains("at least 1 minute"), "{error}");
}

#[test]
fn a_warning_without_its_column_names_the_column() {
    let error = settings(&with_table(&[
        ("WARNING_LEAD", "15 minutes"),
        ("WARNING_MESSAGE_TEXT", "Still there?"),
    ]))
    .unwrap_err();
    assert!(
        error.to_string().contains("SESSION_WARNED_AT_COLUMN"),
        "{error}"
    );
}

#[test]
fn a_warning_sent_as_a_message_needs_its_text() {
    let error = settings(&with_table(&[
        ("WARNING_LEAD", "15 minutes"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
    ]))
    .unwrap_err();
    assert!(
        error.to_string().contains("WARNING_MESSAGE_TEXT"),
        "{error}"
    );
}

#[test]
fn a_warning_text_without_a_lead_is_refused_rather_than_never_sent() {
    let error = settings(&with_table(&[("WARNING_MESSAGE_TEXT", "Still there?")])).unwrap_err();
    assert!(error.to_string().contains("needs WARNING_LEAD"), "{error}");
}

#[test]
fn a_closing_message_needs_a_way_to_be_sent() {
    let error = settings(&[("CLOSING_MESSAGE_TEXT", "Goodbye")]).unwrap_err();
    assert!(
        error.to_string().contains("CLOSING_MESSAGE_TEXT"),
        "{error}"
    );
    assert!(
        error
            .to_string()
            .contains("MESSAGE_TABLE or MESSAGE_ACTION"),
        "{error}"
    );
}

#[test]
fn a_text_longer_than_whatsapp_allows_is_refused() {
    let long = "x".repeat(4097);
    let mut pairs = with_table(&[]);
    pairs.push(("CLOSING_MESSAGE_TEXT", &long));
    let error = settings(&pairs).unwrap_err();
    assert!(error.to_string().contains("4096"), "{error}");
}

#[test]
fn a_message_table_needs_its_navigation_and_text_column() {
    for missing in ["MESSAGE_SESSION_NAVIGATION", "MESSAGE_TEXT_COLUMN"] {
        let pairs: Vec<_> = TABLE
            .iter()
            .filter(|(k, _)| *k != missing)
            .copied()
            .collect();
        let error = settings(&pairs).unwrap_err();
        assert!(error.to_string().contains(missing), "{error}");
    }
}

#[test]
fn a_message_column_without_its_table_is_refused() {
    let error = settings(&[("MESSAGE_TEXT_COLUMN", "w4d_body")]).unwrap_err();
    assert!(error.to_string().contains("MESSAGE_TABLE"), "{error}");
}

#[test]
fn fixed_values_are_names_and_scalars_only() {
    for bad in [
        r#"[1, 2]"#,
        r#"{"w4d_direction": {"x": 1}}"#,
        r#"{"w4d_direction": [2]}"#,
        r#"{"owner@odata.bind": "/systemusers(1)"}"#,
        r#"not json"#,
    ] {
        let error = settings(&with_table(&[("MESSAGE_FIXED_VALUES", bad)])).unwrap_err();
        assert!(
            error.to_string().contains("MESSAGE_FIXED_VALUES"),
            "{bad}: {error}"
        );
    }
}

#[test]
fn fixed_values_may_not_overwrite_the_text() {
    let error = settings(&with_table(&[(
        "MESSAGE_FIXED_VALUES",
        r#"{"W4D_BODY": "x"}"#,
    )]))
    .unwrap_err();
    assert!(error.to_string().contains("MESSAGE_TEXT_COLUMN"), "{error}");
}

#[test]
fn a_message_row_binds_the_session_and_carries_the_text_and_fixed_values() {
    let s = settings(&with_table(&[(
        "MESSAGE_FIXED_VALUES",
        r#"{"w4d_direction": 2, "w4d_isautomated": true}"#,
    )]))
    .unwrap();
    let table = s.notify.message_table.unwrap();
    let session = guid("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21");
    let row = table.row(&s.schema.session_table, &session, "Goodbye");
    assert_eq!(
        serde_json::Value::Object(row),
        json!({
            "w4d_direction": 2,
            "w4d_isautomated": true,
            "w4d_body": "Goodbye",
            "w4d_ChatSession@odata.bind": "/w4d_chatsessions(6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21)",
        })
    );
}

#[test]
fn action_parameters_without_an_action_are_refused() {
    let error = settings(&[("MESSAGE_ACTION_PARAMETERS", r#"{"Text": "{text}"}"#)]).unwrap_err();
    assert!(error.to_string().contains("MESSAGE_ACTION"), "{error}");
}

#[test]
fn an_unknown_placeholder_is_refused_and_named() {
    let error = settings(&[
        ("MESSAGE_ACTION", "w4d_SendWhatsAppMessage"),
        (
            "MESSAGE_ACTION_PARAMETERS",
            r#"{"SessionId": "{sessionid}", "Text": "{text}"}"#,
        ),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("{sessionid}"), "{error}");
}

#[test]
fn a_text_that_cannot_reach_the_action_is_refused() {
    let error = settings(&[
        ("MESSAGE_ACTION", "w4d_SendWhatsAppMessage"),
        (
            "MESSAGE_ACTION_PARAMETERS",
            r#"{"SessionId": "{session_id}"}"#,
        ),
        ("CLOSING_MESSAGE_TEXT", "Goodbye"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("{text}"), "{error}");
}

#[test]
fn action_parameters_are_filled_in_one_pass_and_other_braces_are_kept() {
    let s = settings(&[
        ("MESSAGE_ACTION", "w4d_SendSessionMessage"),
        ("MESSAGE_ACTION_BOUND", "true"),
        (
            "MESSAGE_ACTION_PARAMETERS",
            r#"{"SessionId": "{session_id}", "Config": "c-{configuration_id}", "Text": "{text}", "Note": "{ not a placeholder }", "Priority": 3}"#,
        ),
        ("CLOSING_MESSAGE_TEXT", "Goodbye"),
    ])
    .unwrap();
    let action = s.notify.action.unwrap();
    assert!(action.bound);
    assert_eq!(
        action.name,
        Name::parse("x", "w4d_SendSessionMessage").unwrap()
    );
    let body = action.body(
        &guid("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21"),
        &guid("00000000-0000-0000-0000-0000000000c1"),
        "write {session_id} {oops",
    );
    assert_eq!(
        serde_json::Value::Object(body),
        json!({
            "SessionId": "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21",
            "Config": "c-00000000-0000-0000-0000-0000000000c1",
            "Text": "write {session_id} {oops",
            "Note": "{ not a placeholder }",
            "Priority": 3,
        })
    );
}
