//! What each lifecycle event says: its detail-type and its detail, built from what the sweep
//! reports. Pure: every instant is an argument, and nothing here sends anything.

use crate::ids::Guid;
use crate::policy::within_customer_service_window;
use crate::summary::{utc, SessionReport, Summary};
use chrono::{DateTime, Utc};
use serde_json::{json, Map, Value};

/// What happened to a session, as its event's detail-type says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEventKind {
    /// Dataverse confirmed the close.
    Closed,
    /// Dataverse confirmed the reopen (undo).
    Reopened,
    /// Dataverse confirmed the warning (the warned-at write and what travelled with it).
    Warned,
}

impl SessionEventKind {
    /// The event's `detail-type`.
    pub fn detail_type(self) -> &'static str {
        match self {
            SessionEventKind::Closed => "Session Closed",
            SessionEventKind::Reopened => "Session Reopened",
            SessionEventKind::Warned => "Session Warned",
        }
    }

    /// The detail's field holding the instant of the change.
    fn instant_field(self) -> &'static str {
        match self {
            SessionEventKind::Closed => "closed_at",
            SessionEventKind::Reopened => "reopened_at",
            SessionEventKind::Warned => "warned_at",
        }
    }
}

/// The `detail-type` of the event that ends every sweep and reopen run.
pub const SWEEP_FINISHED: &str = "Sweep Finished";

/// One event ready to publish, with the ids its log lines carry.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleEvent {
    /// The event's `detail-type`.
    pub detail_type: &'static str,
    /// The event's `detail`, as JSON text.
    pub detail: String,
    /// The session it is about, for the logs; `None` for Sweep Finished.
    pub session_id: Option<Guid>,
    /// The configuration whose timeout applied, for the logs.
    pub configuration_id: Option<Guid>,
}

impl LifecycleEvent {
    /// The event for a change of `kind` Dataverse confirmed at `at` for `session` (as the
    /// summary reports it), in the invocation `request_id`.
    pub fn session(
        kind: SessionEventKind,
        session: &SessionReport,
        at: DateTime<Utc>,
        request_id: &str,
    ) -> Self {
        let mut detail = Map::new();
        detail.insert("session_id".into(), json!(session.id));
        detail.insert("configuration_id".into(), json!(session.configuration_id));
        detail.insert(
            "last_customer_message_at".into(),
            json!(session.last_customer_message_at.map(utc)),
        );
        detail.insert("eligible_at".into(), json!(utc(session.eligible_at)));
        detail.insert(kind.instant_field().into(), json!(utc(at)));
        detail.insert("overdue_seconds".into(), json!(session.overdue_seconds));
        detail.insert(
            "within_customer_service_window".into(),
            json!(within_customer_service_window(
                session.last_customer_message_at,
                at
            )),
        );
        if session.no_active_configuration {
            detail.insert("no_active_configuration".into(), json!(true));
        }
        detail.insert("request_id".into(), json!(request_id));
        LifecycleEvent {
            detail_type: kind.detail_type(),
            detail: Value::Object(detail).to_string(),
            session_id: Some(session.id.clone()),
            configuration_id: Some(session.configuration_id.clone()),
        }
    }

    /// The event that ends a sweep or reopen run: every count, flag and instant of its
    /// summary, `incomplete_because`, and no list of sessions, so it stays small whatever the
    /// sweep closed.
    pub fn sweep_finished(summary: &Summary, request_id: &str) -> Self {
        let mut detail = match serde_json::to_value(summary) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
        // The lists are what makes a summary large; their counts stay (`skipped_count`,
        // `failed_count`, `outcome_unknown`, ...), and so does why the sweep stopped early.
        detail.retain(|key, value| {
            key == "incomplete_because" || !(value.is_array() || key.ends_with("_truncated"))
        });
        detail.insert("dry_run".into(), json!(summary.dry_run()));
        detail.insert("complete".into(), json!(summary.complete()));
        detail.insert("request_id".into(), json!(request_id));
        LifecycleEvent {
            detail_type: SWEEP_FINISHED,
            detail: Value::Object(detail).to_string(),
            session_id: None,
            configuration_id: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Incomplete;
    use chrono::Duration;
    use chrono::TimeZone;

    const SESSION: &str = "5e551000-0000-4000-8000-000000000001";
    const CONFIGURATION: &str = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn report(last: Option<DateTime<Utc>>) -> SessionReport {
        SessionReport {
            id: Guid::parse(SESSION).unwrap(),
            configuration_id: Guid::parse(CONFIGURATION).unwrap(),
            no_active_configuration: false,
            last_customer_message_at: last,
            eligible_at: at() - Duration::hours(1),
            overdue_seconds: 3600,
        }
    }

    fn detail(event: &LifecycleEvent) -> Value {
        serde_json::from_str(&event.detail).unwrap()
    }

    #[test]
    fn a_session_closed_event_carries_the_session_its_timing_and_the_request() {
        let last = at() - Duration::hours(2);

        let event =
            LifecycleEvent::session(SessionEventKind::Closed, &report(Some(last)), at(), "req-1");

        assert_eq!(event.detail_type, "Session Closed");
        assert_eq!(
            detail(&event),
            json!({
                "session_id": SESSION,
                "configuration_id": CONFIGURATION,
                "last_customer_message_at": "2026-11-24T13:00:00Z",
                "eligible_at": "2026-11-24T14:00:00Z",
                "closed_at": "2026-11-24T15:00:00Z",
                "overdue_seconds": 3600,
                "within_customer_service_window": true,
                "request_id": "req-1",
            })
        );
    }

    #[test]
    fn a_reopen_and_a_warning_name_their_own_instant() {
        let session = report(Some(at()));
        for (kind, detail_type, field) in [
            (
                SessionEventKind::Reopened,
                "Session Reopened",
                "reopened_at",
            ),
            (SessionEventKind::Warned, "Session Warned", "warned_at"),
        ] {
            let event = LifecycleEvent::session(kind, &session, at(), "req-1");

            assert_eq!(event.detail_type, detail_type);
            assert_eq!(detail(&event)[field], "2026-11-24T15:00:00Z");
            assert!(detail(&event).get("closed_at").is_none());
        }
    }

    #[test]
    fn a_session_without_a_customer_message_has_a_null_instant_and_no_open_window() {
        let event = LifecycleEvent::session(SessionEventKind::Closed, &report(None), at(), "r");

        let detail = detail(&event);
        assert_eq!(detail["last_customer_message_at"], Value::Null);
        assert_eq!(detail["within_customer_service_window"], false);
    }

    #[test]
    fn sweep_finished_carries_the_counts_and_why_it_stopped_but_no_list() {
        let mut summary = Summary::new(at(), false);
        summary.record_closed(report(Some(at())));
        summary.record_failed(SESSION.into(), "403: denied".into(), Some(403), 10);
        summary.mark_incomplete(Incomplete::Cap);

        let event = LifecycleEvent::sweep_finished(&summary, "req-9");

        let detail = detail(&event);
        assert_eq!(event.detail_type, "Sweep Finished");
        assert_eq!(
            (
                &detail["closed"],
                &detail["failed_count"],
                &detail["eligible"]
            ),
            (&json!(1), &json!(1), &json!(2))
        );
        assert_eq!(
            (&detail["complete"], &detail["dry_run"]),
            (&json!(false), &json!(false))
        );
        assert_eq!(detail["incomplete_because"], json!(["cap"]));
        assert_eq!(detail["request_id"], "req-9");
        let lists: Vec<&String> = detail
            .as_object()
            .unwrap()
            .iter()
            .filter(|(key, value)| value.is_array() && *key != "incomplete_because")
            .map(|(key, _)| key)
            .collect();
        assert!(lists.is_empty(), "lists in Sweep Finished: {lists:?}");
    }
}
