//! The event in: only an EventBridge Scheduled Event, whose `detail` holds nothing but the
//! documented fields, so a mistyped manual invocation is refused before any request is sent.

use super::HandlerError;
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// What a scheduled event asks for: one of three exclusive modes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A sweep; `detail.dry_run` when it only reports. `sweep_at`: the moment a wake-up was
    /// written for (`detail.sweep_at`), which the invocation waits for before sweeping.
    Sweep {
        dry_run: bool,
        sweep_at: Option<DateTime<Utc>>,
    },
    /// `detail.reopen_closed_since`: undo the closes since this instant instead of sweeping.
    Reopen { since: DateTime<Utc>, dry_run: bool },
    /// `detail.check` is `true`: the read-only check of the settings instead of a sweep.
    Check,
}

/// The detail fields an event may hold.
const DETAIL_FIELDS: [&str; 4] = ["dry_run", "reopen_closed_since", "check", "sweep_at"];

/// Accepts an EventBridge Scheduled Event whose `detail` is `{}`, or holds `dry_run` (a bool)
/// and/or `reopen_closed_since` (an RFC 3339 instant) or `sweep_at` (an RFC 3339 instant, as
/// the wake-up writes it), or is `{"check": true}` alone.
pub fn parse_event(event: Value) -> Result<Trigger, HandlerError> {
    let invalid = |reason: &str| HandlerError::InvalidEvent(reason.to_owned());
    if !event.is_object() {
        return Err(invalid("it is not a JSON object"));
    }
    let event: EventBridgeEvent<Value> = serde_json::from_value(event)
        .map_err(|_| invalid("it lacks detail-type, source or detail"))?;
    if event.source != "aws.events" {
        return Err(invalid("source is not \"aws.events\""));
    }
    if event.detail_type != "Scheduled Event" {
        return Err(invalid("detail-type is not \"Scheduled Event\""));
    }
    let detail = event
        .detail
        .as_object()
        .ok_or_else(|| invalid("detail is not an object"))?;
    if let Some(key) = detail
        .keys()
        .find(|key| !DETAIL_FIELDS.contains(&key.as_str()))
    {
        return Err(HandlerError::InvalidEvent(format!(
            "detail has the unknown field {key:?} (only \"dry_run\", \"reopen_closed_since\", \"sweep_at\" and \"check\" are accepted)"
        )));
    }
    match detail.get("check") {
        None => {}
        Some(Value::Bool(true)) if detail.len() == 1 => return Ok(Trigger::Check),
        Some(Value::Bool(true)) => {
            return Err(invalid(
                "detail has check with other fields; a check never changes anything, send {\"check\": true} alone",
            ))
        }
        Some(_) => return Err(invalid("detail.check is not true")),
    }
    let dry_run = match detail.get("dry_run") {
        None => false,
        Some(Value::Bool(flag)) => *flag,
        Some(_) => return Err(invalid("detail.dry_run is not true or false")),
    };
    let sweep_at = match detail.get("sweep_at") {
        None => None,
        Some(_) if detail.contains_key("reopen_closed_since") => {
            return Err(invalid(
                "detail has sweep_at with reopen_closed_since; sweep_at is the moment of a sweep, not of a reopen run",
            ))
        }
        Some(at) => Some(
            instant(at).map_err(|shown| HandlerError::InvalidSweepMoment(shown.to_string()))?,
        ),
    };
    Ok(match detail.get("reopen_closed_since") {
        Some(since) => Trigger::Reopen {
            since: instant(since)
                .map_err(|shown| HandlerError::InvalidReopenInstant(shown.to_string()))?,
            dry_run,
        },
        None => Trigger::Sweep { dry_run, sweep_at },
    })
}

/// Why a value is not an RFC 3339 instant, showing the value.
#[derive(Debug)]
struct NotAnInstant(String);

impl std::fmt::Display for NotAnInstant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "is {}, which is not an RFC 3339 instant (for example \"2026-11-24T09:00:00Z\")",
            self.0
        )
    }
}

/// An RFC 3339 instant with its offset, such as `2026-11-24T09:00:00Z`.
fn instant(value: &Value) -> Result<DateTime<Utc>, NotAnInstant> {
    let text = value
        .as_str()
        .ok_or_else(|| NotAnInstant(value.to_string()))?;
    DateTime::parse_from_rfc3339(text)
        .map(|at| at.with_timezone(&Utc))
        .map_err(|_| NotAnInstant(format!("{text:?}")))
}

/// Refuses an instant after `now`: no close has happened then, and a typo in the year would
/// otherwise pass silently as "nothing to reopen".
pub(super) fn check_not_future(
    since: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), HandlerError> {
    if since > now {
        return Err(HandlerError::InvalidReopenInstant(format!(
            "is {}, which is in the future (now is {})",
            since.to_rfc3339(),
            now.to_rfc3339()
        )));
    }
    Ok(())
}
