//! How a whole sweep reports closes whose answer is missing, unreadable or a failure: the real
//! handler against a wiremock Dataverse that answers `$batch` exactly as each test needs.

use crate::support::*;
use chrono::Utc;
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde_json::json;
use session_sweeper::handler::{handle, App, HandlerError};
use session_sweeper::settings::Settings;
use session_sweeper::summary::{Incomplete, Summary};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A Dataverse with one active configuration (1 day) and the sessions `ids`, each silent for
/// 30 hours, whose `$batch` answers `batch`; and an app whose secret points at it.
async fn org_answering_batches_with(ids: &[u32], batch: ResponseTemplate) -> (MockServer, App) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "token_type": "Bearer", "expires_in": 3599, "access_token": "token-1"
        })))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/data/v9.2/{CONFIGURATIONS}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "value": [{"w4d_whatsappconfigurationid": SUPPORT, "w4d_sessiontimeout": 1440, "statecode": 0}]
        })))
        .mount(&server)
        .await;
    let silent_since = stamp(Utc::now() - hours(30));
    let rows: Vec<_> = ids
        .iter()
        .map(|n| {
            json!({
                "@odata.etag": format!("W/\"{n}\""),
                "w4d_chatsessionid": sid(*n),
                "w4d_lastcustomermessageon": silent_since,
                "createdon": silent_since,
                "_w4d_configurationid_value": SUPPORT,
                "statecode": 0,
            })
        })
        .collect();
    Mock::given(method("GET"))
        .and(path(format!("/api/data/v9.2/{SESSIONS}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "value": rows })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"/\$batch$"))
        .respond_with(batch)
        .mount(&server)
        .await;

    let secret_id = unique_secret_name("outcomes");
    let url = server.uri();
    let secret = json!({
        "tenant_id": "tenant", "client_id": "sim-client", "client_secret": "very-secret",
        "environment_url": url, "authority_url": url,
    });
    put_secret(&secret_id, &secret.to_string()).await;
    let settings =
        Settings::from_lookup(|name| (name == "DATAVERSE_SECRET_ID").then(|| secret_id.clone()))
            .unwrap();
    let app = App::new(settings, secrets_client(), fast_retries()).unwrap();
    (server, app)
}

/// A 200 `$batch` answer with `body` as its multipart content.
fn multipart(body: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_raw(body.to_owned(), "multipart/mixed; boundary=b")
}

/// One invocation whose Lambda deadline is `left` away.
async fn sweep_with_time_left(app: &App, left: Duration) -> Result<Summary, HandlerError> {
    let mut context = Context::default();
    context.deadline = (Utc::now().timestamp_millis() + left.as_millis() as i64) as u64;
    handle(app, LambdaEvent::new(scheduled_event(json!({})), context))
        .await
        .map(sweep_summary)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_whose_200_answer_cannot_be_read_reports_its_closes_outcome_unknown_not_failed() {
    let torn = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 2";
    let (_server, app) = org_answering_batches_with(&[1, 2], multipart(torn)).await;

    let summary = sweep_with_time_left(&app, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(summary.closed(), 0);
    assert_eq!(summary.failed().total(), 0);
    assert_eq!(summary.outcome_unknown().total(), 2);
    let listed: Vec<&str> = summary
        .outcome_unknown()
        .iter()
        .map(|entry| entry.id.as_str())
        .collect();
    assert_eq!(listed, [sid(1), sid(2)]);
    assert!(!summary.complete());
    assert!(summary
        .incomplete_because()
        .contains(&Incomplete::OutcomeUnknown));
    assert!(summary.adds_up(), "{summary:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_stalled_past_the_deadline_still_gets_a_summary_before_it_with_its_closes_outcome_unknown(
) {
    let stalled = multipart("--b--\r\n").set_delay(Duration::from_secs(30));
    let (_server, app) = org_answering_batches_with(&[1, 2, 3], stalled).await;
    let left = Duration::from_secs(4);

    let started = Instant::now();
    let summary = sweep_with_time_left(&app, left).await.unwrap();
    let took = started.elapsed();

    assert!(took < left, "the sweep answered after {took:?}");
    assert!(!summary.complete());
    assert_eq!(summary.closed(), 0);
    assert_eq!(summary.outcome_unknown().total(), 3, "{summary:?}");
    assert!(summary.adds_up(), "{summary:?}");
}

#[tokio::test(flavor = "current_thread")]
async fn a_sweep_whose_every_close_fails_is_a_lambda_error_naming_the_status_settings_with_its_summary_logged(
) {
    let captured = LogCapture::start();
    let rejected = "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n\r\n\
        {\"error\":{\"code\":\"0x80040203\",\"message\":\"5 is not a valid status code for state code 1\"}}\r\n";
    let answer = format!(
        "--b\r\nContent-Type: application/http\r\n\r\n{rejected}\
         --b\r\nContent-Type: application/http\r\n\r\n{rejected}--b--\r\n"
    );
    let (_server, app) = org_answering_batches_with(&[1, 2], multipart(&answer)).await;

    let error = sweep_with_time_left(&app, Duration::from_secs(60))
        .await
        .unwrap_err();
    let diagnostic = Diagnostic::from(error);

    assert_eq!(diagnostic.error_type, "NoCloseSucceeded");
    assert!(
        diagnostic.error_message.contains("0x80040203")
            && diagnostic
                .error_message
                .contains("SESSION_CLOSED_STATUSCODE"),
        "{}",
        diagnostic.error_message
    );
    let logs = captured.text();
    assert!(
        logs.lines().any(|line| line.contains("\"sweep finished\"")
            && line.contains("\"failed\":2")
            && line.contains("\"closed\":0")),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_where_one_close_succeeds_and_the_others_fail_is_not_a_lambda_error() {
    let answer = "--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n\
        --b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 400 Bad Request\r\n\r\n\r\n--b--\r\n";
    let (_server, app) = org_answering_batches_with(&[1, 2], multipart(answer)).await;

    let summary = sweep_with_time_left(&app, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!((summary.closed(), summary.failed().total()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_returned_twice_is_judged_and_counted_once() {
    let answer = "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\n\
        HTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n";
    let (server, app) = org_answering_batches_with(&[1, 1], multipart(answer)).await;

    let summary = sweep_with_time_left(&app, Duration::from_secs(60))
        .await
        .unwrap();

    assert_eq!(
        (summary.eligible(), summary.closed()),
        (1, 1),
        "{summary:?}"
    );
    assert_eq!(summary.skipped().total(), 0, "{summary:?}");
    assert!(summary.adds_up(), "{summary:?}");
    let batches = server.received_requests().await.unwrap_or_default();
    let sent = batches
        .iter()
        .filter(|request| request.url.path().ends_with("$batch"))
        .map(|request| {
            String::from_utf8_lossy(&request.body)
                .matches("PATCH ")
                .count()
        })
        .sum::<usize>();
    assert_eq!(sent, 1);
}
