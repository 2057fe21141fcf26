//! What a finished (or running) summary says, read by the handler, the logs and the tests.
//! Nothing here changes a count: the writers are in `mod.rs`, beside the invariant they keep.

use super::{
    Capped, ConfigurationReport, Failed, Incomplete, SessionReport, Skipped, Summary, WarningReport,
};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

impl Summary {
    /// The `now` every decision used.
    pub fn evaluated_at(&self) -> DateTime<Utc> {
        self.evaluated_at
    }

    /// Whether nothing was closed on purpose.
    pub fn dry_run(&self) -> bool {
        self.dry_run
    }

    /// In a reopen run, the earliest close it undoes.
    pub fn reopen_closed_since(&self) -> Option<DateTime<Utc>> {
        self.reopen_closed_since
    }

    /// In a reopen run, sessions reopened.
    pub fn reopened(&self) -> Option<usize> {
        let list = &self.reopened_sessions;
        (self.reopen_closed_since.is_some() && !self.dry_run || list.total() > 0)
            .then(|| list.total())
    }

    /// In a dry reopen run, sessions that would have been reopened.
    pub fn would_reopen(&self) -> Option<usize> {
        let list = &self.would_reopen_sessions;
        (self.reopen_closed_since.is_some() && self.dry_run || list.total() > 0)
            .then(|| list.total())
    }

    /// The reopened sessions.
    pub fn reopened_sessions(&self) -> &Capped<SessionReport> {
        &self.reopened_sessions
    }

    /// In a dry reopen run, the sessions that would have been reopened.
    pub fn would_reopen_sessions(&self) -> &Capped<SessionReport> {
        &self.would_reopen_sessions
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
        self.closed_sessions.total()
    }

    /// Eligible sessions left for the next sweep.
    pub fn deferred(&self) -> usize {
        self.deferred
    }

    /// In a dry run, sessions that would have been closed.
    pub fn would_close(&self) -> Option<usize> {
        let list = &self.would_close_sessions;
        (self.dry_run && self.reopen_closed_since.is_none() || list.total() > 0)
            .then(|| list.total())
    }

    /// The closed sessions.
    pub fn closed_sessions(&self) -> &Capped<SessionReport> {
        &self.closed_sessions
    }

    /// In a dry run, the sessions that would have been closed.
    pub fn would_close_sessions(&self) -> &Capped<SessionReport> {
        &self.would_close_sessions
    }

    /// Per active configuration (and [`NO_ACTIVE_CONFIGURATION`]), how many of its sessions
    /// were closed.
    pub fn closed_by_configuration(&self) -> &BTreeMap<String, usize> {
        &self.closed_by_configuration
    }

    /// Sessions past their timeout left open because they await an agent's reply.
    pub fn awaiting_agent(&self) -> usize {
        self.awaiting_agent
    }

    /// Skipped sessions, and how many.
    pub fn skipped(&self) -> &Capped<Skipped> {
        &self.skipped
    }

    /// Failed closes, and how many.
    pub fn failed(&self) -> &Capped<Failed> {
        &self.failed
    }

    /// Closes sent whose outcome is unknown, with why, and how many.
    pub fn outcome_unknown(&self) -> &Capped<Failed> {
        &self.outcome_unknown
    }

    /// Rows that could not be read, with why, and how many.
    pub fn unreadable(&self) -> &Capped<Failed> {
        &self.unreadable
    }

    /// Warnings Dataverse confirmed; `None` when warnings are off.
    pub fn warned(&self) -> Option<&Capped<WarningReport>> {
        self.notices.warned.as_ref()
    }

    /// In a dry run, the warnings that would have been sent; `None` when warnings are off.
    pub fn would_warn(&self) -> Option<&Capped<WarningReport>> {
        self.notices.would_warn.as_ref()
    }

    /// Warnings whose change set failed or whose outcome is unknown; `None` when warnings
    /// are off.
    pub fn warnings_failed(&self) -> Option<&Capped<Failed>> {
        self.notices.warnings_failed.as_ref()
    }

    /// Warnings due but not sent, outside the customer's 24-hour window.
    pub fn warnings_outside_window(&self) -> usize {
        self.notices.warnings_outside_window
    }

    /// Closes made without their closing message, outside the customer's 24-hour window.
    pub fn closing_messages_outside_window(&self) -> usize {
        self.notices.closing_messages_outside_window
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
    /// would close, failed, outcome unknown, deferred), listed or not.
    pub fn max_overdue_seconds(&self) -> i64 {
        self.max_overdue_seconds
    }

    /// Whether the counts add up: eligible is the sum of closed, would close, reopened, would
    /// reopen, skipped, failed, outcome unknown and deferred; the closes per configuration sum
    /// to the closes; and the sessions awaiting an agent are among the skipped.
    pub fn adds_up(&self) -> bool {
        self.eligible
            == self.closed_sessions.total()
                + self.would_close_sessions.total()
                + self.reopened_sessions.total()
                + self.would_reopen_sessions.total()
                + self.skipped.total()
                + self.failed.total()
                + self.outcome_unknown.total()
                + self.deferred
            && self.closed_by_configuration.values().sum::<usize>() == self.closed_sessions.total()
            && self.awaiting_agent <= self.skipped.total()
    }
}
