//! Pacing against Dataverse's signals: the sweep keeps no more requests in flight than
//! `x-ms-dop-hint` recommends and `CLOSE_CONCURRENCY` allows, and under the service protection
//! limits it still closes every eligible session.

use crate::support::*;
use dataverse_sim::{Dataset, Limits};
use serde_json::json;
use std::time::Duration;

/// `count` sessions of SUPPORT (1 day timeout), all eligible.
fn eligible_org(count: u32) -> Dataset {
    let sessions = (1..=count)
        .map(|n| session(n, Some(SUPPORT), Some(hours(30)), hours(50)))
        .collect();
    org(vec![configuration(SUPPORT, json!(1440))], sessions)
}

/// Each operation takes long enough that batches overlap, and nothing is limited.
fn slow_operations(dop_hint: u64) -> Limits {
    Limits {
        operation_cost: Duration::from_millis(2),
        dop_hint: Some(dop_hint),
        ..Limits::default()
    }
}

async fn peak_in_flight(dop_hint: u64, close_concurrency: &str) -> u64 {
    let mut setup = Setup::new(eligible_org(400))
        .env("CLOSE_BATCH_SIZE", "10")
        .env("CLOSE_CONCURRENCY", close_concurrency);
    setup.options.limits = slow_operations(dop_hint);
    let harness = setup.start().await;

    let summary = harness.sweep().await.expect("sweep");

    assert_eq!(summary.closed(), 400);
    harness.sim.stats().peak_in_flight
}

#[tokio::test]
async fn a_dop_hint_of_two_keeps_two_requests_in_flight_and_never_more() {
    assert_eq!(peak_in_flight(2, "8").await, 2);
}

#[tokio::test]
async fn close_concurrency_caps_the_requests_in_flight_below_a_higher_dop_hint() {
    assert_eq!(peak_in_flight(8, "4").await, 4);
}

#[tokio::test]
async fn under_the_service_protection_limits_every_eligible_session_is_closed() {
    let mut setup = Setup::new(eligible_org(3000));
    // A one-second window in which execution time binds first (500 ms, a batch of 100 costing
    // 100 ms), with request and concurrency limits close enough to be met by a careless client.
    setup.options.limits = Limits {
        operation_cost: Duration::from_millis(1),
        window: Duration::from_secs(1),
        max_requests: Some(40),
        max_execution_time: Some(Duration::from_millis(500)),
        max_concurrent: Some(6),
        dop_hint: Some(4),
    };
    let harness = setup.start().await;

    let summary = harness.sweep().await.expect("sweep");

    assert_eq!(summary.closed(), 3000);
    assert_eq!(summary.failed().total(), 0);
    assert!(harness.active_ids().is_empty());
    let stats = harness.sim.stats();
    assert!(
        stats.limited_execution_time > 0,
        "the limits never bound: {stats:?}"
    );
}
