//! What each outcome of a batch means in the summary: a close closed, skipped or failed, a
//! warning confirmed or not, and what a batch that failed as a whole leaves for the next
//! sweep. A confirmed warning is recorded in one place, [`record_confirmed_warning`].

use super::task::Task;
use crate::dataverse::{CloseOutcome, SessionChange};
use crate::events::EventSink;
use crate::summary::{Incomplete, SessionReport, SkipReason, Summary, WarningReport};
use tracing::{error, info, warn};

/// Tasks left for the next sweep: a close is deferred; a warning is not an eligible session,
/// and the next sweep warns it.
pub(super) fn defer(tasks: Vec<Task>, summary: &mut Summary) {
    for task in tasks {
        match task {
            Task::Change { report, .. } => summary.record_deferred(report.overdue_seconds),
            Task::Warn { report, .. } => {
                info!(session_id = %report.id, configuration_id = %report.configuration_id, "warning left for the next sweep");
            }
        }
    }
}

/// The sessions of `tasks` whose changes failed as a whole batch, with `message`; the
/// warnings among them are recorded as failed warnings here.
pub(super) fn sessions_of(
    tasks: Vec<Task>,
    summary: &mut Summary,
    message: &str,
) -> Vec<SessionReport> {
    let mut sessions = Vec::with_capacity(tasks.len());
    for task in tasks {
        match task {
            Task::Change { report, .. } => sessions.push(report),
            Task::Warn { report, .. } => {
                error!(session_id = %report.id, configuration_id = %report.configuration_id, error = %message, "warning failed or its outcome is unknown");
                summary.record_warning_failed(report.id.to_string(), message.to_owned());
            }
        }
    }
    sessions
}

/// A warning's outcome. The one place a warning Dataverse confirmed is recorded: the warned-at
/// column is set and the message, when one is configured, was created in the same change set.
pub(super) fn record_warning(
    summary: &mut Summary,
    report: WarningReport,
    outcome: CloseOutcome,
    events: &EventSink,
) {
    let (id, configuration_id) = (report.id.clone(), report.configuration_id.clone());
    match outcome {
        CloseOutcome::Closed => record_confirmed_warning(summary, report, events),
        // The customer wrote (or an agent changed the session) after the read: nothing of the
        // change set ran, so there is no warning and no warned-at.
        CloseOutcome::Changed => {
            info!(session_id = %id, configuration_id = %configuration_id, "not warned: changed since read");
        }
        CloseOutcome::Gone => {
            info!(session_id = %id, configuration_id = %configuration_id, "not warned: no longer exists");
        }
        CloseOutcome::Failed { status, message } => {
            error!(session_id = %id, configuration_id = %configuration_id, status, error = %message, "warning failed");
            summary.record_warning_failed(id.to_string(), format!("{status}: {message}"));
        }
        CloseOutcome::Unknown { reason } => {
            warn!(session_id = %id, configuration_id = %configuration_id, error = %reason, "warning outcome unknown");
            summary.record_warning_failed(id.to_string(), format!("outcome unknown: {reason}"));
        }
    }
}

/// A warning Dataverse confirmed, recorded and told as `Session Warned`; the warned-at it
/// wrote is the sweep's instant.
fn record_confirmed_warning(summary: &mut Summary, report: WarningReport, events: &EventSink) {
    info!(session_id = %report.id, configuration_id = %report.configuration_id, eligible_at = %report.eligible_at, "session warned");
    events.session_warned(&report, summary.evaluated_at());
    summary.record_warned(report);
}

pub(super) fn record(
    summary: &mut Summary,
    change: SessionChange,
    session: SessionReport,
    outcome: CloseOutcome,
    already_closed: bool,
    events: &EventSink,
) {
    let (id, configuration_id) = (session.id.clone(), session.configuration_id.clone());
    let reason = match outcome {
        CloseOutcome::Closed if change == SessionChange::Reopen => {
            info!(session_id = %id, configuration_id = %configuration_id, eligible_again_at = %session.eligible_at, "session reopened");
            events.session_reopened(&session, summary.evaluated_at());
            summary.record_reopened(session);
            return;
        }
        CloseOutcome::Closed => {
            info!(session_id = %id, configuration_id = %configuration_id, eligible_at = %session.eligible_at, overdue_s = session.overdue_seconds, "session closed");
            events.session_closed(&session, summary.evaluated_at());
            summary.record_closed(session);
            return;
        }
        CloseOutcome::Failed { status, message } => {
            error!(session_id = %id, configuration_id = %configuration_id, status, error = %message, "close failed");
            summary.record_failed(
                id.to_string(),
                format!("{status}: {message}"),
                Some(status),
                session.overdue_seconds,
            );
            return;
        }
        CloseOutcome::Unknown { reason } => {
            warn!(session_id = %id, configuration_id = %configuration_id, error = %reason, "close outcome unknown");
            summary.record_outcome_unknown(id.to_string(), reason, session.overdue_seconds);
            summary.mark_incomplete(Incomplete::OutcomeUnknown);
            return;
        }
        CloseOutcome::Changed if already_closed => SkipReason::AlreadyClosed,
        CloseOutcome::Changed => SkipReason::ChangedSinceRead,
        CloseOutcome::Gone => SkipReason::NoLongerExists,
    };
    info!(session_id = %id, configuration_id = %configuration_id, "skipped: {reason}");
    summary.record_skipped(id, reason);
}
