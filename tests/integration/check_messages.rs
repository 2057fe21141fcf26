//! The check of the warning and message settings against dataverse-sim's demo org: with the
//! org's real names (its message table, its warned-at column, its bound and unbound custom
//! APIs) it is ok and counts the sessions a sweep would warn now; each wrong name or value is
//! a finding that names it; it never writes.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::Dataset;
use session_sweeper::check::{CheckReport, Finding, Severity};

/// The demo org's real names, with a lead that warns both of its sessions in a warning window
/// (eligible in 15 and 20 minutes) and is shorter than both timeouts (30 minutes, 1 day).
const REAL: [(&str, &str); 11] = [
    ("WARNING_LEAD", "25"),
    ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
    (
        "WARNING_MESSAGE_TEXT",
        "This chat closes soon; reply to keep it open.",
    ),
    (
        "CLOSING_MESSAGE_TEXT",
        "This chat is closed. Write again any time.",
    ),
    ("MESSAGE_TABLE", "w4d_whatsappmessages"),
    ("MESSAGE_SESSION_NAVIGATION", "w4d_ChatSession"),
    ("MESSAGE_TEXT_COLUMN", "w4d_body"),
    ("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 100000001}"#),
    ("MESSAGE_ACTION", "w4d_SendSessionMessage"),
    ("MESSAGE_ACTION_BOUND", "true"),
    ("MESSAGE_ACTION_PARAMETERS", r#"{"Text": "{text}"}"#),
];

/// The check over the demo org with the real names, `changes` replacing some of them.
async fn check(changes: &[(&'static str, &str)]) -> CheckReport {
    check_on(Dataset::demo(Utc::now()), changes).await
}

/// The check over `data` with the real names, `changes` replacing some of them.
async fn check_on(data: Dataset, changes: &[(&'static str, &str)]) -> CheckReport {
    let mut setup = Setup::new(data);
    for (name, value) in REAL.iter().chain(changes) {
        setup = setup.env(name, *value);
    }
    let harness = setup.start().await;
    let report = harness.check().await;
    let writes: Vec<String> = harness
        .sim
        .request_log()
        .into_iter()
        .filter(|line| !line.starts_with("GET "))
        .collect();
    assert!(writes.is_empty(), "the check wrote: {writes:?}");
    report
}

fn finding<'a>(report: &'a CheckReport, subject: &str) -> &'a Finding {
    report
        .about(subject)
        .unwrap_or_else(|| panic!("no finding about {subject}: {report:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_orgs_real_names_pass_and_the_sessions_it_would_warn_are_counted() {
    let report = check(&[]).await;

    assert!(report.ok, "{report:#?}");
    for subject in [
        "SESSION_WARNED_AT_COLUMN",
        "MESSAGE_TABLE",
        "MESSAGE_SESSION_NAVIGATION",
        "MESSAGE_TEXT_COLUMN",
        "MESSAGE_FIXED_VALUES",
        "MESSAGE_ACTION",
        "MESSAGE_ACTION_BOUND",
        "MESSAGE_ACTION_PARAMETERS",
        "WARNING_LEAD",
    ] {
        let all: Vec<&Finding> = report
            .findings
            .iter()
            .filter(|f| f.subject == subject)
            .collect();
        assert!(!all.is_empty(), "no finding about {subject}");
        assert!(all.iter().all(|f| f.severity == Severity::Ok), "{all:#?}");
    }
    // Support's timeout is a day: its closes are outside the window, said once, as a warning.
    let closing = finding(&report, "CLOSING_MESSAGE_TEXT");
    assert_eq!(closing.severity, Severity::Warning);
    assert!(closing.message.contains(SUPPORT), "{}", closing.message);
    let counts = report.sessions.as_ref().expect("counts");
    // Within 25 minutes of eligibility: Support 0104 (in 1 minute) and 0113 (in 20), Sales
    // 0114 (in 15) and 0109 (in 20); all inside the 24-hour window.
    assert_eq!((counts.would_warn, counts.warnings_outside_window), (4, 0));
    let warned = |id: &str| {
        counts
            .configurations
            .iter()
            .find(|c| c.id == id)
            .unwrap()
            .would_warn
    };
    assert_eq!((warned(SUPPORT), warned(SALES)), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_unbound_custom_api_with_its_session_and_text_parameters_passes() {
    let report = check(&[
        ("MESSAGE_ACTION", "w4d_SendWhatsAppMessage"),
        ("MESSAGE_ACTION_BOUND", "false"),
        (
            "MESSAGE_ACTION_PARAMETERS",
            r#"{"SessionId": "{session_id}", "Text": "{text}"}"#,
        ),
    ])
    .await;

    assert!(report.ok, "{report:#?}");
    assert_eq!(
        finding(&report, "MESSAGE_ACTION_BOUND").severity,
        Severity::Ok
    );
    assert_eq!(
        finding(&report, "MESSAGE_ACTION_PARAMETERS").severity,
        Severity::Ok
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_navigation_property_in_the_wrong_case_is_an_error_naming_the_real_one() {
    let report = check(&[("MESSAGE_SESSION_NAVIGATION", "w4d_chatsession")]).await;

    let found = finding(&report, "MESSAGE_SESSION_NAVIGATION");
    assert_eq!(found.severity, Severity::Error);
    assert_eq!(
        found.fix.as_deref(),
        Some("set MESSAGE_SESSION_NAVIGATION to w4d_ChatSession")
    );
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_column_too_short_for_the_warning_is_an_error_naming_both() {
    let long = "This chat closes soon.".repeat(6);
    let report = check(&[
        ("MESSAGE_TEXT_COLUMN", "w4d_name"),
        ("WARNING_MESSAGE_TEXT", long.as_str()),
    ])
    .await;

    let found = finding(&report, "MESSAGE_TEXT_COLUMN");
    assert_eq!(found.severity, Severity::Error, "{found:?}");
    assert!(
        found.message.contains("at most 100 characters")
            && found.message.contains("WARNING_MESSAGE_TEXT has 132"),
        "{}",
        found.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_choice_value_not_among_its_options_is_an_error_listing_them() {
    let report = check(&[("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 2}"#)]).await;

    let found = finding(&report, "MESSAGE_FIXED_VALUES");
    assert_eq!(found.severity, Severity::Error);
    assert!(
        found.message.contains("100000000, 100000001"),
        "{}",
        found.message
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_action_bound_otherwise_than_configured_is_an_error_saying_which() {
    let report = check(&[
        ("MESSAGE_ACTION", "w4d_SendWhatsAppMessage"),
        (
            "MESSAGE_ACTION_PARAMETERS",
            r#"{"SessionId": "{session_id}", "Text": "{text}"}"#,
        ),
    ])
    .await;

    let found = finding(&report, "MESSAGE_ACTION_BOUND");
    assert_eq!(found.severity, Severity::Error);
    assert_eq!(
        found.fix.as_deref(),
        Some("set MESSAGE_ACTION_BOUND to false")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parameter_the_action_does_not_take_is_an_error_naming_it() {
    let report = check(&[(
        "MESSAGE_ACTION_PARAMETERS",
        r#"{"Text": "{text}", "Channel": "whatsapp"}"#,
    )])
    .await;

    let found = finding(&report, "MESSAGE_ACTION_PARAMETERS");
    assert_eq!(found.severity, Severity::Error);
    assert!(
        found.message.contains("takes no parameter Channel"),
        "{}",
        found.message
    );
    assert_eq!(found.suggestions, ["Text"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lead_not_shorter_than_a_timeout_is_a_warning_naming_that_configuration() {
    let report = check(&[("WARNING_LEAD", "30")]).await;

    let found = finding(&report, "WARNING_LEAD");
    assert_eq!(found.severity, Severity::Warning);
    assert!(
        found
            .message
            .starts_with(&format!("configuration {SALES}:")),
        "{}",
        found.message
    );
    assert!(report.ok, "a warning, not an error: {report:#?}");
    let counts = report.sessions.as_ref().expect("counts");
    let sales = counts
        .configurations
        .iter()
        .find(|c| c.id == SALES)
        .unwrap();
    assert_eq!(sales.would_warn, 0, "Sales gets no warnings");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warned_at_column_that_is_not_a_date_and_time_is_an_error_and_no_session_is_read() {
    let report = check(&[("SESSION_WARNED_AT_COLUMN", "w4d_name")]).await;

    let found = finding(&report, "SESSION_WARNED_AT_COLUMN");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("String"), "{}", found.message);
    assert!(report.sessions.is_none(), "the session read selects it");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_date_only_warned_at_column_is_an_error() {
    let data = Dataset::demo(Utc::now()).with_datetime_behavior(
        "w4d_chatsessions",
        "w4d_warnedon",
        "DateOnly",
    );
    let report = check_on(data, &[]).await;

    let all: Vec<&Finding> = report
        .findings
        .iter()
        .filter(|f| f.subject == "SESSION_WARNED_AT_COLUMN")
        .collect();
    assert!(
        all.iter()
            .any(|f| f.severity == Severity::Error && f.message.contains("Date only")),
        "{all:#?}"
    );
}
