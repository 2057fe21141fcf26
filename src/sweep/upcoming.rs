//! After a real sweep: when the next session becomes eligible. For each planned query, two
//! one-row reads (the earliest customer message not yet past the cutoff, and the earliest
//! creation among sessions the customer never wrote in) give the earliest upcoming
//! eligibility; [`crate::wake::next_wake`] bounds it. No session is listed. A sweep stopped
//! by a long `Retry-After` reads nothing more: it wakes when Dataverse said it may be asked
//! again.

use super::plan::Planned;
use crate::dataverse::{Basis, DataverseError, Org, UpcomingQuery};
use crate::summary::{Incomplete, Summary};
use crate::wake::{next_wake, not_before};
use chrono::{DateTime, Duration, Utc};
use tracing::{info, warn};

/// Records in `summary` when the function should run next, or why that is unknown.
pub(super) async fn plan_wake(
    org: &Org,
    queries: &[Planned],
    now: DateTime<Utc>,
    min_interval: Duration,
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
    let Some(shortest) = queries.iter().map(|planned| planned.timeout).min() else {
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
        earliest_eligibility(org, queries).await
    };
    match earliest {
        Ok(earliest) => {
            let at = next_wake(now, earliest, shortest.duration(), min_interval);
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

/// The earliest moment an active session of a closable query becomes eligible.
async fn earliest_eligibility(
    org: &Org,
    queries: &[Planned],
) -> Result<Option<DateTime<Utc>>, DataverseError> {
    let mut earliest: Option<DateTime<Utc>> = None;
    // Sessions that are only reported (no configuration, several active) never close, so
    // their eligibility wakes nobody.
    for planned in queries
        .iter()
        .filter(|planned| planned.configuration_id.is_some())
    {
        for basis in [Basis::LastCustomerMessage, Basis::Created] {
            let query = UpcomingQuery {
                owner: planned.query.owner.clone(),
                cutoff: planned.query.cutoff,
                basis,
            };
            if let Some(activity) = org.earliest_upcoming(&query).await? {
                let eligible = activity + planned.timeout.duration();
                earliest = Some(earliest.map_or(eligible, |known| known.min(eligible)));
            }
        }
    }
    Ok(earliest)
}
