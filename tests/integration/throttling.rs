//! A 429's `Retry-After` is obeyed by the whole sweep: no request reaches Dataverse inside it,
//! and a wait that ends past the sweep's stop stops the sweep ("throttled") instead.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::{Faults, LoggedRequest};
use serde_json::json;
use session_sweeper::budget::Budget;
use session_sweeper::dataverse::Org;
use session_sweeper::summary::Incomplete;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Requests the sweeper sent before the 429 reached it may arrive just after it: the sim's
/// latency plus a margin for the machine.
const LATENCY: Duration = Duration::from_millis(100);
const IN_FLIGHT_GRACE: Duration = Duration::from_millis(250);

/// `count` eligible sessions of SUPPORT (1 day timeout).
fn eligible_org(count: u32) -> dataverse_sim::Dataset {
    let sessions = (1..=count)
        .map(|n| session(n, Some(SUPPORT), Some(hours(30)), hours(50)))
        .collect();
    org(vec![configuration(SUPPORT, json!(1440))], sessions)
}

/// Panics when a request arrived inside the `Retry-After` of an earlier 429 (past the grace
/// for requests already on their way).
fn assert_nothing_inside_a_retry_after(requests: &[LoggedRequest]) {
    for (n, throttled) in requests.iter().enumerate() {
        let Some(seconds) = throttled.retry_after_secs.filter(|s| *s > 0) else {
            continue;
        };
        let (grace_end, wait_end) = (
            throttled.at + IN_FLIGHT_GRACE,
            throttled.at + Duration::from_secs(seconds),
        );
        for later in &requests[n + 1..] {
            assert!(
                later.at < grace_end || later.at >= wait_end,
                "{} arrived {:?} after a 429 that asked for {seconds} s",
                later.line,
                later.at - throttled.at
            );
        }
    }
}

/// Ids of the sessions `summary` reports closed or with an unknown outcome.
fn closed_or_unknown(summary: &session_sweeper::summary::Summary) -> BTreeSet<String> {
    let unknown = summary.outcome_unknown().iter().map(|e| e.id.clone());
    summary_closed(summary).into_iter().chain(unknown).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_started_during_another_requests_retry_after_waits_it_out_too() {
    let mut setup = Setup::new(eligible_org(1));
    setup.options.faults = Faults {
        throttle_request: Some(1),
        retry_after_secs: Some(3),
        ..Faults::default()
    };
    let harness = setup.start().await;
    let schema = Arc::new(harness.app.settings.schema.clone());
    let org = Org::open(
        harness.app.dataverse.clone(),
        schema,
        Budget::unlimited(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let throttled = tokio::spawn({
        let org = org.clone();
        async move { org.active_configurations().await }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let later = org.active_configurations().await;

    assert!(later.is_ok() && throttled.await.unwrap().is_ok());
    let requests = harness.sim.requests();
    assert_nothing_inside_a_retry_after(&requests);
    assert_eq!(requests.len(), 3, "{requests:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_request_of_the_sweep_reaches_dataverse_inside_a_retry_after() {
    let mut setup = Setup::new(eligible_org(60))
        .env("CLOSE_BATCH_SIZE", "5")
        .env("CLOSE_CONCURRENCY", "4");
    setup.options.max_page_size = 10;
    setup.options.faults = Faults {
        latency: LATENCY,
        // The second page read: the batches sent beside it meet the same wait.
        throttle_request: Some(3),
        retry_after_secs: Some(3),
        ..Faults::default()
    };
    let harness = setup.start().await;
    let started = Instant::now();

    let summary = harness.sweep().await.unwrap();

    let requests = harness.sim.requests();
    assert!(
        requests.iter().any(|r| r.retry_after_secs == Some(3)),
        "{requests:?}"
    );
    assert_nothing_inside_a_retry_after(&requests);
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert!(summary.complete() && summary.adds_up(), "{summary:?}");
    assert_eq!(summary.closed(), 60, "{summary:?}");
    assert_eq!(harness.closed_ids().len(), 60);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_past_the_stop_stops_the_sweep_as_throttled_and_wakes_it_when_dataverse_said()
{
    let mut setup = Setup::new(eligible_org(60))
        .env("CLOSE_BATCH_SIZE", "5")
        .env("CLOSE_CONCURRENCY", "4")
        .env(
            "WAKE_SCHEDULE_NAME",
            format!("throttled-{}", std::process::id()),
        )
        .env(
            "WAKE_ROLE_ARN",
            "arn:aws:iam::123456789012:role/session-sweeper-wake",
        );
    setup.options.max_page_size = 10;
    setup.options.faults = Faults {
        latency: LATENCY,
        throttle_request: Some(3),
        retry_after_secs: Some(75),
        ..Faults::default()
    };
    let harness = setup.start().await;
    let before = Utc::now();
    let started = Instant::now();

    let summary = harness.sweep_with_deadline(20_000).await.unwrap();

    assert!(started.elapsed() < Duration::from_secs(10), "it waited");
    assert!(!summary.complete(), "{summary:?}");
    assert!(
        summary
            .incomplete_because()
            .contains(&Incomplete::Throttled),
        "{summary:?}"
    );
    assert!(summary.adds_up(), "{summary:?}");
    assert_nothing_inside_a_retry_after(&harness.sim.requests());
    // Batches already in flight were awaited: what Dataverse closed is reported.
    let closed = harness.closed_ids();
    assert!(summary_closed(&summary).is_subset(&closed));
    assert!(closed.is_subset(&closed_or_unknown(&summary)));
    let wake = summary.next_wake_at().expect("a wake-up");
    assert!(wake >= before + chrono::Duration::seconds(75), "{wake}");
    assert!(wake <= Utc::now() + chrono::Duration::seconds(76), "{wake}");
}
