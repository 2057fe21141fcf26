//! Date only columns: read as `Edm.Date`, and refused in a comparison with a date and time.

use dataverse_sim::Dataset;
use reqwest::StatusCode;
use serde_json::Value;

use crate::support::*;

/// One session whose last customer message is in a column declared Date only.
fn date_only_org() -> Dataset {
    let mut data = Dataset::whatsapp_empty();
    let mut table = data.table(SESSIONS).unwrap().clone();
    table.rows = vec![session(
        &guid(1),
        Some("2026-11-24T15:30:00Z"),
        "2026-11-20T00:00:00Z",
    )];
    data = data.with_table(SESSIONS, table);
    data.with_datetime_behavior(SESSIONS, "w4d_lastcustomermessageon", "DateOnly")
}

#[tokio::test]
async fn a_date_only_column_is_read_as_a_date_with_no_time_or_zone() {
    let (sim, client, token) = start_connected(date_only_org()).await;
    let url = format!(
        "{}?$select=w4d_lastcustomermessageon,createdon",
        api(&sim, SESSIONS)
    );

    let body = get_json(&client, &token, &url, None).await;

    assert_eq!(body["value"][0]["w4d_lastcustomermessageon"], "2026-11-24");
    assert_eq!(body["value"][0]["createdon"], "2026-11-20T00:00:00Z");
}

#[tokio::test]
async fn a_date_only_column_compared_with_a_date_and_time_is_refused() {
    let (sim, client, token) = start_connected(date_only_org()).await;
    let url = format!(
        "{}?$select=w4d_name&$filter=w4d_lastcustomermessageon%20le%202026-11-24T15:00:00Z",
        api(&sim, SESSIONS)
    );

    let body: Value = expect_json(
        get(&client, &token, &url, None).await,
        StatusCode::BAD_REQUEST,
    )
    .await;

    assert_eq!(body["error"]["code"], "0x80060888");
    assert_eq!(
        body["error"]["message"],
        "A binary operator with incompatible types was detected. Found operand types 'Edm.Date' and 'Edm.DateTimeOffset' for operator kind 'LessThanOrEqual'."
    );
}

#[tokio::test]
async fn a_date_only_column_may_still_be_compared_with_null() {
    let (sim, client, token) = start_connected(date_only_org()).await;
    let url = format!(
        "{}?$select=w4d_name&$filter=w4d_lastcustomermessageon%20eq%20null",
        api(&sim, SESSIONS)
    );

    let body = get_json(&client, &token, &url, None).await;

    assert_eq!(body["value"].as_array().unwrap().len(), 0);
}
