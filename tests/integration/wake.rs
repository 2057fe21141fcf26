//! The just-in-time wake-up end to end: the real handler over dataverse-sim writes its next
//! wake-up to moto's EventBridge Scheduler, with `now` fixed so each moment is exact.

use crate::support::*;
use aws_sdk_scheduler::types::FlexibleTimeWindowMode;
use chrono::{DateTime, TimeZone, Utc};
use serde_json::{json, Value};
use session_sweeper::handler::Clock;

const ROLE: &str = "arn:aws:iam::123456789012:role/session-sweeper-wake";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// An active session of `configuration` whose customer last wrote at `last` (never, when
/// `None`), created at `created`.
fn session_at(
    n: u32,
    configuration: &str,
    last: Option<DateTime<Utc>>,
    created: DateTime<Utc>,
) -> Value {
    json!({
        "w4d_chatsessionid": sid(n),
        "w4d_name": format!("session {n}"),
        "w4d_lastcustomermessageon": last.map(stamp),
        "_w4d_configurationid_value": configuration,
        "w4d_closereason": null,
        "statecode": 0,
        "statuscode": 1,
        "createdon": stamp(created),
        "modifiedon": stamp(created),
    })
}

/// A harness whose wake-up goes to the schedule `name`, with `now` fixed.
async fn harness(name: &str, configurations: Vec<Value>, sessions: Vec<Value>) -> Harness {
    let mut harness = Setup::new(org(configurations, sessions))
        .env("WAKE_SCHEDULE_NAME", name)
        .env("WAKE_ROLE_ARN", ROLE)
        .start()
        .await;
    harness.app.clock = Clock::Fixed(now());
    harness
}

/// The schedule `name` as moto holds it: expression, time zone, window mode, target, input.
async fn schedule(
    name: &str,
) -> (
    String,
    String,
    FlexibleTimeWindowMode,
    String,
    String,
    Value,
) {
    let got = get_schedule(name).await;
    let target = got.target().expect("a target");
    (
        got.schedule_expression().unwrap_or_default().to_owned(),
        got.schedule_expression_timezone()
            .unwrap_or_default()
            .to_owned(),
        got.flexible_time_window().expect("a window").mode().clone(),
        target.arn().to_owned(),
        target.role_arn().to_owned(),
        serde_json::from_str(target.input().expect("an input")).expect("JSON input"),
    )
}

async fn expression(name: &str) -> String {
    schedule(name).await.0
}

/// The schedule `name`'s `at()` expression and the moment its input asks the sweep to wait for.
async fn fires_and_sweeps_at(name: &str) -> (String, String) {
    let (expression, _, _, _, _, input) = schedule(name).await;
    let sweep_at = input["detail"]["sweep_at"].as_str().unwrap_or_default();
    (expression, sweep_at.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_up_is_the_earliest_upcoming_eligibility_over_every_configuration() {
    let name = unique_schedule("wake");
    let harness = harness(
        &name,
        vec![
            configuration(SUPPORT, json!(60)),
            configuration(SALES, json!(120)),
        ],
        vec![
            // Eligible at now + 37 min, and at now + 90 min.
            session_at(1, SUPPORT, Some(now() - minutes(23)), now() - hours(5)),
            session_at(2, SALES, Some(now() - minutes(30)), now() - hours(5)),
            // Already eligible: closed by this sweep, so it is not the next wake-up.
            session_at(3, SUPPORT, Some(now() - minutes(61)), now() - hours(5)),
        ],
    )
    .await;

    let summary = harness.sweep().await.unwrap();

    let at = now() + minutes(37);
    assert_eq!(summary.next_wake_at(), Some(at));
    assert_eq!(summary_closed(&summary), [sid(3)].into());
    let (expression, zone, mode, arn, role, input) = schedule(&name).await;
    // The minute before the moment: wherever in it the scheduler fires, it is not late.
    assert_eq!(expression, "at(2026-11-24T15:36:00)");
    assert_eq!(input["detail"]["sweep_at"], "2026-11-24T15:37:00Z");
    assert_eq!(zone, "UTC");
    assert_eq!(mode, FlexibleTimeWindowMode::Off);
    assert_eq!(arn, FUNCTION_ARN);
    assert_eq!(role, ROLE);
    assert_eq!(summary.metrics_line()["NextWakeSeconds"], 37 * 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_the_customer_never_wrote_in_wakes_the_function_at_its_creation_plus_the_timeout()
{
    let name = unique_schedule("wake");
    let harness = harness(
        &name,
        vec![configuration(SUPPORT, json!(60))],
        vec![
            session_at(1, SUPPORT, Some(now() - minutes(10)), now() - hours(5)),
            session_at(2, SUPPORT, None, now() - minutes(48)),
        ],
    )
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.next_wake_at(), Some(now() + minutes(12)));
    assert_eq!(
        fires_and_sweeps_at(&name).await,
        (
            "at(2026-11-24T15:11:00)".into(),
            "2026-11-24T15:12:00Z".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_active_session_the_wake_up_is_one_shortest_timeout_away() {
    let name = unique_schedule("wake");
    let harness = harness(
        &name,
        vec![
            configuration(SUPPORT, json!(90)),
            configuration(SALES, json!("1 day")),
        ],
        vec![],
    )
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.next_wake_at(), Some(now() + minutes(90)));
    assert_eq!(
        fires_and_sweeps_at(&name).await,
        (
            "at(2026-11-24T16:29:00)".into(),
            "2026-11-24T16:30:00Z".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upcoming_moment_closer_than_the_minimum_interval_waits_the_minimum() {
    let name = unique_schedule("wake");
    let last = now() - minutes(60) + chrono::Duration::seconds(20);
    let harness = harness(
        &name,
        vec![configuration(SUPPORT, json!(60))],
        vec![session_at(1, SUPPORT, Some(last), now() - hours(5))],
    )
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.next_wake_at(), Some(now() + minutes(1)));
    // The minute before the moment has begun: the schedule names its rest, from a second
    // after the write.
    assert_eq!(
        fires_and_sweeps_at(&name).await,
        (
            "at(2026-11-24T15:00:01)".into(),
            "2026-11-24T15:01:00Z".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_existing_schedule_is_updated_not_duplicated() {
    let name = unique_schedule("wake");
    let mut harness = harness(&name, vec![configuration(SUPPORT, json!(60))], vec![]).await;
    harness.sweep().await.unwrap();
    assert_eq!(expression(&name).await, "at(2026-11-24T15:59:00)");

    harness.app.clock = Clock::Fixed(now() + minutes(5));
    harness.sweep().await.unwrap();

    assert_eq!(
        fires_and_sweeps_at(&name).await,
        (
            "at(2026-11-24T16:04:00)".into(),
            "2026-11-24T16:05:00Z".into()
        )
    );
    let listed = scheduler_client()
        .list_schedules()
        .name_prefix(&name)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.schedules().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scheduler_that_refuses_leaves_the_sweep_result_unchanged_and_reports_the_failure() {
    let sessions = vec![
        session_at(1, SUPPORT, Some(now() - minutes(61)), now() - hours(5)),
        session_at(2, SUPPORT, Some(now() - minutes(23)), now() - hours(5)),
    ];
    let name = unique_schedule("wake");
    let mut refused = harness(
        &name,
        vec![configuration(SUPPORT, json!(60))],
        sessions.clone(),
    )
    .await;
    refused.app = refused.app.with_scheduler(refusing_scheduler_client());
    refused.app.clock = Clock::Fixed(now());
    let accepted = harness(
        &unique_schedule("wake"),
        vec![configuration(SUPPORT, json!(60))],
        sessions,
    )
    .await;

    let summary = refused.sweep().await.expect("the sweep itself succeeds");
    let reference = accepted.sweep().await.unwrap();

    assert_eq!(summary_closed(&summary), [sid(1)].into());
    assert_eq!(refused.closed_ids(), [sid(1)].into());
    assert_eq!(
        (summary.eligible(), summary.closed(), summary.complete()),
        (
            reference.eligible(),
            reference.closed(),
            reference.complete()
        )
    );
    assert_eq!(summary.next_wake_at(), reference.next_wake_at());
    let reason = summary.wake_error().expect("the failure is reported");
    assert!(
        reason.contains("EventBridge Scheduler refused GetSchedule"),
        "{reason}"
    );
    assert!(
        reason.contains("403") || reason.contains("Access"),
        "{reason}"
    );
    assert_eq!(summary.metrics_line()["WakeScheduleFailures"], 1);
    assert_eq!(reference.metrics_line()["WakeScheduleFailures"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_up_input_fed_back_to_the_handler_is_accepted_as_a_sweep() {
    let name = unique_schedule("wake");
    let harness = harness(&name, vec![configuration(SUPPORT, json!(60))], vec![]).await;
    harness.sweep().await.unwrap();
    let (_, _, _, _, _, input) = schedule(&name).await;

    let summary = harness.invoke(input).await.expect("accepted as a sweep");

    assert!(!summary.dry_run());
    assert_eq!(summary.next_wake_at(), Some(now() + minutes(60)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sets_no_wake_up() {
    let name = unique_schedule("wake");
    let harness = harness(&name, vec![configuration(SUPPORT, json!(60))], vec![]).await;

    let summary = harness
        .invoke(scheduled_event(json!({"dry_run": true})))
        .await
        .unwrap();

    assert_eq!(summary.next_wake_at(), None);
    let missing = scheduler_client()
        .get_schedule()
        .name(&name)
        .send()
        .await
        .unwrap_err();
    assert!(missing
        .into_service_error()
        .is_resource_not_found_exception());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_stopped_by_the_cap_wakes_after_the_minimum_interval() {
    let name = unique_schedule("wake");
    let mut harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![
            session_at(1, SUPPORT, Some(now() - minutes(90)), now() - hours(5)),
            session_at(2, SUPPORT, Some(now() - minutes(80)), now() - hours(5)),
        ],
    ))
    .env("WAKE_SCHEDULE_NAME", name.as_str())
    .env("WAKE_ROLE_ARN", ROLE)
    .env("MAX_CLOSURES_PER_SWEEP", "1")
    .env("MIN_WAKE_INTERVAL", "2 minutes")
    .start()
    .await;
    harness.app.clock = Clock::Fixed(now());

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.deferred(), 1);
    assert_eq!(summary.next_wake_at(), Some(now() + minutes(2)));
    assert_eq!(
        fires_and_sweeps_at(&name).await,
        (
            "at(2026-11-24T15:01:00)".into(),
            "2026-11-24T15:02:00Z".into()
        )
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upcoming_queries_go_in_one_batch_served_one_row_each_on_an_org_with_many_upcoming_sessions(
) {
    let name = unique_schedule("wake");
    let written = (1..=300).map(|n| {
        let last = now() - minutes(1 + i64::from(n % 50));
        session_at(n, SUPPORT, Some(last), now() - hours(5))
    });
    let never_written =
        (301..=400).map(|n| session_at(n, SUPPORT, None, now() - minutes(i64::from(n % 50))));
    let harness = harness(
        &name,
        vec![configuration(SUPPORT, json!(60))],
        written.chain(never_written).collect(),
    )
    .await;

    let summary = harness.sweep().await.unwrap();

    assert!(summary.next_wake_at().is_some(), "{summary:?}");
    // Nothing is eligible, so the one $batch is the two reads of the next eligibility.
    let batches: Vec<(String, u64)> = harness
        .sim
        .requests()
        .into_iter()
        .filter(|request| request.line.contains("$batch"))
        .map(|request| (request.line, request.rows))
        .collect();
    assert_eq!(batches.len(), 1, "{batches:?}");
    assert_eq!(
        batches[0].1, 2,
        "one row for each of the two reads: {batches:?}"
    );
    assert_eq!(harness.sim.stats().batch_operations, 2);
}
