//! POST to an entity set: a new row ("Create a table row using the Web API"). The body is
//! checked by `payload` (columns, `@odata.bind` lookups, types, lengths, choices); the row gets
//! a new id unless the body names one, the application user as its author and the clock's time
//! as `createdon` and `modifiedon`. The answer is `204 No Content` with `OData-EntityId`, or,
//! under `Prefer: return=representation`, `201 Created` with the row (its `$select`ed columns)
//! and `Preference-Applied: return=representation`, and then no `OData-EntityId`, as the page
//! says.

use serde_json::Value;

use super::options::parse_options;
use super::payload::accepted_changes;
use super::read::{context_url, project};
use crate::ids::APPLICATION_USER_ID;
use crate::reply::{codes, dataverse_error, resource_not_found, Reply};
use crate::request::{Headers, API_PREFIX};
use crate::state::State;
use crate::store::key;

/// POST of a new row to `set`.
pub(super) fn create(
    state: &mut State,
    set: &str,
    query: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    let select = match state.store.table(set).map(|t| parse_options(query, t)) {
        Some(Ok(options)) => options.select,
        Some(Err(reply)) => return reply,
        None => return resource_not_found(set),
    };
    let mut row = match accepted_changes(&state.store, set, body) {
        Ok(row) => row,
        Err(reply) => return reply,
    };
    let Some(table) = state.store.table(set) else {
        return resource_not_found(set);
    };
    let primary_key = table.primary_key.clone();
    let id = match row.get(&primary_key).and_then(Value::as_str) {
        Some(id) if table.rows.contains_key(&key(id)) => {
            return dataverse_error(412, codes::DUPLICATE_RECORD, "Cannot insert duplicate key.")
        }
        Some(id) => key(id),
        None => state.rng.guid(),
    };
    row.insert(primary_key, Value::from(id.clone()));
    row.insert("_modifiedby_value".into(), Value::from(APPLICATION_USER_ID));
    state.store.insert(set, Value::Object(row));
    respond(state, set, &id, select.as_deref(), headers)
}

fn respond(
    state: &State,
    set: &str,
    id: &str,
    select: Option<&[String]>,
    headers: &Headers,
) -> Reply {
    let representation = headers
        .prefers("return")
        .is_some_and(|v| v.eq_ignore_ascii_case("representation"));
    let (Some(table), Some(row)) = (state.store.table(set), state.store.get(set, id)) else {
        return resource_not_found(set);
    };
    if !representation {
        let entity_id = format!("{}{API_PREFIX}{set}({id})", state.base_url);
        return Reply::empty(204).with_header("OData-EntityId", entity_id);
    }
    let mut value = project(row, table, select);
    if let Value::Object(object) = &mut value {
        let context = format!("{}/$entity", context_url(&state.base_url, set, select));
        object.insert("@odata.context".into(), Value::from(context));
    }
    Reply::json(201, &value).with_header("Preference-Applied", "return=representation")
}
