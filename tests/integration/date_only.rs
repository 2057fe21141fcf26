//! Date only columns ("Behavior and format of the date and time column"): the Web API reads
//! them as `Edm.Date`, with no time of day, and refuses to compare them with a date and time.
//! The check calls that an error; the sweep stops naming the setting, and never guesses a time.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::Dataset;
use session_sweeper::check::Severity;
use session_sweeper::handler::HandlerError;
use session_sweeper::sweep::SweepError;

/// The sample org with its last-customer-message column declared Date only.
fn date_only_org() -> Dataset {
    Dataset::demo(Utc::now()).with_datetime_behavior(
        SESSIONS,
        "w4d_lastcustomermessageon",
        "DateOnly",
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_only_last_message_column_is_a_check_error_that_names_what_to_choose() {
    let harness = Harness::start(date_only_org()).await;

    let report = harness.check().await;

    let column = report
        .findings
        .iter()
        .rfind(|f| f.subject == "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN")
        .unwrap();
    assert_eq!(column.severity, Severity::Error, "{column:?}");
    assert!(column.message.contains("Date only"), "{}", column.message);
    assert!(column.fix.as_deref().unwrap().contains("User local"));
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_only_agent_column_is_a_check_error() {
    let data = Dataset::demo(Utc::now()).with_datetime_behavior(
        SESSIONS,
        "w4d_lastagentmessageon",
        "DateOnly",
    );
    let harness = Setup::new(data)
        .env(
            "SESSION_LAST_AGENT_MESSAGE_COLUMN",
            "w4d_lastagentmessageon",
        )
        .start()
        .await;

    let report = harness.check().await;

    let column = report
        .findings
        .iter()
        .rfind(|f| f.subject == "SESSION_LAST_AGENT_MESSAGE_COLUMN")
        .unwrap();
    assert_eq!(column.severity, Severity::Error, "{column:?}");
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sweep_over_a_date_only_column_stops_naming_the_setting_and_closes_nothing() {
    let harness = Harness::start(date_only_org()).await;
    let closed_before = harness.closed_ids();

    let result = harness.sweep().await;

    assert!(
        matches!(
            &result,
            Err(HandlerError::Sweep(SweepError::DateOnlyColumn {
                setting: "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN",
                ..
            }))
        ),
        "{result:?}"
    );
    assert_eq!(harness.closed_ids(), closed_before);
    assert_eq!(harness.sim.stats().patches, 0);
}
