//! PATCH of one row: the body checked by `payload` (columns, lookups, types), `If-Match`
//! and `If-None-Match` as Dataverse applies them (without `If-Match` a PATCH is an upsert),
//! the application user and the time recorded as the row's last change.

use serde_json::{Map, Value};

use super::payload::accepted_changes;

use super::read::{context_url, project};
use crate::ids::APPLICATION_USER_ID;
use crate::reply::{codes, dataverse_error, resource_not_found, row_not_found, Reply};
use crate::request::{Headers, API_PREFIX};
use crate::state::State;
use crate::store::{etag, key, Row};

/// PATCH of `set(id)` with a JSON body.
pub(super) fn patch(
    state: &mut State,
    set: &str,
    id: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    let accepted = match accepted_changes(&state.store, set, body) {
        Ok(accepted) => accepted,
        Err(reply) => return reply,
    };
    if let Err(reply) = apply(state, set, id, headers, accepted) {
        return reply;
    }
    respond(state, set, id, headers)
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
