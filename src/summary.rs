//! The result of one sweep: the JSON the function returns, its one-line log, and the same
//! figures as a CloudWatch Embedded Metric Format line, so dashboards and alarms need no code.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};
use serde_json::json;

/// At most this many entries are listed in each list; the counts stay exact and a
/// `…_truncated` flag says the list was cut, so the response stays far below Lambda's 6 MB payload limit.
pub const SESSION_LIST_LIMIT: usize = 10_000;

/// The CloudWatch namespace of the metrics.
pub const METRICS_NAMESPACE: &str = "SessionSweeper";

/// What one sweep found and did. Only its own methods change it, so that
/// `eligible = closed + skipped + failed + deferred (+ would_close)` holds at every moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Summary {
    #[serde(serialize_with = "utc")]
    evaluated_at: DateTime<Utc>,
    dry_run: bool,
    complete: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    incomplete_because: Vec<Incomplete>,
    configurations: Vec<ConfigurationReport>,
    eligible: usize,
    closed: usize,
    deferred: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    would_close: Option<usize>,
    closed_sessions: Vec<SessionReport>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    would_close_sessions: Vec<SessionReport>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    sessions_truncated: bool,
    skipped: Vec<Skipped>,
    skipped_count: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    skipped_truncated: bool,
    failed: Vec<Failed>,
    failed_count: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    failed_truncated: bool,
    unreadable: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unreadable_rows: Vec<Failed>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    unreadable_truncated: bool,
    #[serde(skip)]
    max_overdue_seconds: i64,
    requests: u64,
    duration_ms: u64,
}

/// Pushes `item` unless `list` is full; returns whether it was cut.
fn push_capped<T>(list: &mut Vec<T>, item: T) -> bool {
    if list.len() < SESSION_LIST_LIMIT {
        list.push(item);
        false
    } else {
        true
    }
}

/// Why a sweep stopped before it had looked at every candidate; the next sweep continues.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Incomplete {
    /// The time budget ran out.
    Deadline,
    /// `MAX_CLOSURES_PER_SWEEP` was reached.
    Cap,
    /// A configuration's timeout is unusable, so its sessions were not looked at.
    UnusableConfiguration,
    /// A request or a batch failed.
    Error,
}

/// Why an eligible session was not closed, with a text that stays the same across versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Dataverse answered 412: the row changed after it was read.
    ChangedSinceRead,
    /// Dataverse answered 412 and the session is in the closed state already.
    AlreadyClosed,
    /// Dataverse answered 404.
    NoLongerExists,
    /// No configuration, and several are active: which timeout applies would be a guess.
    NoConfigurationSeveralActive,
}

impl SkipReason {
    /// The stable text written in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::ChangedSinceRead => "changed since read",
            SkipReason::AlreadyClosed => "already closed",
            SkipReason::NoLongerExists => "no longer exists",
            SkipReason::NoConfigurationSeveralActive => {
                "it has no configuration and several configurations are active"
            }
        }
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
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
    pub reason: SkipReason,
}

/// A session whose close failed, or a row that could not be read, and the error.
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
            incomplete_because: Vec::new(),
            configurations: Vec::new(),
            eligible: 0,
            closed: 0,
            deferred: 0,
            would_close: dry_run.then_some(0),
            closed_sessions: Vec::new(),
            would_close_sessions: Vec::new(),
            sessions_truncated: false,
            skipped: Vec::new(),
            skipped_count: 0,
            skipped_truncated: false,
            failed: Vec::new(),
            failed_count: 0,
            failed_truncated: false,
            unreadable: 0,
            unreadable_rows: Vec::new(),
            unreadable_truncated: false,
            max_overdue_seconds: 0,
            requests: 0,
            duration_ms: 0,
        }
    }

    /// Records how a configuration was read.
    pub fn record_configuration(&mut self, report: ConfigurationReport) {
        self.configurations.push(report);
    }

    /// Records a closed session.
    pub fn record_closed(&mut self, session: SessionReport) {
        self.eligible_overdue(session.overdue_seconds);
        self.closed += 1;
        self.sessions_truncated |= push_capped(&mut self.closed_sessions, session);
    }

    /// Records a session a dry run would close.
    pub fn record_would_close(&mut self, session: SessionReport) {
        self.eligible_overdue(session.overdue_seconds);
        *self.would_close.get_or_insert(0) += 1;
        self.sessions_truncated |= push_capped(&mut self.would_close_sessions, session);
    }

    /// Records an eligible session deliberately not closed. Its overdue time is not part of
    /// the maximum: a skipped session stays overdue on purpose, and would hide the signal.
    pub fn record_skipped(&mut self, id: String, reason: SkipReason) {
        self.eligible += 1;
        self.skipped_count += 1;
        self.skipped_truncated |= push_capped(&mut self.skipped, Skipped { id, reason });
    }

    /// Records an eligible session whose close failed.
    pub fn record_failed(&mut self, id: String, error: String, overdue_seconds: i64) {
        self.eligible_overdue(overdue_seconds);
        self.failed_count += 1;
        self.failed_truncated |= push_capped(&mut self.failed, Failed { id, error });
    }

    /// Records an eligible session left for the next sweep (cap or deadline).
    pub fn record_deferred(&mut self, overdue_seconds: i64) {
        self.eligible_overdue(overdue_seconds);
        self.deferred += 1;
    }

    /// Records a row that cannot be judged; it is not counted as eligible, since whether it
    /// is past its timeout is unknown.
    pub fn record_unreadable(&mut self, id: String, error: String) {
        self.unreadable += 1;
        self.unreadable_truncated |= push_capped(&mut self.unreadable_rows, Failed { id, error });
    }

    /// Records that the sweep did not look at every candidate, and why.
    pub fn mark_incomplete(&mut self, why: Incomplete) {
        self.complete = false;
        if !self.incomplete_because.contains(&why) {
            self.incomplete_because.push(why);
        }
    }

    /// Records the sweep's cost, once it is over.
    pub fn finish(&mut self, requests: u64, duration_ms: u64) {
        self.requests = requests;
        self.duration_ms = duration_ms;
    }

    fn eligible_overdue(&mut self, overdue_seconds: i64) {
        self.eligible += 1;
        self.max_overdue_seconds = self.max_overdue_seconds.max(overdue_seconds);
    }

    /// The `now` every decision used.
    pub fn evaluated_at(&self) -> DateTime<Utc> {
        self.evaluated_at
    }

    /// Whether nothing was closed on purpose.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// False when the sweep stopped early; the next sweep continues.
    pub fn complete(&self) -> bool {
        self.complete
    }

    /// Why the sweep stopped early, in the order met.
    pub fn incomplete_because(&self) -> &[Incomplete] {
        &self.incomplete_because
    }

    /// The active configurations and the timeout each applied, or why it could not.
    pub fn configurations(&self) -> &[ConfigurationReport] {
        &self.configurations
    }

    /// Sessions past their timeout.
    pub fn eligible(&self) -> usize {
        self.eligible
    }

    /// Sessions closed.
    pub fn closed(&self) -> usize {
        self.closed
    }

    /// Eligible sessions left for the next sweep.
    pub fn deferred(&self) -> usize {
        self.deferred
    }

    /// In a dry run, sessions that would have been closed.
    pub fn would_close(&self) -> Option<usize> {
        self.would_close
    }

    /// The closed sessions, at most `SESSION_LIST_LIMIT`.
    pub fn closed_sessions(&self) -> &[SessionReport] {
        &self.closed_sessions
    }

    /// In a dry run, the sessions that would have been closed, at most `SESSION_LIST_LIMIT`.
    pub fn would_close_sessions(&self) -> &[SessionReport] {
        &self.would_close_sessions
    }

    /// Skipped sessions, at most `SESSION_LIST_LIMIT`.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// How many sessions were skipped, listed or not.
    pub fn skipped_count(&self) -> usize {
        self.skipped_count
    }

    /// Failed closes, at most `SESSION_LIST_LIMIT`.
    pub fn failed(&self) -> &[Failed] {
        &self.failed
    }

    /// How many closes failed, listed or not.
    pub fn failed_count(&self) -> usize {
        self.failed_count
    }

    /// Rows that could not be read.
    pub fn unreadable(&self) -> usize {
        self.unreadable
    }

    /// HTTP requests sent to Entra ID and Dataverse, retries included.
    pub fn requests(&self) -> u64 {
        self.requests
    }

    /// Wall time of the sweep.
    pub fn duration_ms(&self) -> u64 {
        self.duration_ms
    }

    /// The largest `overdue_seconds` over every session the sweep meant to close (closed,
    /// would close, failed, deferred), listed or not.
    pub fn max_overdue_seconds(&self) -> i64 {
        self.max_overdue_seconds
    }

    /// Whether the counts add up: eligible = closed + would close + skipped + failed + deferred.
    pub fn adds_up(&self) -> bool {
        self.eligible
            == self.closed
                + self.would_close.unwrap_or(0)
                + self.skipped_count
                + self.failed_count
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
                        {"Name": "SessionsUnreadable", "Unit": "Count"},
                        {"Name": "MaxOverdueSeconds", "Unit": "Seconds"},
                        {"Name": "SweepDurationMs", "Unit": "Milliseconds"},
                    ],
                }],
            },
            "Service": "session-sweeper",
            "SessionsClosed": self.closed,
            "SessionsEligible": self.eligible,
            "SessionsFailed": self.failed_count,
            "SessionsDeferred": self.deferred,
            "SessionsUnreadable": self.unreadable,
            "MaxOverdueSeconds": self.max_overdue_seconds,
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
        assert_eq!(json["eligible"], 1);
        for key in [
            "dry_run",
            "complete",
            "configurations",
            "eligible",
            "closed",
            "deferred",
            "skipped",
            "skipped_count",
            "failed",
            "failed_count",
            "unreadable",
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
    fn the_counts_add_up_after_every_kind_of_record() {
        let mut summary = Summary::new(now(), true);
        summary.record_closed(session("a", 1));
        summary.record_would_close(session("b", 2));
        summary.record_skipped("c".into(), SkipReason::ChangedSinceRead);
        summary.record_failed("d".into(), "500: boom".into(), 3);
        summary.record_deferred(4);
        summary.record_unreadable("e".into(), "no ETag".into());
        assert_eq!(summary.eligible(), 5);
        assert!(summary.adds_up());
        assert_eq!(summary.unreadable(), 1);
    }

    #[test]
    fn an_unreadable_row_is_counted_apart_not_as_eligible() {
        let mut summary = Summary::new(now(), false);
        summary.record_unreadable("e".into(), "no ETag".into());
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["eligible"], 0);
        assert_eq!(json["failed_count"], 0);
        assert_eq!(json["unreadable"], 1);
        assert_eq!(json["unreadable_rows"][0]["error"], "no ETag");
    }

    #[test]
    fn skip_reasons_serialise_to_their_stable_text() {
        let mut summary = Summary::new(now(), false);
        for reason in [
            SkipReason::ChangedSinceRead,
            SkipReason::AlreadyClosed,
            SkipReason::NoLongerExists,
            SkipReason::NoConfigurationSeveralActive,
        ] {
            summary.record_skipped("x".into(), reason);
        }
        let json = serde_json::to_value(&summary).unwrap();
        let reasons: Vec<&str> = json["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|skipped| skipped["reason"].as_str().unwrap())
            .collect();
        assert_eq!(
            reasons,
            [
                "changed since read",
                "already closed",
                "no longer exists",
                "it has no configuration and several configurations are active"
            ]
        );
    }

    #[test]
    fn every_list_is_cut_at_the_limit_with_exact_counts_and_a_flag() {
        let mut summary = Summary::new(now(), false);
        for i in 0..SESSION_LIST_LIMIT + 2 {
            summary.record_skipped(i.to_string(), SkipReason::NoConfigurationSeveralActive);
            summary.record_failed(i.to_string(), "e".into(), 0);
            summary.record_unreadable(i.to_string(), "e".into());
        }
        let json = serde_json::to_value(&summary).unwrap();
        for (list, count, flag) in [
            ("skipped", "skipped_count", "skipped_truncated"),
            ("failed", "failed_count", "failed_truncated"),
            ("unreadable_rows", "unreadable", "unreadable_truncated"),
        ] {
            assert_eq!(json[list].as_array().unwrap().len(), SESSION_LIST_LIMIT);
            assert_eq!(json[count], SESSION_LIST_LIMIT + 2, "{count}");
            assert_eq!(json[flag], true, "{flag}");
        }
        assert!(json.get("sessions_truncated").is_none());
        assert!(summary.adds_up());
    }

    #[test]
    fn max_overdue_counts_deferred_sessions_and_those_beyond_the_list_cap() {
        let mut summary = Summary::new(now(), false);
        for i in 0..SESSION_LIST_LIMIT {
            summary.record_closed(session(&i.to_string(), 10));
        }
        summary.record_closed(session("unlisted", 500));
        assert_eq!(summary.max_overdue_seconds(), 500);
        summary.record_deferred(9_000);
        assert_eq!(summary.max_overdue_seconds(), 9_000);
        assert_eq!(summary.metrics_line()["MaxOverdueSeconds"], 9_000);
    }

    #[test]
    fn a_skipped_session_does_not_raise_max_overdue_but_marks_nothing_incomplete() {
        let mut summary = Summary::new(now(), false);
        summary.record_closed(session("a", 10));
        summary.record_skipped("b".into(), SkipReason::NoConfigurationSeveralActive);
        assert_eq!(summary.max_overdue_seconds(), 10);
        assert!(summary.complete());
    }

    #[test]
    fn marking_incomplete_records_each_reason_once() {
        let mut summary = Summary::new(now(), false);
        summary.mark_incomplete(Incomplete::Cap);
        summary.mark_incomplete(Incomplete::Cap);
        summary.mark_incomplete(Incomplete::Deadline);
        let json = serde_json::to_value(&summary).unwrap();
        assert_eq!(json["complete"], false);
        assert_eq!(
            json["incomplete_because"],
            serde_json::json!(["cap", "deadline"])
        );
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
}
