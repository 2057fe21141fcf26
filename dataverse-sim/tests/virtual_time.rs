//! What a driver of virtual time relies on, over real HTTP: the settable clock and the changes
//! endpoint, the rows-read counter, and `$top` with `$orderby` (which the day scenario's
//! wake-up queries send every sweep).

use dataverse_sim::{Dataset, Sim, SimOptions};
use reqwest::Client;
use serde_json::{json, Value};

const SESSIONS: &str = "w4d_chatsessions";

async fn start() -> Sim {
    Sim::start(SimOptions::default(), Dataset::whatsapp_empty())
        .await
        .unwrap()
}

async fn post(sim: &Sim, path: &str, body: Value) -> Value {
    let response = Client::new()
        .post(format!("{}{path}", sim.url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

async fn token(sim: &Sim) -> String {
    let body: Value = Client::new()
        .post(format!("{}/t/oauth2/v2.0/token", sim.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", "sim-secret"),
            ("scope", &format!("{}/.default", sim.url())),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    body["access_token"].as_str().unwrap().to_string()
}

async fn get(sim: &Sim, query: &str, page_size: usize) -> Value {
    let url = format!("{}/api/data/v9.2/{SESSIONS}?{query}", sim.url());
    let token = token(sim).await;
    Client::new()
        .get(url)
        .bearer_auth(token)
        .header("Prefer", format!("odata.maxpagesize={page_size}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
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

#[tokio::test]
async fn rows_inserted_through_the_changes_endpoint_are_stamped_by_the_settable_clock() {
    let sim = start().await;
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
    let sim = start().await;
    post(&sim, "/_sim/changes", sessions(5)).await;
    let first = get(&sim, "$select=w4d_chatsessionid", 3).await;
    assert_eq!(first["value"].as_array().unwrap().len(), 3);
    assert_eq!(sim.stats().rows_served, 3);
}

#[tokio::test]
async fn top_with_orderby_returns_the_first_rows_of_the_whole_order() {
    let sim = start().await;
    post(&sim, "/_sim/changes", sessions(40)).await;
    let page = get(
        &sim,
        "$select=w4d_lastcustomermessageon&$orderby=w4d_lastcustomermessageon&$top=3",
        5000,
    )
    .await;
    let times: Vec<&str> = page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["w4d_lastcustomermessageon"].as_str().unwrap())
        .collect();
    assert_eq!(
        times,
        [
            "2026-11-24T10:20:00Z",
            "2026-11-24T10:21:00Z",
            "2026-11-24T10:22:00Z"
        ]
    );
}
