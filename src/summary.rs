//! The result of one sweep: the JSON the function returns, its one-line log, and the same
//! figures as a CloudWatch Embedded Metric Format line, so dashboards and alarms need no code.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::json;

/// At most this many sessions are listed; the counts stay exact and `sessions_truncated`
/// says the list was cut, so the response stays far below Lambda's 6 MB payload limit.
pub const SESSION_LIST_LIMIT: usize = 10_000;

/// The CloudWatch namespace of the metrics.
pub const METRICS_NAMESPACE: &str = "SessionSweeper";

/// What one sweep found and did.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    /// The `now` every decision used.
    #[serde(serialize_with = "utc")]
    pub evaluated_at: DateTime<Utc>,
    /// Nothing was closed on purpose.
    pub dry_run: bool,
    /// False when the sweep stopped early (deadline, cap, error); the next sweep continues.
    pub complete: bool,
    /// The active configurations and the timeout each applied, or why it could not.
    pub configurations: Vec<ConfigurationReport>,
    /// Sessions past their timeout: closed + skipped + failed + deferred (+ would_close).
    pub eligible: usize,
    /// Sessions closed.
    pub closed: usize,
    /// Eligible sessions left for the next sweep (cap or deadline).
    pub deferred: usize,
    /// In a dry run: sessions that would have been closed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub would_close: Option<usize>,
    /// The closed sessions.
    pub closed_sessions: Vec<SessionReport>,
    /// In a dry run: the sessions that would have been closed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub would_close_sessions: Vec<SessionReport>,
    /// True when a session list was cut at `SESSION_LIST_LIMIT`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sessions_truncated: bool,
    /// Eligible sessions deliberately not closed.
    pub skipped: Vec<Skipped>,
    /// Eligible sessions that could not be closed.
    pub failed: Vec<Failed>,
    /// HTTP requests sent to Entra ID and Dataverse, retries included.
    pub requests: u64,
    /// Wall time of the sweep.
    pub duration_ms: u64,
}

/// One active configuration as the sweep saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigurationReport {
    /// Primary key.
    pub id: String,
    /// The timeout applied, when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Why none of its sessions was touched, when the timeout is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A session closed (or, in a dry run, to be closed).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionReport {
    /// Primary key.
    pub id: String,
    /// The configuration whose timeout applied.
    pub configuration_id: String,
    /// The customer's last message; null when the session was judged from its creation.
    #[serde(serialize_with = "optional_utc")]
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// When it became eligible.
    #[serde(serialize_with = "utc")]
    pub eligible_at: DateTime<Utc>,
    /// Seconds between `eligible_at` and `evaluated_at`.
    pub overdue_seconds: i64,
}

/// An eligible session that was not closed, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// Primary key.
    pub id: String,
    /// Why.
    pub reason: String,
}

/// An eligible session whose close failed, and the error.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failed {
    /// Primary key (empty when Dataverse returned a row without one).
    pub id: String,
    /// The error.
    pub error: String,
}

impl Summary {
    /// An empty summary for a sweep evaluated at `now`.
    pub fn new(now: DateTime<Utc>, dry_run: bool) -> Self {
        Summary {
            evaluated_at: now,
            dry_run,
            complete: true,
            configurations: Vec::new(),
            eligible: 0,
            closed: 0,
            deferred: 0,
            would_close: dry_run.then_some(0),
            closed_sessions: Vec::new(),
            would_close_sessions: Vec::new(),
            sessions_truncated: false,
            skipped: Vec::new(),
            failed: Vec::new(),
            requests: 0,
            duration_ms: 0,
        }
    }

    /// Records a closed session.
    pub fn record_closed(&mut self, session: SessionReport) {
        self.closed += 1;
        if self.closed_sessions.len() < SESSION_LIST_LIMIT {
            self.closed_sessions.push(session);
        } else {
            self.sessions_truncated = true;
        }
    }

    /// Records a session a dry run would close.
    pub fn record_would_close(&mut self, session: SessionReport) {
        *self.would_close.get_or_insert(0) += 1;
        if self.would_close_sessions.len() < SESSION_LIST_LIMIT {
            self.would_close_sessions.push(session);
        } else {
            self.sessions_truncated = true;
        }
    }

    /// The largest `overdue_seconds` among the listed sessions.
    pub fn max_overdue_seconds(&self) -> i64 {
        self.closed_sessions
            .iter()
            .chain(&self.would_close_sessions)
            .map(|session| session.overdue_seconds)
            .max()
            .unwrap_or(0)
    }

    /// Whether the counts add up: eligible = closed + would close + skipped + failed + deferred.
    pub fn adds_up(&self) -> bool {
        self.eligible
            == self.closed
                + self.would_close.unwrap_or(0)
                + self.skipped.len()
                + self.failed.len()
                + self.deferred
    }

    /// The summary as a CloudWatch Embedded Metric Format object (one log line).
    pub fn metrics_line(&self) -> serde_json::Value {
        json!({
            "_aws": {
                "Timestamp": self.evaluated_at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["Service"]],
                    "Metrics": [
                        {"Name": "SessionsClosed", "Unit": "Count"},
                        {"Name": "SessionsEligible", "Unit": "Count"},
                        {"Name": "SessionsFailed", "Unit": "Count"},
                        {"Name": "SessionsDeferred", "Unit": "Count"},
                        {"Name": "MaxOverdueSeconds", "Unit": "Seconds"},
                        {"Name": "SweepDurationMs", "Unit": "Milliseconds"},
                    ],
                }],
            },
            "Service": "session-sweeper",
            "SessionsClosed": self.closed,
            "SessionsEligible": self.eligible,
            "SessionsFailed": self.failed.len(),
            "SessionsDeferred": self.deferred,
            "MaxOverdueSeconds": self.max_overdue_seconds(),
            "SweepDurationMs": self.duration_ms,
            "DryRun": self.dry_run,
            "Complete": self.complete,
        })
    }
}

fn utc<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

fn optional_utc<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => utc(time, serializer),
        None => serializer.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn session(id: &str, overdue_seconds: i64) -> SessionReport {
        SessionReport {
            id: id.into(),
            configuration_id: "c".into(),
            last_customer_message_at: None,
            eligible_at: now(),
            overdue_seconds,
        }
    }

    #[test]
    fn the_summary_serialises_to_the_documented_shape() {
        let mut summary = Summary::new(now(), false);
        summary.eligible = 1;
        summary.record_closed(session("a", 5));
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["evaluated_at"], "2026-11-24T15:00:00Z");
        assert_eq!(
            json["closed_sessions"][0]["eligible_at"],
            "2026-11-24T15:00:00Z"
        );
        assert_eq!(
            json["closed_sessions"][0]["last_customer_message_at"],
            serde_json::Value::Null
        );
        for key in [
            "dry_run",
            "complete",
            "configurations",
            "eligible",
            "closed",
            "deferred",
            "skipped",
            "failed",
            "requests",
            "duration_ms",
        ] {
            assert!(json.get(key).is_some(), "{key} missing");
        }
        assert!(json.get("would_close").is_none());
    }

    #[test]
    fn the_session_list_is_cut_at_the_limit_but_the_count_stays_exact() {
        let mut summary = Summary::new(now(), false);
        for i in 0..SESSION_LIST_LIMIT + 3 {
            summary.record_closed(session(&i.to_string(), 0));
        }
        assert_eq!(summary.closed, SESSION_LIST_LIMIT + 3);
        assert_eq!(summary.closed_sessions.len(), SESSION_LIST_LIMIT);
        assert!(summary.sessions_truncated);
    }

    #[test]
    fn the_metrics_line_is_embedded_metric_format_with_the_documented_names() {
        let mut summary = Summary::new(now(), false);
        summary.record_closed(session("a", 7));
        summary.record_closed(session("b", 70));
        let line = summary.metrics_line();
        let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|metric| metric["Name"].as_str().unwrap())
            .collect();
        for name in [
            "SessionsClosed",
            "SessionsEligible",
            "SessionsFailed",
            "MaxOverdueSeconds",
            "SweepDurationMs",
        ] {
            assert!(names.contains(&name), "{name}");
            assert!(line.get(name).is_some(), "{name} value");
        }
        assert_eq!(line["SessionsClosed"], 2);
        assert_eq!(line["MaxOverdueSeconds"], 70);
        assert_eq!(line["_aws"]["Timestamp"], now().timestamp_millis());
    }

    #[test]
    fn a_dry_run_counts_every_session_it_would_close_and_lists_them_up_to_the_limit() {
        let mut summary = Summary::new(now(), true);
        for i in 0..SESSION_LIST_LIMIT + 2 {
            summary.record_would_close(session(&i.to_string(), 0));
        }
        assert_eq!(summary.would_close, Some(SESSION_LIST_LIMIT + 2));
        assert_eq!(summary.would_close_sessions.len(), SESSION_LIST_LIMIT);
        assert!(summary.sessions_truncated);
    }

    #[test]
    fn the_counts_add_up_only_when_every_eligible_session_has_exactly_one_outcome() {
        let mut summary = Summary::new(now(), true);
        summary.closed = 2;
        summary.would_close = Some(3);
        summary.skipped = (0..4)
            .map(|i| Skipped {
                id: i.to_string(),
                reason: "changed".into(),
            })
            .collect();
        summary.failed = (0..5)
            .map(|i| Failed {
                id: i.to_string(),
                error: "400".into(),
            })
            .collect();
        summary.deferred = 6;
        for (eligible, adds_up) in [(20, true), (19, false), (21, false)] {
            summary.eligible = eligible;
            assert_eq!(summary.adds_up(), adds_up, "eligible {eligible}");
        }
    }
}
