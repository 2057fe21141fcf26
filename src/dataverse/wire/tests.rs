use super::*;
use serde_json::json;

use crate::settings::tests::default_schema as schema;

fn row(value: Value) -> Map<String, Value> {
    value.as_object().unwrap().clone()
}

#[test]
fn a_session_row_is_read_with_its_etag_and_lowercased_lookup() {
    let parsed = session_row(
        &schema(),
        &row(json!({
            "@odata.etag": "W/\"42\"",
            "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
            "w4d_lastcustomermessageon": "2026-11-24T15:00:00Z",
            "createdon": "2026-11-20T08:00:00Z",
            "_w4d_configurationid_value": "6F1C2A3B-0000-4000-8000-00000000000A",
            "statecode": 0
        })),
    )
    .unwrap();
    assert_eq!(parsed.etag, "W/\"42\"");
    assert_eq!(
        parsed.configuration_id.map(|id| id.to_string()).as_deref(),
        Some("6f1c2a3b-0000-4000-8000-00000000000a")
    );
    assert_eq!(
        parsed.last_customer_message.map(|t| t.to_rfc3339()),
        Some("2026-11-24T15:00:00+00:00".to_owned())
    );
}

#[test]
fn a_session_row_with_an_unreadable_time_is_an_error_for_that_row() {
    let error = session_row(
        &schema(),
        &row(json!({
            "@odata.etag": "W/\"1\"",
            "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
            "w4d_lastcustomermessageon": "yesterday",
            "createdon": "2026-11-20T08:00:00Z",
            "statecode": 0
        })),
    )
    .unwrap_err();
    assert_eq!(
        error.id.as_deref(),
        Some("00000000-0000-4000-8000-0000000000a1")
    );
    assert!(error.reason.contains("w4d_lastcustomermessageon"));
}

#[test]
fn a_date_with_no_time_of_day_is_unreadable_because_the_column_is_date_only() {
    let error = session_row(
        &schema(),
        &row(json!({
            "@odata.etag": "W/\"1\"",
            "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
            "w4d_lastcustomermessageon": "2026-11-24",
            "createdon": "2026-11-20T08:00:00Z",
            "statecode": 0
        })),
    )
    .unwrap_err();

    assert!(error.reason.contains("Date only"), "{}", error.reason);
    assert!(
        error
            .reason
            .contains("SESSION_LAST_CUSTOMER_MESSAGE_COLUMN"),
        "{}",
        error.reason
    );
}

#[test]
fn the_agent_column_is_selected_and_read_only_when_configured() {
    let raw = row(json!({
        "@odata.etag": "W/\"1\"",
        "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
        "w4d_lastagentmessageon": "2026-11-24T16:00:00Z",
        "createdon": "2026-11-20T08:00:00Z",
        "statecode": 0
    }));
    assert!(!session_columns(&schema()).contains("w4d_lastagentmessageon"));
    assert_eq!(
        session_row(&schema(), &raw).unwrap().last_agent_message,
        None
    );
    let mut with_agent = schema();
    with_agent.last_agent_message =
        Some(crate::settings::Name::parse("X", "w4d_lastagentmessageon").unwrap());
    assert!(session_columns(&with_agent).ends_with(",w4d_lastagentmessageon"));
    assert_eq!(
        session_row(&with_agent, &raw).unwrap().last_agent_message,
        Some("2026-11-24T16:00:00Z".parse().unwrap())
    );
}

#[test]
fn the_warned_at_column_is_selected_and_read_only_when_configured() {
    let raw = row(json!({
        "@odata.etag": "W/\"1\"",
        "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
        "w4d_warnedon": "2026-11-24T16:00:00Z",
        "createdon": "2026-11-20T08:00:00Z",
        "statecode": 0
    }));
    assert!(!session_columns(&schema()).contains("w4d_warnedon"));
    assert_eq!(session_row(&schema(), &raw).unwrap().warned_at, None);
    let mut warning = schema();
    warning.warned_at = Some(crate::settings::Name::parse("X", "w4d_warnedon").unwrap());
    assert!(session_columns(&warning).ends_with(",w4d_warnedon"));
    assert_eq!(
        session_row(&warning, &raw).unwrap().warned_at,
        Some("2026-11-24T16:00:00Z".parse().unwrap())
    );
}

// A payload from Microsoft's documentation (tests/fixtures/SOURCES.md names the page).
#[test]
fn microsofts_documented_page_decodes_with_its_rows_and_next_link() {
    let text = include_str!("../../../tests/fixtures/page-with-nextlink.json");

    let page: Page = serde_json::from_str(text).unwrap();

    assert_eq!(page.value.len(), 2);
    assert_eq!(
        page.value[0]["contactid"],
        "49b0be2e-d01c-ed11-b83e-000d3a572421"
    );
    assert!(page
        .next_link
        .unwrap()
        .starts_with("[Organization URI]/api/data/v9.2/contacts?$select=fullname&$skiptoken="));
}

#[test]
fn a_configuration_id_that_is_not_a_guid_never_reaches_a_filter() {
    let error = configuration_row(
        &schema(),
        &row(json!({"w4d_whatsappconfigurationid": "x or 1 eq 1", "w4d_sessiontimeout": 60})),
    )
    .unwrap_err();
    assert!(error.to_string().contains("GUID"), "{error}");
}

#[test]
fn a_session_row_without_an_etag_cannot_be_closed_safely() {
    let error = session_row(
        &schema(),
        &row(json!({
            "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
            "createdon": "2026-11-20T08:00:00Z",
            "statecode": 0
        })),
    )
    .unwrap_err();
    assert!(error.reason.contains("ETag"));
}
