//! End-to-end behaviour of the simulator over real HTTP, one behaviour per test.

use std::time::{Duration, Instant};

use chrono::Utc;
use dataverse_sim::{Dataset, Faults, Sim, SimOptions, Table};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

const SESSIONS: &str = "w4d_chatsessions";

async fn start(data: Dataset) -> Sim {
    Sim::start(SimOptions::default(), data).await.unwrap()
}

/// A client-credentials token request; `scope` `None` asks for the simulator's `/.default`.
async fn request_token(
    sim: &Sim,
    client_id: &str,
    client_secret: &str,
    scope: Option<&str>,
) -> reqwest::Response {
    let default_scope = format!("{}/.default", sim.url());
    Client::new()
        .post(format!("{}/tenant-1/oauth2/v2.0/token", sim.url()))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("scope", scope.unwrap_or(&default_scope)),
        ])
        .send()
        .await
        .unwrap()
}

async fn token(sim: &Sim) -> String {
    let response = request_token(sim, "sim-client", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::OK).await;
    body["access_token"].as_str().unwrap().to_string()
}

/// A client and a valid token for `sim`.
async fn connect(sim: &Sim) -> (Client, String) {
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = token(sim).await;
    (client, token)
}

/// A simulator over `data`, with a client and a valid token for it.
async fn start_connected(data: Dataset) -> (Sim, Client, String) {
    let sim = start(data).await;
    let (client, token) = connect(&sim).await;
    (sim, client, token)
}

/// The body of a response that must have answered `status`.
async fn expect_json(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

fn api(sim: &Sim, path: &str) -> String {
    format!("{}/api/data/v9.2/{path}", sim.url())
}

async fn get(client: &Client, token: &str, url: &str, page_size: Option<usize>) -> Response {
    let mut request = client.get(url).bearer_auth(token);
    if let Some(n) = page_size {
        request = request.header("Prefer", format!("odata.maxpagesize={n}"));
    }
    request.send().await.unwrap()
}

async fn get_json(client: &Client, token: &str, url: &str, page_size: Option<usize>) -> Value {
    get(client, token, url, page_size)
        .await
        .json()
        .await
        .unwrap()
}

/// The URL of the next page, `None` on the last.
fn next_link(page: &Value) -> Option<String> {
    page["@odata.nextLink"].as_str().map(str::to_string)
}

/// PATCH one session with `If-Match: etag`.
async fn patch_session(
    client: &Client,
    sim: &Sim,
    token: &str,
    id: &str,
    etag: &str,
    body: Value,
) -> Response {
    client
        .patch(api(sim, &format!("{SESSIONS}({id})")))
        .bearer_auth(token)
        .header("If-Match", etag)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn session(id: &str, last: Option<&str>, created: &str) -> Value {
    json!({"w4d_chatsessionid": id, "w4d_name": id, "w4d_lastcustomermessageon": last,
           "_w4d_configurationid_value": "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21",
           "statecode": 0, "statuscode": 1, "createdon": created})
}

fn guid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Sessions 0..count, all overdue.
fn overdue_sessions(count: usize) -> Dataset {
    let mut data = Dataset::whatsapp_empty();
    let mut table: Table = data.table(SESSIONS).unwrap().clone();
    for n in 0..count {
        table.rows.push(session(
            &guid(n),
            Some("2026-11-20T00:00:00Z"),
            "2026-11-01T00:00:00Z",
        ));
    }
    data = data.with_table(SESSIONS, table);
    data
}

fn patch_part(id: &str, etag: &str, content_id: Option<usize>) -> String {
    let content_id = content_id
        .map(|n| format!("Content-ID: {n}\r\n"))
        .unwrap_or_default();
    format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n{content_id}\r\n\
         PATCH w4d_chatsessions({id}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: {etag}\r\n\r\n\
         {{\"statecode\":1,\"statuscode\":2}}\r\n"
    )
}

fn batch_body(boundary: &str, parts: &[String]) -> String {
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{boundary}\r\n{part}"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// A close of session `n` with its current etag.
fn close_part(sim: &Sim, n: usize, content_id: Option<usize>) -> String {
    patch_part(&guid(n), &etag_of(sim, &guid(n)), content_id)
}

/// A batch part holding `parts` as one change set.
fn change_set(parts: &[String]) -> String {
    let change_set = batch_body("changeset_y", parts);
    format!("Content-Type: multipart/mixed; boundary=changeset_y\r\n\r\n{change_set}")
}

/// POSTs `parts` as one `$batch`; returns its status and body.
async fn post_batch(
    client: &Client,
    sim: &Sim,
    token: &str,
    parts: &[String],
    continue_on_error: bool,
) -> (StatusCode, String) {
    let mut request = client
        .post(api(sim, "$batch"))
        .bearer_auth(token)
        .header("Content-Type", "multipart/mixed; boundary=batch_x")
        .body(batch_body("batch_x", parts));
    if continue_on_error {
        request = request.header("Prefer", "odata.continue-on-error");
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.text().await.unwrap())
}

fn statuses(batch_response: &str) -> Vec<u16> {
    batch_response
        .lines()
        .filter_map(|l| l.strip_prefix("HTTP/1.1 "))
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

fn etag_of(sim: &Sim, id: &str) -> String {
    format!("W/\"{}\"", sim.row(SESSIONS, id).unwrap()["versionnumber"])
}

/// A column of session `id` as the simulator holds it now.
fn column_of(sim: &Sim, id: &str, column: &str) -> Value {
    sim.row(SESSIONS, id).unwrap()[column].clone()
}

/// The JSON an admin endpoint (not counted as a request) serves at `path`.
async fn admin_json(client: &Client, sim: &Sim, path: &str) -> Value {
    client
        .get(format!("{}/_sim/{path}", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_token_request_with_the_right_secret_returns_a_bearer_token() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "sim-client", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3599))
    );
    assert!(body["access_token"].as_str().unwrap().len() > 20);
}

#[tokio::test]
async fn a_token_request_with_a_wrong_secret_gets_401_invalid_client_aadsts7000215() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "sim-client", "wrong", None).await;
    let body = expect_json(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215:"));
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
}

#[tokio::test]
async fn a_token_request_for_another_resource_gets_invalid_resource() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(
        &sim,
        "sim-client",
        "sim-secret",
        Some("https://contoso.crm.dynamics.com/.default"),
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error_codes"], json!([500011]));
}

#[tokio::test]
async fn a_web_api_request_without_a_token_gets_401_with_a_challenge() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = Client::new().get(api(&sim, SESSIONS)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer authorization_uri="));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn rotating_the_client_secret_revokes_issued_tokens() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.rotate_client_secret("new-secret");
    let response = get(&client, &token, &api(&sim, SESSIONS), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_filter_on_datetimes_and_null_selects_only_overdue_sessions() {
    let mut data = Dataset::whatsapp_empty();
    let mut table = data.table(SESSIONS).unwrap().clone();
    table.rows = vec![
        session(
            &guid(1),
            Some("2026-11-23T14:00:00Z"),
            "2026-11-20T00:00:00Z",
        ),
        session(
            &guid(2),
            Some("2026-11-24T14:00:00Z"),
            "2026-11-20T00:00:00Z",
        ),
        session(&guid(3), None, "2026-11-20T00:00:00Z"),
        session(&guid(4), None, "2026-11-24T12:00:00Z"),
    ];
    data = data.with_table(SESSIONS, table);
    let (sim, client, token) = start_connected(data).await;
    let filter = "statecode eq 0 and (w4d_lastcustomermessageon le 2026-11-23T15:00:00Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-23T15:00:00Z))";
    let url = format!(
        "{}?$select=w4d_name&$filter={}",
        api(&sim, SESSIONS),
        filter.replace(' ', "%20")
    );
    let body = get_json(&client, &token, &url, None).await;
    let ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["w4d_chatsessionid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![guid(1), guid(3)]);
    assert!(body["value"][0]["@odata.etag"]
        .as_str()
        .unwrap()
        .starts_with("W/\""));
}

#[tokio::test]
async fn paging_is_key_based_so_closing_rows_between_pages_skips_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(25)).await;
    let mut url = format!(
        "{}?$select=statecode&$filter=statecode%20eq%200",
        api(&sim, SESSIONS)
    );
    let mut seen = Vec::new();
    loop {
        let response = get(&client, &token, &url, Some(10)).await;
        assert_eq!(
            response.headers()["preference-applied"],
            "odata.maxpagesize=10"
        );
        let body: Value = response.json().await.unwrap();
        for row in body["value"].as_array().unwrap() {
            let id = row["w4d_chatsessionid"].as_str().unwrap().to_string();
            // Close what was read, as the sweeper does while fetching the next page.
            sim.update(SESSIONS, &id, json!({"statecode": 1, "statuscode": 2}));
            seen.push(id);
        }
        let Some(next) = next_link(&body) else { break };
        assert!(next.contains("$filter=statecode%20eq%200"));
        url = next;
    }
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn a_patch_with_a_stale_etag_gets_412_and_changes_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let id = guid(0);
    let stale = etag_of(&sim, &id);
    sim.update(
        SESSIONS,
        &id,
        json!({"w4d_lastcustomermessageon": "2026-11-24T14:59:00Z"}),
    );
    let close = json!({"statecode": 1, "statuscode": 2});
    let response = patch_session(&client, &sim, &token, &id, &stale, close).await;
    let body = expect_json(response, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["error"]["code"], "0x80060882");
    assert_eq!(column_of(&sim, &id, "statecode"), 0);
}

#[tokio::test]
async fn a_patch_with_the_current_etag_gets_204_and_bumps_the_version() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let id = guid(0);
    let current = etag_of(&sim, &id);
    let close = json!({"statecode": 1, "statuscode": 2});
    let response = patch_session(&client, &sim, &token, &id, &current, close).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()["odata-entityid"]
        .to_str()
        .unwrap()
        .ends_with(&format!("{SESSIONS}({id})")));
    assert_ne!(etag_of(&sim, &id), current);
    assert_eq!(column_of(&sim, &id, "statuscode"), 2);
}

#[tokio::test]
async fn a_batch_with_continue_on_error_reports_each_operation_status() {
    let (sim, client, token) = start_connected(overdue_sessions(3)).await;
    let parts = vec![
        close_part(&sim, 0, None),
        patch_part(&guid(1), "W/\"1\"", None),
        close_part(&sim, 2, None),
    ];
    let (status, text) = post_batch(&client, &sim, &token, &parts, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&text), vec![204, 412, 204]);
    assert_eq!(column_of(&sim, &guid(2), "statecode"), 1);
}

#[tokio::test]
async fn a_batch_without_continue_on_error_stops_at_the_first_failure() {
    let (sim, client, token) = start_connected(overdue_sessions(3)).await;
    let parts = vec![
        close_part(&sim, 0, None),
        patch_part(&guid(1), "W/\"1\"", None),
        close_part(&sim, 2, None),
    ];
    let (_, text) = post_batch(&client, &sim, &token, &parts, false).await;
    assert_eq!(statuses(&text), vec![204, 412]);
    assert_eq!(column_of(&sim, &guid(2), "statecode"), 0);
}

#[tokio::test]
async fn a_failing_change_set_rolls_back_its_earlier_operations() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let part = change_set(&[
        close_part(&sim, 0, Some(1)),
        patch_part(&guid(1), "W/\"1\"", Some(2)),
    ]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![412]);
    assert_eq!(column_of(&sim, &guid(0), "statecode"), 0);
}

#[tokio::test]
async fn a_batch_counts_as_one_request_and_its_operations_as_patches() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    sim.reset_stats();
    let parts = vec![close_part(&sim, 0, None), close_part(&sim, 1, None)];
    post_batch(&client, &sim, &token, &parts, true).await;
    let stats = sim.stats();
    assert_eq!(
        (
            stats.requests,
            stats.batches,
            stats.batch_operations,
            stats.patches
        ),
        (1, 1, 2, 2)
    );
}

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
async fn an_unknown_column_in_select_is_a_400_naming_the_property() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(
        &client,
        &token,
        &format!("{}?$select=w4d_nope", api(&sim, SESSIONS)),
        None,
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["message"], "Could not find a property named 'w4d_nope' on type 'Microsoft.Dynamics.CRM.w4d_chatsession'.");
}

#[tokio::test]
async fn an_unknown_entity_set_is_a_404_resource_not_found() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(&client, &token, &api(&sim, "w4d_nothings"), None).await;
    let body = expect_json(response, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"]["code"], "0x8006088a");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'w4d_nothings'."
    );
}

#[tokio::test]
async fn a_malformed_filter_is_a_400_syntax_error() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(
        &client,
        &token,
        &format!("{}?$filter=statecode%20eq", api(&sim, SESSIONS)),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
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
async fn a_generated_org_of_100k_sessions_closes_20k_through_batches_quickly() {
    let (sim, client, token) = start_connected(Dataset::generated(100_000, 0.2, Utc::now())).await;
    let cutoff = (Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut url = format!("{}?$select=w4d_lastcustomermessageon&$filter=statecode%20eq%200%20and%20w4d_lastcustomermessageon%20le%20{cutoff}", api(&sim, SESSIONS));
    let started = Instant::now();
    let mut closed = 0;
    loop {
        let body = get_json(&client, &token, &url, Some(5000)).await;
        let rows = body["value"].as_array().unwrap();
        for chunk in rows.chunks(1000) {
            let parts: Vec<String> = chunk
                .iter()
                .map(|r| {
                    patch_part(
                        r["w4d_chatsessionid"].as_str().unwrap(),
                        r["@odata.etag"].as_str().unwrap(),
                        None,
                    )
                })
                .collect();
            let (_, text) = post_batch(&client, &sim, &token, &parts, true).await;
            closed += statuses(&text).iter().filter(|s| **s == 204).count();
        }
        let Some(next) = next_link(&body) else { break };
        url = next;
    }
    assert_eq!(closed, 20_000);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_token_request_from_an_unknown_client_gets_400_unauthorized_client() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "someone-else", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        (body["error"].as_str(), body["error_codes"][0].as_u64()),
        (Some("unauthorized_client"), Some(700016))
    );
}

#[tokio::test]
async fn a_token_request_with_a_scope_lacking_default_gets_invalid_scope() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(
        &sim,
        "sim-client",
        "sim-secret",
        Some(&format!("{}/user_impersonation", sim.url())),
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn ordered_paging_follows_the_order_and_returns_every_row_once() {
    let (sim, client, token) = start_connected(overdue_sessions(7)).await;
    let mut url = format!(
        "{}?$select=w4d_name&$orderby=w4d_name%20desc",
        api(&sim, SESSIONS)
    );
    let mut names = Vec::new();
    loop {
        let body = get_json(&client, &token, &url, Some(3)).await;
        names.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["w4d_name"].as_str().unwrap().to_string()),
        );
        let Some(next) = next_link(&body) else { break };
        url = next;
    }
    let expected: Vec<String> = (0..7).rev().map(guid).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn top_limits_the_rows_and_disables_paging() {
    let (sim, client, token) = start_connected(overdue_sessions(5)).await;
    let body = get_json(
        &client,
        &token,
        &format!("{}?$top=2", api(&sim, SESSIONS)),
        Some(1),
    )
    .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    assert!(body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn a_single_row_is_returned_with_its_etag_and_a_missing_one_is_404() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let found = get(
        &client,
        &token,
        &api(&sim, &format!("{SESSIONS}({})", guid(0))),
        None,
    )
    .await;
    assert_eq!(
        found.headers()["etag"].to_str().unwrap(),
        etag_of(&sim, &guid(0))
    );
    let missing = get(
        &client,
        &token,
        &api(&sim, &format!("{SESSIONS}({})", guid(9))),
        None,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_patch_naming_an_unknown_column_is_a_400_and_changes_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let before = etag_of(&sim, &guid(0));
    let change = json!({"statecode": 1, "w4d_nope": "x"});
    let response = patch_session(&client, &sim, &token, &guid(0), &before, change).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(etag_of(&sim, &guid(0)), before);
}

#[tokio::test]
async fn a_successful_change_set_answers_in_a_nested_change_set_response() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let part = change_set(&[close_part(&sim, 0, Some(1)), close_part(&sim, 1, Some(2))]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], false).await;
    assert!(text.contains("Content-Type: multipart/mixed; boundary=changesetresponse_"));
    assert_eq!(statuses(&text), vec![204, 204]);
    assert!(text.contains("Content-ID: 2"));
}

#[tokio::test]
async fn batch_parts_may_use_absolute_urls() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let part = close_part(&sim, 0, None).replace(
        "PATCH w4d_chatsessions(",
        &format!("PATCH {}(", api(&sim, SESSIONS)),
    );
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![204]);
}

#[tokio::test]
async fn a_batch_of_more_than_1000_operations_is_rejected() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let parts: Vec<String> = (0..1001)
        .map(|_| patch_part(&guid(0), "W/\"1\"", None))
        .collect();
    let (status, _) = post_batch(&client, &sim, &token, &parts, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(column_of(&sim, &guid(0), "statecode"), 0);
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

#[tokio::test]
async fn who_am_i_answers_the_application_user_as_a_who_am_i_response() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let body = expect_json(
        get(&client, &token, &api(&sim, "WhoAmI"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["UserId"], dataverse_sim::APPLICATION_USER_ID);
    assert_eq!(body["BusinessUnitId"], dataverse_sim::BUSINESS_UNIT_ID);
    assert_eq!(body["OrganizationId"], dataverse_sim::ORGANIZATION_ID);
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"));
}

#[tokio::test]
async fn a_write_through_the_api_records_the_application_user_and_the_time_and_an_update_another_user(
) {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let seeded = sim.row(SESSIONS, &guid(0)).unwrap();
    assert_eq!(
        seeded["_modifiedby_value"],
        dataverse_sim::INTEGRATION_USER_ID
    );
    let before = Utc::now() - chrono::Duration::seconds(1);

    let etag = format!("W/\"{}\"", seeded["versionnumber"]);
    let response = patch_session(
        &client,
        &sim,
        &token,
        &guid(0),
        &etag,
        json!({"statecode": 1, "statuscode": 2}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    sim.update(SESSIONS, &guid(1), json!({"w4d_name": "edited"}));

    let patched = sim.row(SESSIONS, &guid(0)).unwrap();
    assert_eq!(
        patched["_modifiedby_value"],
        dataverse_sim::APPLICATION_USER_ID
    );
    let modified: chrono::DateTime<Utc> = patched["modifiedon"].as_str().unwrap().parse().unwrap();
    assert!(modified >= before, "{modified}");
    let edited = sim.row(SESSIONS, &guid(1)).unwrap();
    assert_eq!(
        edited["_modifiedby_value"],
        dataverse_sim::INTEGRATION_USER_ID
    );
}

#[tokio::test]
async fn entity_definitions_filtered_by_entity_set_name_give_the_logical_name_and_primary_key() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=EntitySetName%20eq%20'w4d_chatsessions'",
    );
    let body = get_json(&client, &token, &url, None).await;
    let tables = body["value"].as_array().unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0]["LogicalName"], "w4d_chatsession");
    assert_eq!(tables[0]["PrimaryIdAttribute"], "w4d_chatsessionid");
}

#[tokio::test]
async fn a_date_time_column_reports_the_behaviour_it_was_given() {
    let data = Dataset::whatsapp_empty().with_datetime_behavior(
        "w4d_chatsessions",
        "w4d_lastcustomermessageon",
        "TimeZoneIndependent",
    );
    let (sim, client, token) = start_connected(data).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='w4d_lastcustomermessageon')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=DateTimeBehavior",
    );
    let body = get_json(&client, &token, &url, None).await;
    assert_eq!(body["DateTimeBehavior"]["Value"], "TimeZoneIndependent");
}

#[tokio::test]
async fn status_options_name_the_state_each_belongs_to() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='statuscode')/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    let body = get_json(&client, &token, &url, None).await;
    let pairs: Vec<(i64, i64)> = body["OptionSet"]["Options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["Value"].as_i64().unwrap(), o["State"].as_i64().unwrap()))
        .collect();
    assert_eq!(pairs, [(1, 0), (2, 1), (3, 1)]);
}

#[tokio::test]
async fn who_am_i_answers_with_the_three_documented_ids() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let body = get_json(&client, &token, &api(&sim, "WhoAmI"), None).await;
    for field in ["BusinessUnitId", "UserId", "OrganizationId"] {
        assert_eq!(body[field].as_str().map(str::len), Some(36), "{field}");
    }
}

#[tokio::test]
async fn a_denied_privilege_answers_403_naming_it() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.deny_privilege("workflows", "prvReadWorkflow");
    let response = get(&client, &token, &api(&sim, "workflows"), None).await;
    let body = expect_json(response, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing prvReadWorkflow privilege"));
}
