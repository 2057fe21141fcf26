//! The misconfigurations most likely on a real org's first run, which a timeout floor cannot
//! see: a bare number read in the wrong unit, and a last-customer-message column nobody fills.
//! The check names them; a sweep logs the first.

use crate::support::*;
use serde_json::{json, Value};
use session_sweeper::check::{CheckReport, Finding, Severity};

/// The findings about `subject`.
fn about<'a>(report: &'a CheckReport, subject: &'a str) -> impl Iterator<Item = &'a Finding> {
    report.findings.iter().filter(move |f| f.subject == subject)
}

/// Active sessions of Support: `silent` of them without a customer message, `total` in all.
fn sessions_with_silent(total: u32, silent: u32) -> Vec<Value> {
    (1..=total)
        .map(|n| {
            let quiet = (n > silent).then(|| hours(2));
            session(n, Some(SUPPORT), quiet, hours(3))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_of_24_read_as_minutes_is_a_warning_naming_both_readings() {
    let data = org(
        vec![configuration(SUPPORT, json!(24))],
        vec![session(1, Some(SUPPORT), Some(hours(2)), hours(3))],
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let subject = format!("configuration {SUPPORT}");
    let found: Vec<&Finding> = about(&report, &subject).collect();
    assert_eq!(found.len(), 1, "{report:#?}");
    assert_eq!(found[0].severity, Severity::Warning, "{report:#?}");
    let message = &found[0].message;
    assert!(message.contains("24 minutes"), "{message}");
    assert!(message.contains("24 hours"), "{message}");
    assert!(report.ok, "a warning is not an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_of_720_read_as_hours_is_a_warning_naming_both_readings() {
    let data = org(
        vec![configuration(SUPPORT, json!("720"))],
        vec![session(1, Some(SUPPORT), Some(hours(2)), hours(3))],
    );
    let harness = Setup::new(data)
        .env("CONFIGURATION_TIMEOUT_UNIT", "hours")
        .start()
        .await;
    let report = harness.check().await;
    let subject = format!("configuration {SUPPORT}");
    let found = about(&report, &subject).next().expect("a finding");
    assert_eq!(found.severity, Severity::Warning, "{report:#?}");
    assert!(found.message.contains("720 hours"), "{}", found.message);
    assert!(found.message.contains("720 minutes"), "{}", found.message);
}

#[tokio::test(flavor = "current_thread")]
async fn a_sweep_logs_the_unit_warning_with_the_configuration_id() {
    let logs = LogCapture::start();
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(48))],
        vec![session(1, Some(SUPPORT), Some(hours(2)), hours(3))],
    ))
    .await;
    harness.sweep().await.expect("the sweep runs");
    let line = logs
        .text()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).expect("JSON log"))
        .find(|line| line["level"] == "WARN" && line["configured"] == "48 minutes")
        .unwrap_or_else(|| panic!("no unit warning in {}", logs.text()));
    assert_eq!(line["configuration_id"], SUPPORT);
    assert_eq!(line["other_reading"], "48 hours");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_message_column_empty_on_most_sessions_is_an_error_with_the_counts() {
    let data = org(
        vec![configuration(SUPPORT, json!(1440))],
        sessions_with_silent(10, 6),
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let found = about(&report, "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN")
        .find(|f| f.severity == Severity::Error)
        .unwrap_or_else(|| panic!("no error: {report:#?}"));
    assert!(
        found.message.contains("6 of 10 active sessions"),
        "{}",
        found.message
    );
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_last_message_column_empty_on_a_large_share_is_a_warning_with_the_counts() {
    let data = org(
        vec![configuration(SUPPORT, json!(1440))],
        sessions_with_silent(10, 3),
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let found = about(&report, "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN")
        .find(|f| f.severity == Severity::Warning)
        .unwrap_or_else(|| panic!("no warning: {report:#?}"));
    assert!(
        found.message.contains("3 of 10 active sessions"),
        "{}",
        found.message
    );
    assert!(report.ok, "a warning is not an error");
}
