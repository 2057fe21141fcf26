//! The JSON body of a create (POST) or an update (PATCH), checked against the table the way
//! Dataverse's deserializer and validation check it, before anything is written:
//!
//! - a property the entity type lacks: 400 `0x0` "An error occurred while validating input
//!   parameters: Microsoft.Crm.CrmException: Invalid property '…' was found in entity …"
//!   ("Troubleshoot Dataverse Web API client errors");
//! - `<navigation>@odata.bind` whose name is not a single-valued navigation property of the
//!   table, compared case-sensitively: 400 `0x80048d19` "Error identified in Payload … An
//!   undeclared property '…' which only has property annotations …" (the same page);
//! - a bind to a row that does not exist: 404 `0x80040217` "<table> With Id = <id> Does Not
//!   Exist" (`ObjectDoesNotExist`, "Web service error codes");
//! - a value of the wrong JSON type for a declared column: 400 `0x80048d19` with ODataLib's
//!   "Cannot convert the literal '…' to the expected type 'Edm.…'.";
//! - a text longer than the column's declared `MaxLength`: 400 `0x80044331` "A validation
//!   error occurred.  The length of the '…' attribute of the '…' entity exceeded the maximum
//!   allowed length of '…'." ("Execute batch operations using the Web API");
//! - a choice value that is not one of the column's declared options: 400 `0x8004431A` "The
//!   picklist value is out of the range." (`PicklistValueOutOfRange`).
//!
//! Annotations other than `@odata.bind` are ignored. Types are checked only for columns with
//! a declared `AttributeType` (and `statecode`/`statuscode`), so seeds that never declared
//! their columns keep working.

use serde_json::{Map, Value};

use crate::reply::{codes, dataverse_error, row_not_found, Reply};
use crate::request::{parse_resource, API_PREFIX};
use crate::store::{key, Row, Store, TableState};

/// The body's changes as columns of the row: `nav@odata.bind` becomes `_nav_value`.
pub(super) fn accepted_changes(store: &Store, set: &str, body: &[u8]) -> Result<Row, Reply> {
    let Some(table) = store.table(set) else {
        return Err(crate::reply::resource_not_found(set));
    };
    let changes = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(map)) => map,
        _ => {
            return Err(payload_error(
                set,
                "Microsoft.OData.ODataException: The request body must be a JSON object.",
            ))
        }
    };
    let mut accepted = Map::new();
    for (name, value) in changes {
        if let Some(navigation) = name.strip_suffix("@odata.bind") {
            let (column, value) = bound_lookup(store, set, table, navigation, &value)?;
            accepted.insert(column, value);
        } else if name.contains('@') {
            continue;
        } else if !table.has_column(&name) {
            return Err(invalid_property(&name, &table.entity_name));
        } else {
            check_value(set, table, &name, &value)?;
            accepted.insert(name, value);
        }
    }
    Ok(accepted)
}

/// `nav@odata.bind: "/set(id)"` (also `set(id)` or an absolute URL) sets the lookup column
/// of that navigation property; `null` clears it.
fn bound_lookup(
    store: &Store,
    set: &str,
    table: &TableState,
    navigation: &str,
    value: &Value,
) -> Result<(String, Value), Reply> {
    let Some((column, targets)) = table.lookup_by_navigation(navigation) else {
        return Err(payload_error(set, &format!("Microsoft.OData.ODataException: An undeclared property '{navigation}' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.")));
    };
    if value.is_null() {
        return Ok((column, Value::Null));
    }
    let reference = value.as_str().unwrap_or_default();
    let path = match reference.find(API_PREFIX) {
        Some(index) => &reference[index + API_PREFIX.len()..],
        None => reference.trim_start_matches('/'),
    };
    let resource = parse_resource(path).ok().filter(|r| r.id.is_some());
    let target = resource.and_then(|r| Some((store.table(&r.set)?, r.id?)));
    let Some((target_table, id)) = target else {
        return Err(payload_error(set, &format!("Microsoft.OData.ODataException: The value '{reference}' of '{navigation}@odata.bind' is not a valid entity reference.")));
    };
    if !targets.is_empty() && !targets.contains(&target_table.entity_name) {
        return Err(payload_error(set, &format!("Microsoft.OData.ODataException: The navigation property '{navigation}' does not point to the table '{}'.", target_table.entity_name)));
    }
    if !target_table.rows.contains_key(&key(&id)) {
        return Err(row_not_found(&target_table.entity_name, &key(&id)));
    }
    Ok((column, Value::from(key(&id))))
}

/// The declared column's type, length and options, checked against a value.
fn check_value(set: &str, table: &TableState, column: &str, value: &Value) -> Result<(), Reply> {
    let Some(kind) = table.declared_type(column) else {
        return Ok(());
    };
    if value.is_null() {
        return Ok(());
    }
    let edm = match kind {
        "Integer" | "Picklist" | "State" | "Status" => (!value.is_i64()).then_some("Edm.Int32"),
        "BigInt" => (!value.is_i64()).then_some("Edm.Int64"),
        "Boolean" => (!value.is_boolean()).then_some("Edm.Boolean"),
        "String" | "Memo" => (!value.is_string()).then_some("Edm.String"),
        "DateTime" if table.is_date_only(column) => (!is_date(value)).then_some("Edm.Date"),
        "DateTime" => (!is_date_time(value)).then_some("Edm.DateTimeOffset"),
        "Uniqueidentifier" => (!is_guid(value)).then_some("Edm.Guid"),
        _ => None,
    };
    if let Some(edm) = edm {
        let literal = value
            .as_str()
            .map_or_else(|| value.to_string(), str::to_string);
        return Err(payload_error(set, &format!("Microsoft.OData.ODataException: Cannot convert the literal '{literal}' to the expected type '{edm}'.")));
    }
    let declared = &table.attributes.get(column).cloned().unwrap_or(Value::Null);
    if let (Some(max), Some(text)) = (declared["MaxLength"].as_u64(), value.as_str()) {
        if text.chars().count() as u64 > max {
            return Err(dataverse_error(
                400,
                codes::VALIDATION_LENGTH,
                format!("A validation error occurred.  The length of the '{column}' attribute of the '{}' entity exceeded the maximum allowed length of '{max}'.", table.entity_name),
            ));
        }
    }
    if let (Some(options), Some(chosen)) = (declared["Options"].as_array(), value.as_i64()) {
        let listed = options.iter().any(|o| o["Value"].as_i64() == Some(chosen));
        if kind == "Picklist" && !listed {
            return Err(dataverse_error(
                400,
                codes::PICKLIST_OUT_OF_RANGE,
                "The picklist value is out of the range.",
            ));
        }
    }
    Ok(())
}

fn is_date_time(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok() || is_date(value))
}

fn is_date(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        chrono::NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d").is_ok()
    })
}

fn is_guid(value: &Value) -> bool {
    value.as_str().is_some_and(|s| {
        let parts: Vec<&str> = s.split('-').collect();
        parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
            && parts
                .iter()
                .all(|p| p.chars().all(|c| c.is_ascii_hexdigit()))
    })
}

/// Dataverse's deserializer error, wrapping ODataLib's message for one entity set.
fn payload_error(set: &str, inner: &str) -> Reply {
    dataverse_error(
        400,
        codes::BAD_PAYLOAD,
        format!("Error identified in Payload provided by the user for Entity :'{set}'  ---->  InnerException : {inner}"),
    )
}

/// The documented 400 for a property the entity type does not have.
pub(super) fn invalid_property(name: &str, entity: &str) -> Reply {
    dataverse_error(
        400,
        codes::PROPERTY_NOT_FOUND,
        format!("An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property '{name}' was found in entity 'Microsoft.Dynamics.CRM.{entity}'. ---> Microsoft.OData.ODataException: Does not support untyped value in non-open type."),
    )
}
