//! Undo a sweep: the reopen event against dataverse-sim, which records who changed each row
//! and when, and answers `WhoAmI`.

use crate::support::*;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use dataverse_sim::{APPLICATION_USER_ID, INTEGRATION_USER_ID};
use serde_json::{json, Value};
use session_sweeper::handler::HandlerError;
use session_sweeper::summary::Summary;
use std::collections::BTreeSet;

/// A session in the closed state, last changed `closed_ago` by `by`, whose customer last wrote
/// `quiet` ago.
fn closed_session(n: u32, quiet: Duration, closed_ago: Duration, by: &str) -> Value {
    let mut row = session(n, Some(SUPPORT), Some(quiet), quiet + hours(1));
    row["statecode"] = json!(1);
    row["statuscode"] = json!(2);
    row["w4d_closereason"] = json!("Closed by session timeout");
    row["modifiedon"] = json!(stamp(Utc::now() - closed_ago));
    row["_modifiedby_value"] = json!(by);
    row
}

fn reopen_event(since: DateTime<Utc>, dry_run: bool) -> Value {
    let mut detail = json!({"reopen_closed_since": stamp(since)});
    if dry_run {
        detail["dry_run"] = json!(true);
    }
    scheduled_event(detail)
}

fn reopened(summary: &Summary) -> BTreeSet<String> {
    summary
        .reopened_sessions()
        .iter()
        .map(|s| s.id.to_string())
        .collect()
}

fn ids(ns: &[u32]) -> BTreeSet<String> {
    ns.iter().map(|n| sid(*n)).collect()
}

/// One day, the timeout the configuration has now.
fn support_one_day() -> Vec<Value> {
    vec![configuration(SUPPORT, json!(1440))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_function_closed_since_the_instant_and_nobody_touched_is_reopened() {
    let harness = Setup::new(org(
        support_one_day(),
        vec![closed_session(1, hours(3), hours(1), APPLICATION_USER_ID)],
    ))
    .env("SESSION_CLOSE_REASON_COLUMN", "w4d_closereason")
    .start()
    .await;

    let summary = harness
        .invoke(reopen_event(Utc::now() - hours(2), false))
        .await
        .unwrap();

    let row = harness.sim.row(SESSIONS, &sid(1)).unwrap();
    assert_eq!(
        (row["statecode"].clone(), row["statuscode"].clone()),
        (json!(0), json!(1))
    );
    assert_eq!(row["w4d_closereason"], Value::Null);
    assert_eq!(reopened(&summary), ids(&[1]));
    assert_eq!((summary.reopened(), summary.closed()), (Some(1), 0));
    let report = &summary.reopened_sessions()[0];
    assert_eq!(
        report.eligible_at,
        report.last_customer_message_at.unwrap() + Duration::days(1)
    );
    assert!(summary.complete() && summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_closed_before_the_instant_by_someone_else_or_changed_after_the_close_stay_closed()
{
    let harness = Harness::start(org(
        support_one_day(),
        vec![
            closed_session(1, hours(3), hours(1), APPLICATION_USER_ID),
            closed_session(2, hours(5), hours(3), APPLICATION_USER_ID),
            closed_session(3, hours(3), hours(1), INTEGRATION_USER_ID),
            closed_session(4, hours(3), hours(1), APPLICATION_USER_ID),
        ],
    ))
    .await;
    // An agent edits session 4 after the function closed it.
    harness
        .sim
        .update(SESSIONS, &sid(4), json!({"w4d_name": "noted by an agent"}));
    let versions = |n: u32| harness.sim.row(SESSIONS, &sid(n)).unwrap()["versionnumber"].clone();
    let before: Vec<Value> = [2, 3, 4].into_iter().map(versions).collect();

    let summary = harness
        .invoke(reopen_event(Utc::now() - hours(2), false))
        .await
        .unwrap();

    assert_eq!(harness.active_ids(), ids(&[1]));
    assert_eq!(harness.closed_ids(), ids(&[2, 3, 4]));
    let after: Vec<Value> = [2, 3, 4].into_iter().map(versions).collect();
    assert_eq!(before, after);
    assert_eq!(summary.eligible(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_still_past_the_current_timeout_is_skipped_not_reopened() {
    let harness = Harness::start(org(
        support_one_day(),
        vec![
            closed_session(1, hours(3), hours(1), APPLICATION_USER_ID),
            closed_session(2, hours(30), hours(1), APPLICATION_USER_ID),
        ],
    ))
    .await;

    let summary = harness
        .invoke(reopen_event(Utc::now() - hours(2), false))
        .await
        .unwrap();

    assert_eq!(harness.closed_ids(), ids(&[2]));
    assert_eq!(reopened(&summary), ids(&[1]));
    assert_eq!(summary.skipped().total(), 1);
    assert_eq!(summary.skipped()[0].id, sid(2));
    assert_eq!(
        summary.skipped()[0].reason.as_str(),
        "still past the current timeout"
    );
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_reopen_run_changes_nothing_and_lists_what_it_would_reopen() {
    let harness = Harness::start(org(
        support_one_day(),
        vec![closed_session(1, hours(3), hours(1), APPLICATION_USER_ID)],
    ))
    .await;
    let before = harness.sim.rows(SESSIONS);

    let summary = harness
        .invoke(reopen_event(Utc::now() - hours(2), true))
        .await
        .unwrap();

    assert_eq!(harness.sim.rows(SESSIONS), before);
    assert_eq!(harness.sim.stats().patches, 0);
    assert_eq!(
        (summary.would_reopen(), summary.reopened()),
        (Some(1), None)
    );
    assert_eq!(summary.would_reopen_sessions()[0].id, sid(1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_instant_is_refused_before_any_request() {
    let harness = Harness::start(org(
        support_one_day(),
        vec![closed_session(1, hours(3), hours(1), APPLICATION_USER_ID)],
    ))
    .await;

    let error = harness
        .invoke(reopen_event(Utc::now() + hours(1), false))
        .await
        .unwrap_err();

    assert!(
        matches!(error, HandlerError::InvalidReopenInstant(_)),
        "{error}"
    );
    assert!(error.to_string().contains("future"), "{error}");
    assert_eq!(harness.sim.stats().requests, 0);
    assert_eq!(harness.closed_ids(), ids(&[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_instant_that_is_not_rfc_3339_is_refused_before_any_request() {
    let harness = Harness::start(org(
        support_one_day(),
        vec![closed_session(1, hours(3), hours(1), APPLICATION_USER_ID)],
    ))
    .await;

    let error = harness
        .invoke(scheduled_event(
            json!({"reopen_closed_since": "last tuesday"}),
        ))
        .await
        .unwrap_err();

    assert!(
        matches!(error, HandlerError::InvalidReopenInstant(_)),
        "{error}"
    );
    assert!(error.to_string().contains("RFC 3339"), "{error}");
    assert_eq!(harness.sim.stats().requests, 0);
    assert_eq!(harness.closed_ids(), ids(&[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closure_cap_bounds_reopens_and_the_rest_is_deferred() {
    let harness = Setup::new(org(
        support_one_day(),
        vec![
            closed_session(1, hours(3), hours(1), APPLICATION_USER_ID),
            closed_session(2, hours(3), hours(1), APPLICATION_USER_ID),
            closed_session(3, hours(3), hours(1), APPLICATION_USER_ID),
        ],
    ))
    .env("MAX_CLOSURES_PER_SWEEP", "2")
    .start()
    .await;

    let summary = harness
        .invoke(reopen_event(Utc::now() - hours(2), false))
        .await
        .unwrap();

    assert_eq!(harness.active_ids().len(), 2);
    assert_eq!((summary.reopened(), summary.deferred()), (Some(2), 1));
    assert!(!summary.complete());
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_with_a_wrong_timeout_is_undone_once_the_timeout_is_fixed() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(10))],
        vec![
            session(1, Some(SUPPORT), Some(hours(1)), hours(2)),
            session(2, Some(SUPPORT), Some(hours(3)), hours(4)),
        ],
    ))
    .await;
    let before_the_sweep = Utc::now() - Duration::seconds(2);
    harness.sweep().await.unwrap();
    assert_eq!(harness.closed_ids(), ids(&[1, 2]));
    harness
        .sim
        .update(CONFIGURATIONS, SUPPORT, json!({"w4d_sessiontimeout": 1440}));

    let summary = harness
        .invoke(reopen_event(before_the_sweep, false))
        .await
        .unwrap();

    assert_eq!(harness.active_ids(), ids(&[1, 2]));
    assert_eq!(reopened(&summary), ids(&[1, 2]));
    assert_eq!(
        summary.reopen_closed_since(),
        Some(before_the_sweep.trunc_subsecs(0))
    );
}

#[test]
fn the_sample_reopen_event_asks_for_a_reopen_since_its_instant() {
    let text = std::fs::read_to_string(root().join("events/reopen.json")).unwrap();
    let trigger =
        session_sweeper::handler::parse_event(serde_json::from_str(&text).unwrap()).unwrap();
    assert_eq!(
        trigger,
        session_sweeper::handler::Trigger::Reopen {
            since: "2026-11-24T09:00:00Z".parse().unwrap(),
            dry_run: false
        }
    );
}

/// A wiremock Dataverse whose reopen query answers `rows` whatever its filter says, and
/// whose `$batch` closes everything it is sent; an app with the close reason column set.
async fn server_ignoring_the_reopen_filter(
    rows: Vec<Value>,
) -> (wiremock::MockServer, session_sweeper::handler::App) {
    use wiremock::matchers::{method, path, path_regex};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    let server = MockServer::start().await;
    let ok = |body: Value| ResponseTemplate::new(200).set_body_json(body);
    Mock::given(method("POST"))
        .and(path("/tenant/oauth2/v2.0/token"))
        .respond_with(ok(
            json!({"token_type": "Bearer", "expires_in": 3599, "access_token": "t"}),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/data/v9.2/WhoAmI"))
        .respond_with(ok(json!({"UserId": APPLICATION_USER_ID, "BusinessUnitId": SALES, "OrganizationId": SALES})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/data/v9.2/{CONFIGURATIONS}")))
        .respond_with(ok(json!({"value": [
            {"w4d_whatsappconfigurationid": SUPPORT, "w4d_sessiontimeout": 1440, "statecode": 0}
        ]})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path(format!("/api/data/v9.2/{SESSIONS}")))
        .respond_with(ok(json!({ "value": rows })))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path_regex(r"/\$batch$"))
        .respond_with(ResponseTemplate::new(200).set_body_raw(
            "--b\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n",
            "multipart/mixed; boundary=b",
        ))
        .mount(&server)
        .await;
    let secret_id = unique_secret_name("reopen-filter");
    let url = server.uri();
    let secret = json!({
        "tenant_id": "tenant", "client_id": "sim-client", "client_secret": "very-secret",
        "environment_url": url, "authority_url": url,
    });
    put_secret(&secret_id, &secret.to_string()).await;
    let settings = session_sweeper::settings::Settings::from_lookup(|name| match name {
        "DATAVERSE_SECRET_ID" => Some(secret_id.clone()),
        "SESSION_CLOSE_REASON_COLUMN" => Some("w4d_closereason".into()),
        _ => None,
    })
    .unwrap();
    let app =
        session_sweeper::handler::App::new(settings, secrets_client(), fast_retries()).unwrap();
    (server, app)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopen_run_rechecks_who_closed_when_and_why_and_leaves_rows_outside_its_filter_closed() {
    let mut by_an_agent = closed_session(2, hours(3), hours(1), INTEGRATION_USER_ID);
    by_an_agent["_modifiedby_value"] = json!(SALES);
    let long_ago = closed_session(3, hours(3), hours(30), APPLICATION_USER_ID);
    let mut other_reason = closed_session(4, hours(3), hours(1), APPLICATION_USER_ID);
    other_reason["w4d_closereason"] = json!("Closed by another flow");
    let mut rows = vec![
        closed_session(1, hours(3), hours(1), APPLICATION_USER_ID),
        by_an_agent,
        long_ago,
        other_reason,
    ];
    for row in &mut rows {
        row["@odata.etag"] = json!("W/\"1\"");
    }
    let (server, app) = server_ignoring_the_reopen_filter(rows).await;

    let event = reopen_event(Utc::now() - hours(2), false);
    let context = lambda_runtime::Context::default();
    let response =
        session_sweeper::handler::handle(&app, lambda_runtime::LambdaEvent::new(event, context))
            .await
            .unwrap();
    let summary = sweep_summary(response);

    assert_eq!(reopened(&summary), ids(&[1]), "{summary:?}");
    let requests = server.received_requests().await.unwrap_or_default();
    let patched: usize = requests
        .iter()
        .filter(|request| request.url.path().ends_with("$batch"))
        .map(|request| {
            String::from_utf8_lossy(&request.body)
                .matches("PATCH ")
                .count()
        })
        .sum();
    assert_eq!(patched, 1);
    let query = requests
        .iter()
        .filter(|request| request.url.path().ends_with(SESSIONS))
        .filter_map(|request| request.url.query())
        .collect::<String>();
    for column in ["_modifiedby_value", "modifiedon", "w4d_closereason"] {
        assert!(
            query.contains(&format!(",{column}")),
            "{column} not selected: {query}"
        );
    }
}
