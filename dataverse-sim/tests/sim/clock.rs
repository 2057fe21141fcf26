//! What a driver of virtual time relies on: the settable clock and the changes endpoint, the
//! rows-served counter, and `$top` with `$orderby` (the day scenario's wake-up queries).

use dataverse_sim::Dataset;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::{api, expect_json, get, get_json, start, start_connected, SESSIONS};

async fn post(sim: &dataverse_sim::Sim, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    expect_json(response, StatusCode::OK).await
}

fn sessions(count: usize) -> Value {
    let rows: Vec<Value> = (0..count)
        .map(|n| {
            json!({"w4d_chatsessionid": format!("5e550000-0000-4000-8000-{n:012}"),
                   "w4d_lastcustomermessageon": format!("2026-11-24T10:{:02}:00Z", 59 - n)})
        })
        .collect();
    json!({"entity_set": SESSIONS, "rows": rows})
}

const BY_LAST_MESSAGE: &str =
    "$select=w4d_lastcustomermessageon&$orderby=w4d_lastcustomermessageon&$top=3";

fn last_messages(page: &Value) -> Vec<&str> {
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["w4d_lastcustomermessageon"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn rows_inserted_through_the_changes_endpoint_are_stamped_by_the_settable_clock() {
    let sim = start(Dataset::whatsapp_empty()).await;
    post(&sim, "/_sim/clock", json!({"now": "2026-11-24T15:00:00Z"})).await;
    let answer = post(&sim, "/_sim/changes", sessions(1)).await;
    assert_eq!(answer["inserted"], 1);
    let row = &sim.rows(SESSIONS)[0];
    assert_eq!(
        (row["createdon"].as_str(), row["modifiedon"].as_str()),
        (Some("2026-11-24T15:00:00Z"), Some("2026-11-24T15:00:00Z"))
    );
}

#[tokio::test]
async fn rows_served_counts_every_row_of_every_page_returned() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    post(&sim, "/_sim/changes", sessions(5)).await;
    let url = format!("{}?$select=w4d_chatsessionid", api(&sim, SESSIONS));
    let first = get_json(&client, &token, &url, Some(3)).await;
    assert_eq!(first["value"].as_array().unwrap().len(), 3);
    assert_eq!(sim.stats().rows_served, 3);
}

#[tokio::test]
async fn top_with_orderby_returns_the_first_rows_of_the_whole_order() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    post(&sim, "/_sim/changes", sessions(40)).await;
    let url = format!("{}?{BY_LAST_MESSAGE}", api(&sim, SESSIONS));
    let page = get_json(&client, &token, &url, None).await;
    assert_eq!(
        last_messages(&page),
        [
            "2026-11-24T10:20:00Z",
            "2026-11-24T10:21:00Z",
            "2026-11-24T10:22:00Z"
        ]
    );
}

#[tokio::test]
async fn top_with_orderby_beside_a_max_page_size_is_ignored_and_the_query_is_paged() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    post(&sim, "/_sim/changes", sessions(40)).await;
    let url = format!("{}?{BY_LAST_MESSAGE}", api(&sim, SESSIONS));
    let response = get(&client, &token, &url, Some(5)).await;
    let page = expect_json(response, StatusCode::OK).await;
    assert_eq!(last_messages(&page).len(), 5);
    assert_eq!(last_messages(&page)[0], "2026-11-24T10:20:00Z");
    assert!(page.get("@odata.nextLink").is_some());
}
