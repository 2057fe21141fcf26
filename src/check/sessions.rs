//! The configurations and active sessions as a sweep would see them now: each active
//! configuration's timeout (or why it is unusable), how many active sessions it owns and how
//! many of those a sweep would close, and the sessions no active configuration owns. The
//! rules are the sweep's: a session without a lookup belongs to the only active configuration,
//! and to none when several are active; eligibility is `policy::decide`. Pure: `now` is an
//! argument.

use super::report::Finding;
use crate::dataverse::{ConfigurationRow, ReadRow};
use crate::policy::{decide, SessionTimeout, TimeoutUnit};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// One active configuration as a sweep would apply it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConfigurationCount {
    /// Its id.
    pub id: String,
    /// Its timeout, when usable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Why its timeout is unusable.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Active sessions it owns.
    pub active_sessions: usize,
    /// Of those, how many a sweep would close now.
    pub would_close: usize,
}

/// The counts of the whole environment.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionCounts {
    /// Each active configuration.
    pub configurations: Vec<ConfigurationCount>,
    /// Every active session read.
    pub active_sessions: usize,
    /// Active sessions no active configuration owns; a sweep never closes them.
    pub without_active_configuration: usize,
    /// Rows that cannot be judged (see the sweep's `unreadable`).
    pub unreadable: usize,
    /// How many a sweep would close if it ran now.
    pub would_close: usize,
}

/// Counts `sessions` against `configurations` at `now`, with a finding per configuration and
/// one for the whole.
pub fn count(
    configurations: &[ConfigurationRow],
    sessions: &[ReadRow],
    unit: TimeoutUnit,
    timeout_column: &str,
    now: DateTime<Utc>,
) -> (SessionCounts, Vec<Finding>) {
    let timeouts: Vec<Result<SessionTimeout, String>> = configurations
        .iter()
        .map(|c| SessionTimeout::from_column(c.timeout.as_ref(), unit).map_err(|e| e.to_string()))
        .collect();
    let mut counts: Vec<ConfigurationCount> = configurations
        .iter()
        .zip(&timeouts)
        .map(|(configuration, timeout)| ConfigurationCount {
            id: configuration.id.clone(),
            timeout_seconds: timeout.as_ref().ok().map(|t| t.seconds()),
            error: timeout.as_ref().err().cloned(),
            active_sessions: 0,
            would_close: 0,
        })
        .collect();
    let (mut without, mut unreadable) = (0, 0);
    for row in sessions {
        let Ok(session) = row else {
            unreadable += 1;
            continue;
        };
        let Some(owner) = owner(configurations, session.configuration_id.as_deref()) else {
            without += 1;
            continue;
        };
        counts[owner].active_sessions += 1;
        if let Ok(timeout) = &timeouts[owner] {
            if decide(
                *timeout,
                now,
                session.last_customer_message,
                session.created_on,
            )
            .close
            {
                counts[owner].would_close += 1;
            }
        }
    }
    let findings = findings(&counts, without, unreadable, timeout_column);
    let total = SessionCounts {
        active_sessions: sessions.len(),
        would_close: counts.iter().map(|c| c.would_close).sum(),
        configurations: counts,
        without_active_configuration: without,
        unreadable,
    };
    (total, findings)
}

/// The index of the configuration that owns a session: its lookup's, or the only active one
/// when it has none.
fn owner(configurations: &[ConfigurationRow], lookup: Option<&str>) -> Option<usize> {
    match lookup {
        Some(id) => configurations
            .iter()
            .position(|c| c.id.eq_ignore_ascii_case(id)),
        None if configurations.len() == 1 => Some(0),
        None => None,
    }
}

fn findings(
    counts: &[ConfigurationCount],
    without: usize,
    unreadable: usize,
    timeout_column: &str,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if counts.is_empty() {
        findings.push(Finding::error(
            "configurations",
            "no WhatsApp configuration is active, so a sweep knows no timeout and closes nothing",
            "activate the WhatsApp configuration whose Session Timeout should apply",
        ));
    }
    for count in counts {
        let subject = format!("configuration {}", count.id);
        findings.push(match (&count.timeout_seconds, &count.error) {
            (Some(seconds), _) => Finding::ok(
                subject,
                format!("timeout {seconds} s; {}, {} would close now", sessions(count.active_sessions), count.would_close),
            ),
            (None, error) => Finding::error(
                subject,
                format!("{}; none of its {} would be closed", error.as_deref().unwrap_or("unusable timeout"), sessions(count.active_sessions)),
                format!("give this configuration a usable Session Timeout ({timeout_column}), or correct CONFIGURATION_TIMEOUT_UNIT"),
            ),
        });
    }
    if without > 0 {
        findings.push(Finding::warning(
            "sessions",
            format!("{} without an active configuration (theirs is inactive, or they have none while several are active); a sweep never closes them", sessions(without)),
            "assign these sessions to an active configuration, or close them by hand",
        ));
    }
    if unreadable > 0 {
        findings.push(Finding::warning(
            "sessions",
            format!(
                "{} cannot be judged (no id, no ETag or a time that is not a date)",
                sessions(unreadable)
            ),
            "look at the rows the sweep summary lists as unreadable and correct them",
        ));
    }
    findings
}

/// "1 active session", "2 active sessions".
pub(super) fn sessions(count: usize) -> String {
    match count {
        1 => "1 active session".to_owned(),
        n => format!("{n} active sessions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataverse::SessionRow;
    use chrono::{Duration, TimeZone};
    use serde_json::json;

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
    const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    fn session(configuration: Option<&str>, quiet_minutes: i64) -> ReadRow {
        Ok(SessionRow {
            id: "s".into(),
            etag: "W/\"1\"".into(),
            configuration_id: configuration.map(str::to_owned),
            last_customer_message: Some(now() - Duration::minutes(quiet_minutes)),
            created_on: now() - Duration::days(10),
            statecode: 0,
            last_agent_message: None,
        })
    }

    fn configuration(id: &str, timeout: serde_json::Value) -> ConfigurationRow {
        ConfigurationRow {
            id: id.into(),
            timeout: Some(timeout),
        }
    }

    #[test]
    fn sessions_without_a_lookup_belong_to_the_only_configuration() {
        let (counts, _) = count(
            &[configuration(A, json!(60))],
            &[session(None, 90), session(Some(A), 10)],
            TimeoutUnit::Minutes,
            "w4d_sessiontimeout",
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
            &[configuration(A, json!(60)), configuration(B, json!(60))],
            &[
                session(None, 900),
                session(Some("c3d4e5f6-0000-4000-8000-000000000000"), 900),
            ],
            TimeoutUnit::Minutes,
            "w4d_sessiontimeout",
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
    fn an_unusable_timeout_is_an_error_and_its_sessions_would_not_close() {
        let (counts, findings) = count(
            &[configuration(A, json!("soon"))],
            &[session(Some(A), 9000)],
            TimeoutUnit::Minutes,
            "w4d_sessiontimeout",
            now(),
        );
        assert_eq!(counts.would_close, 0);
        assert!(
            findings[0].message.contains("\"soon\""),
            "{}",
            findings[0].message
        );
        assert_eq!(findings[0].severity, super::super::report::Severity::Error);
    }
}
