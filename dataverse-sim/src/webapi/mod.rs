//! Single Web API operations on the store: GET of a collection (with `$select`, `$filter`,
//! `$orderby`, `$top`, paging) or of one row, POST of a new row, PATCH of one row with
//! `If-Match` (recording the application user and the time as the row's last change), the
//! `WhoAmI` function, custom API actions, and the
//! metadata requests, which [`dispatch`] hands to `metadata`. Both a top-level request and an
//! operation inside a `$batch` come through [`dispatch`], so they behave identically.
//!
//! - `options`: the GET query options, checked against the table.
//! - `order`: the total order of `$orderby` and paging.
//! - `read`: GET of a collection (key-based paging) or of one row.
//! - `write`: PATCH with its preconditions.
//! - `create`: POST of a new row.
//! - `action`: custom API actions, bound and unbound, as the org's `customapis` declare them.
//! - `payload`: the body of a POST or PATCH, checked against the table.

mod action;
mod create;
mod options;
mod order;
mod payload;
mod read;
mod write;

use serde_json::Value;

use crate::access::denied;
use crate::ids::{APPLICATION_USER_ID, BUSINESS_UNIT_ID, ORGANIZATION_ID};
use crate::reply::{codes, dataverse_error, resource_not_found, Reply};
use crate::request::{parse_resource, Headers, API_PREFIX};
use crate::state::State;

/// Runs one Web API operation. `target` is the part after `/api/data/v9.2/`, query included.
pub(crate) fn dispatch(
    state: &mut State,
    method: &str,
    target: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    if let Some(reply) = crate::metadata::dispatch(state, method, target) {
        return reply;
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path == "WhoAmI" || path == "WhoAmI()" {
        return who_am_i(state, method);
    }
    if let Some(call) = action::parse_call(state, path) {
        return match call {
            Ok(call) => action::call(state, method, call, body),
            Err(reply) => reply,
        };
    }
    let resource = match parse_resource(path) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if state.store.table(&resource.set).is_none() {
        return resource_not_found(&resource.set);
    }
    if method == "GET" {
        if let Some(reply) = denied(state, &resource.set) {
            return reply;
        }
    }
    match (method, resource.id) {
        ("GET", None) => {
            state.stats.reads += 1;
            read::get_collection(state, &resource.set, query, headers)
        }
        ("GET", Some(id)) => {
            state.stats.reads += 1;
            read::get_row(state, &resource.set, &id, query)
        }
        ("POST", None) => {
            state.stats.creates += 1;
            create::create(state, &resource.set, query, headers, body)
        }
        ("PATCH", Some(id)) => {
            state.stats.patches += 1;
            write::patch(state, &resource.set, &id, headers, body)
        }
        (other, _) => dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            format!(
                "The HTTP method '{other}' is not supported by dataverse-sim for this resource."
            ),
        ),
    }
}

/// The unbound `WhoAmI` function: the application user the bearer token stands for, as the
/// `WhoAmIResponse` complex type.
fn who_am_i(state: &mut State, method: &str) -> Reply {
    if method != "GET" {
        return dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            format!("The HTTP method '{method}' is not supported for the function 'WhoAmI'."),
        );
    }
    state.stats.reads += 1;
    let context = format!(
        "{}{API_PREFIX}$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse",
        state.base_url
    );
    Reply::json(
        200,
        &serde_json::json!({
            "@odata.context": context,
            "BusinessUnitId": BUSINESS_UNIT_ID,
            "UserId": APPLICATION_USER_ID,
            "OrganizationId": ORGANIZATION_ID,
        }),
    )
}

/// The JSON of every row of a table, ordered by key (admin endpoint and [`crate::Sim::rows`]).
pub(crate) fn all_rows(state: &State, set: &str) -> Option<Vec<Value>> {
    let table = state.store.table(set)?;
    Some(
        table
            .rows
            .values()
            .map(|row| Value::Object(row.clone()))
            .collect(),
    )
}
