//! PATCH of one row: the body's columns and lookups checked against the table, `If-Match`
//! and `If-None-Match` as Dataverse applies them (without `If-Match` a PATCH is an upsert),
//! the application user and the time recorded as the row's last change.

use serde_json::{Map, Value};

use super::read::{context_url, project};
use crate::ids::APPLICATION_USER_ID;
use crate::reply::{codes, dataverse_error, resource_not_found, row_not_found, Reply};
use crate::request::{parse_resource, Headers, API_PREFIX};
use crate::state::State;
use crate::store::{etag, key, Row, TableState};

/// PATCH of `set(id)` with a JSON body.
pub(super) fn patch(
    state: &mut State,
    set: &str,
    id: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    let Some(table) = state.store.table(set) else {
        return resource_not_found(set);
    };
    let accepted = match accepted_changes(table, body) {
        Ok(accepted) => accepted,
        Err(reply) => return reply,
    };
    if let Err(reply) = apply(state, set, id, headers, accepted) {
        return reply;
    }
    respond(state, set, id, headers)
}

/// The body's changes as columns of the row: `nav@odata.bind` becomes `_nav_value`,
/// annotations are dropped, and a property the table lacks is refused.
fn accepted_changes(table: &TableState, body: &[u8]) -> Result<Map<String, Value>, Reply> {
    let entity = &table.entity_name;
    let changes = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(dataverse_error(
                400,
                codes::BAD_PAYLOAD,
                format!("Error identified in Payload provided by the user for Entity :'{entity}'. The request body must be a JSON object."),
            ))
        }
    };
    let mut accepted = Map::new();
    for (name, value) in changes {
        if let Some(navigation) = name.strip_suffix("@odata.bind") {
            let (column, value) = bound_lookup(table, &name, navigation, &value)?;
            accepted.insert(column, value);
        } else if name.starts_with('@') || name.contains("@odata.") {
            continue;
        } else if !table.has_column(&name) {
            return Err(undeclared_property(&name, entity));
        } else {
            accepted.insert(name, value);
        }
    }
    Ok(accepted)
}

/// `nav@odata.bind: "/set(id)"` sets the lookup column `_nav_value` (`null` clears it).
fn bound_lookup(
    table: &TableState,
    name: &str,
    navigation: &str,
    value: &Value,
) -> Result<(String, Value), Reply> {
    let column = format!("_{navigation}_value");
    if !table.has_column(&column) {
        return Err(undeclared_property(navigation, &table.entity_name));
    }
    let target = value.as_str().and_then(|s| {
        let s = s.rsplit('/').next()?;
        parse_resource(s).ok()?.id
    });
    match (target, value) {
        (Some(target), _) => Ok((column, Value::from(key(&target)))),
        (None, Value::Null) => Ok((column, Value::Null)),
        (None, _) => Err(dataverse_error(
            400,
            codes::BAD_PAYLOAD,
            format!("The value of '{name}' is not a valid entity reference."),
        )),
    }
}

/// Checks the preconditions against the row as it is, then creates or merges it.
fn apply(
    state: &mut State,
    set: &str,
    id: &str,
    headers: &Headers,
    accepted: Map<String, Value>,
) -> Result<(), Reply> {
    let Some(table) = state.store.table(set) else {
        return Err(resource_not_found(set));
    };
    let existing = table.rows.get(&key(id));
    let if_match = headers.get("If-Match");
    match (existing, if_match) {
        (None, Some(_)) => return Err(row_not_found(&table.entity_name, id)),
        (Some(row), Some(tag)) if !etag_matches(tag, row) => return Err(dataverse_error(
            412,
            codes::CONCURRENCY_VERSION_MISMATCH,
            "The version of the existing record doesn't match the RowVersion property provided.",
        )),
        (Some(_), _)
            if headers
                .get("If-None-Match")
                .is_some_and(|v| v.trim() == "*") =>
        {
            // Upsert that must only create: the row exists.
            return Err(dataverse_error(
                412,
                codes::CONCURRENCY_VERSION_MISMATCH,
                "A record with matching key values already exists.",
            ));
        }
        (None, None) => {
            // Dataverse treats PATCH without If-Match as an upsert: the row is created.
            let primary_key = table.primary_key.clone();
            let mut row = accepted;
            row.insert(primary_key, Value::from(key(id)));
            row.insert("_modifiedby_value".into(), Value::from(APPLICATION_USER_ID));
            state.store.insert(set, Value::Object(row));
        }
        (Some(row), _) => {
            let from = row.get("statuscode").and_then(Value::as_i64);
            let to = accepted.get("statuscode").and_then(Value::as_i64);
            if let (Some(from), Some(to)) = (from, to) {
                if !table.allows_status_change(from, to) {
                    return Err(dataverse_error(
                        400,
                        codes::UNEXPECTED,
                        format!("{} enforces its state transitions, and status {from} may not move to status {to}.", table.entity_name),
                    ));
                }
            }
            state.store.merge(set, id, &accepted, APPLICATION_USER_ID);
        }
    }
    Ok(())
}

/// 204 with `OData-EntityId`, or 200 with the row under `Prefer: return=representation`.
fn respond(state: &State, set: &str, id: &str, headers: &Headers) -> Reply {
    let entity_id = format!("{}{API_PREFIX}{set}({})", state.base_url, key(id));
    let representation = headers
        .prefers("return")
        .is_some_and(|v| v.eq_ignore_ascii_case("representation"));
    match (
        representation,
        state.store.table(set),
        state.store.get(set, id),
    ) {
        (true, Some(table), Some(row)) => {
            let mut value = project(row, table, None);
            if let Value::Object(object) = &mut value {
                let context = format!("{}/$entity", context_url(&state.base_url, set, None));
                object.insert("@odata.context".into(), Value::from(context));
            }
            Reply::json(200, &value).with_header("OData-EntityId", entity_id)
        }
        _ => Reply::empty(204).with_header("OData-EntityId", entity_id),
    }
}

/// True when an `If-Match` value matches the row's ETag (`*` matches any row).
fn etag_matches(if_match: &str, row: &Row) -> bool {
    let current = etag(row);
    let bare = |t: &str| {
        t.trim()
            .trim_start_matches("W/")
            .trim_matches('"')
            .to_string()
    };
    if_match
        .split(',')
        .any(|candidate| candidate.trim() == "*" || bare(candidate) == bare(&current))
}

/// ODataLib's payload error for a property the type does not declare.
fn undeclared_property(name: &str, entity: &str) -> Reply {
    dataverse_error(
        400,
        codes::QUERY_SYNTAX,
        format!("The property '{name}' does not exist on type 'Microsoft.Dynamics.CRM.{entity}'. Make sure to only use property names that are defined by the type or mark the type as open type."),
    )
}
