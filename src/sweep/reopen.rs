//! Undo: reopen the sessions this function closed since an instant and nobody has changed
//! since. Dataverse is asked only for sessions in the closed state whose last modifier is this
//! function's application user (from `WhoAmI`) and whose `modifiedon` is at or after the
//! instant, so a session an agent or a customer touched after the close is never read. Each is
//! judged again by the *current* timeouts: one the next sweep would close again stays closed
//! and is reported. Reopens travel like closes (`$batch`, `If-Match`, the closure cap).

use super::close::Closer;
use super::judge::{next_rows, Next};
use super::plan::{check_configurations, Usable};
use super::run::conclude;
use super::{SweepError, SweepOptions};
use crate::dataverse::{Dataverse, DataverseError, Org, ReadRow, ReopenQuery, SessionChange};
use crate::ids::Guid;
use crate::policy::{decide, SessionTimeout};
use crate::settings::Settings;
use crate::summary::{Incomplete, SessionReport, SkipReason, Summary};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tracing::{error, info, warn};

/// Reopens what this function closed at or after `since`. The caller has checked that
/// `since` is not after `options.now`.
pub async fn reopen(
    dataverse: &Arc<Dataverse>,
    settings: &Settings,
    options: SweepOptions,
    since: DateTime<Utc>,
) -> Result<Summary, SweepError> {
    let started = Instant::now();
    let requests_at_start = dataverse.requests_sent();
    let schema = Arc::new(settings.schema.clone());
    let fail = |error| SweepError::from_dataverse(&schema, error);
    let mut summary = Summary::for_reopen(options.now, options.dry_run, since);

    let org = Org::open(dataverse.clone(), schema.clone(), options.budget)
        .await
        .map_err(fail)?;
    let user = org.application_user().await.map_err(fail)?;
    let configurations = org.active_configurations().await.map_err(fail)?;
    let checked = check_configurations(settings, &configurations, &mut summary)?;
    let timeouts =
        Timeouts::new(&checked.usable).ok_or_else(|| SweepError::NoUsableConfiguration {
            column: schema.timeout_column.to_string(),
            problems: "no configuration has a usable timeout".into(),
        })?;
    info!(application_user = %user, since = %since, "reopen started");

    let mut pass = ReopenPass {
        options,
        closed_statecode: schema.closed_statecode,
        timeouts,
        max_reopens: settings.max_closures,
        scheduled: 0,
        cap_reached: false,
        summary,
        closer: Closer::new(
            org.clone(),
            settings.close_batch_size,
            settings.close_concurrency,
        )
        .making(SessionChange::Reopen),
    };
    let interrupted = pass.read(&org, &ReopenQuery { user, since }).await;
    // Every batch in flight is awaited, even after an error, so that no reopen goes unreported.
    pass.closer.finish(&mut pass.summary).await;
    let mut summary = pass.summary;
    summary.finish(
        dataverse.requests_sent() - requests_at_start,
        started.elapsed().as_millis() as u64,
    );
    conclude(summary, pass.closer.take_error().or(interrupted).map(fail))
}

/// The current timeouts, as the next sweep would apply them.
struct Timeouts {
    by_configuration: HashMap<Guid, SessionTimeout>,
    /// The shortest usable timeout and its configuration.
    shortest: (Guid, SessionTimeout),
}

impl Timeouts {
    /// The timeouts of `usable`; `None` when there is none.
    fn new(usable: &[Usable]) -> Option<Self> {
        let shortest = usable
            .iter()
            .min_by_key(|usable| usable.timeout)
            .map(|usable| (usable.id.clone(), usable.timeout))?;
        Some(Timeouts {
            by_configuration: usable
                .iter()
                .map(|usable| (usable.id.clone(), usable.timeout))
                .collect(),
            shortest,
        })
    }

    /// The configuration and timeout a session is judged by: its own configuration's when that
    /// one is usable; otherwise the shortest, because which one a sweep would apply to it is
    /// uncertain, and nothing reopened may be closed again by the next sweep.
    fn for_session(&self, configuration_id: Option<&Guid>) -> (Guid, SessionTimeout) {
        configuration_id
            .and_then(|id| self.by_configuration.get_key_value(id))
            .map(|(id, timeout)| (id.clone(), *timeout))
            .unwrap_or_else(|| self.shortest.clone())
    }
}

/// The reading and judging part of a reopen run.
struct ReopenPass {
    options: SweepOptions,
    closed_statecode: i64,
    timeouts: Timeouts,
    max_reopens: usize,
    scheduled: usize,
    cap_reached: bool,
    summary: Summary,
    closer: Closer,
}

impl ReopenPass {
    /// Pages through the candidates, judging each row as its page arrives; stops early at the
    /// deadline, at the cap or after a failed batch, and returns the error that stopped it.
    async fn read(&mut self, org: &Org, query: &ReopenQuery) -> Option<DataverseError> {
        let mut pages = org.reopen_candidates(query);
        loop {
            let rows = match next_rows(org, &mut pages, &mut self.closer, &mut self.summary).await {
                Next::Rows(rows) => rows,
                Next::End => return None,
                Next::Stop(error) => return error,
            };
            for row in rows {
                self.judge(row).await;
            }
            if self.cap_reached {
                warn!(
                    cap = self.max_reopens,
                    "MAX_CLOSURES_PER_SWEEP reached; run the reopen again for the rest"
                );
                self.summary.mark_incomplete(Incomplete::Cap);
                return None;
            }
        }
    }

    /// Decides about one closed session: reopen it, or leave it closed and say why.
    async fn judge(&mut self, row: ReadRow) {
        let summary = &mut self.summary;
        let row = match row {
            Ok(row) => row,
            Err(problem) => {
                let id = problem.id.unwrap_or_default();
                error!(session_id = %id, reason = %problem.reason, "session cannot be judged");
                summary.record_unreadable(id, problem.reason);
                return;
            }
        };
        // The server filter asked for closed rows; a row in another state is left alone.
        if row.statecode != self.closed_statecode {
            return;
        }
        let (configuration_id, timeout) = self.timeouts.for_session(row.configuration_id.as_ref());
        let decision = decide(
            timeout,
            self.options.now,
            row.last_customer_message,
            row.created_on,
        );
        if decision.close {
            info!(session_id = %row.id, configuration_id = %configuration_id, "not reopened: still past the current timeout");
            summary.record_skipped(row.id, SkipReason::StillPastCurrentTimeout);
            return;
        }
        if self.scheduled >= self.max_reopens {
            summary.record_deferred(0);
            self.cap_reached = true;
            return;
        }
        self.scheduled += 1;
        let report = SessionReport {
            id: row.id,
            configuration_id,
            last_customer_message_at: row.last_customer_message,
            eligible_at: decision.eligible_at,
            overdue_seconds: 0,
            no_active_configuration: false,
        };
        if self.options.dry_run {
            info!(session_id = %report.id, configuration_id = %report.configuration_id, "would reopen (dry run)");
            summary.record_would_reopen(report);
        } else {
            self.closer.push(report, row.etag, summary).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
    const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

    fn timeouts() -> Timeouts {
        let usable = |id: &str, seconds| Usable {
            id: Guid::parse(id).unwrap(),
            timeout: SessionTimeout::from_seconds(seconds).unwrap(),
        };
        Timeouts::new(&[usable(A, 86_400), usable(B, 1_800)]).unwrap()
    }

    #[test]
    fn a_session_is_judged_by_its_own_usable_configuration() {
        let (id, timeout) = timeouts().for_session(Some(&Guid::parse(A).unwrap()));
        assert_eq!((id.as_str(), timeout.seconds()), (A, 86_400));
    }

    #[test]
    fn a_session_without_a_usable_configuration_is_judged_by_the_shortest_timeout() {
        let other = Guid::parse("6f1c2a3b-0000-4000-8000-00000000000c").unwrap();
        for configuration in [None, Some(&other)] {
            let (id, timeout) = timeouts().for_session(configuration);
            assert_eq!((id.as_str(), timeout.seconds()), (B, 1_800));
        }
    }

    #[test]
    fn no_usable_configuration_gives_no_timeouts() {
        assert!(Timeouts::new(&[]).is_none());
    }
}
