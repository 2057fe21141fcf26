//! Undo: reopen the sessions this function closed since an instant and nobody has changed
//! since. Dataverse is asked only for sessions in the closed state whose last modifier is this
//! function's application user (from `WhoAmI`) and whose `modifiedon` is at or after the
//! instant, so a session an agent or a customer touched after the close is never read; each row
//! is checked against the same rule ([`ReopenQuery::asked_for`]) before it is judged. Each is
//! judged again by the *current* timeouts: one the next sweep would close again stays closed
//! and is reported. Reopens travel like closes (`$batch`, `If-Match`, the closure cap).

use super::plan::{plan, Usable};
use super::run::Start;
use super::task::Task;
use super::{SweepError, SweepOptions};
use crate::dataverse::{Dataverse, ReopenQuery, SessionChange, SessionRow};
use crate::events::EventSink;
use crate::ids::Guid;
use crate::policy::{decide, SessionTimeout};
use crate::settings::Settings;
use crate::summary::{SessionReport, SkipReason, Summary};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use tracing::{info, warn};

/// Reopens what this function closed at or after `since`, telling `events` of each reopen
/// Dataverse confirmed. The caller has checked that `since` is not after `options.now`.
pub async fn reopen(
    dataverse: &Arc<Dataverse>,
    settings: &Settings,
    options: SweepOptions,
    since: DateTime<Utc>,
    events: &EventSink,
) -> Result<Summary, SweepError> {
    let (start, org) = Start::open(dataverse, settings, options).await?;
    let mut summary = Summary::for_reopen(options.now, options.dry_run, since);
    let user = org.application_user().await.map_err(|e| start.fail(e))?;
    let configurations = org
        .active_configurations()
        .await
        .map_err(|e| start.fail(e))?;
    let plan = plan(options.now, settings, &configurations).adopt(&mut summary)?;
    let timeouts =
        Timeouts::new(&plan.usable).ok_or_else(|| SweepError::NoUsableConfiguration {
            column: settings.schema.timeout_column.to_string(),
            problems: "no configuration has a usable timeout".into(),
        })?;
    info!(application_user = %user, since = %since, "reopen started");

    let mut pass = start.pass(
        &org,
        settings,
        options,
        summary,
        SessionChange::Reopen,
        events,
    );
    let query = ReopenQuery { user, since };
    let judge = |row: SessionRow, summary: &mut Summary| {
        // The filter is checked, not trusted: a row it did not ask for (closed by an agent,
        // long ago, or by another closer) is left closed.
        if !query.asked_for(&settings.schema, &row) {
            warn!(session_id = %row.id, "Dataverse returned a session the reopen query did not ask for; left closed");
            return None;
        }
        judge_for_reopen(&timeouts, options.now, row, summary)
    };
    let pages = org.reopen_candidates(&query);
    let interrupted = match pass.read(&org, pages, None, judge).await {
        ControlFlow::Break(error) => error,
        ControlFlow::Continue(()) => None,
    };
    let (summary, error) = pass.finish(interrupted).await;
    start.conclude(summary, error)
}

/// Decides about one closed session: reopen it, or leave it closed and say why.
fn judge_for_reopen(
    timeouts: &Timeouts,
    now: DateTime<Utc>,
    row: SessionRow,
    summary: &mut Summary,
) -> Option<Task> {
    let (configuration_id, timeout) = timeouts.for_session(row.configuration_id.as_ref());
    let decision = decide(timeout, now, row.last_customer_message, row.created_on);
    if decision.close {
        info!(session_id = %row.id, configuration_id = %configuration_id, "not reopened: still past the current timeout");
        summary.record_skipped(row.id, SkipReason::StillPastCurrentTimeout);
        return None;
    }
    let report = SessionReport {
        id: row.id,
        configuration_id,
        last_customer_message_at: row.last_customer_message,
        eligible_at: decision.eligible_at,
        overdue_seconds: 0,
        no_active_configuration: false,
    };
    Some(Task::change(report, row.etag))
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
