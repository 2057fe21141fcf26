//! The main path, end to end: the real handler against dataverse-sim and moto.

use crate::support::*;
use dataverse_sim::{Dataset, Faults};
use serde_json::json;
use std::collections::BTreeSet;

fn ids(ns: &[u32]) -> BTreeSet<String> {
    ns.iter().map(|n| sid(*n)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_sessions_past_their_timeout_are_closed_and_listed() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), Some(hours(25)), hours(30)),
            session(2, Some(SUPPORT), Some(hours(23)), hours(30)),
            session(3, Some(SUPPORT), Some(hours(24 * 7)), hours(24 * 8)),
            session(4, Some(SUPPORT), Some(minutes(5)), hours(30)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1, 3]));
    assert_eq!(harness.active_ids(), ids(&[2, 4]));
    assert_eq!(summary_closed(&summary), ids(&[1, 3]));
    assert_eq!((summary.eligible(), summary.closed()), (2, 2));
    let first = summary
        .closed_sessions()
        .iter()
        .find(|s| s.id == sid(1))
        .unwrap();
    assert_eq!(first.configuration_id, SUPPORT);
    let last = first.last_customer_message_at.unwrap();
    assert_eq!(first.eligible_at, last + chrono::Duration::days(1));
    assert_eq!(
        first.overdue_seconds,
        (summary.evaluated_at() - first.eligible_at).num_seconds()
    );
    assert!((3_590..=3_610).contains(&first.overdue_seconds));
    assert!(summary.complete() && summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_session_uses_the_timeout_of_its_own_configuration() {
    let harness = Harness::start(org(
        vec![
            configuration(SUPPORT, json!(1440)),
            configuration(SALES, json!("30 minutes")),
        ],
        vec![
            session(1, Some(SUPPORT), Some(hours(2)), hours(30)),
            session(2, Some(SALES), Some(hours(2)), hours(30)),
            session(3, Some(SALES), Some(minutes(10)), hours(30)),
            session(4, Some(SUPPORT), Some(hours(26)), hours(30)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[2, 4]));
    let timeouts: Vec<(String, Option<i64>)> = summary
        .configurations()
        .iter()
        .map(|c| (c.id.to_string(), c.timeout_seconds))
        .collect();
    assert!(timeouts.contains(&(SUPPORT.to_owned(), Some(86_400))));
    assert!(timeouts.contains(&(SALES.to_owned(), Some(1_800))));
    let sales = summary
        .closed_sessions()
        .iter()
        .find(|s| s.id == sid(2))
        .unwrap();
    assert_eq!(sales.configuration_id, SALES);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_whose_customer_never_wrote_is_judged_from_its_creation() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), None, hours(25)),
            session(2, Some(SUPPORT), None, hours(23)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1]));
    assert_eq!(summary.closed_sessions()[0].last_customer_message_at, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_sessions_are_never_touched_and_a_second_sweep_closes_nothing() {
    let mut closed = session(1, Some(SUPPORT), Some(hours(48)), hours(50));
    closed["statecode"] = json!(1);
    closed["statuscode"] = json!(2);
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            closed,
            session(2, Some(SUPPORT), Some(hours(48)), hours(50)),
        ],
    ))
    .await;
    let untouched = harness.sim.row(SESSIONS, &sid(1)).unwrap();

    let first = harness.sweep().await.unwrap();
    let second = harness.sweep().await.unwrap();

    assert_eq!(summary_closed(&first), ids(&[2]));
    assert_eq!(harness.sim.row(SESSIONS, &sid(1)).unwrap(), untouched);
    assert_eq!((second.eligible(), second.closed()), (0, 0));
    assert!(second.failed().is_empty() && second.skipped().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_timeout_applies_to_the_next_sweep() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(3)), hours(30))],
    ))
    .await;

    let before = harness.sweep().await.unwrap();
    harness
        .sim
        .update(CONFIGURATIONS, SUPPORT, json!({"w4d_sessiontimeout": 120}));
    let after = harness.sweep().await.unwrap();

    assert_eq!(before.closed(), 0);
    assert_eq!(after.configurations()[0].timeout_seconds, Some(7_200));
    assert_eq!(summary_closed(&after), ids(&[1]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_reports_the_same_eligible_set_and_closes_nothing() {
    let sessions = vec![
        session(1, Some(SUPPORT), Some(hours(25)), hours(30)),
        session(2, Some(SUPPORT), Some(hours(2)), hours(30)),
        session(3, Some(SUPPORT), None, hours(40)),
    ];
    let dry = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        sessions.clone(),
    ))
    .await;
    let real = Harness::start(org(vec![configuration(SUPPORT, json!(1440))], sessions)).await;

    let report = dry
        .invoke(scheduled_event(json!({"dry_run": true})))
        .await
        .unwrap();
    let done = real.sweep().await.unwrap();

    assert!(report.dry_run());
    assert_eq!(report.closed(), 0);
    assert!(dry.closed_ids().is_empty());
    assert_eq!(dry.sim.stats().patches, 0);
    let would: BTreeSet<String> = report
        .would_close_sessions()
        .iter()
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(would, summary_closed(&done));
    assert_eq!(report.eligible(), done.eligible());
    assert_eq!(report.would_close(), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_setting_closes_nothing_either() {
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(25)), hours(30))],
    ))
    .env("DRY_RUN", "true")
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert!(summary.dry_run());
    assert_eq!(summary.would_close(), Some(1));
    assert!(harness.closed_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_that_changed_between_read_and_close_is_skipped() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), Some(hours(25)), hours(30)),
            session(2, Some(SUPPORT), Some(hours(25)), hours(30)),
        ],
    ))
    .await;
    harness.sim.set_faults(Faults {
        touch_after_read: vec![sid(2)],
        touch_column: Some("w4d_lastcustomermessageon".into()),
        ..Faults::default()
    });

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1]));
    assert_eq!(summary.skipped().len(), 1);
    assert_eq!(summary.skipped()[0].id, sid(2));
    assert_eq!(summary.skipped()[0].reason.as_str(), "changed since read");
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_close_reason_column_is_written_when_configured() {
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(25)), hours(30))],
    ))
    .env("SESSION_CLOSE_REASON_COLUMN", "w4d_closereason")
    .start()
    .await;

    harness.sweep().await.unwrap();

    let row = harness.sim.row(SESSIONS, &sid(1)).unwrap();
    assert_eq!(row["w4d_closereason"], "Closed by session timeout");
    assert_eq!(
        (row["statecode"].clone(), row["statuscode"].clone()),
        (json!(1), json!(2))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_beyond_one_page_are_all_closed() {
    let data = Dataset::generated(12_000, 0.75, chrono::Utc::now());
    let harness = Setup::new(data)
        .env("MAX_CLOSURES_PER_SWEEP", "20000")
        .env("CLOSE_BATCH_SIZE", "1000")
        .start()
        .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.eligible(), 9_000);
    assert_eq!(summary.closed(), 9_000);
    assert_eq!(harness.closed_ids().len(), 9_000);
    assert_eq!(harness.active_ids().len(), 3_000);
    let stats = harness.sim.stats();
    assert_eq!(stats.batches, 9);
    // 1 token + 1 configuration page + 2 session pages + 9 batches: no per-session request.
    assert_eq!(summary.requests(), 13);
    assert!(summary.complete());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fixed_clock_is_the_now_every_decision_of_the_sweep_uses() {
    let mut harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), Some(hours(23)), hours(30)),
            session(2, Some(SUPPORT), Some(hours(21)), hours(30)),
        ],
    ))
    .await;
    let two_hours_later = chrono::Utc::now() + chrono::Duration::hours(2);
    harness.app.clock = session_sweeper::handler::Clock::Fixed(two_hours_later);

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.evaluated_at(), two_hours_later);
    assert_eq!(harness.closed_ids(), ids(&[1]));
    assert_eq!(harness.active_ids(), ids(&[2]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_fixed_clock_a_session_silent_exactly_its_timeout_is_closed_and_one_a_second_younger_is_not(
) {
    use chrono::Timelike;
    let now = chrono::Utc::now().with_nanosecond(0).unwrap() + chrono::Duration::hours(2);
    let timeout = chrono::Duration::minutes(1440);
    let silent_since = |last: chrono::DateTime<chrono::Utc>| {
        let mut row = session(0, Some(SUPPORT), None, hours(0));
        row["w4d_lastcustomermessageon"] = json!(stamp(last));
        row["createdon"] = json!(stamp(last - hours(1)));
        row
    };
    let mut exactly = silent_since(now - timeout);
    exactly["w4d_chatsessionid"] = json!(sid(1));
    let mut younger = silent_since(now - timeout + chrono::Duration::seconds(1));
    younger["w4d_chatsessionid"] = json!(sid(2));
    // Sessions whose customer never wrote are judged from their creation, through the same
    // boundary.
    let created = |n: u32, at: chrono::DateTime<chrono::Utc>| {
        let mut row = session(n, Some(SUPPORT), None, hours(0));
        row["createdon"] = json!(stamp(at));
        row
    };
    let mut harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            exactly,
            younger,
            created(3, now - timeout),
            created(4, now - timeout + chrono::Duration::seconds(1)),
        ],
    ))
    .await;
    harness.app.clock = session_sweeper::handler::Clock::Fixed(now);

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1, 3]));
    assert_eq!(harness.active_ids(), ids(&[2, 4]));
    assert!(summary
        .closed_sessions()
        .iter()
        .all(|closed| closed.overdue_seconds == 0));
}
