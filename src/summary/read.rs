//! What a finished (or running) summary says, read by the handler, the logs and the tests.
//! Nothing here changes a count: the writers are in `mod.rs`, beside the invariant they keep.

use super::{ConfigurationReport, Failed, Incomplete, SessionReport, Skipped, Summary};
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
        self.reopened
    }

    /// In a dry reopen run, sessions that would have been reopened.
    pub fn would_reopen(&self) -> Option<usize> {
        self.would_reopen
    }

    /// The reopened sessions, at most `SESSION_LIST_LIMIT`.
    pub fn reopened_sessions(&self) -> &[SessionReport] {
        &self.reopened_sessions
    }

    /// In a dry reopen run, the sessions that would have been reopened.
    pub fn would_reopen_sessions(&self) -> &[SessionReport] {
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

    /// Per active configuration (and [`NO_ACTIVE_CONFIGURATION`]), how many of its sessions
    /// were closed.
    pub fn closed_by_configuration(&self) -> &BTreeMap<String, usize> {
        &self.closed_by_configuration
    }

    /// Sessions past their timeout left open because they await an agent's reply.
    pub fn awaiting_agent(&self) -> usize {
        self.awaiting_agent
    }

    /// Skipped sessions, at most `REASON_LIST_LIMIT`.
    pub fn skipped(&self) -> &[Skipped] {
        &self.skipped
    }

    /// How many sessions were skipped, listed or not.
    pub fn skipped_count(&self) -> usize {
        self.skipped_count
    }

    /// Failed closes, at most `REASON_LIST_LIMIT`.
    pub fn failed(&self) -> &[Failed] {
        &self.failed
    }

    /// How many closes failed, listed or not.
    pub fn failed_count(&self) -> usize {
        self.failed_count
    }

    /// Closes sent whose outcome is unknown, listed or not.
    pub fn outcome_unknown(&self) -> usize {
        self.outcome_unknown
    }

    /// Closes whose outcome is unknown, with why, at most `REASON_LIST_LIMIT`.
    pub fn outcome_unknown_sessions(&self) -> &[Failed] {
        &self.outcome_unknown_sessions
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
    /// would close, failed, outcome unknown, deferred), listed or not.
    pub fn max_overdue_seconds(&self) -> i64 {
        self.max_overdue_seconds
    }

    /// Whether the counts add up: eligible is the sum of closed, would close, reopened, would
    /// reopen, skipped, failed, outcome unknown and deferred; the closes per configuration sum
    /// to the closes; and the sessions awaiting an agent are among the skipped.
    pub fn adds_up(&self) -> bool {
        self.eligible
            == self.closed
                + self.would_close.unwrap_or(0)
                + self.reopened.unwrap_or(0)
                + self.would_reopen.unwrap_or(0)
                + self.skipped_count
                + self.failed_count
                + self.outcome_unknown
                + self.deferred
            && self.closed_by_configuration.values().sum::<usize>() == self.closed
            && self.awaiting_agent <= self.skipped_count
    }
}
