//! Injected faults (throttling, 503s, dropped connections, touched rows) and the admin endpoints.

use std::time::{Duration, Instant};

use dataverse_sim::{Dataset, Faults};
use reqwest::{Client, StatusCode};

use crate::support::*;

#[tokio::test]
async fn every_kth_request_is_throttled_with_retry_after() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.set_faults(Faults {
        throttle_every: Some(2),
        retry_after_secs: Some(7),
        ..Faults::default()
    });
    let first = get(&client, &token, &api(&sim, SESSIONS), None).await;
    let second = get(&client, &token, &api(&sim, SESSIONS), None).await;
    assert_eq!(
        (first.status(), second.status()),
        (StatusCode::OK, StatusCode::TOO_MANY_REQUESTS)
    );
    assert_eq!(second.headers()["retry-after"], "7");
    let body = expect_json(second, StatusCode::TOO_MANY_REQUESTS).await;
    assert_eq!(body["error"]["code"], "0x80072322");
    assert_eq!(sim.stats().throttled, 1);
}

#[tokio::test]
async fn a_request_inside_the_retry_after_is_refused_again_and_extends_the_wait() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.set_faults(Faults {
        throttle_request: Some(1),
        retry_after_secs: Some(2),
        ..Faults::default()
    });
    let url = api(&sim, SESSIONS);
    let first = get(&client, &token, &url, None).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let early = get(&client, &token, &url, None).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let still_inside_the_extended_wait = get(&client, &token, &url, None).await;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = get(&client, &token, &url, None).await;

    assert_eq!(first.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(early.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(early.headers()["retry-after"], "2");
    assert_eq!(
        still_inside_the_extended_wait.status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(after.status(), StatusCode::OK);
    let retry_after: Vec<Option<u64>> = sim
        .requests()
        .iter()
        .map(|request| request.retry_after_secs)
        .collect();
    assert_eq!(retry_after, vec![Some(2), Some(2), Some(2), None]);
}

#[tokio::test]
async fn a_throttle_without_retry_after_omits_the_header() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.set_faults(Faults {
        throttle_every: Some(1),
        ..Faults::default()
    });
    let response = get(&client, &token, &api(&sim, SESSIONS), None).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().get("retry-after").is_none());
}

#[tokio::test]
async fn every_kth_request_answers_503_when_unavailable_is_set() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.set_faults(Faults {
        unavailable_every: Some(1),
        ..Faults::default()
    });
    let response = get(&client, &token, &api(&sim, SESSIONS), None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn a_dropped_request_is_a_connection_error_not_a_hang() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.set_faults(Faults {
        drop_every: Some(1),
        ..Faults::default()
    });
    let started = Instant::now();
    let result = client
        .get(api(&sim, SESSIONS))
        .bearer_auth(&token)
        .send()
        .await;
    assert!(result.is_err());
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(sim.stats().dropped, 1);
}

#[tokio::test]
async fn a_touched_row_gets_a_new_etag_right_after_it_is_read() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    sim.set_faults(Faults {
        touch_after_read: vec![guid(0)],
        touch_column: Some("w4d_lastcustomermessageon".into()),
        ..Faults::default()
    });
    let body = get_json(&client, &token, &api(&sim, SESSIONS), None).await;
    let read_etag = body["value"][0]["@odata.etag"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(etag_of(&sim, &guid(0)), read_etag);
    assert_ne!(
        column_of(&sim, &guid(0), "w4d_lastcustomermessageon"),
        "2026-11-20T00:00:00Z"
    );
}

#[tokio::test]
async fn admin_endpoints_serve_stats_and_tables_without_counting_themselves() {
    let sim = start(overdue_sessions(2)).await;
    let client = Client::new();
    let rows = admin_json(&client, &sim, &format!("tables/{SESSIONS}")).await;
    let stats = admin_json(&client, &sim, "stats").await;
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert_eq!(stats["requests"], 0);
}
