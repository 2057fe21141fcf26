//! Waking ahead and waiting, through the real handler over dataverse-sim and moto's
//! EventBridge Scheduler: an invocation woken for a moment waits for it by the app's clock (a
//! virtual clock here, so nothing sleeps) and sweeps with the clock after the wait; one that
//! cannot afford the wait sweeps at once.

use crate::support::*;
use chrono::{DateTime, Duration, TimeZone, Utc};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use session_sweeper::handler::{handle, Clock, VirtualClock};
use std::sync::{Arc, Mutex};

const ROLE: &str = "arn:aws:iam::123456789012:role/session-sweeper-wake";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn seconds(s: i64) -> Duration {
    Duration::seconds(s)
}

/// An active session of the 60-minute configuration that becomes eligible at `eligible`.
fn eligible_at(n: u32, eligible: DateTime<Utc>) -> Value {
    json!({
        "w4d_chatsessionid": sid(n), "w4d_name": format!("session {n}"),
        "w4d_lastcustomermessageon": stamp(eligible - minutes(60)),
        "_w4d_configurationid_value": SUPPORT, "w4d_closereason": null,
        "statecode": 0, "statuscode": 1,
        "createdon": stamp(now() - hours(5)), "modifiedon": stamp(now() - hours(5)),
    })
}

/// A harness writing its wake-up to `name`, over sessions eligible at each of `moments`.
async fn harness(name: &str, moments: &[DateTime<Utc>]) -> Harness {
    let sessions = (1..).zip(moments).map(|(n, at)| eligible_at(n, *at));
    Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        sessions.collect(),
    ))
    .env("WAKE_SCHEDULE_NAME", name)
    .env("WAKE_ROLE_ARN", ROLE)
    .start()
    .await
}

/// A virtual clock at `at` whose driver moves it to each target asked for, and the targets.
fn virtual_clock(at: DateTime<Utc>) -> (Clock, Arc<Mutex<Vec<DateTime<Utc>>>>) {
    let asked = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&asked);
    let clock = VirtualClock::new(at, move |target| {
        seen.lock().unwrap().push(target);
        Some(target)
    });
    (Clock::Virtual(clock), asked)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_invocation_woken_ahead_waits_for_its_moment_and_sweeps_with_the_clock_after_the_wait() {
    let name = unique_schedule("ahead");
    let mut harness = harness(&name, &[now() + seconds(30), now() + seconds(50)]).await;
    let (clock, asked) = virtual_clock(now());
    harness.app.clock = clock;

    let event = scheduled_event(json!({"sweep_at": stamp(now() + seconds(40))}));
    let summary = harness.invoke(event).await.unwrap();

    assert_eq!(*asked.lock().unwrap(), [now() + seconds(40)]);
    assert_eq!(summary_closed(&summary), [sid(1)].into());
    assert_eq!(harness.closed_ids(), [sid(1)].into());
    // Written after the wait: the minimum interval counts from the moment waited for.
    assert_eq!(
        summary.next_wake_at(),
        Some(now() + seconds(40) + minutes(1))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wait_longer_than_half_the_invocations_time_left_sweeps_at_once_closing_nothing_early() {
    let name = unique_schedule("ahead");
    let mut harness = harness(&name, &[now() + seconds(30)]).await;
    let (clock, asked) = virtual_clock(now());
    harness.app.clock = clock;
    let mut context = Context::default();
    context.invoked_function_arn = FUNCTION_ARN.into();
    // 60 s left, of which 15 s are the margin: 45 s, so a wait of 40 s does not fit.
    context.deadline = (Utc::now().timestamp_millis() + 60_000) as u64;

    let event = scheduled_event(json!({"sweep_at": stamp(now() + seconds(40))}));
    let response = handle(&harness.app, LambdaEvent::new(event, context)).await;

    let summary = sweep_summary(response.unwrap());
    assert!(asked.lock().unwrap().is_empty(), "{asked:?}");
    assert!(summary_closed(&summary).is_empty(), "{summary:?}");
    assert!(harness.closed_ids().is_empty());
    assert_eq!(summary.next_wake_at(), Some(now() + minutes(1)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_written_wake_up_fired_early_in_its_minute_waits_for_the_moment_it_carries() {
    let name = unique_schedule("ahead");
    let moment = now() + minutes(37) + seconds(12);
    let mut harness = harness(&name, &[moment]).await;
    harness.app.clock = Clock::Fixed(now());
    harness.sweep().await.unwrap();
    let got = get_schedule(&name).await;
    assert_eq!(got.schedule_expression(), Some("at(2026-11-24T15:36:00)"));
    let input: Value = serde_json::from_str(got.target().unwrap().input().unwrap()).unwrap();

    // The scheduler fires at the 25th second of the minute it was given.
    let (clock, asked) = virtual_clock(now() + minutes(36) + seconds(25));
    harness.app.clock = clock;
    let summary = harness.invoke(input).await.unwrap();

    assert_eq!(*asked.lock().unwrap(), [moment]);
    assert_eq!(summary_closed(&summary), [sid(1)].into());
}
