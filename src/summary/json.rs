//! The summary's JSON, key by key in the order the README documents. Written by hand because
//! one capped list is three keys (`skipped`, `skipped_count`, `skipped_truncated`) and the
//! session lists (warnings' included) share one `sessions_truncated`. The warning keys are
//! written only when warnings are on, the closing-message key only with closing messages.

use super::{Capped, Summary};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// An instant as every output of the function writes it: UTC to the second, `Z`.
pub(crate) fn utc(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Writes `key` only when `value` is set.
fn optional<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    value: Option<T>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, &value),
        None => Ok(()),
    }
}

/// Writes a list only when it holds something.
fn non_empty<M: SerializeMap, T: Serialize>(
    map: &mut M,
    key: &str,
    list: &Capped<T>,
) -> Result<(), M::Error> {
    optional(map, key, (!list.is_empty()).then_some(&list[..]))
}

/// Writes a flag only when it is true.
fn flag<M: SerializeMap>(map: &mut M, key: &str, value: bool) -> Result<(), M::Error> {
    optional(map, key, value.then_some(true))
}

impl Serialize for Summary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("evaluated_at", &utc(self.evaluated_at))?;
        map.serialize_entry("dry_run", &self.dry_run)?;
        optional(
            &mut map,
            "reopen_closed_since",
            self.reopen_closed_since.map(utc),
        )?;
        map.serialize_entry("complete", &self.complete)?;
        optional(
            &mut map,
            "incomplete_because",
            (!self.incomplete_because.is_empty()).then_some(&self.incomplete_because),
        )?;
        map.serialize_entry("configurations", &self.configurations)?;
        map.serialize_entry("eligible", &self.eligible)?;
        map.serialize_entry("closed", &self.closed())?;
        map.serialize_entry("closed_by_configuration", &self.closed_by_configuration)?;
        map.serialize_entry("deferred", &self.deferred)?;
        optional(&mut map, "would_close", self.would_close())?;
        map.serialize_entry("closed_sessions", &self.closed_sessions[..])?;
        non_empty(&mut map, "would_close_sessions", &self.would_close_sessions)?;
        optional(&mut map, "reopened", self.reopened())?;
        optional(&mut map, "would_reopen", self.would_reopen())?;
        non_empty(&mut map, "reopened_sessions", &self.reopened_sessions)?;
        non_empty(
            &mut map,
            "would_reopen_sessions",
            &self.would_reopen_sessions,
        )?;
        let notices = &self.notices;
        if notices.warnings {
            if let Some(warned) = &notices.warned {
                map.serialize_entry("warned", &warned.total())?;
                map.serialize_entry("warned_sessions", &warned[..])?;
            }
            if let Some(would_warn) = notices.would_warn.as_ref().filter(|_| self.dry_run) {
                map.serialize_entry("would_warn", &would_warn.total())?;
                map.serialize_entry("would_warn_sessions", &would_warn[..])?;
            }
            map.serialize_entry("warnings_outside_window", &notices.warnings_outside_window)?;
            if let Some(failed) = &notices.warnings_failed {
                map.serialize_entry("warnings_failed", &failed.total())?;
                non_empty(&mut map, "warnings_failed_sessions", failed)?;
                flag(&mut map, "warnings_failed_truncated", failed.truncated())?;
            }
        }
        if notices.closing_messages {
            map.serialize_entry(
                "closing_messages_outside_window",
                &notices.closing_messages_outside_window,
            )?;
        }
        let warning_lists = [&notices.warned, &notices.would_warn];
        let sessions_truncated = [
            &self.closed_sessions,
            &self.would_close_sessions,
            &self.reopened_sessions,
            &self.would_reopen_sessions,
        ]
        .iter()
        .any(|list| list.truncated())
            || warning_lists
                .iter()
                .any(|list| list.as_ref().is_some_and(|list| list.truncated()));
        flag(&mut map, "sessions_truncated", sessions_truncated)?;
        map.serialize_entry("skipped", &self.skipped[..])?;
        map.serialize_entry("skipped_count", &self.skipped.total())?;
        flag(&mut map, "skipped_truncated", self.skipped.truncated())?;
        map.serialize_entry("awaiting_agent", &self.awaiting_agent)?;
        map.serialize_entry("failed", &self.failed[..])?;
        map.serialize_entry("failed_count", &self.failed.total())?;
        flag(&mut map, "failed_truncated", self.failed.truncated())?;
        map.serialize_entry("outcome_unknown", &self.outcome_unknown.total())?;
        non_empty(&mut map, "outcome_unknown_sessions", &self.outcome_unknown)?;
        flag(
            &mut map,
            "outcome_unknown_truncated",
            self.outcome_unknown.truncated(),
        )?;
        map.serialize_entry("unreadable", &self.unreadable.total())?;
        non_empty(&mut map, "unreadable_rows", &self.unreadable)?;
        flag(
            &mut map,
            "unreadable_truncated",
            self.unreadable.truncated(),
        )?;
        map.serialize_entry("requests", &self.requests)?;
        map.serialize_entry("duration_ms", &self.duration_ms)?;
        optional(&mut map, "next_wake_at", self.next_wake_at.map(utc))?;
        optional(&mut map, "wake_error", self.wake_error.as_ref())?;
        optional(&mut map, "events_failed", self.events_failed)?;
        map.end()
    }
}
