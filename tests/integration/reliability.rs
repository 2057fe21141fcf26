//! Throttling, outages, deadlines and rotation never lose or wrongly close a session.

use crate::support::*;
use chrono::{Duration as Span, Timelike, Utc};
use dataverse_sim::{Dataset, Faults, SimOptions};
use proptest::prelude::*;
use serde_json::{json, Value};
use session_sweeper::summary::Incomplete;
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

/// What `summary` says it closed, and what it cannot know it closed (a request in flight when
/// the time ran out is cut, and Dataverse may have carried it out): the sessions it may have
/// closed.
fn closed_or_unknown(summary: &session_sweeper::summary::Summary) -> BTreeSet<String> {
    let unknown = summary
        .outcome_unknown()
        .iter()
        .map(|entry| entry.id.clone());
    summary_closed(summary).into_iter().chain(unknown).collect()
}

/// One sweep that must complete on its own: the faults are absorbed by retries, not by
/// another sweep.
async fn one_complete_sweep(harness: &Harness) -> BTreeSet<String> {
    let summary = harness
        .sweep()
        .await
        .unwrap_or_else(|error| panic!("{error}"));
    assert!(summary.complete(), "{summary:?}");
    assert!(summary.adds_up(), "{summary:?}");
    assert_eq!(summary.failed().total(), 0, "{summary:?}");
    summary_closed(&summary)
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

    let closed = one_complete_sweep(&harness).await;

    assert_eq!(closed, eligible);
    assert_eq!(harness.closed_ids(), eligible);
    assert_eq!(harness.active_ids(), ineligible);
    let stats = harness.sim.stats();
    assert!(stats.throttled > 0 && stats.unavailable > 0, "{stats:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_cut_short_under_throttling_and_outages_is_finished_by_the_next_without_closing_twice(
) {
    let (data, eligible, ineligible) = mixed_org(90);
    let mut setup = Setup::new(data)
        .env("CLOSE_BATCH_SIZE", "2")
        .env("CLOSE_CONCURRENCY", "1")
        .env("DEADLINE_MARGIN_SECONDS", "0");
    setup.options.faults = Faults {
        latency: Duration::from_millis(40),
        throttle_every: Some(5),
        retry_after_secs: Some(0),
        unavailable_every: Some(7),
        ..Faults::default()
    };
    let harness = setup.start().await;

    let partial = harness.sweep_with_deadline(600).await.unwrap();
    let after_partial = harness.closed_ids();
    let rest = harness.sweep().await.unwrap();

    assert!(!partial.complete() && partial.adds_up(), "{partial:?}");
    assert!(summary_closed(&partial).is_subset(&after_partial));
    assert!(after_partial.is_subset(&closed_or_unknown(&partial)));
    assert!(rest.complete() && rest.adds_up(), "{rest:?}");
    assert!(summary_closed(&rest).is_disjoint(&after_partial));
    assert_eq!(harness.closed_ids(), eligible);
    assert_eq!(harness.active_ids(), ineligible);
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

    let closed = one_complete_sweep(&harness).await;

    assert_eq!(closed, eligible);
    assert_eq!(harness.closed_ids(), eligible);
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

    assert!(!partial.complete());
    assert!(partial.adds_up(), "{partial:?}");
    assert!(partial.closed() < eligible.len(), "{partial:?}");
    assert!(summary_closed(&partial).is_subset(&after_partial));
    assert!(after_partial.is_subset(&closed_or_unknown(&partial)));
    assert!(rest.complete());
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

    assert_eq!(first.closed(), 7);
    assert_eq!(first.deferred(), eligible.len() - 7);
    assert!(!first.complete() && first.adds_up());
    assert_eq!(harness.closed_ids().len(), 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_while_warm_is_picked_up_with_one_refused_and_one_granted_token_request() {
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
    harness.sim.reset_stats();
    let after = harness.sweep().await.unwrap();

    assert_eq!(summary_closed(&after), [sid(2)].into_iter().collect());
    // The cached token is refused (401), the cached secret is refused by Entra ID, and the
    // secret read again is granted: two token requests, no more.
    assert_eq!(harness.sim.stats().token_requests, 2);
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

            let now = summary.evaluated_at();
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
        .skipped()
        .iter()
        .filter(|s| s.reason.as_str() == "already closed")
        .map(|s| s.id.to_string())
        .collect();
    assert!(!already.is_empty(), "{summary:?}");
    assert!(
        summary
            .skipped()
            .iter()
            .all(|s| s.reason.as_str() == "already closed"),
        "{summary:?}"
    );
    assert_eq!(&summary_closed(&summary) | &already, eligible);
    assert!(summary.adds_up());
}

/// A configuration id no row has: its sessions have a deleted configuration.
const DELETED: &str = "d0d0d0d0-0000-4000-8000-00000000dead";

/// One random session of the orphan and agent property: its lookup (0 SUPPORT, 1 SALES,
/// 2 none, 3 deleted), minutes since the customer wrote (None: never), age in minutes, and
/// minutes since an agent wrote (None: never).
fn arbitrary_judged_session() -> impl Strategy<Value = (u8, Option<i64>, i64, Option<i64>)> {
    (
        0u8..4,
        proptest::option::of(-60i64..3_000),
        0i64..3_000,
        proptest::option::of(-60i64..3_000),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    /// With SALES active or not, a default or not and the agent rule on or off, the closed set
    /// is what an oracle written from the README's rules computes.
    #[test]
    fn the_closed_set_follows_the_orphan_and_agent_rules(
        support_minutes in 5i64..2_000,
        sales_minutes in 5i64..2_000,
        sales_active in any::<bool>(),
        default_sales in proptest::option::of(any::<bool>()),
        agent_rule in any::<bool>(),
        sessions in proptest::collection::vec(arbitrary_judged_session(), 1..30),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let reference = Utc::now().with_nanosecond(0).unwrap();
            let at = |minutes: i64| stamp(reference - Span::minutes(minutes));
            let lookups = [Some(SUPPORT), Some(SALES), None, Some(DELETED)];
            let rows: Vec<Value> = sessions.iter().enumerate().map(|(n, (owner, quiet, age, agent))| {
                let mut row = session(n as u32 + 1, lookups[*owner as usize], None, Span::zero());
                row["w4d_lastcustomermessageon"] = quiet.map(|q| json!(at(q))).unwrap_or(Value::Null);
                row["createdon"] = json!(at(*age));
                row["w4d_lastagentmessageon"] = agent.map(|a| json!(at(a))).unwrap_or(Value::Null);
                row
            }).collect();
            let mut sales = configuration(SALES, json!(sales_minutes));
            if !sales_active {
                sales["statecode"] = json!(1);
            }
            // A default must be active; with SALES inactive it can only be SUPPORT.
            let default = default_sales.map(|sales| if sales && sales_active { SALES } else { SUPPORT });
            let mut setup = Setup::new(org(vec![configuration(SUPPORT, json!(support_minutes)), sales], rows.clone()));
            if let Some(default) = default {
                setup = setup.env("DEFAULT_CONFIGURATION_ID", default);
            }
            if agent_rule {
                setup = setup.env("SESSION_LAST_AGENT_MESSAGE_COLUMN", "w4d_lastagentmessageon");
            }
            let harness = setup.start().await;

            let summary = harness.sweep().await.unwrap();

            let now = summary.evaluated_at();
            let time = |value: &Value| value.as_str().map(|text| chrono::DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc));
            let timeout_of = |id: &str| if id == SUPPORT { support_minutes } else { sales_minutes };
            let active: Vec<&str> = if sales_active { vec![SUPPORT, SALES] } else { vec![SUPPORT] };
            let expected: BTreeSet<String> = rows.iter().filter(|row| {
                let lookup = row["_w4d_configurationid_value"].as_str();
                let judge = match lookup {
                    Some(own) if active.contains(&own) => Some(own),
                    _ if active.len() == 1 => Some(SUPPORT),
                    _ => default,
                };
                let Some(judge) = judge else { return false };
                let customer = time(&row["w4d_lastcustomermessageon"]);
                let last = customer.or(time(&row["createdon"])).unwrap();
                let past = last <= now && last + Span::minutes(timeout_of(judge)) <= now;
                let agent = time(&row["w4d_lastagentmessageon"]);
                let awaiting = customer.is_some_and(|customer| agent.is_none_or(|agent| agent < customer));
                past && !(agent_rule && awaiting)
            }).map(|row| row["w4d_chatsessionid"].as_str().unwrap().to_owned()).collect();
            prop_assert_eq!(harness.closed_ids(), expected.clone());
            prop_assert_eq!(summary_closed(&summary), expected);
            prop_assert!(summary.adds_up());
            Ok(())
        })?;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_reached_exactly_at_the_end_of_a_page_with_more_pages_is_incomplete() {
    let sessions = (1..=25)
        .map(|n| session(n, Some(SUPPORT), Some(hours(30)), hours(50)))
        .collect();
    let mut setup = Setup::new(org(vec![configuration(SUPPORT, json!(1440))], sessions))
        .env("MAX_CLOSURES_PER_SWEEP", "10");
    setup.options.max_page_size = 10;
    let harness = setup.start().await;

    let first = harness.sweep().await.unwrap();

    assert_eq!(first.closed(), 10);
    assert!(!first.complete(), "{first:?}");
    assert!(first.incomplete_because().contains(&Incomplete::Cap));
    assert!((1..=15).contains(&first.deferred()), "{first:?}");
    assert!(first.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_reached_exactly_at_the_end_of_one_configurations_query_is_incomplete_when_another_is_left(
) {
    let mut sessions: Vec<Value> = (1..=10)
        .map(|n| session(n, Some(SUPPORT), Some(hours(30)), hours(50)))
        .collect();
    sessions.extend((11..=15).map(|n| session(n, Some(SALES), Some(hours(30)), hours(50))));
    let configurations = vec![
        configuration(SUPPORT, json!(1440)),
        configuration(SALES, json!(1440)),
    ];
    let mut setup = Setup::new(org(configurations, sessions)).env("MAX_CLOSURES_PER_SWEEP", "10");
    setup.options.max_page_size = 10;
    let harness = setup.start().await;

    let first = harness.sweep().await.unwrap();

    assert_eq!(first.closed(), 10);
    assert!(!first.complete(), "{first:?}");
    assert!(first.deferred() >= 1, "{first:?}");
    assert_eq!(harness.active_ids().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cap_equal_to_the_eligible_sessions_closes_them_all_and_is_complete() {
    let sessions = (1..=10)
        .map(|n| session(n, Some(SUPPORT), Some(hours(30)), hours(50)))
        .collect();
    let mut setup = Setup::new(org(vec![configuration(SUPPORT, json!(1440))], sessions))
        .env("MAX_CLOSURES_PER_SWEEP", "10");
    setup.options.max_page_size = 10;
    let harness = setup.start().await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!((summary.closed(), summary.deferred()), (10, 0));
    assert!(summary.complete(), "{summary:?}");
}
