//! Enforced state transitions ("Define custom state model transitions"): the check reads the
//! session table's `EnforceStateTransitions` and each status's `TransitionData`, and a close
//! or reopen those transitions forbid is an error before any sweep fails on it.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::Dataset;
use session_sweeper::check::{CheckReport, Severity};

/// The sample org with its session statuses limited to `allowed` (from, to) transitions.
async fn check_with_transitions(allowed: &[(i64, i64)]) -> CheckReport {
    let data = Dataset::demo(Utc::now()).with_state_transitions(SESSIONS, allowed);
    Harness::start(data).await.check().await
}

fn severity_of(report: &CheckReport, subject: &str) -> Vec<Severity> {
    report
        .findings
        .iter()
        .filter(|f| f.subject == subject)
        .map(|f| f.severity)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_that_forbid_active_to_closed_are_a_check_error_on_the_close_status() {
    // Active (1) may only expire (3); the function closes with 2.
    let report = check_with_transitions(&[(1, 3), (2, 1), (3, 1)]).await;

    let close = report
        .findings
        .iter()
        .rfind(|f| f.subject == "SESSION_CLOSED_STATUSCODE")
        .unwrap();
    assert_eq!(close.severity, Severity::Error, "{close:?}");
    assert!(
        close.message.contains("may not move to status 2"),
        "{}",
        close.message
    );
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_that_forbid_closed_to_active_are_a_check_error_on_the_reopen_status() {
    let report = check_with_transitions(&[(1, 2), (1, 3), (3, 1)]).await;

    assert_eq!(
        severity_of(&report, "SESSION_ACTIVE_STATUSCODE"),
        [Severity::Ok, Severity::Error]
    );
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transitions_that_allow_the_close_and_the_reopen_pass_the_check() {
    let report = check_with_transitions(&[(1, 2), (1, 3), (2, 1), (3, 1)]).await;

    assert_eq!(
        severity_of(&report, "SESSION_CLOSED_STATUSCODE"),
        [Severity::Ok, Severity::Ok]
    );
    assert!(report.ok, "{report:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_the_enforced_transitions_forbid_fails_in_the_sim_as_in_dataverse() {
    let data = Dataset::demo(Utc::now()).with_state_transitions(SESSIONS, &[(1, 3)]);
    let harness = Harness::start(data).await;
    let closed_before = harness.closed_ids();

    let result = harness.sweep().await;

    assert!(result.is_err(), "{result:?}");
    assert_eq!(harness.closed_ids(), closed_before);
}
