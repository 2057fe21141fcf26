//! The configurations and active sessions as a sweep would see them now: each active
//! configuration's timeout (or why it is unusable, `MIN_SESSION_TIMEOUT` included), how many
//! active sessions it judges and how many of those a sweep would close, the sessions without
//! an active configuration, and, with `SESSION_LAST_AGENT_MESSAGE_COLUMN` set, those past
//! their timeout that await an agent; with `WARNING_LEAD` set, how many a sweep would warn
//! now and how many of those warnings fall outside WhatsApp's 24-hour window. The rules are
//! the sweep's own: its plan (`sweep::plan`: usable configurations, the only or default
//! configuration judging sessions without an active one, the query that owns each session),
//! then its `sweep::verdict` and `sweep::warn::warning` on each row. Pure: `now` is an
//! argument.

use super::counted;
use super::finding::Finding;
use super::lead;
use crate::dataverse::{ConfigurationRow, ReadRow, SessionRow};
use crate::ids::Guid;
use crate::policy::UnitDoubt;
use crate::settings::{setting, Settings};
use crate::summary::ConfigurationReport;
use crate::sweep::plan;
use crate::sweep::warn::{self, Warning};
use crate::sweep::{verdict, SweepError, Verdict};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One active configuration as a sweep would apply it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigurationCount {
    /// Its id.
    pub id: Guid,
    /// Its timeout, when usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Why its timeout is unusable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Active sessions it judges: its own, and those without an active configuration when it
    /// is the only active configuration or `DEFAULT_CONFIGURATION_ID`.
    pub active_sessions: usize,
    /// Of those, the sessions without an active configuration.
    pub without_active_configuration: usize,
    /// Of those, how many a sweep would close now.
    pub would_close: usize,
    /// Of those, how many are past the timeout but await an agent's reply, so stay open.
    pub awaiting_agent: usize,
    /// Of those, how many a sweep would warn now (0 without `WARNING_LEAD`).
    pub would_warn: usize,
    /// Of those, how many are due a warning that falls outside WhatsApp's 24-hour window,
    /// so is not sent.
    pub warnings_outside_window: usize,
}

/// The counts of the whole environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionCounts {
    /// Each active configuration.
    pub configurations: Vec<ConfigurationCount>,
    /// Every active session read.
    pub active_sessions: usize,
    /// Active sessions no active configuration owns and none judges; a sweep never closes
    /// them.
    pub without_active_configuration: usize,
    /// Rows that cannot be judged (see the sweep's `unreadable`).
    pub unreadable: usize,
    /// Readable rows whose last-customer-message column is empty, judged by `createdon`.
    pub without_customer_message: usize,
    /// How many a sweep would close if it ran now.
    pub would_close: usize,
    /// Sessions past their timeout that a sweep leaves open because they await an agent
    /// (only with `SESSION_LAST_AGENT_MESSAGE_COLUMN` set).
    pub awaiting_agent: usize,
    /// How many a sweep would warn if it ran now (only with `WARNING_LEAD` set).
    pub would_warn: usize,
    /// Sessions due a warning outside WhatsApp's 24-hour window, which a sweep counts and
    /// does not send.
    pub warnings_outside_window: usize,
}

/// Counts active sessions one at a time against the active configurations at `now`, with the
/// sweep's plan and verdict, so that a paged read keeps no row after its page is counted.
pub struct Tally<'a> {
    settings: &'a Settings,
    configurations: &'a [ConfigurationRow],
    now: DateTime<Utc>,
    plan: plan::Plan,
    findings: Vec<Finding>,
    counts: Vec<ConfigurationCount>,
    unit_doubts: Vec<(Guid, UnitDoubt)>,
    active: usize,
    without: usize,
    unreadable: usize,
    awaiting: usize,
    silent: usize,
}

impl<'a> Tally<'a> {
    /// A tally with nothing counted yet, planned as a sweep at `now` would plan.
    pub fn new(
        settings: &'a Settings,
        configurations: &'a [ConfigurationRow],
        now: DateTime<Utc>,
    ) -> Self {
        let mut findings = Vec::new();
        let mut plan = plan::plan(now, settings, configurations);
        if let Some(refusal @ SweepError::DefaultConfigurationNotActive { .. }) = &plan.refusal {
            findings.push(Finding::error(
                setting::DEFAULT_CONFIGURATION_ID.name,
                refusal.to_string(),
                "set DEFAULT_CONFIGURATION_ID to the id of an active configuration, or leave it empty",
            ));
        }
        let unit_doubts = std::mem::take(&mut plan.unit_doubts);
        let counts = std::mem::take(&mut plan.configurations)
            .into_iter()
            .map(ConfigurationCount::from)
            .collect();
        Tally {
            settings,
            configurations,
            now,
            plan,
            findings,
            counts,
            unit_doubts,
            active: 0,
            without: 0,
            unreadable: 0,
            awaiting: 0,
            silent: 0,
        }
    }

    /// Counts one active session as read.
    pub fn add(&mut self, row: &ReadRow) {
        self.active += 1;
        let Ok(session) = row else {
            self.unreadable += 1;
            return;
        };
        self.silent += usize::from(session.last_customer_message.is_none());
        let configurations = self.configurations;
        let agent_rule = self.settings.schema.last_agent_message.is_some();
        let lookup = session.configuration_id.as_ref();
        let planned = self
            .plan
            .queries
            .iter()
            .find(|planned| planned.owns(lookup));
        let own = position(configurations, lookup);
        let judge =
            planned.and_then(|planned| position(configurations, planned.configuration_id.as_ref()));
        let verdict = planned.map(|planned| verdict(planned, session, self.now, agent_rule));
        self.awaiting += usize::from(verdict == Some(Verdict::AwaitingAgent));
        let warning = planned.and_then(|planned| self.warning(planned, session));
        let Some(at) = own.or(judge) else {
            self.without += 1;
            return;
        };
        let count = &mut self.counts[at];
        count.active_sessions += 1;
        count.without_active_configuration += usize::from(own.is_none());
        match verdict {
            Some(Verdict::Close { .. }) => count.would_close += 1,
            Some(Verdict::AwaitingAgent) => count.awaiting_agent += 1,
            _ => {}
        }
        match warning {
            Some(Warning::Warn { .. }) => count.would_warn += 1,
            Some(Warning::OutsideWindow { .. }) => count.warnings_outside_window += 1,
            _ => {}
        }
    }

    /// The sweep's warning rule on `session`, for a query the sweep sends a warning query
    /// for (the same gate as the sweep's); `None` without `WARNING_LEAD`.
    fn warning(&self, planned: &plan::Planned, session: &SessionRow) -> Option<Warning> {
        let lead = self.settings.notify.warning.as_ref()?.lead;
        warn::warning_query(planned, lead)?;
        let agent_rule = self.settings.schema.last_agent_message.is_some();
        Some(warn::warning(planned, session, self.now, agent_rule, lead))
    }

    /// The counts, with a finding per configuration and those about the whole.
    pub fn finish(self) -> (SessionCounts, Vec<Finding>) {
        let mut findings = self.findings;
        let (counts, without, unreadable) = (self.counts, self.without, self.unreadable);
        findings.extend(counted::count_findings(
            self.settings,
            &counts,
            &self.unit_doubts,
            without,
            unreadable,
        ));
        let column = self.settings.schema.last_customer_message.as_str();
        findings.extend(counted::empty_column_finding(
            column,
            self.silent,
            self.active - unreadable,
        ));
        findings.extend(lead::findings(&self.settings.notify, &counts));
        let total = SessionCounts {
            active_sessions: self.active,
            would_close: counts.iter().map(|c| c.would_close).sum(),
            awaiting_agent: self.awaiting,
            would_warn: counts.iter().map(|c| c.would_warn).sum(),
            warnings_outside_window: counts.iter().map(|c| c.warnings_outside_window).sum(),
            configurations: counts,
            without_active_configuration: without,
            unreadable,
            without_customer_message: self.silent,
        };
        (total, findings)
    }
}

/// Counts `sessions` at once: the tally over a slice, for tests.
#[cfg(test)]
pub fn count(
    settings: &Settings,
    configurations: &[ConfigurationRow],
    sessions: &[ReadRow],
    now: DateTime<Utc>,
) -> (SessionCounts, Vec<Finding>) {
    let mut tally = Tally::new(settings, configurations, now);
    sessions.iter().for_each(|row| tally.add(row));
    tally.finish()
}

impl From<ConfigurationReport> for ConfigurationCount {
    fn from(report: ConfigurationReport) -> Self {
        ConfigurationCount {
            id: report.id,
            timeout_seconds: report.timeout_seconds,
            error: report.error,
            active_sessions: 0,
            without_active_configuration: 0,
            would_close: 0,
            awaiting_agent: 0,
            would_warn: 0,
            warnings_outside_window: 0,
        }
    }
}

/// The index of the active configuration with this id.
fn position(configurations: &[ConfigurationRow], id: Option<&Guid>) -> Option<usize> {
    let id = id?;
    configurations.iter().position(|c| c.id == *id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataverse::SessionRow;
    use crate::sweep::plan::tests::{configuration, settings};
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
    const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    fn session(configuration: Option<&str>, quiet_minutes: i64) -> ReadRow {
        Ok(SessionRow {
            id: Guid::parse("00000000-0000-4000-8000-0000000000a1").unwrap(),
            etag: "W/\"1\"".into(),
            configuration_id: configuration.map(|id| Guid::parse(id).unwrap()),
            last_customer_message: Some(now() - Duration::minutes(quiet_minutes)),
            created_on: now() - Duration::days(10),
            statecode: 0,
            last_agent_message: None,
            warned_at: None,
            last_change: None,
        })
    }

    #[test]
    fn the_default_configuration_judges_and_counts_the_sessions_without_an_active_one() {
        let (counts, _) = count(
            &settings(Some(B)),
            &[configuration(A, json!(60)), configuration(B, json!(60))],
            &[
                session(None, 90),
                session(Some("c3d4e5f6-0000-4000-8000-000000000000"), 10),
            ],
            now(),
        );
        let b = &counts.configurations[1];
        assert_eq!((b.active_sessions, b.without_active_configuration), (2, 2));
        assert_eq!(
            (counts.without_active_configuration, counts.would_close),
            (0, 1)
        );
    }

    #[test]
    fn sessions_without_a_lookup_belong_to_the_only_configuration() {
        let (counts, _) = count(
            &settings(None),
            &[configuration(A, json!(60))],
            &[session(None, 90), session(Some(A), 10)],
            now(),
        );
        assert_eq!(
            (counts.configurations[0].active_sessions, counts.would_close),
            (2, 1)
        );
    }

    #[test]
    fn with_several_configurations_sessions_without_one_are_counted_apart_and_never_closed() {
        let (counts, findings) = count(
            &settings(None),
            &[configuration(A, json!(60)), configuration(B, json!(60))],
            &[
                session(None, 900),
                session(Some("c3d4e5f6-0000-4000-8000-000000000000"), 900),
            ],
            now(),
        );
        assert_eq!(
            (counts.without_active_configuration, counts.would_close),
            (2, 0)
        );
        assert!(findings.iter().any(|f| f
            .message
            .starts_with("2 active sessions without an active configuration")));
    }

    #[test]
    fn a_session_due_a_warning_counts_as_would_warn_or_outside_the_window_by_its_last_message() {
        let settings = crate::settings::tests::settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WARNING_LEAD", "3 hours"),
            ("EVENT_BUS_NAME", "default"),
            ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
        ])
        .unwrap();
        // Timeout 26 hours: warned from 23 hours of silence, outside the window after 24.
        let (counts, _) = count(
            &settings,
            &[configuration(A, json!(26 * 60))],
            &[
                session(Some(A), 23 * 60 + 30),
                session(Some(A), 25 * 60),
                session(Some(A), 60),
            ],
            now(),
        );
        assert_eq!((counts.would_warn, counts.warnings_outside_window), (1, 1));
        assert_eq!(counts.configurations[0].would_warn, 1);
    }

    #[test]
    fn an_unusable_timeout_is_an_error_and_its_sessions_would_not_close() {
        let (counts, findings) = count(
            &settings(None),
            &[configuration(A, json!("soon"))],
            &[session(Some(A), 9000)],
            now(),
        );
        assert_eq!(counts.would_close, 0);
        assert!(
            findings[0].message.contains("\"soon\""),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].severity, super::super::finding::Severity::Error);
    }
}
