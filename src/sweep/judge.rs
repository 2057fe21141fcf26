//! Judging: page through a query and apply a per-row judgement to every row as its page
//! arrives. What the judgement says to change goes to the closer (or, in a dry run, straight
//! to the summary), within the cap; the server's filter is never trusted alone. The sweep's
//! judgement is [`verdict`], the one rule the check counts with too; the reopen run brings
//! its own.

use super::close::Closer;
use super::plan::Planned;
use super::task::{ClosingMessage, Rules, Task};
use super::warn::{warning, Warning};
use crate::dataverse::{DataverseError, Org, ReadRow, SessionChange, SessionPages, SessionRow};
use crate::ids::Guid;
use crate::policy::{awaiting_agent, within_customer_service_window, Decision, SessionTimeout};
use crate::summary::{Incomplete, SessionReport, SkipReason, Summary, WarningReport};
use chrono::{DateTime, Utc};
use std::collections::HashSet;
use std::ops::ControlFlow;
use tracing::{error, info, warn};

/// What a sweep does with one row a planned query returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// Not an active row of this query's owner: the server answered what was not asked for.
    NotAskedFor,
    /// Not past its timeout.
    NotDue,
    /// Past its timeout, but the customer wrote last and no agent answered.
    AwaitingAgent,
    /// Past even the longest timeout, without a configuration to judge it: only reported.
    ReportOnly,
    /// To close, judged by this configuration's timeout.
    Close {
        configuration_id: Guid,
        decision: Decision,
    },
}

/// The sweep's decision about one row of `planned` at `now`, in this order: the row is one the
/// query asked for, past the query's timeout, not awaiting an agent (when `agent_rule`), and
/// judged by a configuration. Pure; the check counts with it.
pub(crate) fn verdict(
    planned: &Planned,
    row: &SessionRow,
    now: DateTime<Utc>,
    agent_rule: bool,
) -> Verdict {
    let Some(decision) = planned.decide(row, now) else {
        return Verdict::NotAskedFor;
    };
    if !decision.close {
        return Verdict::NotDue;
    }
    // Awaiting an agent comes first: it is the session's own state, whoever's timeout.
    if agent_rule && awaiting_agent(row.last_customer_message, row.last_agent_message) {
        return Verdict::AwaitingAgent;
    }
    match &planned.configuration_id {
        Some(configuration_id) => Verdict::Close {
            configuration_id: configuration_id.clone(),
            decision,
        },
        None => Verdict::ReportOnly,
    }
}

/// The reading part of a sweep or reopen run, with what it has scheduled so far.
pub(super) struct Pass {
    pub dry_run: bool,
    pub change: SessionChange,
    /// `MAX_CLOSURES_PER_SWEEP`.
    pub cap: usize,
    /// What the log says when the cap is reached.
    pub cap_message: &'static str,
    pub scheduled: usize,
    /// Warnings scheduled: they have a cap of their own.
    pub warnings_scheduled: usize,
    pub cap_reached: bool,
    pub summary: Summary,
    pub closer: Closer,
    /// The sessions judged so far in this run, across its queries, so that a row Dataverse
    /// returns twice (in one page, or under two configurations) is judged and counted once.
    /// Sixteen bytes a session keep it small beside the pages themselves.
    judged: HashSet<u128>,
}

impl Pass {
    /// A pass with nothing scheduled yet.
    pub(crate) fn new(dry_run: bool, cap: usize, summary: Summary, closer: Closer) -> Self {
        Pass {
            dry_run,
            change: closer.change(),
            cap,
            cap_message: match closer.change() {
                SessionChange::Close => {
                    "MAX_CLOSURES_PER_SWEEP reached; the rest waits for the next sweep"
                }
                SessionChange::Reopen => {
                    "MAX_CLOSURES_PER_SWEEP reached; run the reopen again for the rest"
                }
            },
            scheduled: 0,
            warnings_scheduled: 0,
            cap_reached: false,
            summary,
            closer,
            judged: HashSet::new(),
        }
    }

    /// Pages through `pages`, handing each readable row to `judge` as its page arrives and
    /// scheduling the change it asks for. Breaks, with `complete: false`, at the deadline, at
    /// the cap or after a failed batch, with the error that interrupted it, if any; continues
    /// once the query has no more rows. `configuration_id` is logged with unreadable rows.
    pub(crate) async fn read(
        &mut self,
        org: &Org,
        mut pages: SessionPages,
        configuration_id: Option<&Guid>,
        mut judge: impl FnMut(SessionRow, &mut Summary) -> Option<Task>,
    ) -> ControlFlow<Option<DataverseError>> {
        loop {
            let rows = self.next_rows(org, &mut pages).await?;
            let Some(rows) = rows else {
                return ControlFlow::Continue(());
            };
            for row in rows {
                let row = match row {
                    Ok(row) => row,
                    Err(problem) => {
                        let id = problem.id.unwrap_or_default();
                        error!(session_id = %id, configuration_id = configuration_id.map(tracing::field::display), reason = %problem.reason, "session cannot be judged");
                        self.summary.record_unreadable(id, problem.reason);
                        continue;
                    }
                };
                if !self.judged.insert(row.id.to_u128()) {
                    warn!(session_id = %row.id, configuration_id = configuration_id.map(tracing::field::display), "Dataverse returned a session already judged in this run; judged once");
                    continue;
                }
                if let Some(task) = judge(row, &mut self.summary) {
                    self.schedule(task).await;
                }
            }
            if self.cap_reached {
                warn!(cap = self.cap, "{}", self.cap_message);
                self.summary.mark_incomplete(Incomplete::Cap);
                return ControlFlow::Break(None);
            }
        }
    }

    /// The next page of `pages` (`None` at the end), unless the deadline or a failed batch
    /// stops the read first. It waits for room for another batch before reading, so reading
    /// never runs ahead of the pace.
    async fn next_rows(
        &mut self,
        org: &Org,
        pages: &mut SessionPages,
    ) -> ControlFlow<Option<DataverseError>, Option<Vec<ReadRow>>> {
        let summary = &mut self.summary;
        self.closer.make_room(summary).await;
        if org.budget().exhausted() {
            summary.mark_incomplete(Incomplete::Deadline);
            return ControlFlow::Break(None);
        }
        if self.closer.failed() {
            summary.mark_incomplete(Incomplete::Error);
            return ControlFlow::Break(None);
        }
        match org.next_page(pages).await {
            Ok(rows) => ControlFlow::Continue(rows),
            Err(DataverseError::DeadlineReached) => {
                summary.mark_incomplete(Incomplete::Deadline);
                ControlFlow::Break(None)
            }
            Err(DataverseError::ThrottledUntil { retry_at }) => {
                warn!(%retry_at, "Dataverse asked for a wait past the sweep's stop; the next sweep continues after it");
                summary.mark_incomplete(Incomplete::Throttled);
                ControlFlow::Break(None)
            }
            Err(error) => ControlFlow::Break(Some(error)),
        }
    }

    /// Schedules one task within its cap (closes and warnings each have one): deferred past
    /// it, recorded in a dry run, queued for the closer otherwise.
    async fn schedule(&mut self, task: Task) {
        let summary = &mut self.summary;
        let scheduled = match &task {
            Task::Change { .. } => &mut self.scheduled,
            Task::Warn { .. } => &mut self.warnings_scheduled,
        };
        if *scheduled >= self.cap {
            // A warning left out is not an eligible session: the next sweep warns it.
            if let Task::Change { report, .. } = &task {
                summary.record_deferred(report.overdue_seconds);
            }
            self.cap_reached = true;
            return;
        }
        *scheduled += 1;
        if !self.dry_run {
            return self.closer.push(task, summary).await;
        }
        match (task, self.change) {
            (Task::Warn { report, .. }, _) => {
                info!(session_id = %report.id, configuration_id = %report.configuration_id, eligible_at = %report.eligible_at, "would warn (dry run)");
                summary.record_would_warn(report);
            }
            (
                Task::Change {
                    report,
                    closing_message,
                    ..
                },
                SessionChange::Close,
            ) => {
                info!(session_id = %report.id, configuration_id = %report.configuration_id, overdue_s = report.overdue_seconds, "would close (dry run)");
                if closing_message == ClosingMessage::OutsideWindow {
                    summary.record_closing_message_outside_window();
                }
                summary.record_would_close(report);
            }
            (Task::Change { report, .. }, SessionChange::Reopen) => {
                info!(session_id = %report.id, configuration_id = %report.configuration_id, "would reopen (dry run)");
                summary.record_would_reopen(report);
            }
        }
    }

    /// Awaits every batch in flight, even after an error, so that no change goes unreported;
    /// the summary and the first error (a batch's, else the one that interrupted the read).
    pub(crate) async fn finish(
        mut self,
        interrupted: Option<DataverseError>,
    ) -> (Summary, Option<DataverseError>) {
        self.closer.finish(&mut self.summary).await;
        let error = self.closer.take_error().or(interrupted);
        (self.summary, error)
    }
}

/// The sweep's judgement of one row of `planned`: what [`verdict`] says, logged and recorded;
/// the close it asks for, if any, with its closing message when the close is inside the
/// customer's 24-hour window.
pub(super) fn judge_for_sweep(
    planned: &Planned,
    row: SessionRow,
    rules: Rules,
    summary: &mut Summary,
) -> Option<Task> {
    let Rules {
        now, agent_rule, ..
    } = rules;
    let configuration_id = planned
        .configuration_id
        .as_ref()
        .map(tracing::field::display);
    match verdict(planned, &row, now, agent_rule) {
        Verdict::NotAskedFor => {
            warn!(session_id = %row.id, configuration_id, "Dataverse returned a session the query did not ask for; left alone");
        }
        Verdict::NotDue => {
            warn!(session_id = %row.id, configuration_id, "Dataverse returned a session that is not past its timeout; left alone");
        }
        Verdict::AwaitingAgent => {
            info!(session_id = %row.id, configuration_id, "skipped: awaiting agent reply");
            summary.record_awaiting_agent(row.id);
        }
        Verdict::ReportOnly => {
            info!(session_id = %row.id, "skipped: its configuration is not active and several are active");
            summary.record_skipped(row.id, SkipReason::NoConfigurationSeveralActive);
        }
        Verdict::Close {
            configuration_id,
            decision,
        } => {
            let closing_message = match rules.closing_messages {
                false => ClosingMessage::Off,
                true if within_customer_service_window(row.last_customer_message, now) => {
                    ClosingMessage::Send
                }
                true => ClosingMessage::OutsideWindow,
            };
            let report = SessionReport {
                no_active_configuration: planned
                    .without_active_configuration(row.configuration_id.as_ref()),
                configuration_id,
                id: row.id,
                last_customer_message_at: row.last_customer_message,
                eligible_at: decision.eligible_at,
                overdue_seconds: decision.overdue_seconds,
            };
            return Some(Task::Change {
                report,
                etag: row.etag,
                closing_message,
            });
        }
    }
    None
}

/// The sweep's judgement of one row of `planned`'s warning query: what [`warning`] says,
/// logged, and counted when the warning falls outside the 24-hour window; the warning it asks
/// for, if any.
pub(super) fn judge_for_warning(
    planned: &Planned,
    row: SessionRow,
    rules: Rules,
    lead: SessionTimeout,
    summary: &mut Summary,
) -> Option<Task> {
    let configuration_id = planned
        .configuration_id
        .as_ref()
        .map(tracing::field::display);
    match warning(planned, &row, rules.now, rules.agent_rule, lead) {
        Warning::NotAskedFor | Warning::NotDue | Warning::NoLead | Warning::ReportOnly => {
            warn!(session_id = %row.id, configuration_id, "Dataverse returned a session the warning query did not ask for; not warned");
        }
        Warning::AwaitingAgent => {
            info!(session_id = %row.id, configuration_id, "not warned: awaiting agent reply");
        }
        Warning::AlreadyWarned => {}
        Warning::OutsideWindow { eligible_at, .. } => {
            warn!(session_id = %row.id, configuration_id, %eligible_at, "not warned: outside WhatsApp's 24-hour window since the customer's last message");
            summary.record_warning_outside_window();
        }
        Warning::Warn {
            configuration_id,
            eligible_at,
        } => {
            let report = WarningReport {
                id: row.id,
                configuration_id,
                last_customer_message_at: row.last_customer_message,
                eligible_at,
            };
            return Some(Task::Warn {
                report,
                etag: row.etag,
            });
        }
    }
    None
}
