//! Edge cases of the Dataverse adapter that need exact responses, served by wiremock.

use crate::support::*;
use session_sweeper::budget::Budget;
use session_sweeper::dataverse::{AuthError, CloseOutcome, CloseRequest, DataverseError, Org};
use session_sweeper::handler::App;
use session_sweeper::ids::Guid;
use session_sweeper::settings::Settings;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

const CONFIGURATIONS_PATH: &str = "/api/data/v9.2/w4d_whatsappconfigurations";

/// A wiremock server with Entra's token endpoint, and an app whose secret points at it.
async fn server_and_app() -> (MockServer, App) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "token-1"
        })))
        .mount(&server)
        .await;
    let app = app_for(&server).await;
    (server, app)
}

/// An app whose secret points at `server` for both Entra ID and Dataverse.
async fn app_for(server: &MockServer) -> App {
    let secret_id = unique_secret_name("wiremock");
    let url = server.uri();
    let secret = serde_json::json!({
        "tenant_id": "tenant", "client_id": "sim-client", "client_secret": "very-secret",
        "environment_url": url, "authority_url": url,
    });
    put_secret(&secret_id, &secret.to_string()).await;
    let settings =
        Settings::from_lookup(|name| (name == "DATAVERSE_SECRET_ID").then(|| secret_id.clone()))
            .unwrap();
    App::new(settings, secrets_client(), fast_retries()).unwrap()
}

/// Configuration reads answer `first` (`times` times, then a normal page; always when
/// `times` is `None`).
async fn configurations_answering(
    first: ResponseTemplate,
    times: Option<u64>,
) -> (MockServer, App) {
    let (server, app) = server_and_app().await;
    let mock = Mock::given(method("GET"))
        .and(path(CONFIGURATIONS_PATH))
        .respond_with(first);
    match times {
        Some(times) => {
            mock.up_to_n_times(times)
                .with_priority(1)
                .mount(&server)
                .await
        }
        None => mock.mount(&server).await,
    }
    Mock::given(method("GET"))
        .and(path(CONFIGURATIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "value": [{"w4d_whatsappconfigurationid": SUPPORT, "w4d_sessiontimeout": 1440, "statecode": 0}]
        })))
        .mount(&server)
        .await;
    (server, app)
}

/// `$batch` answers `body` as multipart with boundary `boundary`.
async fn batch_answering(body: &str, boundary: &str) -> (MockServer, App, Org) {
    let (server, app) = server_and_app().await;
    Mock::given(method("POST"))
        .and(path_regex(r"/\$batch$"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            body.to_owned(),
            &format!("multipart/mixed; boundary={boundary}"),
        ))
        .mount(&server)
        .await;
    let org = open(&app, Budget::unlimited()).await.unwrap();
    (server, app, org)
}

/// The per-sweep handle over `app`'s client.
async fn open(app: &App, budget: Budget) -> Result<Org, DataverseError> {
    Org::open(
        app.dataverse.clone(),
        Arc::new(app.settings.schema.clone()),
        budget,
        chrono::Utc::now(),
    )
    .await
}

async fn close(org: &Org, ids: &[u32]) -> Result<Vec<CloseOutcome>, DataverseError> {
    let closes: Vec<CloseRequest> = ids
        .iter()
        .map(|n| CloseRequest {
            id: Guid::parse(&sid(*n)).unwrap(),
            etag: format!("W/\"{n}\""),
        })
        .collect();
    org.close(&closes).await
}

async fn read_configurations(app: &App) -> Result<usize, DataverseError> {
    let org = open(app, Budget::unlimited()).await?;
    org.active_configurations().await.map(|rows| rows.len())
}

async fn requests_to(server: &MockServer, path_prefix: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|request| request.url.path().starts_with(path_prefix))
        .count()
}

/// Runs `read` and returns how long it took.
async fn timed<T>(read: impl std::future::Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let result = read.await;
    (result, started.elapsed())
}

// The fallback after a first 429 without Retry-After is 2 s: a Retry-After of 3 s that is
// ignored waits 2 s, and one that is doubled or capped wrongly waits 6 s or more.
#[tokio::test]
async fn a_429_waits_the_retry_after_seconds_then_succeeds() {
    let (server, app) = configurations_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", "3"),
        Some(1),
    )
    .await;

    let (rows, waited) = timed(read_configurations(&app)).await;

    assert_eq!(rows.unwrap(), 1);
    assert!(waited >= Duration::from_secs(3), "waited only {waited:?}");
    assert!(waited < Duration::from_millis(4500), "waited {waited:?}");
    assert_eq!(requests_to(&server, CONFIGURATIONS_PATH).await, 2);
}

#[tokio::test]
async fn a_429_with_retry_after_as_an_http_date_waits_until_that_date() {
    // The date is fixed before the set-up (moto can take seconds to start), so the wait is
    // judged by the moment it ends, not by its length: eight seconds ahead leaves the 2^attempt
    // fallback (2 s) well short of the date however slow the set-up was.
    let at = chrono::Utc::now() + chrono::Duration::seconds(8);
    let date = at.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    let whole_second = at - chrono::Duration::nanoseconds(i64::from(at.timestamp_subsec_nanos()));
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", date.as_str()),
        Some(1),
    )
    .await;

    let (rows, waited) = timed(read_configurations(&app)).await;
    let ended = chrono::Utc::now();

    assert_eq!(rows.unwrap(), 1);
    // The date has whole seconds: the resend comes no earlier than that second.
    assert!(ended >= whole_second, "resent at {ended}, before {date}");
    assert!(waited < Duration::from_millis(8500), "waited {waited:?}");
}

#[tokio::test]
async fn a_429_without_retry_after_waits_two_to_the_power_of_the_attempt() {
    let (_server, app) = configurations_answering(ResponseTemplate::new(429), Some(1)).await;

    let started = Instant::now();
    read_configurations(&app).await.unwrap();

    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "waited {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_retry_after_too_large_for_the_clock_stops_the_sweep_instead_of_panicking() {
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", u64::MAX.to_string().as_str()),
        None,
    )
    .await;
    let budget = Budget::until(Instant::now() + Duration::from_secs(5), Duration::ZERO);
    let org = open(&app, budget).await.unwrap();

    let result = org.active_configurations().await;

    assert!(
        matches!(result, Err(DataverseError::ThrottledUntil { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn throttling_longer_than_the_budget_stops_at_once_instead_of_waiting() {
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(429).insert_header("Retry-After", "300"),
        None,
    )
    .await;
    let budget = Budget::until(Instant::now() + Duration::from_secs(5), Duration::ZERO);
    let org = open(&app, budget).await.unwrap();

    let started = Instant::now();
    let result = org.active_configurations().await;

    let at_least = chrono::Utc::now() + chrono::Duration::seconds(295);
    assert!(
        matches!(result, Err(DataverseError::ThrottledUntil { retry_at }) if retry_at >= at_least),
        "{result:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(2));
}

#[tokio::test]
async fn server_errors_are_retried_with_backoff_until_they_pass() {
    let (server, app) = configurations_answering(ResponseTemplate::new(503), Some(2)).await;

    assert_eq!(read_configurations(&app).await.unwrap(), 1);
    assert_eq!(requests_to(&server, CONFIGURATIONS_PATH).await, 3);
}

#[tokio::test]
async fn persistent_server_errors_give_up_after_the_bounded_attempts() {
    let (server, app) = configurations_answering(ResponseTemplate::new(502), None).await;

    let result = read_configurations(&app).await;

    assert!(
        matches!(
            result,
            Err(DataverseError::Unavailable {
                status: 502,
                attempts: 6
            })
        ),
        "{result:?}"
    );
    assert_eq!(requests_to(&server, CONFIGURATIONS_PATH).await, 6);
}

#[tokio::test]
async fn a_401_renews_the_token_then_rereads_the_secret_then_gives_up() {
    let (server, app) = configurations_answering(ResponseTemplate::new(401), None).await;

    let result = read_configurations(&app).await;

    assert!(
        matches!(result, Err(DataverseError::Unauthorized)),
        "{result:?}"
    );
    assert_eq!(requests_to(&server, "/tenant/oauth2").await, 3);
    assert_eq!(requests_to(&server, CONFIGURATIONS_PATH).await, 3);
}

#[tokio::test]
async fn a_torn_batch_answer_is_an_unknown_outcome_for_the_adapter() {
    let torn = "--batchresponse_x\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 2";
    let (_server, _app, org) = batch_answering(torn, "batchresponse_x").await;

    let result = close(&org, &[1]).await;

    assert!(
        matches!(result, Err(DataverseError::OutcomeUnknown { .. })),
        "{result:?}"
    );
}

/// A `$batch` answer part for the operation with `content_id`, answering `status_line`.
fn answer_part(content_id: u32, status_line: &str) -> String {
    format!(
        "--b\r\nContent-Type: application/http\r\nContent-ID: {content_id}\r\n\r\n{status_line}\r\n\r\n\r\n"
    )
}

#[tokio::test]
async fn operations_missing_from_a_batch_response_are_unknown_not_failed_nor_closed() {
    let one_answer = format!("{}--b--\r\n", answer_part(1, "HTTP/1.1 204 No Content"));
    let (_server, _app, org) = batch_answering(&one_answer, "b").await;

    let outcomes = close(&org, &[1, 2]).await.unwrap();

    assert_eq!(outcomes[0], CloseOutcome::Closed);
    assert!(
        matches!(outcomes[1], CloseOutcome::Unknown { .. }),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn a_batch_answer_without_content_ids_and_one_part_short_is_unknown_for_every_operation() {
    let one_answer =
        "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n";
    let (_server, _app, org) = batch_answering(one_answer, "b").await;

    let outcomes = close(&org, &[1, 2]).await.unwrap();

    assert!(
        outcomes
            .iter()
            .all(|outcome| matches!(outcome, CloseOutcome::Unknown { .. })),
        "{outcomes:?}"
    );
}

#[tokio::test]
async fn reordered_batch_answers_land_on_their_own_sessions_by_content_id() {
    let answer = format!(
        "{}{}{}--b--\r\n",
        answer_part(3, "HTTP/1.1 404 Not Found"),
        answer_part(1, "HTTP/1.1 412 Precondition Failed"),
        answer_part(2, "HTTP/1.1 204 No Content"),
    );
    let (_server, _app, org) = batch_answering(&answer, "b").await;

    let outcomes = close(&org, &[1, 2, 3]).await.unwrap();

    assert_eq!(
        outcomes,
        vec![
            CloseOutcome::Changed,
            CloseOutcome::Closed,
            CloseOutcome::Gone
        ]
    );
}

#[tokio::test]
async fn a_batch_answered_504_after_it_was_sent_is_an_unknown_outcome_not_a_failure() {
    let (server, app) = server_and_app().await;
    Mock::given(method("POST"))
        .and(path_regex(r"/\$batch$"))
        .respond_with(ResponseTemplate::new(504))
        .mount(&server)
        .await;
    let org = open(&app, Budget::unlimited()).await.unwrap();

    let result = close(&org, &[1]).await;

    assert!(
        matches!(result, Err(DataverseError::OutcomeUnknown { .. })),
        "{result:?}"
    );
}

#[tokio::test]
async fn a_batch_is_sent_with_continue_on_error_and_conditional_patches() {
    let (server, _app, org) = batch_answering("--b--\r\n", "b").await;

    close(&org, &[7]).await.unwrap();

    let requests = server.received_requests().await.unwrap();
    let batch = requests
        .iter()
        .find(|r| r.url.path().ends_with("$batch"))
        .unwrap();
    assert_eq!(
        batch.headers.get("prefer").unwrap(),
        "odata.continue-on-error"
    );
    assert_eq!(
        batch.headers.get("authorization").unwrap(),
        "Bearer token-1"
    );
    let body = String::from_utf8_lossy(&batch.body);
    assert!(body.contains("Content-ID: 1\r\n"), "{body}");
    assert!(body.contains(&format!(
        "PATCH /api/data/v9.2/w4d_chatsessions({}) HTTP/1.1",
        sid(7)
    )));
    assert!(body.contains("If-Match: W/\"7\""));
}

#[tokio::test]
async fn a_redirect_from_dataverse_is_an_error_naming_the_host_and_is_not_followed() {
    let elsewhere = MockServer::start().await;
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(308).insert_header(
            "Location",
            format!(
                "{}/api/data/v9.2/w4d_whatsappconfigurations",
                elsewhere.uri()
            )
            .as_str(),
        ),
        None,
    )
    .await;

    let result = read_configurations(&app).await;

    assert!(
        matches!(&result, Err(DataverseError::Redirected { host, status: 308, .. }) if host == "127.0.0.1"),
        "{result:?}"
    );
    assert!(result.unwrap_err().to_string().contains("127.0.0.1"));
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_redirect_from_the_token_endpoint_does_not_post_the_client_secret_elsewhere() {
    let elsewhere = MockServer::start().await;
    let (server, app) = server_and_app().await;
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(
            ResponseTemplate::new(307)
                .insert_header("Location", format!("{}/steal", elsewhere.uri()).as_str()),
        )
        .with_priority(1)
        .mount(&server)
        .await;

    let result = read_configurations(&app).await;

    assert!(
        matches!(result, Err(DataverseError::Redirected { status: 307, .. })),
        "{result:?}"
    );
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_token_with_an_enormous_lifetime_is_used_without_panicking() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            format!(
                r#"{{"token_type":"Bearer","expires_in":{},"access_token":"t"}}"#,
                u64::MAX
            ),
            "application/json",
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(CONFIGURATIONS_PATH))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": []})))
        .mount(&server)
        .await;
    let app = app_for(&server).await;

    assert_eq!(read_configurations(&app).await.unwrap(), 0);
    assert_eq!(read_configurations(&app).await.unwrap(), 0);
    assert_eq!(requests_to(&server, "/tenant/oauth2").await, 1);
}

// Payloads from Microsoft's documentation (tests/fixtures/SOURCES.md names each page).

#[tokio::test]
async fn microsofts_documented_404_is_read_with_its_code_and_the_unknown_name() {
    let body = include_str!("../fixtures/error-404-resource-not-found.json");
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(404).set_body_raw(body, "application/json; odata.metadata=minimal"),
        None,
    )
    .await;

    let error = read_configurations(&app).await.unwrap_err();

    assert!(
        matches!(&error, DataverseError::Api { status: 404, code, .. } if code == "0x8006088a"),
        "{error:?}"
    );
    assert_eq!(error.unknown_name(), Some("Account"));
}

#[tokio::test]
async fn microsofts_documented_400_is_read_with_its_code_and_the_unknown_name() {
    let body = include_str!("../fixtures/error-400-unknown-property.json");
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(400).set_body_raw(body, "application/json; odata.metadata=minimal"),
        None,
    )
    .await;

    let error = read_configurations(&app).await.unwrap_err();

    assert!(
        matches!(&error, DataverseError::Api { status: 400, code, .. } if code == "0x0"),
        "{error:?}"
    );
    assert_eq!(error.unknown_name(), Some("Name"));
}

#[tokio::test]
async fn microsofts_documented_token_error_is_read_with_its_code_and_first_line() {
    let body = include_str!("../fixtures/token-error-400.json");
    let (server, app) = server_and_app().await;
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(
            ResponseTemplate::new(400).set_body_raw(body, "application/json; charset=utf-8"),
        )
        .with_priority(1)
        .mount(&server)
        .await;

    let error = read_configurations(&app).await.unwrap_err();

    let DataverseError::Auth(AuthError::Refused {
        status,
        error,
        description,
        ..
    }) = error
    else {
        panic!("{error:?}");
    };
    assert_eq!((status, error.as_str()), (400, "invalid_request"));
    assert!(
        description.starts_with("AADSTS90011: Request is ambiguous"),
        "{description}"
    );
    assert!(!description.contains("Trace ID"), "{description}");
}

#[tokio::test]
async fn microsofts_documented_continue_on_error_batch_answer_is_read_part_by_part() {
    let body = include_str!("../fixtures/batch-continue-on-error-response.txt");
    let (_server, _app, org) =
        batch_answering(body, "batchresponse_f44bd09d-573f-4a30-bca0-2e500ee7e139").await;

    let outcomes = close(&org, &[1, 2, 3]).await.unwrap();

    assert_eq!(
        outcomes,
        vec![
            CloseOutcome::Failed {
                status: 400,
                message: "0x80044331: A validation error occurred.  The length of the 'subject' \
                          attribute of the 'task' entity exceeded the maximum allowed length of '200'."
                    .into(),
            },
            CloseOutcome::Closed,
            CloseOutcome::Closed,
        ]
    );
}

#[tokio::test]
async fn microsofts_documented_change_set_batch_answer_is_flattened_in_order() {
    let body = include_str!("../fixtures/batch-changeset-response.txt");
    let (_server, _app, org) =
        batch_answering(body, "batchresponse_2cb48f48-39a8-41ea-aa52-132fa8ab3c2d").await;

    let outcomes = close(&org, &[1, 2]).await.unwrap();

    assert_eq!(outcomes, vec![CloseOutcome::Closed, CloseOutcome::Closed]);
}

#[tokio::test]
async fn microsofts_documented_403_is_read_with_its_code_and_the_security_role_hint() {
    let body = include_str!("../fixtures/error-403-missing-privilege.json");
    let (_server, app) = configurations_answering(
        ResponseTemplate::new(403).set_body_raw(body, "application/json; odata.metadata=minimal"),
        None,
    )
    .await;

    let error = read_configurations(&app).await.unwrap_err();

    assert!(
        matches!(&error, DataverseError::Api { status: 403, code, message }
            if code == "0x80040220" && message.contains("is missing prvReadworkflow privilege")),
        "{error:?}"
    );
    assert!(error.to_string().contains("security role"), "{error}");
}

#[tokio::test]
async fn microsofts_documented_429_is_retried_and_when_it_persists_reported_as_throttling() {
    let body = include_str!("../fixtures/error-429-service-protection.json");
    let throttled = ResponseTemplate::new(429)
        .insert_header("Retry-After", "0")
        .set_body_raw(body, "application/json; odata.metadata=minimal");
    let (_once, app_once) = configurations_answering(throttled.clone(), Some(1)).await;
    let (_always, app_always) = configurations_answering(throttled, None).await;

    let after_one = read_configurations(&app_once).await;
    let persistent = read_configurations(&app_always).await;

    assert_eq!(after_one.unwrap(), 1);
    assert!(
        matches!(persistent, Err(DataverseError::Throttled { attempts: 6 })),
        "{persistent:?}"
    );
}

#[tokio::test]
async fn a_configuration_returned_outside_the_active_filter_is_left_out_and_statecode_is_selected()
{
    let page = ResponseTemplate::new(200).set_body_json(serde_json::json!({"value": [
        {"w4d_whatsappconfigurationid": SUPPORT, "w4d_sessiontimeout": 1440, "statecode": 0},
        {"w4d_whatsappconfigurationid": SALES, "w4d_sessiontimeout": 5, "statecode": 1},
        {"w4d_whatsappconfigurationid": sid(9), "w4d_sessiontimeout": 5},
    ]}));
    let (server, app) = configurations_answering(page, None).await;

    let org = open(&app, Budget::unlimited()).await.unwrap();
    let configurations = org.active_configurations().await.unwrap();

    let ids: Vec<&str> = configurations.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, [SUPPORT]);
    let requests = server.received_requests().await.unwrap_or_default();
    let query = requests
        .iter()
        .find(|request| request.url.path() == CONFIGURATIONS_PATH)
        .and_then(|request| request.url.query().map(str::to_owned))
        .unwrap_or_default();
    assert!(query.contains("statecode"), "{query}");
}
