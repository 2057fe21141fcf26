//! What the wake-up write itself guarantees, against moto's EventBridge Scheduler: a moment
//! never in the past however long the sweep took, and a target with a dead-letter queue and
//! a short retry policy.

use crate::support::*;
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde_json::json;
use session_sweeper::handler::Clock;
use std::time::Duration;

const ROLE: &str = "arn:aws:iam::123456789012:role/session-sweeper-wake";
const QUEUE: &str = "arn:aws:sqs:us-east-1:123456789012:session-sweeper-failed";

fn from() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// The moment of the schedule `name`'s `at(...)` expression.
async fn written_at(name: &str) -> DateTime<Utc> {
    let got = get_schedule(name).await;
    let expression = got.schedule_expression().unwrap_or_default();
    let inner = expression
        .strip_prefix("at(")
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("not an at() expression: {expression}"));
    NaiveDateTime::parse_from_str(inner, "%Y-%m-%dT%H:%M:%S")
        .expect("an at() moment")
        .and_utc()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_sweep_never_writes_a_wake_up_in_the_past() {
    let name = unique_schedule("slow");
    // Eligible two minutes after the sweep starts: the moment planned at its start.
    let last = from() - minutes(58);
    let mut setup = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![json!({
            "w4d_chatsessionid": sid(1), "w4d_name": "session 1",
            "w4d_lastcustomermessageon": stamp(last), "_w4d_configurationid_value": SUPPORT,
            "w4d_closereason": null, "statecode": 0, "statuscode": 1,
            "createdon": stamp(from() - hours(5)), "modifiedon": stamp(from() - hours(5)),
        })],
    ))
    .env("WAKE_SCHEDULE_NAME", name.as_str())
    .env("WAKE_ROLE_ARN", ROLE);
    // Each Dataverse request takes 600 ms, which this clock makes 72 s: the sweep lasts
    // minutes by the time the wake-up is written, while the write itself (a few ms on moto)
    // stays well inside the minimum interval.
    setup.options.faults.latency = Duration::from_millis(600);
    let mut harness = setup.start().await;
    let clock = Clock::running(from(), 120);
    harness.app.clock = clock.clone();

    let summary = harness.sweep().await.unwrap();

    let after = clock.now(Utc::now());
    let fires = written_at(&name).await;
    let at = summary.next_wake_at().expect("a wake-up was written");
    assert!(
        at > from() + minutes(2),
        "the planned moment was moved: {at}"
    );
    assert!(at >= after, "written in the past: {at} < {after}");
    // The moment is the minimum interval (1 minute) from the write, at most a second more:
    // a schedule less than a minute ahead of it was set after the write, and never fires
    // after the moment.
    assert!(
        fires > at - minutes(1) && fires <= at,
        "the schedule fires at {fires} for the moment {at}"
    );
    assert!(
        at <= after + minutes(1) + chrono::Duration::seconds(1),
        "no later than the minimum interval from the write: {at}, {after}"
    );
    let input: serde_json::Value =
        serde_json::from_str(get_schedule(&name).await.target().unwrap().input().unwrap()).unwrap();
    assert_eq!(input["detail"]["sweep_at"], stamp(at));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_written_wake_up_sends_what_it_could_not_deliver_to_the_dead_letter_queue_after_short_retries(
) {
    let name = unique_schedule("dlq");
    let mut harness = Setup::new(org(vec![configuration(SUPPORT, json!(60))], vec![]))
        .env("WAKE_SCHEDULE_NAME", name.as_str())
        .env("WAKE_ROLE_ARN", ROLE)
        .env("WAKE_DEAD_LETTER_ARN", QUEUE)
        .start()
        .await;
    harness.app.clock = Clock::Fixed(from());

    harness.sweep().await.unwrap();

    let got = get_schedule(&name).await;
    let target = got.target().expect("a target");
    assert_eq!(
        target.dead_letter_config().and_then(|dlq| dlq.arn()),
        Some(QUEUE)
    );
    let retry = target.retry_policy().expect("a retry policy");
    assert_eq!(
        (
            retry.maximum_retry_attempts(),
            retry.maximum_event_age_in_seconds()
        ),
        (Some(2), Some(300))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_updated_wake_up_keeps_the_retry_policy_it_was_configured_with() {
    let name = unique_schedule("retry");
    let mut harness = Setup::new(org(vec![configuration(SUPPORT, json!(60))], vec![]))
        .env("WAKE_SCHEDULE_NAME", name.as_str())
        .env("WAKE_ROLE_ARN", ROLE)
        .env("WAKE_RETRY_ATTEMPTS", "0")
        .env("WAKE_MAX_EVENT_AGE_SECONDS", "60")
        .start()
        .await;
    harness.app.clock = Clock::Fixed(from());
    harness.sweep().await.unwrap();
    harness.app.clock = Clock::Fixed(from() + minutes(5));

    harness.sweep().await.unwrap();

    let got = get_schedule(&name).await;
    let retry = got
        .target()
        .and_then(|target| target.retry_policy())
        .expect("a retry policy");
    assert_eq!(
        (
            retry.maximum_retry_attempts(),
            retry.maximum_event_age_in_seconds()
        ),
        (Some(0), Some(60))
    );
    assert!(got.target().and_then(|t| t.dead_letter_config()).is_none());
}
