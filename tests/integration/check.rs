//! The read-only check against dataverse-sim and moto: on the sample org it proves every
//! setting and counts what a sweep would do; each wrong setting is a finding that names it
//! (with the closest real names); it never writes.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::Dataset;
use serde_json::json;
use session_sweeper::check::{CheckReport, Severity};

/// Every request the check sent was a GET.
fn assert_read_only(harness: &Harness) {
    let log = harness.sim.request_log();
    assert!(!log.is_empty());
    let writes: Vec<&String> = log
        .iter()
        .filter(|line| !line.starts_with("GET "))
        .collect();
    assert!(writes.is_empty(), "the check wrote: {writes:?}");
    let stats = harness.sim.stats();
    assert_eq!((stats.patches, stats.batches), (0, 0));
}

fn finding<'a>(report: &'a CheckReport, subject: &str) -> &'a session_sweeper::check::Finding {
    report
        .about(subject)
        .unwrap_or_else(|| panic!("no finding about {subject}: {report:#?}"))
}

async fn check_with(setting: &'static str, value: &str) -> CheckReport {
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .env(setting, value)
        .start()
        .await;
    let report = harness.check().await;
    assert_read_only(&harness);
    report
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_org_passes_and_the_counts_match_its_sessions() {
    let harness = Harness::start(Dataset::demo(Utc::now())).await;
    let report = harness.check().await;
    assert!(report.ok, "{report:#?}");
    // The two warnings: SESSION_END_COLUMN is unset though the table has w4d_enddatetime, and
    // Legacy 0112 belongs to an inactive configuration.
    let warnings: Vec<&str> = report
        .with_severity(Severity::Warning)
        .map(|f| f.subject.as_str())
        .collect();
    assert_eq!(warnings, ["SESSION_END_COLUMN", "sessions"], "{report:#?}");
    let counts = report.sessions.as_ref().expect("counts");
    // Thirteen active sessions: seven of Support (four overdue), five of Sales (two overdue),
    // one of the inactive Legacy configuration; 0106 is closed already.
    assert_eq!(counts.active_sessions, 13);
    assert_eq!(counts.without_active_configuration, 1);
    assert_eq!(counts.would_close, 6);
    let support = counts
        .configurations
        .iter()
        .find(|c| c.id == SUPPORT)
        .unwrap();
    assert_eq!(
        (
            support.timeout_seconds,
            support.active_sessions,
            support.would_close
        ),
        (Some(86_400), 7, 4)
    );
    let sales = counts
        .configurations
        .iter()
        .find(|c| c.id == SALES)
        .unwrap();
    assert_eq!(
        (
            sales.timeout_seconds,
            sales.active_sessions,
            sales.would_close
        ),
        (Some(1_800), 5, 2)
    );
    assert_eq!(finding(&report, "application user").severity, Severity::Ok);
    assert_eq!(
        finding(&report, "SESSION_ACTIVE_STATUSCODE").message,
        "status 1 belongs to the active state 0"
    );
    assert_read_only(&harness);
    assert!(
        harness.closed_ids().len() == 1,
        "only the session closed beforehand is closed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_table_is_named_with_the_real_entity_sets_that_come_closest() {
    let report = check_with("SESSION_TABLE", "w4d_sessions").await;
    let found = finding(&report, "SESSION_TABLE");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("w4d_sessions"));
    assert_eq!(
        found.suggestions.first().map(String::as_str),
        Some("w4d_chatsessions")
    );
    assert!(!report.ok);
    assert!(
        report.sessions.is_none(),
        "no session query with a wrong table name"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_column_is_named_with_the_real_columns_that_come_closest() {
    let report = check_with("SESSION_LAST_CUSTOMER_MESSAGE_COLUMN", "w4d_lastmessageon").await;
    let found = finding(&report, "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("w4d_lastmessageon"));
    assert!(
        found
            .suggestions
            .contains(&"w4d_lastcustomermessageon".to_owned()),
        "{found:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_column_of_the_wrong_type_is_an_error_naming_its_type() {
    let report = check_with("CONFIGURATION_TIMEOUT_COLUMN", "createdon").await;
    let found = finding(&report, "CONFIGURATION_TIMEOUT_COLUMN");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("type DateTime"), "{}", found.message);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_close_status_of_another_state_is_an_error_naming_the_closed_states_statuses() {
    let report = check_with("SESSION_CLOSED_STATUSCODE", "1").await;
    let found = finding(&report, "SESSION_CLOSED_STATUSCODE");
    assert_eq!(found.severity, Severity::Error);
    assert!(
        found.message.contains("belongs to state 0"),
        "{}",
        found.message
    );
    assert!(found.fix.as_deref().unwrap().ends_with("2 or 3"));
    assert!(
        report.sessions.is_some(),
        "a wrong status does not stop the counts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_zone_independent_last_message_column_is_a_warning_that_explains_the_timing() {
    let data = Dataset::demo(Utc::now()).with_datetime_behavior(
        SESSIONS,
        "w4d_lastcustomermessageon",
        "TimeZoneIndependent",
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let column = report
        .findings
        .iter()
        .rfind(|f| f.subject == "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN")
        .unwrap();
    assert_eq!(column.severity, Severity::Warning);
    assert!(
        column.message.contains("close early or late"),
        "{}",
        column.message
    );
    assert!(report.ok, "a warning is not an error");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unusable_timeout_is_an_error_on_its_configuration() {
    let data = org(
        vec![
            configuration(SUPPORT, json!("soon")),
            configuration(SALES, json!(30)),
        ],
        vec![session(1, Some(SUPPORT), Some(hours(48)), hours(50))],
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let found = finding(&report, &format!("configuration {SUPPORT}"));
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("\"soon\""), "{}", found.message);
    assert_eq!(
        finding(&report, &format!("configuration {SALES}")).severity,
        Severity::Ok
    );
    assert_read_only(&harness);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_metadata_read_refused_for_a_missing_privilege_names_the_privilege() {
    let harness = Harness::start(Dataset::demo(Utc::now())).await;
    harness
        .sim
        .deny_privilege("EntityDefinitions", "prvReadEntity");
    harness.sim.deny_privilege("workflows", "prvReadWorkflow");
    let report = harness.check().await;
    let tables = finding(&report, "table definitions");
    assert_eq!(tables.severity, Severity::Error);
    assert!(
        tables.message.contains("prvReadEntity"),
        "{}",
        tables.message
    );
    let flows = finding(&report, "cloud flows");
    assert_eq!(flows.severity, Severity::Warning);
    assert!(flows.fix.as_deref().unwrap().contains("prvReadWorkflow"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_activated_vendor_flow_that_closes_sessions_is_a_warning() {
    let harness = Harness::start(Dataset::demo(Utc::now())).await;
    harness.sim.update(
        "workflows",
        "f10e0000-0000-4000-8000-000000000002",
        json!({"statecode": 1, "statuscode": 2}),
    );
    let report = harness.check().await;
    let flows = finding(&report, "cloud flows");
    assert_eq!(flows.severity, Severity::Warning);
    assert!(flows.message.contains("WhatsApp session timeout (vendor)"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_the_first_and_only_finding() {
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .secret("")
        .start()
        .await;
    let report = harness.check().await;
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    assert_eq!(report.findings[0].subject, "secret");
    assert_eq!(report.findings[0].severity, Severity::Error);
    assert!(harness.sim.request_log().is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_refused_client_secret_is_the_first_finding_and_appears_nowhere() {
    let logs = LogCapture::start();
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .secret(r#"{"tenant_id":"t","client_id":"sim-client","client_secret":"hunter2-wrong-one","environment_url":"{sim}","authority_url":"{sim}"}"#)
        .start()
        .await;
    let report = harness.check().await;
    assert_eq!(report.findings.len(), 1, "{report:#?}");
    assert_eq!(report.findings[0].subject, "token");
    let text = serde_json::to_string(&report).unwrap();
    assert!(!text.contains("hunter2"));
    assert!(
        logs.text().contains("\"subject\":\"token\""),
        "the finding is logged"
    );
    assert!(!logs.text().contains("hunter2"));
}

#[tokio::test(flavor = "current_thread")]
async fn the_sample_org_check_logs_no_secret_and_no_token() {
    let logs = LogCapture::start();
    let harness = Harness::start(Dataset::demo(Utc::now())).await;
    let report = harness.check().await;
    let text = logs.text() + &serde_json::to_string(&report).unwrap();
    assert!(!text.contains(SIM_SECRET));
    assert!(!text.contains("Bearer"));
    assert_eq!(
        text.matches("\"message\":\"check\"").count(),
        report.findings.len()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopen_status_of_another_state_is_an_error_naming_the_active_states_statuses() {
    let report = check_with("SESSION_ACTIVE_STATUSCODE", "2").await;
    let found = finding(&report, "SESSION_ACTIVE_STATUSCODE");
    assert_eq!(found.severity, Severity::Error);
    assert!(
        found
            .message
            .contains("belongs to state 1, not to the active state 0"),
        "{}",
        found.message
    );
    assert!(found.message.contains("every reopen would fail"));
    assert!(found.fix.as_deref().unwrap().ends_with("state 0: 1"));
    assert_eq!(
        finding(&report, "SESSION_CLOSED_STATUSCODE").severity,
        Severity::Ok
    );
    assert!(!report.ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_configuration_judges_and_counts_the_sessions_without_an_active_one() {
    let inactive = "c3d4e5f6-0000-4000-8000-000000000001";
    let data = org(
        vec![
            configuration(SUPPORT, json!(1440)),
            configuration(SALES, json!(30)),
        ],
        vec![
            session(1, None, Some(hours(48)), hours(50)),
            session(2, Some(inactive), Some(hours(48)), hours(50)),
            session(3, None, Some(hours(2)), hours(50)),
            session(4, Some(SALES), Some(minutes(10)), hours(1)),
        ],
    );
    // The end column is set so that the sample schema's w4d_enddatetime is not suggested.
    let harness = Setup::new(data)
        .env("DEFAULT_CONFIGURATION_ID", SUPPORT)
        .env("SESSION_END_COLUMN", "w4d_enddatetime")
        .start()
        .await;
    let report = harness.check().await;
    assert!(report.ok, "{report:#?}");
    let counts = report.sessions.as_ref().expect("counts");
    let support = counts
        .configurations
        .iter()
        .find(|c| c.id == SUPPORT)
        .unwrap();
    assert_eq!(
        (
            support.active_sessions,
            support.without_active_configuration,
            support.would_close
        ),
        (3, 3, 2)
    );
    assert_eq!(
        (counts.without_active_configuration, counts.would_close),
        (0, 2)
    );
    assert!(
        report.with_severity(Severity::Warning).count() == 0,
        "{report:#?}"
    );
    assert_read_only(&harness);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_timeout_below_the_minimum_is_an_error_and_its_sessions_would_not_close() {
    let data = org(
        vec![
            configuration(SUPPORT, json!(2)),
            configuration(SALES, json!(30)),
        ],
        vec![
            session(1, Some(SUPPORT), Some(hours(48)), hours(50)),
            session(2, Some(SALES), Some(hours(1)), hours(2)),
        ],
    );
    let harness = Harness::start(data).await;
    let report = harness.check().await;
    let found = finding(&report, &format!("configuration {SUPPORT}"));
    assert_eq!(found.severity, Severity::Error);
    assert!(
        found.message.contains("MIN_SESSION_TIMEOUT"),
        "{}",
        found.message
    );
    let counts = report.sessions.as_ref().expect("counts");
    let support = counts
        .configurations
        .iter()
        .find(|c| c.id == SUPPORT)
        .unwrap();
    assert_eq!((support.active_sessions, support.would_close), (1, 0));
    assert_eq!(counts.would_close, 1, "only the Sales session");
    assert!(!report.ok);
}

/// Sessions past a one-day timeout: 1 awaits an agent (none answered), 2 was answered before
/// the customer's last message, 3 after it, and 4's customer never wrote.
fn agent_org() -> Dataset {
    let mut rows = vec![
        session(1, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(2, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(3, Some(SUPPORT), Some(hours(48)), hours(50)),
        session(4, Some(SUPPORT), None, hours(50)),
    ];
    let now = Utc::now();
    rows[1][AGENT] = json!(stamp(now - hours(49)));
    rows[2][AGENT] = json!(stamp(now - hours(47)));
    org(vec![configuration(SUPPORT, json!(1440))], rows).with_datetime_behavior(
        SESSIONS,
        AGENT,
        "UserLocal",
    )
}

/// The agent column of the sample schema.
const AGENT: &str = "w4d_lastagentmessageon";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_agent_column_sessions_awaiting_an_agent_are_reported_and_not_counted_to_close() {
    let harness = Setup::new(agent_org())
        .env("SESSION_LAST_AGENT_MESSAGE_COLUMN", AGENT)
        .start()
        .await;
    let report = harness.check().await;
    assert!(report.ok, "{report:#?}");
    assert_eq!(
        finding(&report, "SESSION_LAST_AGENT_MESSAGE_COLUMN").severity,
        Severity::Ok
    );
    let counts = report.sessions.as_ref().expect("counts");
    assert_eq!((counts.would_close, counts.awaiting_agent), (2, 2));
    assert_eq!(counts.configurations[0].awaiting_agent, 2);
    let whole = report
        .findings
        .iter()
        .rfind(|f| f.subject == "sessions")
        .unwrap();
    assert!(
        whole.message.contains("would close 2 and leave open 2"),
        "{}",
        whole.message
    );
    assert_read_only(&harness);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_agent_column_is_named_with_the_real_columns_that_come_closest() {
    let harness = Setup::new(agent_org())
        .env("SESSION_LAST_AGENT_MESSAGE_COLUMN", "w4d_lastagentreplyon")
        .start()
        .await;
    let report = harness.check().await;
    let found = finding(&report, "SESSION_LAST_AGENT_MESSAGE_COLUMN");
    assert_eq!(found.severity, Severity::Error);
    assert_eq!(
        found.suggestions.first().map(String::as_str),
        Some(AGENT),
        "{found:?}"
    );
    assert!(
        report.sessions.is_none(),
        "no session read with a wrong column"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_column_that_is_not_a_date_and_time_is_an_error_naming_its_type() {
    let report = check_with("SESSION_LAST_AGENT_MESSAGE_COLUMN", "w4d_name").await;
    let found = finding(&report, "SESSION_LAST_AGENT_MESSAGE_COLUMN");
    assert_eq!(found.severity, Severity::Error);
    assert!(found.message.contains("type String"), "{}", found.message);
    assert!(!report.ok);
}
