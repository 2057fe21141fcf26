//! The result of one sweep: the JSON the function returns, its one-line log, and the same
//! figures as a CloudWatch Embedded Metric Format line, so dashboards and alarms need no code.

mod capped;
mod entries;
mod json;
mod metrics;
mod read;

pub use capped::Capped;
pub use entries::{
    capped_text, ConfigurationReport, Failed, Incomplete, SessionReport, SkipReason, Skipped,
    WarningReport, MAX_TEXT_CHARS, TEXT_CUT_MARKER,
};
pub(crate) use json::utc;

use crate::ids::Guid;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// At most this many closed (or would-close) sessions are listed; the counts stay exact and
/// `sessions_truncated` says the list was cut.
pub const SESSION_LIST_LIMIT: usize = 10_000;

/// At most this many skipped, failed and unreadable entries are listed each; the counts stay
/// exact and a `…_truncated` flag says the list was cut. With the session lists, the response
/// stays below 3 MB, half Lambda's 6 MB payload limit, whatever the org holds.
pub const REASON_LIST_LIMIT: usize = 1_000;

/// The key of `closed_by_configuration` for sessions whose own configuration is empty or not
/// active.
pub const NO_ACTIVE_CONFIGURATION: &str = "no active configuration";

/// The CloudWatch namespace of the metrics.
pub const METRICS_NAMESPACE: &str = "SessionSweeper";

/// What a sweep told customers: warnings and closing messages. Kept apart from the counts of
/// eligible sessions, since a warned session is not eligible yet.
#[derive(Debug, Clone, PartialEq, Default)]
struct Notices {
    /// Warnings are on (`WARNING_LEAD`): the warning keys are written.
    warnings: bool,
    /// Closing messages are on (`CLOSING_MESSAGE_TEXT`): their key is written.
    closing_messages: bool,
    warned: Option<Capped<WarningReport>>,
    would_warn: Option<Capped<WarningReport>>,
    warnings_failed: Option<Capped<Failed>>,
    warnings_outside_window: usize,
    closing_messages_outside_window: usize,
}

/// What one sweep (or reopen run) found and did. Only its own methods change it, so that
/// `eligible = closed + reopened + skipped + failed + outcome_unknown + deferred (+ would_close,
/// would_reopen)` holds at every moment, and `closed_by_configuration` adds up to `closed`.
/// Its JSON (`json.rs`) is the shape the README documents.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    evaluated_at: DateTime<Utc>,
    dry_run: bool,
    /// Set in a reopen run: the earliest close it undoes.
    reopen_closed_since: Option<DateTime<Utc>>,
    complete: bool,
    incomplete_because: Vec<Incomplete>,
    configurations: Vec<ConfigurationReport>,
    eligible: usize,
    closed_by_configuration: BTreeMap<String, usize>,
    deferred: usize,
    closed_sessions: Capped<SessionReport>,
    would_close_sessions: Capped<SessionReport>,
    reopened_sessions: Capped<SessionReport>,
    would_reopen_sessions: Capped<SessionReport>,
    skipped: Capped<Skipped>,
    awaiting_agent: usize,
    failed: Capped<Failed>,
    outcome_unknown: Capped<Failed>,
    unreadable: Capped<Failed>,
    max_overdue_seconds: i64,
    notices: Notices,
    requests: u64,
    duration_ms: u64,
    next_wake_at: Option<DateTime<Utc>>,
    wake_error: Option<String>,
    /// With lifecycle events on, how many of this run's events were not published.
    events_failed: Option<usize>,
}

impl Summary {
    /// An empty summary for a sweep evaluated at `now`.
    pub fn new(now: DateTime<Utc>, dry_run: bool) -> Self {
        Summary {
            evaluated_at: now,
            dry_run,
            reopen_closed_since: None,
            complete: true,
            incomplete_because: Vec::new(),
            configurations: Vec::new(),
            eligible: 0,
            closed_by_configuration: BTreeMap::from([(NO_ACTIVE_CONFIGURATION.to_owned(), 0)]),
            deferred: 0,
            closed_sessions: Capped::new(SESSION_LIST_LIMIT),
            would_close_sessions: Capped::new(SESSION_LIST_LIMIT),
            reopened_sessions: Capped::new(SESSION_LIST_LIMIT),
            would_reopen_sessions: Capped::new(SESSION_LIST_LIMIT),
            skipped: Capped::new(REASON_LIST_LIMIT),
            awaiting_agent: 0,
            failed: Capped::new(REASON_LIST_LIMIT),
            outcome_unknown: Capped::new(REASON_LIST_LIMIT),
            unreadable: Capped::new(REASON_LIST_LIMIT),
            max_overdue_seconds: 0,
            notices: Notices::default(),
            requests: 0,
            duration_ms: 0,
            next_wake_at: None,
            wake_error: None,
            events_failed: None,
        }
    }

    /// An empty summary for a reopen run evaluated at `now`, undoing closes since `since`.
    pub fn for_reopen(now: DateTime<Utc>, dry_run: bool, since: DateTime<Utc>) -> Self {
        Summary {
            reopen_closed_since: Some(since),
            ..Summary::new(now, dry_run)
        }
    }

    /// Records a reopened session; `eligible_at` is when the current timeout makes it
    /// eligible again.
    pub fn record_reopened(&mut self, session: SessionReport) {
        self.eligible += 1;
        self.reopened_sessions.push(session);
    }

    /// Records a session a dry reopen run would reopen.
    pub fn record_would_reopen(&mut self, session: SessionReport) {
        self.eligible += 1;
        self.would_reopen_sessions.push(session);
    }

    /// Records how a configuration was read.
    pub fn record_configuration(&mut self, mut report: ConfigurationReport) {
        report.error = report.error.map(capped_text);
        self.closed_by_configuration
            .insert(report.id.to_string(), 0);
        self.configurations.push(report);
    }

    /// Records a closed session, counted under its own configuration, or under
    /// [`NO_ACTIVE_CONFIGURATION`] when it has no active one.
    pub fn record_closed(&mut self, session: SessionReport) {
        self.eligible_overdue(session.overdue_seconds);
        let owner = if session.no_active_configuration {
            NO_ACTIVE_CONFIGURATION
        } else {
            session.configuration_id.as_str()
        };
        *self
            .closed_by_configuration
            .entry(owner.to_owned())
            .or_insert(0) += 1;
        self.closed_sessions.push(session);
    }

    /// Records a session a dry run would close.
    pub fn record_would_close(&mut self, session: SessionReport) {
        self.eligible_overdue(session.overdue_seconds);
        self.would_close_sessions.push(session);
    }

    /// Records an eligible session deliberately not closed. Its overdue time is not part of
    /// the maximum: a skipped session stays overdue on purpose, and would hide the signal.
    pub fn record_skipped(&mut self, id: Guid, reason: SkipReason) {
        self.eligible += 1;
        self.skipped.push(Skipped { id, reason });
    }

    /// Records a session past its timeout that is not closed because it awaits an agent's
    /// reply: skipped, and counted apart for the `SessionsAwaitingAgent` metric.
    pub fn record_awaiting_agent(&mut self, id: Guid) {
        self.awaiting_agent += 1;
        self.record_skipped(id, SkipReason::AwaitingAgentReply);
    }

    /// Records an eligible session whose close failed, with the status Dataverse answered
    /// its operation with, when it answered one.
    pub fn record_failed(
        &mut self,
        id: String,
        error: String,
        status: Option<u16>,
        overdue_seconds: i64,
    ) {
        self.eligible_overdue(overdue_seconds);
        self.failed.push(Failed::capped(id, error, status));
    }

    /// Records an eligible session whose close was sent but whose answer never arrived or
    /// cannot be read: Dataverse may have closed it. The next sweep's query settles it.
    pub fn record_outcome_unknown(&mut self, id: String, error: String, overdue_seconds: i64) {
        self.eligible_overdue(overdue_seconds);
        self.outcome_unknown.push(Failed::capped(id, error, None));
    }

    /// Records an eligible session left for the next sweep (cap or deadline).
    pub fn record_deferred(&mut self, overdue_seconds: i64) {
        self.eligible_overdue(overdue_seconds);
        self.deferred += 1;
    }

    /// Records a row that cannot be judged; it is not counted as eligible, since whether it
    /// is past its timeout is unknown.
    pub fn record_unreadable(&mut self, id: String, error: String) {
        self.unreadable.push(Failed::capped(id, error, None));
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

    /// Records when the function should run next.
    pub fn record_next_wake(&mut self, at: DateTime<Utc>) {
        self.next_wake_at = Some(at);
    }

    /// Records why the wake-up could not be worked out or written; the sweep's own result
    /// stands.
    pub fn record_wake_failure(&mut self, reason: String) {
        self.wake_error = Some(capped_text(reason));
    }

    /// Records how many of the run's lifecycle events were not published (lifecycle events
    /// are on); the sweep's own result stands.
    pub fn record_events_failed(&mut self, failed: usize) {
        self.events_failed = Some(failed);
    }

    /// With lifecycle events on, how many of the run's events were not published.
    pub fn events_failed(&self) -> Option<usize> {
        self.events_failed
    }

    /// When the function should run next, when the sweep worked it out.
    pub fn next_wake_at(&self) -> Option<DateTime<Utc>> {
        self.next_wake_at
    }

    /// Why the wake-up could not be worked out or written.
    pub fn wake_error(&self) -> Option<&str> {
        self.wake_error.as_deref()
    }

    /// Records that this sweep warns (`WARNING_LEAD` is set), so its warning counts are
    /// written even when they are 0.
    pub fn expect_warnings(&mut self) {
        let notices = &mut self.notices;
        notices.warnings = true;
        notices
            .warned
            .get_or_insert_with(|| Capped::new(SESSION_LIST_LIMIT));
        notices
            .would_warn
            .get_or_insert_with(|| Capped::new(SESSION_LIST_LIMIT));
        notices
            .warnings_failed
            .get_or_insert_with(|| Capped::new(REASON_LIST_LIMIT));
    }

    /// Records that this sweep sends closing messages, so their count is written.
    pub fn expect_closing_messages(&mut self) {
        self.notices.closing_messages = true;
    }

    /// Records a warning Dataverse confirmed: the warned-at column is set and the message
    /// (when one is configured) was created in the same change set.
    pub fn record_warned(&mut self, warning: WarningReport) {
        self.expect_warnings();
        if let Some(list) = &mut self.notices.warned {
            list.push(warning);
        }
    }

    /// Records a warning a dry run would send.
    pub fn record_would_warn(&mut self, warning: WarningReport) {
        self.expect_warnings();
        if let Some(list) = &mut self.notices.would_warn {
            list.push(warning);
        }
    }

    /// Records a warning sent whose change set failed, or whose outcome is unknown.
    pub fn record_warning_failed(&mut self, id: String, error: String) {
        self.expect_warnings();
        if let Some(list) = &mut self.notices.warnings_failed {
            list.push(Failed::capped(id, error, None));
        }
    }

    /// Records a warning not sent because it would land outside WhatsApp's 24-hour window
    /// (or the customer never wrote).
    pub fn record_warning_outside_window(&mut self) {
        self.expect_warnings();
        self.notices.warnings_outside_window += 1;
    }

    /// Records a close made without its closing message, because the close came outside
    /// the customer's 24-hour window.
    pub fn record_closing_message_outside_window(&mut self) {
        self.expect_closing_messages();
        self.notices.closing_messages_outside_window += 1;
    }

    fn eligible_overdue(&mut self, overdue_seconds: i64) {
        self.eligible += 1;
        self.max_overdue_seconds = self.max_overdue_seconds.max(overdue_seconds);
    }
}

#[cfg(test)]
mod tests;
