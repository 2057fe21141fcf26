//! Pure judgements on the Dataverse action that sends a message (`MESSAGE_ACTION`): whether it
//! is a custom API or a custom process action that can be called as configured (its name,
//! bound to the session table or unbound as `MESSAGE_ACTION_BOUND` says), and, for a custom
//! API, whether it takes every parameter `MESSAGE_ACTION_PARAMETERS` names, with a value of
//! the right JSON type, and is given every parameter it requires. Nothing here performs I/O.

use super::finding::Finding;
use crate::dataverse::metadata::{ApiParameter, CustomApi, ParameterType, ProcessAction};
use crate::settings::{setting, MessageAction};
use serde_json::Value;

const NAME: &str = setting::MESSAGE_ACTION.name;
const BOUND: &str = setting::MESSAGE_ACTION_BOUND.name;
const PARAMETERS: &str = setting::MESSAGE_ACTION_PARAMETERS.name;

/// No custom API and no custom process action has the configured name.
pub(crate) fn action_not_found(action: &MessageAction) -> Finding {
    Finding::error(
        NAME,
        format!("no custom API and no custom process action of this environment has the unique name {}", action.name),
        format!("set {NAME} to the action's unique name with its publisher prefix (Power Apps → Solutions → the WhatsApp solution → Custom APIs, or Processes of type Action)"),
    )
}

/// The findings about a custom API: its name and kind, its binding, its parameters.
pub(crate) fn custom_api_findings(
    action: &MessageAction,
    api: &CustomApi,
    session_table: &str,
) -> Vec<Finding> {
    let name = &api.unique_name;
    let named = if *name != action.name.as_str() {
        case_error(action, name)
    } else if api.is_function {
        Finding::error(
            NAME,
            format!("{name} is a custom API defined as a function, which is called with GET and cannot send a message as an action"),
            format!("set {NAME} to a custom API that is not a function"),
        )
    } else {
        Finding::ok(NAME, format!("{name} is a custom API"))
    };
    let bound = match (action.bound, api.binding_type) {
        (_, 1) => bound_to(
            action,
            name,
            api.bound_table.as_deref().unwrap_or("?"),
            session_table,
        ),
        (_, 0) => unbound(action, name),
        (_, 2) => Finding::error(
            BOUND,
            format!(
                "{name} is bound to a collection of {} rows, which this function never calls",
                api.bound_table.as_deref().unwrap_or("?")
            ),
            format!("set {NAME} to an action bound to one session ({session_table}) or unbound"),
        ),
        (_, other) => Finding::error(
            BOUND,
            format!("{name} has the binding type {other}, which Dataverse does not document"),
            format!("set {NAME} to an action bound to {session_table} or unbound"),
        ),
    };
    vec![named, bound, parameters_finding(action, api)]
}

/// The findings about a custom process action: its name and state, its primary table, and
/// that its parameters could not be checked.
pub(crate) fn process_action_findings(
    action: &MessageAction,
    process: &ProcessAction,
    session_table: &str,
) -> Vec<Finding> {
    let name = &process.unique_name;
    let named = if *name != action.name.as_str() {
        case_error(action, name)
    } else if !process.activated {
        Finding::error(
            NAME,
            format!("{name} is a custom process action that is not activated, so calling it fails"),
            format!("activate {name} (Power Apps → Solutions → the solution → Processes)"),
        )
    } else {
        Finding::ok(
            NAME,
            format!("{name} is an activated custom process action"),
        )
    };
    let bound = if process.primary_table.eq_ignore_ascii_case("none") {
        unbound(action, name)
    } else {
        bound_to(action, name, &process.primary_table, session_table)
    };
    let parameters = Finding::warning(
        PARAMETERS,
        format!("{name} is a custom process action: its input arguments are defined inside the process, not in a table the Web API can read, so {PARAMETERS} could not be checked against them"),
        format!("compare {PARAMETERS} with the action's input arguments in its process editor, and send one message by calling it once by hand"),
    );
    vec![named, bound, parameters]
}

fn case_error(action: &MessageAction, real: &str) -> Finding {
    Finding::error(
        NAME,
        format!("{NAME} is \"{}\", but the action's unique name is {real}, and the Web API calls an action by its exact name", action.name),
        format!("set {NAME} to {real}"),
    )
}

/// An action bound to `table` against the configured binding.
fn bound_to(action: &MessageAction, name: &str, table: &str, session_table: &str) -> Finding {
    let sessions = table.eq_ignore_ascii_case(session_table);
    match (action.bound, sessions) {
        (true, true) => Finding::ok(BOUND, format!("{name} is bound to the session table {session_table}, as configured")),
        (false, true) => Finding::error(
            BOUND,
            format!("{name} is bound to the session table {session_table}, but {BOUND} is false, so it would be called unbound and fail"),
            format!("set {BOUND} to true"),
        ),
        (_, false) => Finding::error(
            BOUND,
            format!("{name} is bound to {table}, not to the session table {session_table}, so it cannot be called on a session"),
            format!("set {NAME} to an action bound to {session_table} or unbound"),
        ),
    }
}

fn unbound(action: &MessageAction, name: &str) -> Finding {
    if action.bound {
        Finding::error(
            BOUND,
            format!("{name} is unbound (global), but {BOUND} is true, so it would be called on a session and fail"),
            format!("set {BOUND} to false"),
        )
    } else {
        Finding::ok(BOUND, format!("{name} is unbound, as configured"))
    }
}

/// Every parameter named is one the API takes, with a value of its type, and every
/// parameter it requires is given.
fn parameters_finding(action: &MessageAction, api: &CustomApi) -> Finding {
    let name = &api.unique_name;
    let known: Vec<String> = api.parameters.iter().map(|p| p.name.clone()).collect();
    for (parameter, value) in &action.parameters {
        let Some(taken) = api.parameters.iter().find(|p| p.name == parameter.as_str()) else {
            let near = api
                .parameters
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(parameter.as_str()));
            let fix = match near {
                Some(near) => format!("write {} in {PARAMETERS}: parameter names are case-sensitive", near.name),
                None => format!("remove {parameter} from {PARAMETERS}, or correct it to one of the parameters {name} takes"),
            };
            return Finding::error(
                PARAMETERS,
                format!(
                    "{name} takes no parameter {parameter}; it takes {}",
                    names(&known)
                ),
                fix,
            )
            .suggesting(known);
        };
        if let Some(expected) = type_problem(taken, value) {
            return Finding::error(
                PARAMETERS,
                format!("{parameter} = {value}, but {name} takes {expected} as {parameter}"),
                format!("give {parameter} {expected} in {PARAMETERS}"),
            );
        }
    }
    let missing: Vec<&str> = api
        .parameters
        .iter()
        .filter(|p| {
            !p.optional
                && !action
                    .parameters
                    .iter()
                    .any(|(given, _)| given.as_str() == p.name)
        })
        .map(|p| p.name.as_str())
        .collect();
    if !missing.is_empty() {
        return Finding::error(
            PARAMETERS,
            format!(
                "{name} requires {}, which {PARAMETERS} does not give, so every call would fail",
                missing.join(", ")
            ),
            format!("add {} to {PARAMETERS}", missing.join(", ")),
        );
    }
    Finding::ok(
        PARAMETERS,
        format!(
            "{name} takes every parameter named and is given every one it requires ({})",
            names(&known)
        ),
    )
}

/// What `parameter` takes, when `value` does not fit it.
fn type_problem(parameter: &ApiParameter, value: &Value) -> Option<String> {
    let fits = match parameter.kind {
        ParameterType::Boolean => value.is_boolean(),
        ParameterType::Integer => value.is_i64(),
        ParameterType::Number => value.is_number(),
        ParameterType::String | ParameterType::DateTime | ParameterType::Guid => value.is_string(),
        ParameterType::Entity | ParameterType::StringArray | ParameterType::Other(_) => false,
    };
    let expected = match parameter.kind {
        ParameterType::Boolean => "true or false",
        ParameterType::Integer => "a whole number",
        ParameterType::Number => "a number",
        ParameterType::String => "a text",
        ParameterType::DateTime => "a date and time as text",
        ParameterType::Guid => "a GUID as text (such as \"{session_id}\")",
        ParameterType::Entity => "a row or a reference to one, which a JSON scalar cannot be",
        ParameterType::StringArray => "a list of texts, which a JSON scalar cannot be",
        ParameterType::Other(_) => "a type this function cannot send",
    };
    (!fits).then(|| expected.to_owned())
}

fn names(known: &[String]) -> String {
    if known.is_empty() {
        "no parameters".into()
    } else {
        known.join(", ")
    }
}

#[cfg(test)]
mod tests;
