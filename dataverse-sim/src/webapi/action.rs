//! Custom API actions ("Use Web API actions", "CustomAPI tables"). An org's APIs are rows of
//! `customapis` (`uniquename`, `bindingtype` 0 Global / 1 Entity, `boundentitylogicalname`,
//! `isfunction`) with their parameters in `customapirequestparameters` (`uniquename`, `type`,
//! `isoptional`, `_customapiid_value`), so the sim serves and runs exactly what it declares:
//!
//! - unbound: `POST <uniquename>`; bound to a table: `POST <set>(<id>)/Microsoft.Dynamics.CRM.<uniquename>`;
//! - an unknown name (case-sensitive) → 404 `0x8006088a` "Resource not found for the segment
//!   '…'." ("Troubleshoot Dataverse Web API client errors"); a bound name without the
//!   namespace → 400 "Request message has unresolved parameters." (the actions page);
//! - a method other than POST → 404 "No HTTP resource was found that matches the request URI";
//! - a parameter the API does not declare → 400 with ODataLib's "The parameter '…' in the
//!   request payload is not a valid parameter for the operation '…'."; a required one missing →
//!   400 "Request message has unresolved parameters."; a value of the wrong type → 400;
//! - the bound row must exist → 404 `0x80040217`.
//!
//! A declared API does what the dataset's `SendsMessage` says (create a message row, through
//! the same checks as a POST, so its failures are the create's) or nothing; it answers
//! `204 No Content`, as an action without a return value does.

use serde_json::{json, Map, Value};

use super::create::create;
use crate::dataset::{CUSTOM_APIS, CUSTOM_API_PARAMETERS};
use crate::reply::{codes, dataverse_error, resource_not_found, row_not_found, Reply};
use crate::request::{parse_resource, Headers, API_PREFIX};
use crate::state::State;
use crate::store::{key, Row};

/// The namespace a bound action's name carries in the URL.
const NAMESPACE: &str = "Microsoft.Dynamics.CRM.";

/// An action call the URL names: unbound, or bound to one row of a table.
pub(super) struct Call<'a> {
    pub name: &'a str,
    /// (entity set, id) of the row a bound call is bound to.
    pub bound: Option<(String, String)>,
    pub segment: &'a str,
}

/// The action a path names, when it names one: `<name>` that is no entity set, or
/// `<set>(<id>)/<segment>`.
pub(super) fn parse_call<'a>(state: &State, path: &'a str) -> Option<Result<Call<'a>, Reply>> {
    match path.split_once('/') {
        Some((row, segment)) => {
            let resource = match parse_resource(row) {
                Ok(resource) => resource,
                Err(reply) => return Some(Err(reply)),
            };
            let id = resource.id?;
            let name = segment.strip_prefix(NAMESPACE).unwrap_or(segment);
            Some(Ok(Call {
                name,
                bound: Some((resource.set, id)),
                segment,
            }))
        }
        None if !path.contains('(') && state.store.table(path).is_none() => Some(Ok(Call {
            name: path,
            bound: None,
            segment: path,
        })),
        None => None,
    }
}

/// Runs a call of a declared custom API.
pub(super) fn call(state: &mut State, method: &str, call: Call, body: &[u8]) -> Reply {
    let api = match find_api(state, &call) {
        Ok(api) => api,
        Err(reply) => return reply,
    };
    if method != "POST" || api["isfunction"] == true {
        let target = format!("{}{API_PREFIX}{}", state.base_url, call.segment);
        return dataverse_error(
            404,
            "",
            format!("No HTTP resource was found that matches the request URI '{target}'."),
        );
    }
    if let Some((set, id)) = &call.bound {
        if state.store.get(set, id).is_none() {
            let entity = state
                .store
                .table(set)
                .map(|t| t.entity_name.clone())
                .unwrap_or_default();
            return row_not_found(&entity, &key(id));
        }
    }
    let parameters = match parameters_of(state, &api, call.name, body) {
        Ok(parameters) => parameters,
        Err(reply) => return reply,
    };
    state.stats.actions += 1;
    match run_effect(state, call.name, call.bound.as_ref(), &parameters) {
        Some(reply) if reply.is_error() => reply,
        _ => Reply::empty(204),
    }
}

/// The `customapis` row of the call: the right name, binding and bound table.
fn find_api(state: &State, call: &Call) -> Result<Row, Reply> {
    let not_found = || resource_not_found(call.segment);
    let apis = state.store.table(CUSTOM_APIS).ok_or_else(not_found)?;
    let named = |row: &&Row| row["uniquename"].as_str() == Some(call.name) && row["statecode"] == 0;
    let api = apis.rows.values().find(named).ok_or_else(not_found)?;
    match &call.bound {
        None if api["bindingtype"] == 0 => Ok(api.clone()),
        Some((set, _)) if api["bindingtype"] == 1 => {
            let table = state
                .store
                .table(set)
                .ok_or_else(|| resource_not_found(set))?;
            if api["boundentitylogicalname"].as_str() != Some(table.entity_name.as_str()) {
                return Err(not_found());
            }
            if !call.segment.starts_with(NAMESPACE) {
                return Err(unresolved());
            }
            Ok(api.clone())
        }
        _ => Err(not_found()),
    }
}

/// The body's parameters, checked against the API's declared request parameters.
fn parameters_of(
    state: &State,
    api: &Row,
    name: &str,
    body: &[u8],
) -> Result<Map<String, Value>, Reply> {
    let given = match body.iter().all(u8::is_ascii_whitespace) {
        true => Map::new(),
        false => match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(odata_error(format!(
                    "The request body of the operation '{name}' must be a JSON object."
                )))
            }
        },
    };
    let api_id = api["customapiid"].as_str().unwrap_or_default();
    let declared: Vec<&Row> = state
        .store
        .table(CUSTOM_API_PARAMETERS)
        .map(|t| {
            t.rows
                .values()
                .filter(|p| p["_customapiid_value"].as_str() == Some(api_id))
                .collect()
        })
        .unwrap_or_default();
    for (parameter, value) in &given {
        let Some(definition) = declared
            .iter()
            .find(|p| p["uniquename"].as_str() == Some(parameter))
        else {
            return Err(odata_error(format!("The parameter '{parameter}' in the request payload is not a valid parameter for the operation '{name}'.")));
        };
        check_type(definition, value)?;
    }
    let missing = declared.iter().any(|p| {
        let unique = p["uniquename"].as_str().unwrap_or_default();
        p["isoptional"] != true && given.get(unique).is_none_or(Value::is_null)
    });
    if missing {
        return Err(unresolved());
    }
    Ok(given)
}

/// A parameter's value against its declared `type` (10 String, 12 Guid, 7 Integer, 0 Boolean).
fn check_type(definition: &Row, value: &Value) -> Result<(), Reply> {
    let guid = |v: &Value| {
        v.as_str()
            .is_some_and(|s| s.len() == 36 && s.chars().all(|c| c == '-' || c.is_ascii_hexdigit()))
    };
    let wrong = match definition["type"].as_i64() {
        Some(10) => (!value.is_string()).then_some("Edm.String"),
        Some(12) => (!guid(value)).then_some("Edm.Guid"),
        Some(7) => (!value.is_i64()).then_some("Edm.Int32"),
        Some(0) => (!value.is_boolean()).then_some("Edm.Boolean"),
        _ => None,
    };
    match wrong {
        Some(edm) if !value.is_null() => {
            let literal = value
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            Err(odata_error(format!(
                "Cannot convert the literal '{literal}' to the expected type '{edm}'."
            )))
        }
        _ => Ok(()),
    }
}

/// What the API's plug-in does; `None` when the dataset gives it nothing to do.
fn run_effect(
    state: &mut State,
    name: &str,
    bound: Option<&(String, String)>,
    parameters: &Map<String, Value>,
) -> Option<Reply> {
    let effect = state.store.actions.get(name)?.clone();
    let session = match (&effect.session_parameter, bound) {
        (Some(parameter), _) => parameters.get(parameter)?.as_str()?.to_string(),
        (None, Some((_, id))) => id.clone(),
        (None, None) => return None,
    };
    let mut row = effect.fixed.clone();
    row.insert(
        effect.text_column.clone(),
        parameters
            .get(&effect.text_parameter)
            .cloned()
            .unwrap_or(Value::Null),
    );
    let bind = format!("{}@odata.bind", effect.session_navigation);
    row.insert(bind, json!(format!("/{}({session})", effect.session_set)));
    let body = Value::Object(row).to_string();
    // The plug-in's create is part of the action, not an operation of its own.
    Some(create(
        state,
        &effect.message_set,
        "",
        &Headers::default(),
        body.as_bytes(),
    ))
}

fn unresolved() -> Reply {
    dataverse_error(
        400,
        codes::INVALID_ARGUMENT,
        "Request message has unresolved parameters.",
    )
}

fn odata_error(message: String) -> Reply {
    dataverse_error(400, codes::QUERY_SYNTAX, message)
}
