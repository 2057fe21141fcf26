//! The state and status pairs the function sets: a close's (`SESSION_CLOSED_STATECODE`,
//! `SESSION_CLOSED_STATUSCODE`) and a reopen's (`SESSION_ACTIVE_STATECODE`,
//! `SESSION_ACTIVE_STATUSCODE`). Each must name a state of the session table and a status that
//! belongs to that state, else every such change fails. Pure: the option sets are arguments.

use super::finding::Finding;
use crate::dataverse::metadata::StatusOption;
use crate::settings::{setting, Schema};

/// A state and status pair a sweep or a reopen sets, with the settings that name them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StatePair {
    /// `SESSION_CLOSED_STATECODE` or `SESSION_ACTIVE_STATECODE`.
    pub state_setting: &'static str,
    /// `SESSION_CLOSED_STATUSCODE` or `SESSION_ACTIVE_STATUSCODE`.
    pub status_setting: &'static str,
    /// The state in words: "closed", "active".
    pub meaning: &'static str,
    /// What fails when the pair is wrong: "close", "reopen".
    pub change: &'static str,
    /// Its usual state, for the fix.
    pub usual: &'static str,
    /// The statecode set.
    pub statecode: i64,
    /// The statuscode set with it.
    pub statuscode: i64,
}

/// Whether the pair's state exists and its status belongs to it.
pub(crate) fn pair_finding(
    table: &str,
    pair: StatePair,
    states: &[i64],
    statuses: &[StatusOption],
) -> Finding {
    let StatePair {
        state_setting,
        status_setting: subject,
        meaning,
        change,
        statecode,
        statuscode,
        ..
    } = pair;
    let of_state: Vec<String> = statuses
        .iter()
        .filter(|o| o.state == statecode)
        .map(|o| o.value.to_string())
        .collect();
    if !states.contains(&statecode) {
        let all: Vec<String> = states.iter().map(i64::to_string).collect();
        return Finding::error(
            state_setting,
            format!(
                "{state_setting} is {statecode}, which is not a state of {table} (its states: {})",
                all.join(", ")
            ),
            format!(
                "set {state_setting} to the state that means {meaning} (usually {})",
                pair.usual
            ),
        );
    }
    let fix = format!(
        "set {subject} to a status of state {statecode}: {}",
        of_state.join(" or ")
    );
    match statuses.iter().find(|o| o.value == statuscode) {
        None => Finding::error(
            subject,
            format!("{subject} is {statuscode}, which is not a status of {table}, so every {change} would fail"),
            fix,
        ),
        Some(option) if option.state != statecode => Finding::error(
            subject,
            format!("{subject} is {statuscode}, which belongs to state {}, not to the {meaning} state {statecode}, so every {change} would fail", option.state),
            fix,
        ),
        Some(_) => Finding::ok(
            subject,
            format!("status {statuscode} belongs to the {meaning} state {statecode}"),
        ),
    }
}

/// The pair a close sets, then the pair a reopen sets.
pub(super) fn pairs(schema: &Schema) -> [StatePair; 2] {
    [
        StatePair {
            state_setting: setting::SESSION_CLOSED_STATECODE.name,
            status_setting: setting::SESSION_CLOSED_STATUSCODE.name,
            meaning: "closed",
            change: "close",
            usual: "1, Inactive",
            statecode: schema.closed_statecode,
            statuscode: schema.closed_statuscode,
        },
        StatePair {
            state_setting: setting::SESSION_ACTIVE_STATECODE.name,
            status_setting: setting::SESSION_ACTIVE_STATUSCODE.name,
            meaning: "active",
            change: "reopen",
            usual: "0, Active",
            statecode: schema.active_statecode,
            statuscode: schema.active_statuscode,
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(value: i64, state: i64) -> StatusOption {
        StatusOption {
            value,
            state,
            transition_data: None,
        }
    }

    #[test]
    fn a_status_of_another_state_is_an_error_naming_the_right_ones() {
        let statuses = [status(1, 0), status(2, 1), status(3, 1)];
        let pair = StatePair {
            state_setting: "SESSION_CLOSED_STATECODE",
            status_setting: "SESSION_CLOSED_STATUSCODE",
            meaning: "closed",
            change: "close",
            usual: "1, Inactive",
            statecode: 1,
            statuscode: 1,
        };
        let finding = pair_finding("w4d_chatsession", pair, &[0, 1], &statuses);
        assert!(
            finding.message.contains("belongs to state 0"),
            "{}",
            finding.message
        );
        assert!(finding.fix.unwrap().ends_with("2 or 3"));
    }
}
