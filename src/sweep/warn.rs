//! The warning before a close: which sessions are due one, and the query that finds them.
//! Beside [`super::verdict`] and by the same rules (the row is one the query asked for, judged
//! by a configuration, not awaiting an agent), so that the sweep and the check agree on who
//! is warned. Pure: `now` is an argument.

use super::plan::Planned;
use crate::dataverse::{SessionRow, WarningQuery};
use crate::ids::Guid;
use crate::policy::{awaiting_agent, within_customer_service_window, SessionTimeout};
use chrono::{DateTime, Utc};

/// What a sweep does about warning one row of a planned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Warning {
    /// Not an active row of this query's owner: the server answered what was not asked for.
    NotAskedFor,
    /// The configuration's timeout is not longer than the lead: its sessions get no warning.
    NoLead,
    /// Not within the lead before its eligibility (too early, or eligible already).
    NotDue,
    /// The customer wrote last and no agent answered: the session will not close at its
    /// eligibility, so the customer is not told it will.
    AwaitingAgent,
    /// Warned already since the customer's last message.
    AlreadyWarned,
    /// No configuration judges it: it is never closed, so never warned.
    ReportOnly,
    /// Due, but outside WhatsApp's 24-hour window (or the customer never wrote): not sent.
    OutsideWindow {
        configuration_id: Guid,
        eligible_at: DateTime<Utc>,
    },
    /// To warn now, judged by this configuration's timeout.
    Warn {
        configuration_id: Guid,
        eligible_at: DateTime<Utc>,
    },
}

/// Whether `row` of `planned` is due a warning at `now`, `lead` before its eligibility: the
/// row is one the query asked for; `eligible_at - lead <= now < eligible_at`; it does not
/// await an agent (when `agent_rule`); its warned-at is empty or older than its customer's
/// last message (a customer who wrote after a warning is warned again); a configuration
/// judges it; and the warning would land inside the customer's 24-hour window.
pub(crate) fn warning(
    planned: &Planned,
    row: &SessionRow,
    now: DateTime<Utc>,
    agent_rule: bool,
    lead: SessionTimeout,
) -> Warning {
    let Some(decision) = planned.decide(row, now) else {
        return Warning::NotAskedFor;
    };
    if planned.timeout <= lead {
        return Warning::NoLead;
    }
    let eligible_at = decision.eligible_at;
    if decision.close || now < eligible_at - lead.duration() {
        return Warning::NotDue;
    }
    if agent_rule && awaiting_agent(row.last_customer_message, row.last_agent_message) {
        return Warning::AwaitingAgent;
    }
    let warned_this_silence = match (row.warned_at, row.last_customer_message) {
        (None, _) => false,
        (Some(warned), Some(wrote)) => warned >= wrote,
        (Some(_), None) => true,
    };
    if warned_this_silence {
        return Warning::AlreadyWarned;
    }
    let Some(configuration_id) = planned.configuration_id.clone() else {
        return Warning::ReportOnly;
    };
    if within_customer_service_window(row.last_customer_message, now) {
        Warning::Warn {
            configuration_id,
            eligible_at,
        }
    } else {
        Warning::OutsideWindow {
            configuration_id,
            eligible_at,
        }
    }
}

/// When `row` of `planned`'s warning query becomes eligible, when that is within `lead`
/// after `now` (the lead window the query asks for), whatever its warning: the wake-up's
/// next close among the sessions the warning query read.
pub(crate) fn eligible_within_lead(
    planned: &Planned,
    row: &SessionRow,
    now: DateTime<Utc>,
    lead: SessionTimeout,
) -> Option<DateTime<Utc>> {
    let decision = planned.decide(row, now)?;
    let eligible_at = decision.eligible_at;
    (!decision.close && eligible_at - lead.duration() <= now).then_some(eligible_at)
}

/// The one more query a planned query gets when warnings are on: its sessions that become
/// eligible within `lead` after `now`. None for sessions only reported, and for a timeout not
/// longer than the lead.
pub(crate) fn warning_query(planned: &Planned, lead: SessionTimeout) -> Option<WarningQuery> {
    if planned.configuration_id.is_none() || planned.timeout <= lead {
        return None;
    }
    Some(WarningQuery {
        owner: planned.query.owner.clone(),
        after: planned.query.cutoff,
        until: planned.query.cutoff + lead.duration(),
    })
}

#[cfg(test)]
mod tests;
