//! Throttling, outages, deadlines and rotation never lose or wrongly close a session.

use crate::support::*;
use chrono::{Duration as Span, Timelike, Utc};
use dataverse_sim::{Dataset, Faults, SimOptions};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// `count` sessions of SUPPORT (1 day timeout); every third one is not yet eligible.
fn mixed_org(count: u32) -> (Dataset, BTreeSet<String>, BTreeSet<String>) {
    let mut sessions = Vec::new();
    let (mut eligible, mut ineligible) = (BTreeSet::new(), BTreeSet::new());
    for n in 1..=count {
        if n % 3 == 0 {
            sessions.push(session(n, Some(SUPPORT), Some(hours(20)), hours(50)));
            ineligible.insert(sid(n));
        } else {
            sessions.push(session(n, Some(SUPPORT), Some(hours(30)), hours(50)));
            eligible.insert(sid(n));
        }
    }
    (
        org(vec![configuration(SUPPORT, json!(1440))], sessions),
        eligible,
        ineligible,
    )
}

/// Sweeps until one completes (at most `limit`), asserting no session is closed twice.
async fn sweep_until_complete(harness: &Harness, limit: usize) -> BTreeSet<String> {
    let mut closed = BTreeSet::new();
    for _ in 0..limit {
        let summary = match harness.sweep().await {
            Ok(summary) => summary,
            Err(session_sweeper::handler::HandlerError::Sweep(
                session_sweeper::sweep::SweepError::Interrupted { summary, .. },
            )) => *summary,
            Err(error) => panic!("sweep failed: {error}"),
        };
        assert!(summary.adds_up(), "{summary:?}");
        for id in summary_closed(&summary) {
            assert!(closed.insert(id.clone()), "{id} reported closed twice");
        }
        if summary.complete {
            return closed;
        }
    }
    panic!("no sweep completed in {limit} tries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_outages_neither_miss_nor_double_close_nor_close_the_ineligible() {
    let (data, eligible, ineligible) = mixed_org(240);
    let mut setup = Setup::new(data).env("CLOSE_BATCH_SIZE", "10");
    setup.options = SimOptions {
        max_page_size: 40,
        faults: Faults {
            throttle_every: Some(5),
            retry_after_secs: Some(0),
            unavailable_every: Some(7),
            ..Faults::default()
        },
        ..SimOptions::default()
    };
    let harness = setup.start().await;

    let closed = sweep_until_complete(&harness, 5).await;

    assert_eq!(closed, eligible);
    assert_eq!(harness.closed_ids(), eligible);
    assert_eq!(harness.active_ids(), ineligible);
    let stats = harness.sim.stats();
    assert!(stats.throttled > 0 && stats.unavailable > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_connections_neither_miss_nor_double_close() {
    let (data, eligible, ineligible) = mixed_org(120);
    let mut setup = Setup::new(data).env("CLOSE_BATCH_SIZE", "8");
    setup.options.faults = Faults {
        drop_every: Some(4),
        ..Faults::default()
    };
    let harness = setup.start().await;

    let closed = sweep_until_complete(&harness, 5).await;

    assert_eq!(closed, eligible);
    assert_eq!(harness.active_ids(), ineligible);
    assert!(harness.sim.stats().dropped > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deadline_shorter_than_the_work_stops_early_and_the_next_sweep_finishes() {
    let (data, eligible, ineligible) = mixed_org(90);
    let mut setup = Setup::new(data)
        .env("CLOSE_BATCH_SIZE", "2")
        .env("CLOSE_CONCURRENCY", "1")
        .env("DEADLINE_MARGIN_SECONDS", "0");
    setup.options.faults = Faults {
        latency: Duration::from_millis(40),
        ..Faults::default()
    };
    let harness = setup.start().await;

    let partial = harness.sweep_with_deadline(600).await.unwrap();
    let after_partial = harness.closed_ids();
    let rest = harness.sweep().await.unwrap();

    assert!(!partial.complete);
    assert!(partial.adds_up(), "{partial:?}");
    assert!(partial.closed < eligible.len(), "{partial:?}");
    assert_eq!(summary_closed(&partial), after_partial);
    assert!(rest.complete);
    assert!(summary_closed(&rest).is_disjoint(&after_partial));
    assert_eq!(harness.closed_ids(), eligible);
    assert_eq!(harness.active_ids(), ineligible);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_closure_cap_defers_the_rest_to_the_next_sweep() {
    let (data, eligible, _) = mixed_org(30);
    let harness = Setup::new(data)
        .env("MAX_CLOSURES_PER_SWEEP", "7")
        .start()
        .await;

    let first = harness.sweep().await.unwrap();

    assert_eq!(first.closed, 7);
    assert_eq!(first.deferred, eligible.len() - 7);
    assert!(!first.complete && first.adds_up());
    assert_eq!(harness.closed_ids().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_while_warm_is_picked_up_after_one_refresh() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), Some(hours(30)), hours(40)),
            session(2, Some(SUPPORT), Some(hours(2)), hours(40)),
        ],
    ))
    .await;
    harness.sweep().await.unwrap();

    harness.sim.rotate_client_secret("rotated-secret");
    put_secret(
        &harness.secret_id,
        &secret_json(&harness.sim, "rotated-secret"),
    )
    .await;
    harness.sim.update(
        SESSIONS,
        &sid(2),
        json!({"w4d_lastcustomermessageon": stamp(Utc::now() - Span::hours(30))}),
    );
    let after = harness.sweep().await.unwrap();

    assert_eq!(summary_closed(&after), [sid(2)].into_iter().collect());
}

/// Whether `text` holds a token in the simulator's format (`sim.` and hex digits).
fn contains_sim_token(text: &str) -> bool {
    text.match_indices("sim.").any(|(at, _)| {
        text[at + 4..]
            .chars()
            .take(16)
            .filter(char::is_ascii_hexdigit)
            .count()
            == 16
    })
}

#[tokio::test(flavor = "current_thread")]
async fn neither_the_secret_nor_the_token_reaches_a_log_line_or_an_error() {
    let captured = LogCapture::start();
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(30)), hours(40))],
    ))
    .await;

    let ok = harness.sweep().await.unwrap();
    harness.sim.rotate_client_secret("rotated-secret-value");
    let refused = harness.sweep().await.unwrap_err();
    let ok_text = serde_json::to_string(&ok).unwrap();
    let errors = format!("{refused} {refused:?}");
    let errors = format!("{errors} {:?}", lambda_runtime::Diagnostic::from(refused));
    let logs = captured.text();

    assert!(
        logs.contains("session closed"),
        "logs were not captured: {logs}"
    );
    assert!(errors.contains("AADSTS"), "{errors}");
    for text in [&logs, &errors, &ok_text] {
        assert!(!text.contains(SIM_SECRET), "client secret leaked: {text}");
        assert!(!text.contains("rotated-secret-value"));
        assert!(!contains_sim_token(text), "token leaked: {text}");
    }
}

#[tokio::test(flavor = "current_thread")]
async fn every_log_line_is_one_json_object_with_the_session_and_configuration_ids() {
    let captured = LogCapture::start();
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(30)), hours(40))],
    ))
    .await;

    harness.sweep().await.unwrap();
    let logs = captured.text();

    let lines: Vec<Value> = logs
        .lines()
        .map(|line| serde_json::from_str(line).expect("one JSON object per line"))
        .collect();
    let closed = lines
        .iter()
        .find(|line| line["message"] == "session closed")
        .unwrap_or_else(|| panic!("no 'session closed' line in {logs}"));
    assert_eq!(closed["session_id"], sid(1));
    assert_eq!(closed["configuration_id"], SUPPORT);
    assert!(lines
        .iter()
        .any(|line| line["message"] == "sweep finished" && line["closed"] == 1));
}

/// Seconds before the sweep: mostly within three seconds of the timeout, where the filter's
/// `le` and the decision's `>=` matter, and sometimes far either side (negative: the future).
fn seconds_ago(timeout_s: i64) -> impl Strategy<Value = i64> {
    prop_oneof![
        3 => (-3i64..=3).prop_map(move |offset| timeout_s + offset),
        1 => -7_200i64..360_000,
    ]
}

/// A timeout in minutes and sessions around it: each a customer's last message (None: never
/// wrote, so its creation counts) and a creation, in seconds before the sweep.
fn timeout_and_sessions() -> impl Strategy<Value = (i64, Vec<(Option<i64>, i64)>)> {
    (1i64..3_000).prop_flat_map(|timeout_minutes| {
        let timeout_s = timeout_minutes * 60;
        let one = (
            proptest::option::of(seconds_ago(timeout_s)),
            seconds_ago(timeout_s),
        );
        (Just(timeout_minutes), proptest::collection::vec(one, 1..40))
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn the_closed_set_is_exactly_the_eligible_set_to_the_second(
        (timeout_minutes, sessions) in timeout_and_sessions(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let harness = Harness::start(org(vec![configuration(SUPPORT, json!(timeout_minutes))], Vec::new())).await;
            // Whole seconds, as Dataverse stores them, taken just before the sweep reads its
            // clock, so that a session three seconds either side of its timeout stays there.
            let reference = Utc::now().with_nanosecond(0).unwrap();
            let rows: Vec<Value> = sessions.iter().enumerate().map(|(n, (quiet, age))| {
                let mut row = session(n as u32 + 1, Some(SUPPORT), None, Span::zero());
                row["w4d_lastcustomermessageon"] = quiet.map(|q| json!(stamp(reference - Span::seconds(q)))).unwrap_or(Value::Null);
                row["createdon"] = json!(stamp(reference - Span::seconds(*age)));
                row
            }).collect();
            for row in &rows {
                harness.sim.insert(SESSIONS, row.clone());
            }

            let summary = harness.sweep().await.unwrap();

            let now = summary.evaluated_at;
            let timeout = Span::minutes(timeout_minutes);
            let expected: BTreeSet<String> = rows.iter().filter(|row| {
                let last = row["w4d_lastcustomermessageon"].as_str().or(row["createdon"].as_str()).unwrap();
                let last = chrono::DateTime::parse_from_rfc3339(last).unwrap().with_timezone(&Utc);
                last <= now && last + timeout <= now
            }).map(|row| row["w4d_chatsessionid"].as_str().unwrap().to_owned()).collect();
            prop_assert_eq!(harness.closed_ids(), expected.clone());
            prop_assert_eq!(summary_closed(&summary), expected);
            Ok(())
        })?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_whose_answer_was_lost_is_reported_already_closed_not_changed() {
    let (data, eligible, ineligible) = mixed_org(60);
    let mut setup = Setup::new(data).env("CLOSE_BATCH_SIZE", "5");
    setup.options.faults = Faults {
        lose_response_every: Some(4),
        ..Faults::default()
    };
    let harness = setup.start().await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), eligible);
    assert_eq!(harness.active_ids(), ineligible);
    assert!(harness.sim.stats().lost > 0);
    let already: BTreeSet<String> = summary
        .skipped
        .iter()
        .filter(|s| s.reason == "already closed")
        .map(|s| s.id.clone())
        .collect();
    assert!(!already.is_empty(), "{summary:?}");
    assert!(
        summary.skipped.iter().all(|s| s.reason == "already closed"),
        "{summary:?}"
    );
    assert_eq!(&summary_closed(&summary) | &already, eligible);
    assert!(summary.adds_up());
}
