//! Enforced state transitions ("Define custom state model transitions"): a table whose
//! `EnforceStateTransitions` is true lets a row change status only along the transitions each
//! status option's `TransitionData` lists. A close moves a session from any active status to
//! `SESSION_CLOSED_STATUSCODE`, a reopen from that status back to `SESSION_ACTIVE_STATUSCODE`;
//! where the transitions forbid that, every such change fails. Pure: the options are arguments.

use super::finding::Finding;
use crate::dataverse::metadata::StatusOption;
use crate::settings::{setting, Schema};

/// What the enforced transitions do to closes and reopens; nothing when they are not enforced.
pub fn findings(
    table: &str,
    enforced: bool,
    schema: &Schema,
    statuses: &[StatusOption],
) -> Vec<Finding> {
    if !enforced {
        return Vec::new();
    }
    vec![
        close_finding(table, schema, statuses),
        reopen_finding(table, schema, statuses),
    ]
}

/// Whether every active status may move to the closed status.
fn close_finding(table: &str, schema: &Schema, statuses: &[StatusOption]) -> Finding {
    let closed = schema.closed_statuscode;
    let stuck: Vec<String> = statuses
        .iter()
        .filter(|o| o.state == schema.active_statecode && o.value != closed)
        .filter(|o| !o.allows(closed))
        .map(|o| o.value.to_string())
        .collect();
    if stuck.is_empty() {
        return Finding::ok(
            setting::SESSION_CLOSED_STATUSCODE.name,
            format!("{table} enforces its state transitions, and every active status may move to status {closed}"),
        );
    }
    Finding::error(
        setting::SESSION_CLOSED_STATUSCODE.name,
        format!(
            "{table} enforces its state transitions, and the active status {} may not move to status {closed}, so every close of a session in that status would fail",
            stuck.join(", ")
        ),
        format!(
            "allow the transition from {} to {closed} (Power Apps → the table → the Status Reason column → Edit status reason transitions), or set SESSION_CLOSED_STATUSCODE to a closed status it may move to",
            stuck.join(", ")
        ),
    )
}

/// Whether the closed status may move back to the active status.
fn reopen_finding(table: &str, schema: &Schema, statuses: &[StatusOption]) -> Finding {
    let (closed, active) = (schema.closed_statuscode, schema.active_statuscode);
    let allowed = statuses
        .iter()
        .find(|o| o.value == closed)
        .is_none_or(|o| o.allows(active));
    if allowed {
        return Finding::ok(
            setting::SESSION_ACTIVE_STATUSCODE.name,
            format!("{table} enforces its state transitions, and status {closed} may move back to status {active}"),
        );
    }
    Finding::error(
        setting::SESSION_ACTIVE_STATUSCODE.name,
        format!("{table} enforces its state transitions, and status {closed} may not move to status {active}, so every reopen would fail"),
        format!("allow the transition from {closed} to {active} (Power Apps → the table → the Status Reason column → Edit status reason transitions), or set SESSION_ACTIVE_STATUSCODE to an active status {closed} may move to"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::Severity;
    use crate::settings::tests::default_schema as schema;

    /// A status option whose `TransitionData` allows `to`.
    fn option(value: i64, state: i64, to: &[i64]) -> StatusOption {
        let transitions: String = to
            .iter()
            .map(|t| format!("<allowedtransition sourcestatusid=\"{value}\" tostatusid=\"{t}\" />"))
            .collect();
        StatusOption {
            value,
            state,
            transition_data: Some(format!(
                "<allowedtransitions xmlns=\"http://schemas.microsoft.com/crm/2009/WebServices\">{transitions}</allowedtransitions>"
            )),
        }
    }

    #[test]
    fn an_active_status_that_may_not_move_to_the_closed_status_is_an_error() {
        let statuses = [option(1, 0, &[3]), option(2, 1, &[1]), option(3, 1, &[1])];

        let found = findings("w4d_chatsession", true, &schema(), &statuses);

        assert_eq!(found[0].subject, "SESSION_CLOSED_STATUSCODE");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(
            found[0]
                .message
                .contains("active status 1 may not move to status 2"),
            "{}",
            found[0].message
        );
        assert_eq!(found[1].severity, Severity::Ok);
    }

    #[test]
    fn a_closed_status_that_may_not_move_back_to_the_active_status_is_a_reopen_error() {
        let statuses = [option(1, 0, &[2]), option(2, 1, &[]), option(3, 1, &[1])];

        let found = findings("w4d_chatsession", true, &schema(), &statuses);

        assert_eq!(found[0].severity, Severity::Ok);
        assert_eq!(found[1].subject, "SESSION_ACTIVE_STATUSCODE");
        assert_eq!(found[1].severity, Severity::Error);
    }

    #[test]
    fn transitions_that_are_not_enforced_say_nothing() {
        let statuses = [option(1, 0, &[]), option(2, 1, &[])];

        assert!(findings("w4d_chatsession", false, &schema(), &statuses).is_empty());
    }
}
