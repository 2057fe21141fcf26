//! What warnings cost and when they go out: they share the closes' `$batch` requests and add
//! one query per planned query, each kind has the closure cap, a warning without a message
//! table or action is the warned-at alone, and the wake-up comes at the next warning moment.

use crate::notify::{hourly, notifying, warned_ids, MESSAGES};
use crate::support::*;
use chrono::{DateTime, Timelike, Utc};
use serde_json::{json, Value};

/// A harness with the warnings on, the wake-up writing to a schedule of its own, and `now`
/// fixed at `at`.
async fn waking(at: DateTime<Utc>, sessions: Vec<Value>) -> Harness {
    let mut harness = notifying(hourly(sessions))
        .env("WAKE_SCHEDULE_NAME", unique_schedule("notify"))
        .env(
            "WAKE_ROLE_ARN",
            "arn:aws:iam::123456789012:role/session-sweeper-wake",
        )
        .start()
        .await;
    harness.app.clock = session_sweeper::handler::Clock::Fixed(at);
    harness
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wake_up_comes_at_the_next_warning_moment_not_at_the_close() {
    let now = Utc::now().with_nanosecond(0).unwrap();
    // Eligible in 40 minutes: its warning is due in 25.
    let mut quiet = session(1, Some(SUPPORT), None, hours(2));
    quiet["w4d_lastcustomermessageon"] = json!(stamp(now - minutes(20)));
    let harness = waking(now, vec![quiet]).await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.next_wake_at(), Some(now + minutes(25)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_warned_in_this_sweep_wakes_the_function_for_its_close() {
    let now = Utc::now().with_nanosecond(0).unwrap();
    let mut warned = session(1, Some(SUPPORT), None, hours(2));
    warned["w4d_lastcustomermessageon"] = json!(stamp(now - minutes(50)));
    let mut later = session(2, Some(SUPPORT), None, hours(2));
    later["w4d_lastcustomermessageon"] = json!(stamp(now - minutes(5)));
    let harness = waking(now, vec![warned, later]).await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(warned_ids(&summary), [sid(1)]);
    // Session 1 closes in 10 minutes; session 2's warning is due in 40.
    assert_eq!(summary.next_wake_at(), Some(now + minutes(10)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_travel_in_the_same_batch_as_closes_with_one_more_query_per_planned_query() {
    let harness = notifying(hourly(vec![
        session(1, Some(SUPPORT), Some(minutes(50)), hours(2)),
        session(2, Some(SUPPORT), Some(hours(2)), hours(3)),
    ]))
    .env("WAKE_SCHEDULE_NAME", "")
    .start()
    .await;
    let before = harness.sim.stats();

    let summary = harness.sweep().await.unwrap();

    let after = harness.sim.stats();
    assert_eq!((summary.closed(), warned_ids(&summary)), (1, vec![sid(1)]));
    assert_eq!(after.batches - before.batches, 1, "one $batch for both");
    // The configurations, the close query and the warning query.
    assert_eq!(after.reads - before.reads, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warnings_and_closes_each_have_the_closure_cap() {
    let harness = notifying(hourly(vec![
        session(1, Some(SUPPORT), Some(minutes(50)), hours(2)),
        session(2, Some(SUPPORT), Some(minutes(51)), hours(2)),
        session(3, Some(SUPPORT), Some(hours(2)), hours(3)),
    ]))
    .env("MAX_CLOSURES_PER_SWEEP", "1")
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(
        summary.closed(),
        1,
        "the close is not crowded out by warnings"
    );
    assert_eq!(summary.warned().map(|w| w.total()), Some(1));
    assert_eq!(
        harness.sim.rows(MESSAGES).len(),
        2,
        "one warning, one goodbye"
    );
    assert!(
        !summary.complete(),
        "the other warning waits for the next sweep"
    );
}
