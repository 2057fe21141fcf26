//! Telling the customer: a warning `WARNING_LEAD` before the close, once per silence and only
//! inside WhatsApp's 24-hour window, and a closing message in the close's own change set,
//! against the simulator's message table and actions, whose change sets run all or nothing.

use crate::support::*;
use chrono::{DateTime, Utc};
use dataverse_sim::{Dataset, Faults};
use serde_json::{json, Value};

pub(crate) const MESSAGES: &str = "w4d_whatsappmessages";
pub(crate) const WARNED_AT: &str = "w4d_warnedon";
const WARNING: &str = "Are you still there? This chat closes in 15 minutes.";
const GOODBYE: &str = "This chat is closed. Write again any time.";

/// The settings of a warning 15 minutes ahead and a closing message, both sent as rows of
/// the sample schema's message table.
pub(crate) fn notifying(data: Dataset) -> Setup {
    Setup::new(data)
        .env("WARNING_LEAD", "15 minutes")
        .env("SESSION_WARNED_AT_COLUMN", WARNED_AT)
        .env("WARNING_MESSAGE_TEXT", WARNING)
        .env("CLOSING_MESSAGE_TEXT", GOODBYE)
        .env("MESSAGE_TABLE", MESSAGES)
        .env("MESSAGE_SESSION_NAVIGATION", "w4d_ChatSession")
        .env("MESSAGE_TEXT_COLUMN", "w4d_body")
        .env("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 100000001}"#)
}

/// The demo org (for its messaging custom APIs) with only these configurations and sessions.
fn messaging_org(configurations: Vec<Value>, sessions: Vec<Value>) -> Dataset {
    let demo = Dataset::demo(Utc::now());
    let mut configuration_table = demo.table(CONFIGURATIONS).cloned().expect("schema");
    let mut session_table = demo.table(SESSIONS).cloned().expect("schema");
    configuration_table.rows = configurations;
    session_table.rows = sessions;
    demo.with_table(CONFIGURATIONS, configuration_table)
        .with_table(SESSIONS, session_table)
}

/// One Support configuration with a 60-minute timeout, and these sessions.
pub(crate) fn hourly(sessions: Vec<Value>) -> Dataset {
    messaging_org(vec![configuration(SUPPORT, json!(60))], sessions)
}

/// The message rows created for session `n`, as (text, direction).
fn messages_to(harness: &Harness, n: u32) -> Vec<(String, i64)> {
    harness
        .sim
        .rows(MESSAGES)
        .iter()
        .filter(|row| row["_w4d_chatsession_value"] == sid(n))
        .map(|row| {
            let text = row["w4d_body"].as_str().unwrap_or_default().to_owned();
            (text, row["w4d_direction"].as_i64().unwrap_or_default())
        })
        .collect()
}

pub(crate) fn warned_at(harness: &Harness, n: u32) -> Option<DateTime<Utc>> {
    let row = harness.sim.row(SESSIONS, &sid(n)).expect("the session");
    row[WARNED_AT]
        .as_str()
        .map(|text| text.parse().expect("a date"))
}

pub(crate) fn warned_ids(summary: &session_sweeper::summary::Summary) -> Vec<String> {
    summary
        .warned()
        .map(|list| list.iter().map(|w| w.id.to_string()).collect())
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_in_its_lead_window_is_warned_once_and_not_again_on_the_next_sweep() {
    let harness = notifying(hourly(vec![
        session(1, Some(SUPPORT), Some(minutes(50)), hours(2)),
        session(2, Some(SUPPORT), Some(minutes(30)), hours(2)),
    ]))
    .start()
    .await;

    let first = harness.sweep().await.unwrap();
    let second = harness.sweep().await.unwrap();

    assert_eq!(
        warned_ids(&first),
        [sid(1)],
        "only the session within 15 minutes"
    );
    assert_eq!(messages_to(&harness, 1), [(WARNING.to_owned(), 100000001)]);
    assert_eq!(
        warned_at(&harness, 1).map(|at| at.timestamp()),
        Some(first.evaluated_at().timestamp())
    );
    assert!(messages_to(&harness, 2).is_empty());
    assert_eq!(second.warned().map(|w| w.total()), Some(0));
    assert_eq!(harness.sim.rows(MESSAGES).len(), 1, "nothing sent twice");
    assert!(
        harness.active_ids().contains(&sid(1)),
        "a warning closes nothing"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_message_after_the_read_leaves_neither_a_warning_nor_a_warned_at() {
    let harness = notifying(hourly(vec![session(
        1,
        Some(SUPPORT),
        Some(minutes(50)),
        hours(2),
    )]))
    .start()
    .await;
    harness.sim.set_faults(Faults {
        touch_after_read: vec![sid(1)],
        touch_column: Some("w4d_lastcustomermessageon".into()),
        ..Faults::default()
    });

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.warned().map(|w| w.total()), Some(0));
    assert!(messages_to(&harness, 1).is_empty());
    assert_eq!(warned_at(&harness, 1), None);
    assert_eq!(summary.warnings_failed().map(|f| f.total()), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_customer_who_wrote_after_a_warning_is_warned_again() {
    let mut wrote_since = session(1, Some(SUPPORT), Some(minutes(50)), hours(3));
    wrote_since[WARNED_AT] = json!(stamp(Utc::now() - minutes(100)));
    let mut warned_since = session(2, Some(SUPPORT), Some(minutes(50)), hours(3));
    warned_since[WARNED_AT] = json!(stamp(Utc::now() - minutes(45)));
    let harness = notifying(hourly(vec![wrote_since, warned_since]))
        .start()
        .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(warned_ids(&summary), [sid(1)]);
    assert_eq!(messages_to(&harness, 1).len(), 1);
    assert!(messages_to(&harness, 2).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_outside_the_24_hour_window_is_not_sent_and_is_counted() {
    // 25 hours with a 2-hour lead: the lead window opens 23 hours after the customer wrote.
    let inside = session(1, Some(SUPPORT), Some(hours(23) + minutes(30)), hours(30));
    let outside = session(2, Some(SUPPORT), Some(hours(24) + minutes(30)), hours(30));
    let harness = notifying(messaging_org(
        vec![configuration(SUPPORT, json!(25 * 60))],
        vec![inside, outside],
    ))
    .env("WARNING_LEAD", "2 hours")
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(warned_ids(&summary), [sid(1)]);
    assert_eq!(summary.warnings_outside_window(), 1);
    assert!(messages_to(&harness, 2).is_empty());
    assert_eq!(warned_at(&harness, 2), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closing_message_is_created_with_the_close_and_not_outside_the_window() {
    let harness = notifying(hourly(vec![
        session(1, Some(SUPPORT), Some(hours(2)), hours(3)),
        session(2, Some(SUPPORT), Some(hours(30)), hours(31)),
    ]))
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.closed(), 2);
    assert_eq!(messages_to(&harness, 1), [(GOODBYE.to_owned(), 100000001)]);
    assert!(messages_to(&harness, 2).is_empty(), "outside the window");
    assert_eq!(summary.closing_messages_outside_window(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_message_row_leaves_the_session_unclosed_and_reported_failed() {
    let harness = notifying(hourly(vec![session(
        1,
        Some(SUPPORT),
        Some(hours(2)),
        hours(3),
    )]))
    // Not one of the direction choice's options.
    .env("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 7}"#)
    .start()
    .await;

    let error = harness.sweep().await.unwrap_err();

    assert!(error.to_string().contains("message was refused"), "{error}");
    assert!(
        harness.active_ids().contains(&sid(1)),
        "never closed without its message"
    );
    assert!(harness.sim.rows(MESSAGES).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_warning_message_is_reported_and_leaves_no_warned_at() {
    let harness = notifying(hourly(vec![session(
        1,
        Some(SUPPORT),
        Some(minutes(50)),
        hours(2),
    )]))
    .env("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 7}"#)
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    let failed = summary.warnings_failed().expect("warnings are on");
    assert_eq!(failed.total(), 1);
    assert!(
        failed[0].error.contains("message was refused"),
        "{}",
        failed[0].error
    );
    assert_eq!(warned_at(&harness, 1), None, "rolled back with the message");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_sends_and_writes_nothing() {
    let harness = notifying(hourly(vec![
        session(1, Some(SUPPORT), Some(minutes(50)), hours(2)),
        session(2, Some(SUPPORT), Some(hours(2)), hours(3)),
    ]))
    .start()
    .await;

    let summary = harness
        .invoke(scheduled_event(json!({"dry_run": true})))
        .await
        .unwrap();

    let would_warn: Vec<String> = summary
        .would_warn()
        .map(|list| list.iter().map(|w| w.id.to_string()).collect())
        .unwrap_or_default();
    assert_eq!(would_warn, [sid(1)]);
    assert_eq!(summary.would_close(), Some(1));
    assert!(harness.sim.rows(MESSAGES).is_empty());
    assert_eq!(warned_at(&harness, 1), None);
    assert_eq!(harness.sim.stats().patches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_action_sends_the_warning_in_the_same_change_set() {
    let harness = Setup::new(hourly(vec![session(
        1,
        Some(SUPPORT),
        Some(minutes(50)),
        hours(2),
    )]))
    .env("WARNING_LEAD", "15 minutes")
    .env("SESSION_WARNED_AT_COLUMN", WARNED_AT)
    .env("WARNING_MESSAGE_TEXT", WARNING)
    .env("MESSAGE_ACTION", "w4d_SendSessionMessage")
    .env("MESSAGE_ACTION_BOUND", "true")
    .env("MESSAGE_ACTION_PARAMETERS", r#"{"Text": "{text}"}"#)
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(warned_ids(&summary), [sid(1)]);
    let texts: Vec<String> = messages_to(&harness, 1).into_iter().map(|m| m.0).collect();
    assert_eq!(texts, [WARNING]);
    assert!(warned_at(&harness, 1).is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unbound_action_gets_the_session_id_and_text_for_the_closing_message() {
    let harness = Setup::new(hourly(vec![session(
        1,
        Some(SUPPORT),
        Some(hours(2)),
        hours(3),
    )]))
    .env("CLOSING_MESSAGE_TEXT", GOODBYE)
    .env("MESSAGE_ACTION", "w4d_SendWhatsAppMessage")
    .env(
        "MESSAGE_ACTION_PARAMETERS",
        r#"{"SessionId": "{session_id}", "Text": "{text}"}"#,
    )
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.closed(), 1);
    let texts: Vec<String> = messages_to(&harness, 1).into_iter().map(|m| m.0).collect();
    assert_eq!(texts, [GOODBYE]);
}
