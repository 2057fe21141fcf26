//! `SESSION_END_COLUMN`: the session's End Date & Time, set to the sweep's instant in the
//! same PATCH as the close and emptied by a reopen; the check proves the column or suggests one.

use crate::support::*;
use chrono::{DateTime, Utc};
use dataverse_sim::{Dataset, APPLICATION_USER_ID};
use serde_json::{json, Value};
use session_sweeper::check::Severity;

/// The sample schema's End Date & Time column.
const END: &str = "w4d_enddatetime";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_sets_the_end_column_to_the_instant_the_sweep_was_evaluated_at() {
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, Some(SUPPORT), Some(hours(48)), hours(50))],
    ))
    .env("SESSION_END_COLUMN", END)
    .start()
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.closed(), 1);
    let row = harness.sim.row(SESSIONS, &sid(1)).unwrap();
    let ended: DateTime<Utc> = row[END].as_str().unwrap().parse().unwrap();
    assert_eq!(ended.timestamp(), summary.evaluated_at().timestamp());
    assert_eq!(
        harness.sim.stats().patches,
        1,
        "the end time is set by the close itself"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopen_empties_the_end_column() {
    let mut closed = session(1, Some(SUPPORT), Some(hours(3)), hours(4));
    closed["statecode"] = json!(1);
    closed["statuscode"] = json!(2);
    closed[END] = json!(stamp(Utc::now() - hours(1)));
    closed["modifiedon"] = json!(stamp(Utc::now() - hours(1)));
    closed["_modifiedby_value"] = json!(APPLICATION_USER_ID);
    let harness = Setup::new(org(vec![configuration(SUPPORT, json!(1440))], vec![closed]))
        .env("SESSION_END_COLUMN", END)
        .start()
        .await;
    let event = scheduled_event(json!({"reopen_closed_since": stamp(Utc::now() - hours(2))}));

    let summary = harness.invoke(event).await.unwrap();

    assert_eq!(summary.reopened(), Some(1));
    assert_eq!(
        harness.sim.row(SESSIONS, &sid(1)).unwrap()[END],
        Value::Null
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_setting_the_check_suggests_the_end_date_and_time_column_as_a_warning() {
    let harness = Harness::start(Dataset::demo(Utc::now())).await;

    let report = harness.check().await;

    let found = report.about("SESSION_END_COLUMN").expect("a suggestion");
    assert_eq!(found.severity, Severity::Warning);
    assert_eq!(found.suggestions, [END]);
    assert!(report.ok, "a suggestion is not an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_end_column_that_is_not_a_date_and_time_is_a_check_error() {
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .env("SESSION_END_COLUMN", "w4d_name")
        .start()
        .await;

    let report = harness.check().await;

    let found = report.about("SESSION_END_COLUMN").expect("a finding");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("type String"), "{}", found.message);
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_configured_end_column_the_table_has_is_proved_by_the_check() {
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .env("SESSION_END_COLUMN", END)
        .start()
        .await;

    let report = harness.check().await;

    assert_eq!(
        report.about("SESSION_END_COLUMN").map(|f| f.severity),
        Some(Severity::Ok)
    );
}
