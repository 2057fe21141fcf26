//! After a real sweep: when the next session becomes eligible, or is due its warning. For
//! each planned query, two one-row reads (the earliest customer message not yet past the
//! cutoff, and the earliest creation among sessions the customer never wrote in), all of them
//! sent in one `$batch`, give the earliest upcoming eligibility; [`crate::wake::next_wake`]
//! bounds it. With warnings on, the two reads start past the lead window instead (the sessions in it were just read by the
//! warning query, which gives their eligibility), and a session found there is due its
//! warning `lead` before its eligibility: the same two reads wake for both. No session is
//! listed. A sweep stopped by a long `Retry-After` reads nothing more: it wakes when
//! Dataverse said it may be asked again.

use super::plan::Planned;
use super::warn::warning_query;
use crate::dataverse::{Basis, DataverseError, Org, UpcomingQuery};
use crate::policy::SessionTimeout;
use crate::summary::{Incomplete, Summary};
use crate::wake::{next_wake, not_before};
use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

/// What the warning queries found: the lead, and the earliest eligibility among the sessions
/// inside a lead window (their warnings are behind; their closes are ahead).
#[derive(Debug, Clone, Copy)]
pub(super) struct Warnings {
    pub lead: SessionTimeout,
    pub earliest_in_lead: Option<DateTime<Utc>>,
}

/// Records in `summary` when the function should run next, or why that is unknown.
pub(super) async fn plan_wake(
    org: &Org,
    queries: &[Planned],
    now: DateTime<Utc>,
    min_interval: Duration,
    warnings: Option<Warnings>,
    summary: &mut Summary,
) {
    if summary
        .incomplete_because()
        .contains(&Incomplete::Throttled)
    {
        let retry_at = org.throttled_until().unwrap_or(now);
        let at = not_before(retry_at, now, min_interval);
        info!(next_wake_at = %at, %retry_at, "next wake-up after Dataverse's Retry-After");
        summary.record_next_wake(at);
        return;
    }
    // A session that starts after this sweep is due its warning, or its close, no sooner.
    let lead = warnings.map(|warnings| warnings.lead);
    let Some(shortest) = queries
        .iter()
        .map(|planned| first_moment(planned, lead))
        .min()
    else {
        return;
    };
    let left_behind = summary
        .incomplete_because()
        .iter()
        .any(|why| matches!(why, Incomplete::Deadline | Incomplete::Cap));
    // Eligible sessions left for later are due now: no read is needed to know it.
    let earliest = if left_behind {
        Ok(Some(now))
    } else {
        earliest_moment(org, queries, warnings).await
    };
    match earliest {
        Ok(earliest) => {
            let at = next_wake(now, earliest, shortest, min_interval);
            info!(next_wake_at = %at, earliest_eligibility = ?earliest, "next wake-up");
            summary.record_next_wake(at);
        }
        Err(error) => {
            warn!(error = %error, "the next eligibility could not be read; the rate rule stays the only schedule");
            summary.record_wake_failure(format!(
                "the next eligibility could not be read from Dataverse: {error}"
            ));
        }
    }
}

/// How long after its last activity a session of `planned` first needs the function: its
/// warning's moment when it gets one, else its eligibility.
fn first_moment(planned: &Planned, lead: Option<SessionTimeout>) -> Duration {
    match lead.filter(|lead| warning_query(planned, *lead).is_some()) {
        Some(lead) => planned.timeout.duration() - lead.duration(),
        None => planned.timeout.duration(),
    }
}

/// The earliest moment an active session of a closable query becomes eligible, or is due its
/// warning.
async fn earliest_moment(
    org: &Org,
    queries: &[Planned],
    warnings: Option<Warnings>,
) -> Result<Option<DateTime<Utc>>, DataverseError> {
    let mut earliest: Option<DateTime<Utc>> = warnings.and_then(|w| w.earliest_in_lead);
    // Sessions that are only reported (no configuration, several active) never close, so
    // their eligibility wakes nobody.
    let mut judged = Vec::new();
    let mut upcoming = Vec::new();
    for planned in queries
        .iter()
        .filter(|planned| planned.configuration_id.is_some())
    {
        let lead = warnings
            .map(|warnings| warnings.lead)
            .filter(|lead| warning_query(planned, *lead).is_some());
        // Past the lead window: what is inside it was read by the warning query.
        let cutoff = planned.query.cutoff + lead.map_or(Duration::zero(), |l| l.duration());
        for basis in [Basis::LastCustomerMessage, Basis::Created] {
            judged.push((planned, lead));
            upcoming.push(UpcomingQuery {
                owner: planned.query.owner.clone(),
                cutoff,
                basis,
            });
        }
    }
    let found = org.earliest_upcoming_each(&upcoming).await?;
    for ((planned, lead), activity) in judged.into_iter().zip(found) {
        if let Some(activity) = activity {
            let eligible = activity + planned.timeout.duration();
            let moment = lead.map_or(eligible, |lead| eligible - lead.duration());
            earliest = Some(earliest.map_or(moment, |known| known.min(moment)));
        }
    }
    Ok(earliest)
}
