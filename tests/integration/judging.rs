//! Every active session is judged: sessions without an active configuration, the minimum
//! timeout, and the opt-in rule that a session awaiting an agent's reply is never closed.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::Dataset;
use serde_json::{json, Value};
use session_sweeper::handler::HandlerError;
use session_sweeper::sweep::SweepError;
use std::collections::BTreeSet;

/// A configuration that is deactivated.
const LEGACY: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e61";
/// A configuration id that no row has (deleted).
const DELETED: &str = "d0d0d0d0-0000-4000-8000-00000000dead";
/// The agent column of the sample schema.
const AGENT: &str = "w4d_lastagentmessageon";

fn ids(ns: &[u32]) -> BTreeSet<String> {
    ns.iter().map(|n| sid(*n)).collect()
}

fn inactive(id: &str, timeout: Value) -> Value {
    let mut row = configuration(id, timeout);
    row["statecode"] = json!(1);
    row["statuscode"] = json!(2);
    row
}

/// Sessions of LEGACY, of a deleted configuration and of none: odd numbers past one day,
/// even numbers not yet.
fn orphans() -> Vec<Value> {
    vec![
        session(1, Some(LEGACY), Some(hours(25)), hours(30)),
        session(2, Some(LEGACY), Some(hours(23)), hours(30)),
        session(3, None, Some(hours(25)), hours(30)),
        session(4, None, Some(hours(23)), hours(30)),
        session(5, Some(DELETED), None, hours(25)),
        session(6, Some(DELETED), None, hours(23)),
    ]
}

fn two_active_with_orphans() -> Dataset {
    let mut sessions = orphans();
    sessions.push(session(7, Some(SALES), Some(hours(2)), hours(3)));
    sessions.push(session(8, Some(SUPPORT), Some(hours(2)), hours(3)));
    org(
        vec![
            configuration(SUPPORT, json!(1440)),
            configuration(SALES, json!(30)),
            inactive(LEGACY, json!(60)),
        ],
        sessions,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_without_an_active_configuration_close_exactly_past_the_only_active_timeout() {
    let harness = Harness::start(org(
        vec![
            configuration(SUPPORT, json!(1440)),
            inactive(LEGACY, json!(60)),
        ],
        orphans(),
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1, 3, 5]));
    assert_eq!(harness.active_ids(), ids(&[2, 4, 6]));
    assert!(summary
        .closed_sessions()
        .iter()
        .all(|s| s.configuration_id == SUPPORT && s.no_active_configuration));
    let counts = summary.closed_by_configuration();
    assert_eq!(counts["no active configuration"], 3);
    assert_eq!(counts[SUPPORT], 0);
    assert!(summary.adds_up());
    // 1 token + 1 configuration read + 1 page + 1 batch: no query of its own for them.
    assert_eq!(summary.requests(), 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_several_active_and_no_default_orphaned_sessions_are_reported_never_closed() {
    let harness = Harness::start(two_active_with_orphans()).await;

    let summary = harness.sweep().await.unwrap();

    // Past even the longest timeout (one day): 1, 3 and 5 are reported; 7 is SALES's own.
    assert_eq!(harness.closed_ids(), ids(&[7]));
    let reported: BTreeSet<String> = summary
        .skipped()
        .iter()
        .filter(|s| {
            s.reason.as_str()
                == "its configuration is not active and several configurations are active"
        })
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(reported, ids(&[1, 3, 5]));
    assert_eq!(summary.closed_by_configuration()[SALES], 1);
    assert_eq!(
        summary.closed_by_configuration()["no active configuration"],
        0
    );
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_default_configuration_orphaned_sessions_close_by_its_timeout() {
    let harness = Setup::new(two_active_with_orphans())
        .env("DEFAULT_CONFIGURATION_ID", SALES)
        .start()
        .await;

    let summary = harness.sweep().await.unwrap();

    // SALES's 30 minutes: every orphan (23 h or more) and SALES's own 7; SUPPORT's 8 is not due.
    assert_eq!(harness.closed_ids(), ids(&[1, 2, 3, 4, 5, 6, 7]));
    assert_eq!(harness.active_ids(), ids(&[8]));
    let counts = summary.closed_by_configuration();
    assert_eq!(
        (
            counts["no active configuration"],
            counts[SALES],
            counts[SUPPORT]
        ),
        (6, 1, 0)
    );
    assert!(summary.skipped().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_default_configuration_that_is_not_active_is_a_settings_error_and_nothing_closes() {
    let harness = Setup::new(two_active_with_orphans())
        .env("DEFAULT_CONFIGURATION_ID", LEGACY)
        .start()
        .await;

    let result = harness.sweep().await;

    assert!(
        matches!(
            &result,
            Err(HandlerError::Sweep(
                SweepError::DefaultConfigurationNotActive { .. }
            ))
        ),
        "{result:?}"
    );
    let error = result.unwrap_err();
    assert!(
        error.to_string().contains("DEFAULT_CONFIGURATION_ID"),
        "{error}"
    );
    assert_eq!(
        lambda_runtime::Diagnostic::from(error).error_type,
        "Settings"
    );
    assert!(harness.closed_ids().is_empty());
    assert_eq!(harness.sim.stats().patches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_minute_timeout_is_an_error_and_spares_its_sessions_while_others_close() {
    let harness = Harness::start(org(
        vec![
            configuration(SUPPORT, json!(2)),
            configuration(SALES, json!(30)),
        ],
        vec![
            session(1, Some(SUPPORT), Some(hours(48)), hours(50)),
            session(2, Some(SUPPORT), Some(minutes(10)), hours(50)),
            session(3, Some(SALES), Some(hours(2)), hours(50)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[3]));
    let support = summary
        .configurations()
        .iter()
        .find(|c| c.id == SUPPORT)
        .unwrap();
    assert!(support
        .error
        .as_deref()
        .unwrap()
        .contains("MIN_SESSION_TIMEOUT"));
    assert!(!summary.complete());
}

/// Sessions far past a one-day timeout: 1 and 2 await an agent (none answered; answered
/// before the customer's last message), 3 and 4 were answered (after; at the same second),
/// 5's customer never wrote.
fn agent_org() -> Dataset {
    let now = Utc::now();
    let mut rows = vec![
        session(1, Some(SUPPORT), Some(hours(24 * 30)), hours(24 * 31)),
        session(2, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(3, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(4, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(5, None, None, hours(50)),
    ];
    let customer = |row: &Value| {
        row["w4d_lastcustomermessageon"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    rows[1][AGENT] = json!(stamp(now - hours(49)));
    rows[2][AGENT] = json!(stamp(now - hours(47)));
    rows[3][AGENT] = json!(customer(&rows[3]));
    org(vec![configuration(SUPPORT, json!(1440))], rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_agent_column_a_session_awaiting_an_agent_is_never_closed() {
    let harness = Setup::new(agent_org())
        .env("SESSION_LAST_AGENT_MESSAGE_COLUMN", AGENT)
        .start()
        .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[3, 4, 5]));
    assert_eq!(harness.active_ids(), ids(&[1, 2]));
    let awaiting: BTreeSet<String> = summary
        .skipped()
        .iter()
        .filter(|s| s.reason.as_str() == "awaiting agent reply")
        .map(|s| s.id.to_string())
        .collect();
    assert_eq!(awaiting, ids(&[1, 2]));
    assert_eq!(summary.awaiting_agent(), 2);
    assert_eq!(summary.metrics_line()["SessionsAwaitingAgent"], 2);
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_agent_column_sessions_close_by_their_timeout_alone() {
    let harness = Harness::start(agent_org()).await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), ids(&[1, 2, 3, 4, 5]));
    assert_eq!(summary.awaiting_agent(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_column_the_environment_lacks_names_the_setting_and_closes_nothing() {
    let harness = Setup::new(agent_org())
        .env("SESSION_LAST_AGENT_MESSAGE_COLUMN", "w4d_lastagentreplyon")
        .start()
        .await;

    let result = harness.sweep().await;

    let error = result.unwrap_err();
    assert!(
        error
            .to_string()
            .contains("SESSION_LAST_AGENT_MESSAGE_COLUMN"),
        "{error}"
    );
    assert!(harness.closed_ids().is_empty());
}
