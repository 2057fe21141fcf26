//! Secrets Manager and EventBridge Scheduler calls end within the invocation's budget: each
//! service is a TCP endpoint that accepts and never answers, and the invocation still returns
//! before its Lambda deadline, with the summary logged.

use crate::support::*;
use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use chrono::Utc;
use dataverse_sim::Dataset;
use lambda_runtime::Diagnostic;
use serde_json::json;
use session_sweeper::handler::App;
use session_sweeper::settings::Settings;
use std::time::{Duration, Instant};

/// The Lambda deadline of these invocations, and the longest a test waits for one: long
/// enough to fail, rather than hang, on a call the budget does not bound.
const DEADLINE_MS: i64 = 4_000;
const GIVE_UP: Duration = Duration::from_secs(15);

fn stalled_secrets_client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(stalled_endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

fn stalled_scheduler_client() -> aws_sdk_scheduler::Client {
    let config = aws_sdk_scheduler::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(stalled_endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_scheduler::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_secrets_manager_ends_the_invocation_before_its_deadline_with_a_clear_error() {
    let settings = Settings::from_lookup(|name| {
        (name == "DATAVERSE_SECRET_ID").then(|| "session-sweeper/dataverse".to_owned())
    })
    .unwrap();
    let app = App::new(settings, stalled_secrets_client(), fast_retries()).unwrap();
    let harness = Harness {
        sim: dataverse_sim::Sim::start(Default::default(), Dataset::demo(Utc::now()))
            .await
            .unwrap(),
        app,
        secret_id: String::new(),
    };
    let started = Instant::now();

    let outcome = tokio::time::timeout(GIVE_UP, harness.sweep_with_deadline(DEADLINE_MS)).await;

    let elapsed = started.elapsed();
    let error = outcome
        .expect("the invocation returns instead of waiting on Secrets Manager")
        .unwrap_err();
    assert!(
        elapsed < Duration::from_millis(DEADLINE_MS as u64),
        "{elapsed:?}"
    );
    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "Credentials");
    assert!(
        diagnostic
            .error_message
            .contains("Secrets Manager did not answer within"),
        "{}",
        diagnostic.error_message
    );
    assert!(harness.sim.request_log().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_stalled_scheduler_is_a_counted_wake_failure_before_the_deadline_and_the_summary_is_logged(
) {
    let logs = LogCapture::start();
    let mut harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![session(1, Some(SUPPORT), Some(minutes(61)), hours(5))],
    ))
    .env("WAKE_SCHEDULE_NAME", "stalled-wake")
    .env("WAKE_ROLE_ARN", "arn:aws:iam::123456789012:role/wake")
    .start()
    .await;
    harness.app = harness.app.with_scheduler(stalled_scheduler_client());
    let started = Instant::now();

    let outcome = tokio::time::timeout(GIVE_UP, harness.sweep_with_deadline(DEADLINE_MS)).await;

    let elapsed = started.elapsed();
    let summary = outcome
        .expect("the invocation returns instead of waiting on the scheduler")
        .expect("the sweep itself succeeds");
    assert!(
        elapsed < Duration::from_millis(DEADLINE_MS as u64),
        "{elapsed:?}"
    );
    assert_eq!(summary.closed(), 1);
    let reason = summary.wake_error().expect("the failure is reported");
    assert!(reason.contains("did not answer GetSchedule"), "{reason}");
    assert_eq!(summary.metrics_line()["WakeScheduleFailures"], 1);
    let text = logs.text();
    let finished = text.find("\"message\":\"sweep finished\"");
    let not_written = text.find("wake-up not written");
    assert!(finished.is_some() && not_written.is_some(), "{text}");
    assert!(
        finished < not_written,
        "the summary is logged first: {text}"
    );
    assert!(text.contains(r#"\"WakeScheduleFailures\":1"#), "{text}");
}
