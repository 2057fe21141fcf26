//! Judging: page through each planned query and apply the policy to every row as its page
//! arrives. What is eligible goes to the closer (or, in a dry run, straight to the summary);
//! the server's filter is never trusted alone.

use super::close::Closer;
use super::plan::Planned;
use super::SweepOptions;
use crate::dataverse::{DataverseError, Org, ReadRow, SessionPages};
use crate::policy::{awaiting_agent, decide};
use crate::summary::{Incomplete, SessionReport, SkipReason, Summary};
use tracing::{error, info, warn};

/// What reading on gave: a page of rows, the end of the query, or a stop (with the error that
/// caused it, if any; the summary already says why).
pub(super) enum Next {
    Rows(Vec<ReadRow>),
    End,
    Stop(Option<DataverseError>),
}

/// The next page of `pages`, unless the deadline or a failed batch stops the read first. It
/// waits for room for another batch before reading, so reading never runs ahead of the pace.
/// Shared by the sweep and the reopen run, which read alike and judge differently.
pub(super) async fn next_rows(
    org: &Org,
    pages: &mut SessionPages,
    closer: &mut Closer,
    summary: &mut Summary,
) -> Next {
    closer.make_room(summary).await;
    if org.budget().exhausted() {
        summary.mark_incomplete(Incomplete::Deadline);
        return Next::Stop(None);
    }
    if closer.failed() {
        summary.mark_incomplete(Incomplete::Error);
        return Next::Stop(None);
    }
    match org.next_page(pages).await {
        Ok(Some(rows)) => Next::Rows(rows),
        Ok(None) => Next::End,
        Err(DataverseError::DeadlineReached) => {
            summary.mark_incomplete(Incomplete::Deadline);
            Next::Stop(None)
        }
        Err(error) => Next::Stop(Some(error)),
    }
}

/// The reading and judging part of a sweep, with what it has decided so far.
pub(super) struct Pass {
    pub options: SweepOptions,
    pub max_closures: usize,
    pub scheduled: usize,
    pub cap_reached: bool,
    /// `SESSION_LAST_AGENT_MESSAGE_COLUMN` is set: a session awaiting an agent is never closed.
    pub agent_rule: bool,
    pub summary: Summary,
    pub closer: Closer,
}

impl Pass {
    /// Pages through every query, judging each row as its page arrives. Stops early, with
    /// `complete: false`, at the deadline, at the cap or after a failed batch; returns the
    /// error that interrupted it, if any.
    pub async fn read(&mut self, org: &Org, queries: &[Planned]) -> Option<DataverseError> {
        for planned in queries {
            let mut pages = org.sessions(&planned.query);
            loop {
                let rows =
                    match next_rows(org, &mut pages, &mut self.closer, &mut self.summary).await {
                        Next::Rows(rows) => rows,
                        Next::End => break,
                        Next::Stop(error) => return error,
                    };
                for row in rows {
                    self.judge(planned, row).await;
                }
                if self.cap_reached {
                    warn!(
                        cap = self.max_closures,
                        "MAX_CLOSURES_PER_SWEEP reached; the rest waits for the next sweep"
                    );
                    self.summary.mark_incomplete(Incomplete::Cap);
                    return None;
                }
            }
        }
        None
    }

    /// Decides about one row and records or schedules what follows.
    async fn judge(&mut self, planned: &Planned, row: ReadRow) {
        let summary = &mut self.summary;
        let row = match row {
            Ok(row) => row,
            Err(problem) => {
                let id = problem.id.unwrap_or_default();
                error!(session_id = %id, configuration_id = planned.configuration_id.as_ref().map(display), reason = %problem.reason, "session cannot be judged");
                summary.record_unreadable(id, problem.reason);
                return;
            }
        };
        let lookup = row.configuration_id.as_ref();
        // The server filter asked for active rows of this owner; any other row is left alone.
        if row.statecode != 0 || !planned.owns(lookup) {
            warn!(session_id = %row.id, configuration_id = planned.configuration_id.as_ref().map(display), "Dataverse returned a session the query did not ask for; left alone");
            return;
        }
        let decision = decide(
            planned.timeout,
            self.options.now,
            row.last_customer_message,
            row.created_on,
        );
        if !decision.close {
            warn!(session_id = %row.id, configuration_id = planned.configuration_id.as_ref().map(display), "Dataverse returned a session that is not past its timeout; left alone");
            return;
        }
        // Awaiting an agent comes first: it is the session's own state, whoever's timeout.
        if self.agent_rule && awaiting_agent(row.last_customer_message, row.last_agent_message) {
            info!(session_id = %row.id, configuration_id = planned.configuration_id.as_ref().map(display), "skipped: awaiting agent reply");
            summary.record_awaiting_agent(row.id);
            return;
        }
        let Some(configuration_id) = &planned.configuration_id else {
            info!(session_id = %row.id, "skipped: its configuration is not active and several are active");
            summary.record_skipped(row.id, SkipReason::NoConfigurationSeveralActive);
            return;
        };
        if self.scheduled >= self.max_closures {
            summary.record_deferred(decision.overdue_seconds);
            self.cap_reached = true;
            return;
        }
        self.scheduled += 1;
        let report = SessionReport {
            configuration_id: configuration_id.clone(),
            no_active_configuration: planned.without_active_configuration(lookup),
            id: row.id,
            last_customer_message_at: row.last_customer_message,
            eligible_at: decision.eligible_at,
            overdue_seconds: decision.overdue_seconds,
        };
        if self.options.dry_run {
            info!(session_id = %report.id, configuration_id = %report.configuration_id, overdue_s = report.overdue_seconds, "would close (dry run)");
            summary.record_would_close(report);
        } else {
            self.closer.push(report, row.etag, summary).await;
        }
    }
}
