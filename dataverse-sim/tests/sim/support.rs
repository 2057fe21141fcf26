//! Shared helpers: a started simulator, tokens, requests, and `$batch` bodies.

use std::time::Duration;

use dataverse_sim::{Dataset, Sim, SimOptions, Table};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

pub const SESSIONS: &str = "w4d_chatsessions";

pub async fn start(data: Dataset) -> Sim {
    Sim::start(SimOptions::default(), data).await.unwrap()
}

/// A client-credentials token request; `scope` `None` asks for the simulator's `/.default`.
pub async fn request_token(
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

pub async fn token(sim: &Sim) -> String {
    let response = request_token(sim, "sim-client", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::OK).await;
    body["access_token"].as_str().unwrap().to_string()
}

/// A client and a valid token for `sim`.
pub async fn connect(sim: &Sim) -> (Client, String) {
    let client = Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let token = token(sim).await;
    (client, token)
}

/// A simulator over `data`, with a client and a valid token for it.
pub async fn start_connected(data: Dataset) -> (Sim, Client, String) {
    let sim = start(data).await;
    let (client, token) = connect(&sim).await;
    (sim, client, token)
}

/// The body of a response that must have answered `status`.
pub async fn expect_json(response: Response, status: StatusCode) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.unwrap()
}

pub fn api(sim: &Sim, path: &str) -> String {
    format!("{}/api/data/v9.2/{path}", sim.url())
}

pub async fn get(client: &Client, token: &str, url: &str, page_size: Option<usize>) -> Response {
    let mut request = client.get(url).bearer_auth(token);
    if let Some(n) = page_size {
        request = request.header("Prefer", format!("odata.maxpagesize={n}"));
    }
    request.send().await.unwrap()
}

pub async fn get_json(client: &Client, token: &str, url: &str, page_size: Option<usize>) -> Value {
    get(client, token, url, page_size)
        .await
        .json()
        .await
        .unwrap()
}

/// The URL of the next page, `None` on the last.
pub fn next_link(page: &Value) -> Option<String> {
    page["@odata.nextLink"].as_str().map(str::to_string)
}

/// PATCH one session with `If-Match: etag`.
pub async fn patch_session(
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

pub fn session(id: &str, last: Option<&str>, created: &str) -> Value {
    json!({"w4d_chatsessionid": id, "w4d_name": id, "w4d_lastcustomermessageon": last,
           "_w4d_configurationid_value": "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21",
           "statecode": 0, "statuscode": 1, "createdon": created})
}

pub fn guid(n: usize) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

/// Sessions 0..count, all overdue.
pub fn overdue_sessions(count: usize) -> Dataset {
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

pub fn patch_part(id: &str, etag: &str, content_id: Option<usize>) -> String {
    let content_id = content_id
        .map(|n| format!("Content-ID: {n}\r\n"))
        .unwrap_or_default();
    format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n{content_id}\r\n\
         PATCH w4d_chatsessions({id}) HTTP/1.1\r\nContent-Type: application/json\r\nIf-Match: {etag}\r\n\r\n\
         {{\"statecode\":1,\"statuscode\":2}}\r\n"
    )
}

pub fn batch_body(boundary: &str, parts: &[String]) -> String {
    let mut body = String::new();
    for part in parts {
        body.push_str(&format!("--{boundary}\r\n{part}"));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

/// A close of session `n` with its current etag.
pub fn close_part(sim: &Sim, n: usize, content_id: Option<usize>) -> String {
    patch_part(&guid(n), &etag_of(sim, &guid(n)), content_id)
}

/// A batch part holding `parts` as one change set.
pub fn change_set(parts: &[String]) -> String {
    let change_set = batch_body("changeset_y", parts);
    format!("Content-Type: multipart/mixed; boundary=changeset_y\r\n\r\n{change_set}")
}

/// POSTs `parts` as one `$batch`; returns its status and body.
pub async fn post_batch(
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

pub fn statuses(batch_response: &str) -> Vec<u16> {
    batch_response
        .lines()
        .filter_map(|l| l.strip_prefix("HTTP/1.1 "))
        .map(|l| l[..3].parse().unwrap())
        .collect()
}

pub fn etag_of(sim: &Sim, id: &str) -> String {
    format!("W/\"{}\"", sim.row(SESSIONS, id).unwrap()["versionnumber"])
}

/// A column of session `id` as the simulator holds it now.
pub fn column_of(sim: &Sim, id: &str, column: &str) -> Value {
    sim.row(SESSIONS, id).unwrap()[column].clone()
}

/// The JSON an admin endpoint (not counted as a request) serves at `path`.
pub async fn admin_json(client: &Client, sim: &Sim, path: &str) -> Value {
    client
        .get(format!("{}/_sim/{path}", sim.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

pub const MESSAGES: &str = "w4d_whatsappmessages";

/// POSTs `body` to an entity set, with `Prefer: return=representation` when asked.
pub async fn post_row(
    client: &Client,
    sim: &Sim,
    token: &str,
    set: &str,
    body: Value,
    representation: bool,
) -> Response {
    let mut request = client.post(api(sim, set)).bearer_auth(token).json(&body);
    if representation {
        request = request.header("Prefer", "return=representation");
    }
    request.send().await.unwrap()
}

/// A batch part carrying one request with a JSON body.
pub fn request_part(method: &str, url: &str, headers: &[(&str, &str)], body: &Value) -> String {
    let headers: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    format!(
        "Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         {method} {url} HTTP/1.1\r\nContent-Type: application/json\r\n{headers}\r\n{body}\r\n"
    )
}

/// A batch part creating a message of session `session` with `text`.
pub fn message_part(session: &str, text: &str) -> String {
    let body = json!({
        "w4d_body": text,
        "w4d_direction": dataverse_sim::dataset::OUTGOING,
        "w4d_ChatSession@odata.bind": format!("/{SESSIONS}({session})"),
    });
    request_part("POST", MESSAGES, &[], &body)
}

/// The messages the simulator holds for a session.
pub fn messages_of(sim: &Sim, session: &str) -> Vec<Value> {
    sim.rows(MESSAGES)
        .into_iter()
        .filter(|m| m["_w4d_chatsession_value"] == session)
        .collect()
}
