//! Closing: eligible sessions grouped into `$batch` requests, as many in flight as the
//! [`Pace`] allows while the sweep reads on, and each outcome recorded in the summary. A batch
//! that cannot be sent closes nothing; its sessions are deferred or failed, never guessed
//! closed. A batch sent whose answer never arrives (the budget ended its wait) or cannot be
//! read is neither: its sessions are reported "outcome unknown", and the next sweep's query
//! finds those Dataverse did not close. A reopen run uses the same machinery with
//! [`SessionChange::Reopen`].

use super::outcome::{defer, record, record_warning, sessions_of};
use super::pace::Pace;
use super::task::{ClosingMessage, Task};
use crate::dataverse::{CloseOutcome, DataverseError, Org, SessionChange, SessionWrite, Write};
use crate::events::EventSink;
use crate::ids::Guid;
use crate::summary::{Incomplete, Summary};
use std::collections::{HashMap, HashSet};
use tokio::task::{Id, JoinSet};
use tracing::{error, info, warn};

type BatchResult = Result<Vec<CloseOutcome>, DataverseError>;

/// Groups closes into batches and keeps as many in flight as the pace allows.
pub(super) struct Closer {
    org: Org,
    change: SessionChange,
    batch_size: usize,
    pace: Pace,
    /// The client's 429 count when the pace last heard of it.
    throttled_seen: u64,
    pending: Vec<Task>,
    in_flight: JoinSet<BatchResult>,
    /// The tasks of each batch in flight, kept here so that even a batch whose task
    /// panicked has its sessions reported.
    sessions: HashMap<Id, Vec<Task>>,
    /// The first batch-level error: no new batch starts after it.
    error: Option<DataverseError>,
    /// Where the changes Dataverse confirmed are told.
    events: EventSink,
}

impl Closer {
    /// A closer with no batch yet, never more than `concurrency` batches in flight.
    pub(crate) fn new(org: Org, batch_size: usize, concurrency: usize) -> Self {
        Closer {
            throttled_seen: org.throttled_responses(),
            org,
            change: SessionChange::Close,
            batch_size,
            pace: Pace::new(concurrency),
            pending: Vec::new(),
            in_flight: JoinSet::new(),
            sessions: HashMap::new(),
            error: None,
            events: EventSink::off(),
        }
    }

    /// The same closer telling `events` of each change Dataverse confirmed.
    pub(crate) fn telling(mut self, events: EventSink) -> Self {
        self.events = events;
        self
    }

    /// The same closer making `change` instead of closing.
    pub(crate) fn making(mut self, change: SessionChange) -> Self {
        self.change = change;
        self
    }

    /// What this closer does to each session.
    pub(crate) fn change(&self) -> SessionChange {
        self.change
    }

    /// Whether a batch failed, so no new work should start.
    pub(crate) fn failed(&self) -> bool {
        self.error.is_some()
    }

    /// The first batch-level error, once.
    pub(crate) fn take_error(&mut self) -> Option<DataverseError> {
        self.error.take()
    }

    /// Queues a close (or warning) conditional on its ETag; sends a batch when one is full.
    /// Warnings and closes share the batches.
    pub(crate) async fn push(&mut self, task: Task, summary: &mut Summary) {
        self.pending.push(task);
        if self.pending.len() >= self.batch_size {
            self.flush(summary).await;
        }
    }

    /// Sends what is queued and awaits every batch in flight.
    pub(crate) async fn finish(&mut self, summary: &mut Summary) {
        self.flush(summary).await;
        while !self.in_flight.is_empty() {
            self.settle_one(summary).await;
        }
    }

    async fn flush(&mut self, summary: &mut Summary) {
        if self.pending.is_empty() {
            return;
        }
        if self.org.budget().exhausted() || self.error.is_some() {
            let pending: Vec<Task> = self.pending.drain(..).collect();
            defer(pending, summary);
            summary.mark_incomplete(if self.error.is_some() {
                Incomplete::Error
            } else {
                Incomplete::Deadline
            });
            return;
        }
        self.make_room(summary).await;
        let tasks: Vec<Task> = self.pending.drain(..).collect();
        let writes: Vec<SessionWrite> = tasks.iter().map(|task| self.write(task)).collect();
        let org = self.org.clone();
        let spawned = self
            .in_flight
            .spawn(async move { org.write(&writes).await });
        self.sessions.insert(spawned.id(), tasks);
    }

    /// What `task` writes: this closer's change (with the closing message when it is sent),
    /// or a warning.
    fn write(&self, task: &Task) -> SessionWrite {
        let (report_id, configuration_id, etag, write) = match task {
            Task::Change {
                report,
                etag,
                closing_message,
            } => (
                &report.id,
                &report.configuration_id,
                etag,
                Write::Change {
                    change: self.change,
                    message: *closing_message == ClosingMessage::Send,
                },
            ),
            Task::Warn { report, etag } => {
                (&report.id, &report.configuration_id, etag, Write::Warn)
            }
        };
        SessionWrite {
            id: report_id.clone(),
            etag: etag.clone(),
            configuration_id: configuration_id.clone(),
            write,
        }
    }

    /// Awaits batches until one more request may start within the pace, so that the
    /// sweep's reads count against `x-ms-dop-hint` too.
    pub(crate) async fn make_room(&mut self, summary: &mut Summary) {
        self.pace.hint(self.org.dop_hint());
        while !self.in_flight.is_empty() && self.in_flight.len() >= self.pace.limit() {
            self.settle_one(summary).await;
        }
    }

    /// Tells the pace what Dataverse said since the last batch settled: any 429 at all (on
    /// any request of the client) slows down once; otherwise a success may speed up.
    fn pace_after(&mut self, succeeded: bool) {
        let throttled = self.org.throttled_responses();
        if throttled > self.throttled_seen {
            self.throttled_seen = throttled;
            self.pace.throttled();
            info!(
                in_flight_limit = self.pace.limit(),
                "Dataverse throttled; fewer batches in flight"
            );
        } else if succeeded {
            self.pace.succeeded();
        }
        self.pace.hint(self.org.dop_hint());
    }

    async fn settle_one(&mut self, summary: &mut Summary) {
        let Some(joined) = self.in_flight.join_next_with_id().await else {
            return;
        };
        let (id, result) = match joined {
            Ok((id, result)) => (id, Ok(result)),
            Err(panic) => (panic.id(), Err(panic)),
        };
        let sessions = self.sessions.remove(&id).unwrap_or_default();
        self.pace_after(matches!(result, Ok(Ok(_))));
        match result {
            Ok(Ok(outcomes)) => self.record_outcomes(sessions, outcomes, summary).await,
            Ok(Err(DataverseError::DeadlineReached)) => {
                defer(sessions, summary);
                summary.mark_incomplete(Incomplete::Deadline);
            }
            // Not sent: the wait Dataverse asked for ends past the stop.
            Ok(Err(DataverseError::ThrottledUntil { .. })) => {
                defer(sessions, summary);
                summary.mark_incomplete(Incomplete::Throttled);
            }
            // Nothing of this batch was carried out (a 401 changes nothing): its sessions wait
            // for the next sweep, which reads the new environment from the start.
            Ok(Err(changed @ DataverseError::EnvironmentChanged { .. })) => {
                defer(sessions, summary);
                self.error.get_or_insert(changed);
                summary.mark_incomplete(Incomplete::Error);
            }
            Ok(Err(unknown @ DataverseError::OutcomeUnknown { .. })) => {
                self.record_unknown(sessions, &unknown, summary)
            }
            Ok(Err(failure)) => self.record_failure(sessions, failure, summary),
            Err(panic) => {
                error!(error = %panic, "a close batch task failed");
                let failure = DataverseError::internal("a close batch stopped unexpectedly", panic);
                self.record_failure(sessions, failure, summary);
            }
        }
    }

    /// A batch sent without a readable answer: Dataverse may have closed its sessions, so
    /// they are neither failed nor closed, and the next sweep's query settles them.
    fn record_unknown(&self, tasks: Vec<Task>, unknown: &DataverseError, summary: &mut Summary) {
        let message = unknown.to_string();
        for session in sessions_of(tasks, summary, &message) {
            warn!(session_id = %session.id, configuration_id = %session.configuration_id, error = %message, "close outcome unknown");
            summary.record_outcome_unknown(
                session.id.to_string(),
                message.clone(),
                session.overdue_seconds,
            );
        }
        summary.mark_incomplete(Incomplete::OutcomeUnknown);
        if self.org.budget().exhausted() {
            summary.mark_incomplete(Incomplete::Deadline);
        }
    }

    fn record_failure(&mut self, tasks: Vec<Task>, failure: DataverseError, summary: &mut Summary) {
        let message = failure.to_string();
        for session in sessions_of(tasks, summary, &message) {
            error!(session_id = %session.id, configuration_id = %session.configuration_id, change = ?self.change, error = %message, "close failed");
            summary.record_failed(
                session.id.to_string(),
                message.clone(),
                None,
                session.overdue_seconds,
            );
        }
        self.error.get_or_insert(failure);
        summary.mark_incomplete(Incomplete::Error);
    }

    async fn record_outcomes(
        &self,
        tasks: Vec<Task>,
        outcomes: Vec<CloseOutcome>,
        summary: &mut Summary,
    ) {
        let closed_before = self.closed_before(&tasks, &outcomes).await;
        for (task, outcome) in tasks.into_iter().zip(outcomes) {
            match task {
                Task::Change {
                    report,
                    closing_message,
                    ..
                } => {
                    let already_closed =
                        outcome == CloseOutcome::Changed && closed_before.contains(&report.id);
                    if outcome == CloseOutcome::Closed
                        && closing_message == ClosingMessage::OutsideWindow
                    {
                        info!(session_id = %report.id, configuration_id = %report.configuration_id, "closed without the closing message: outside WhatsApp's 24-hour window since the customer's last message");
                        summary.record_closing_message_outside_window();
                    }
                    let change = self.change;
                    record(
                        summary,
                        change,
                        report,
                        outcome,
                        already_closed,
                        &self.events,
                    );
                }
                Task::Warn { report, .. } => record_warning(summary, report, outcome, &self.events),
            }
        }
    }

    /// Among the sessions a batch answered 412 for, those already closed; empty when there is
    /// none, no time, or the check itself fails (they then stay "changed since read").
    async fn closed_before(&self, tasks: &[Task], outcomes: &[CloseOutcome]) -> HashSet<Guid> {
        let changed: Vec<Guid> = tasks
            .iter()
            .zip(outcomes)
            .filter(|(task, outcome)| {
                matches!(task, Task::Change { .. }) && **outcome == CloseOutcome::Changed
            })
            .map(|(task, _)| task.id().clone())
            .collect();
        // A reopen that met a 412 is "changed since read", whatever the session's state.
        if changed.is_empty()
            || self.change != SessionChange::Close
            || self.org.budget().exhausted()
        {
            return HashSet::new();
        }
        self.org
            .closed_among(&changed)
            .await
            .unwrap_or_else(|error| {
                warn!(error = %error, "could not check whether the changed sessions are closed");
                HashSet::new()
            })
    }
}
