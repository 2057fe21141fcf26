//! The service protection limits, the execution cost of operations and `x-ms-dop-hint`,
//! over real HTTP, one behaviour per test.

use std::time::{Duration, Instant};

use chrono::Utc;
use dataverse_sim::{Dataset, Limits, Sim, SimOptions, DEFAULT_DOP_HINT};
use reqwest::{Client, Response, StatusCode};
use serde_json::Value;

const SESSIONS: &str = "w4d_chatsessions";

/// A sim of 20 generated sessions under `limits`, a client and a token.
async fn start(limits: Limits) -> (Sim, Client, String) {
    let options = SimOptions {
        limits,
        ..SimOptions::default()
    };
    let sim = Sim::start(options, Dataset::generated(20, 0.5, Utc::now()))
        .await
        .unwrap();
    let client = Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let response = client
        .post(format!("{}/tenant-1/oauth2/v2.0/token", sim.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "sim-client"),
            ("client_secret", "sim-secret"),
            ("scope", &format!("{}/.default", sim.url())),
        ])
        .send()
        .await
        .unwrap();
    let body: Value = response.json().await.unwrap();
    let token = body["access_token"].as_str().unwrap().to_string();
    (sim, client, token)
}

async fn list(sim: &Sim, client: &Client, token: &str) -> Response {
    client
        .get(format!("{}/api/data/v9.2/{SESSIONS}?$top=1", sim.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

/// A `$batch` closing the first `count` sessions, each with `If-Match: *`.
async fn close_batch(sim: &Sim, client: &Client, token: &str, count: usize) -> Response {
    let mut body = String::new();
    for row in sim.rows(SESSIONS).iter().take(count) {
        let id = row["w4d_chatsessionid"].as_str().unwrap();
        body.push_str(&format!(
            "--batch_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
             PATCH {SESSIONS}({id}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: *\r\n\r\n\
             {{\"statecode\":1,\"statuscode\":2}}\r\n"
        ));
    }
    body.push_str("--batch_x--\r\n");
    client
        .post(format!("{}/api/data/v9.2/$batch", sim.url()))
        .bearer_auth(token)
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Status, `Retry-After` seconds and Dataverse error code of a refused request.
async fn refusal(response: Response) -> (StatusCode, Option<u64>, String) {
    let status = response.status();
    let retry_after = response
        .headers()
        .get("Retry-After")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let body: Value = response.json().await.unwrap();
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    (status, retry_after, code)
}

#[tokio::test]
async fn every_web_api_response_carries_the_dop_hint_even_a_401() {
    let (sim, client, token) = start(Limits {
        dop_hint: Some(7),
        ..Limits::default()
    })
    .await;

    let served = list(&sim, &client, &token).await;
    let refused = list(&sim, &client, "not-a-token").await;

    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["x-ms-dop-hint"], "7");
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(refused.headers()["x-ms-dop-hint"], "7");
}

#[tokio::test]
async fn the_default_dop_hint_is_sent_and_none_omits_the_header() {
    let (default_sim, client, token) = start(Limits::default()).await;
    let (silent_sim, silent_client, silent_token) = start(Limits {
        dop_hint: None,
        ..Limits::default()
    })
    .await;

    let hinted = list(&default_sim, &client, &token).await;
    let silent = list(&silent_sim, &silent_client, &silent_token).await;

    assert_eq!(
        hinted.headers()["x-ms-dop-hint"],
        DEFAULT_DOP_HINT.to_string().as_str()
    );
    assert!(silent.headers().get("x-ms-dop-hint").is_none());
}

#[tokio::test]
async fn a_request_over_the_request_limit_gets_429_0x80072322_with_retry_after() {
    let (sim, client, token) = start(Limits {
        window: Duration::from_secs(30),
        max_requests: Some(2),
        ..Limits::default()
    })
    .await;
    for _ in 0..2 {
        assert_eq!(list(&sim, &client, &token).await.status(), StatusCode::OK);
    }

    let (status, retry_after, code) = refusal(list(&sim, &client, &token).await).await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(retry_after, Some(29..=30)), "{retry_after:?}");
    assert_eq!(code, "0x80072322");
    assert_eq!(sim.stats().limited_requests, 1);
}

#[tokio::test]
async fn requests_that_leave_the_window_free_their_place() {
    let (sim, client, token) = start(Limits {
        window: Duration::from_millis(300),
        max_requests: Some(1),
        ..Limits::default()
    })
    .await;
    assert_eq!(list(&sim, &client, &token).await.status(), StatusCode::OK);
    assert_eq!(
        list(&sim, &client, &token).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    tokio::time::sleep(Duration::from_millis(350)).await;

    assert_eq!(list(&sim, &client, &token).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_batch_takes_and_is_charged_the_time_of_all_its_operations() {
    let (sim, client, token) = start(Limits {
        operation_cost: Duration::from_millis(40),
        ..Limits::default()
    })
    .await;
    let started = Instant::now();

    let response = close_batch(&sim, &client, &token, 10).await;

    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sim.stats().execution_ms, 400);
}

#[tokio::test]
async fn crossing_the_execution_time_limit_gets_429_0x80072321_with_retry_after() {
    let (sim, client, token) = start(Limits {
        operation_cost: Duration::from_millis(20),
        window: Duration::from_secs(20),
        max_execution_time: Some(Duration::from_millis(100)),
        ..Limits::default()
    })
    .await;
    assert_eq!(
        close_batch(&sim, &client, &token, 5).await.status(),
        StatusCode::OK
    );

    let (status, retry_after, code) = refusal(list(&sim, &client, &token).await).await;

    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(matches!(retry_after, Some(19..=20)), "{retry_after:?}");
    assert_eq!(code, "0x80072321");
    assert_eq!(sim.stats().limited_execution_time, 1);
}

#[tokio::test]
async fn a_request_over_the_concurrency_limit_gets_429_0x80072326_with_retry_after() {
    let (sim, client, token) = start(Limits {
        operation_cost: Duration::from_millis(500),
        max_concurrent: Some(1),
        ..Limits::default()
    })
    .await;
    let slow = close_batch(&sim, &client, &token, 1);
    let second = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        list(&sim, &client, &token).await
    };

    let (slow, second) = tokio::join!(slow, second);
    let (status, retry_after, code) = refusal(second).await;

    assert_eq!(slow.status(), StatusCode::OK);
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(retry_after, Some(1));
    assert_eq!(code, "0x80072326");
    assert_eq!(sim.stats().peak_in_flight, 1);
}

#[tokio::test]
async fn limits_set_while_running_apply_to_the_next_request() {
    let (sim, client, token) = start(Limits::default()).await;
    assert_eq!(list(&sim, &client, &token).await.status(), StatusCode::OK);

    sim.set_limits(Limits {
        max_requests: Some(0),
        dop_hint: Some(2),
        ..Limits::default()
    });
    let response = list(&sim, &client, &token).await;

    assert_eq!(response.headers()["x-ms-dop-hint"], "2");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}
