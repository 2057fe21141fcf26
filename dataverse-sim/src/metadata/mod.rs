//! The read-only metadata subset of the Web API, derived from the store: `EntityDefinitions`
//! (filtered by `EntitySetName` or `LogicalName`), one definition by `LogicalName`, its
//! `Attributes` (all, or one by `LogicalName`, optionally cast to
//! `Microsoft.Dynamics.CRM.DateTimeAttributeMetadata`, `LookupAttributeMetadata`,
//! `StringAttributeMetadata` or `MemoAttributeMetadata` (with `MaxLength`),
//! `PicklistAttributeMetadata`, `StatusAttributeMetadata` or `StateAttributeMetadata`, whose
//! `OptionSet` is always expanded, each status with the `TransitionData` declared for it), and
//! its `ManyToOneRelationships` (`relationships`). A definition reports
//! `EnforceStateTransitions` from the table's `statuscode` declaration. (`WhoAmI` is
//! answered by `webapi`.) Shapes follow "Query table definitions using the Web
//! API" and the metadata entity type reference; `$select` is accepted and not applied.
//!
//! A column's type comes from the table's declared `attributes`, else from its name: the
//! primary key is `Uniqueidentifier`, `statecode` `State`, `statuscode` `Status`, `createdon`
//! and `modifiedon` `DateTime` (`UserLocal`), `versionnumber` `BigInt`, `_x_value` a `Lookup`
//! named `x`, anything else `String`.

mod relationships;

use serde_json::{json, Map, Value};

use crate::access::denied;
use crate::codec::{parse_query, percent_decode};
use crate::reply::{codes, dataverse_error, Reply};
use crate::state::State;
use crate::store::TableState;

/// The answer to a metadata request, or `None` when `target` is not one.
pub(crate) fn dispatch(state: &mut State, method: &str, target: &str) -> Option<Reply> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = percent_decode(path, false);
    if !path.starts_with("EntityDefinitions") {
        return None;
    }
    if method != "GET" {
        return Some(dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            format!("The HTTP method '{method}' is not supported by dataverse-sim for metadata."),
        ));
    }
    state.stats.reads += 1;
    if let Some(reply) = denied(state, "EntityDefinitions") {
        return Some(reply);
    }
    Some(entity_definitions(state, &path, query))
}

fn entity_definitions(state: &State, path: &str, query: &str) -> Reply {
    let segments: Vec<&str> = path.split('/').collect();
    if segments == ["EntityDefinitions"] {
        return list_entities(state, query);
    }
    let Some(logical) = key_of(segments[0], "EntityDefinitions") else {
        return unsupported(path);
    };
    let Some((set, table)) = state
        .store
        .tables()
        .find(|(_, table)| table.entity_name.eq_ignore_ascii_case(&logical))
    else {
        return dataverse_error(
            404,
            codes::OBJECT_DOES_NOT_EXIST,
            format!("Could not find entity with logical name '{logical}'."),
        );
    };
    match segments.as_slice() {
        [_] => Reply::json(200, &entity(set, table)),
        [_, "ManyToOneRelationships"] => relationships::many_to_one(&state.store, table, query),
        [_, "Attributes"] => {
            let value: Vec<Value> = attributes(table).into_iter().map(Value::Object).collect();
            Reply::json(200, &json!({ "value": value }))
        }
        [_, attribute] | [_, attribute, _] => {
            let Some(name) = key_of(attribute, "Attributes") else {
                return unsupported(path);
            };
            let Some(found) = attributes(table)
                .into_iter()
                .find(|a| a["LogicalName"].as_str() == Some(name.as_str()))
            else {
                return dataverse_error(
                    404,
                    codes::OBJECT_DOES_NOT_EXIST,
                    format!("Could not find attribute '{name}' on entity '{logical}'."),
                );
            };
            match segments.get(2) {
                None => Reply::json(200, &Value::Object(found)),
                Some(cast) => cast_attribute(table, found, cast),
            }
        }
        _ => unsupported(path),
    }
}

/// `EntityDefinitions`, all or filtered by `EntitySetName eq '…'` / `LogicalName eq '…'`.
fn list_entities(state: &State, query: &str) -> Reply {
    let mut wanted: Option<(String, String)> = None;
    for (name, value) in parse_query(query) {
        if name == "$filter" {
            let mut words = value.splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some(property @ ("EntitySetName" | "LogicalName")), Some("eq"), Some(literal))
                    if literal.len() >= 2 && literal.starts_with('\'') && literal.ends_with('\'') =>
                {
                    wanted = Some((
                        property.to_string(),
                        literal[1..literal.len() - 1].to_string(),
                    ));
                }
                _ => {
                    return dataverse_error(
                        400,
                        codes::QUERY_SYNTAX,
                        format!("dataverse-sim filters EntityDefinitions only by EntitySetName eq '…' or LogicalName eq '…', not '{value}'."),
                    )
                }
            }
        }
    }
    let mut tables: Vec<(&String, &TableState)> = state.store.tables().collect();
    tables.sort_by(|a, b| a.1.entity_name.cmp(&b.1.entity_name));
    let value: Vec<Value> = tables
        .into_iter()
        .filter(|(set, table)| match &wanted {
            None => true,
            Some((property, literal)) if property == "EntitySetName" => {
                set.eq_ignore_ascii_case(literal)
            }
            Some((_, literal)) => table.entity_name.eq_ignore_ascii_case(literal),
        })
        .map(|(set, table)| entity(set, table))
        .collect();
    Reply::json(200, &json!({ "value": value }))
}

fn entity(set: &str, table: &TableState) -> Value {
    json!({
        "LogicalName": table.entity_name,
        "EntitySetName": set,
        "PrimaryIdAttribute": table.primary_key,
        "EnforceStateTransitions": table.enforces_state_transitions(),
        "MetadataId": metadata_id(&table.entity_name),
    })
}

/// Every column of `table` as an `AttributeMetadata`.
fn attributes(table: &TableState) -> Vec<Map<String, Value>> {
    table
        .columns
        .iter()
        .map(|column| {
            let declared = table.attributes.get(column);
            let kind = declared
                .and_then(|d| d["AttributeType"].as_str())
                .map(str::to_string)
                .unwrap_or_else(|| inferred_type(table, column).to_string());
            let logical = column
                .strip_prefix('_')
                .and_then(|c| c.strip_suffix("_value"))
                .unwrap_or(column);
            let mut attribute = Map::new();
            attribute.insert(
                "@odata.type".into(),
                Value::from(format!("#Microsoft.Dynamics.CRM.{kind}AttributeMetadata")),
            );
            attribute.insert("LogicalName".into(), Value::from(logical));
            attribute.insert("AttributeType".into(), Value::from(kind.clone()));
            attribute.insert(
                "AttributeTypeName".into(),
                json!({ "Value": format!("{kind}Type") }),
            );
            attribute.insert("MetadataId".into(), Value::from(metadata_id(logical)));
            attribute
        })
        .collect()
}

fn inferred_type(table: &TableState, column: &str) -> &'static str {
    match column {
        c if c == table.primary_key => "Uniqueidentifier",
        "statecode" => "State",
        "statuscode" => "Status",
        "createdon" | "modifiedon" => "DateTime",
        "versionnumber" => "BigInt",
        c if c.starts_with('_') && c.ends_with("_value") => "Lookup",
        _ => "String",
    }
}

/// The attribute cast to a derived type; a cast to a type it is not answers 404.
fn cast_attribute(table: &TableState, mut found: Map<String, Value>, cast: &str) -> Reply {
    let kind = found["AttributeType"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let Some(expected) = cast
        .strip_prefix("Microsoft.Dynamics.CRM.")
        .and_then(|c| c.strip_suffix("AttributeMetadata"))
    else {
        return unsupported(cast);
    };
    if expected != kind {
        return dataverse_error(
            404,
            codes::RESOURCE_NOT_FOUND,
            format!("Resource not found for the segment '{cast}'."),
        );
    }
    let logical = found["LogicalName"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let column = table
        .columns
        .iter()
        .find(|c| **c == logical || **c == format!("_{logical}_value"))
        .cloned()
        .unwrap_or(logical);
    let declared = table
        .attributes
        .get(&column)
        .cloned()
        .unwrap_or(Value::Null);
    add_type_details(&mut found, &kind, &declared);
    Reply::json(200, &Value::Object(found))
}

/// What a cast to the derived type adds: a datetime's behavior, a lookup's targets, a text
/// column's `MaxLength`, a choice, status or state column's `OptionSet`.
fn add_type_details(found: &mut Map<String, Value>, kind: &str, declared: &Value) {
    match kind {
        "DateTime" => {
            let behavior = declared["DateTimeBehavior"].as_str().unwrap_or("UserLocal");
            found.insert("DateTimeBehavior".into(), json!({ "Value": behavior }));
        }
        "Lookup" => {
            let targets = declared.get("Targets").cloned().unwrap_or(json!([]));
            found.insert("Targets".into(), targets);
        }
        "String" | "Memo" => {
            let default = if kind == "Memo" { 2000 } else { 100 };
            let max = declared["MaxLength"].as_u64().unwrap_or(default);
            found.insert("MaxLength".into(), Value::from(max));
        }
        "Picklist" => {
            let options = declared.get("Options").cloned().unwrap_or(json!([]));
            found.insert("OptionSet".into(), json!({ "Options": labelled(options) }));
        }
        "Status" => {
            let options = declared.get("Options").cloned().unwrap_or(json!([
                {"Value": 1, "State": 0, "Label": "Active"},
                {"Value": 2, "State": 1, "Label": "Inactive"}
            ]));
            found.insert("OptionSet".into(), json!({ "Options": labelled(options) }));
        }
        "State" => {
            let options = declared.get("Options").cloned().unwrap_or(json!([
                {"Value": 0, "DefaultStatus": 1, "Label": "Active"},
                {"Value": 1, "DefaultStatus": 2, "Label": "Inactive"}
            ]));
            found.insert("OptionSet".into(), json!({ "Options": labelled(options) }));
        }
        _ => {}
    }
}

/// Options with their `Label` as the `Label` complex type (`UserLocalizedLabel`).
fn labelled(options: Value) -> Value {
    let Value::Array(options) = options else {
        return json!([]);
    };
    Value::Array(
        options
            .into_iter()
            .map(|mut option| {
                let text = option["Label"].as_str().unwrap_or_default().to_string();
                option["Label"] =
                    json!({"UserLocalizedLabel": {"Label": text, "LanguageCode": 1033}});
                option
            })
            .collect(),
    )
}

/// `x` from `Segment(LogicalName='x')`.
fn key_of(segment: &str, name: &str) -> Option<String> {
    let inner = segment
        .strip_prefix(name)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let value = inner.strip_prefix("LogicalName=")?;
    Some(value.trim_matches('\'').to_string())
}

fn unsupported(path: &str) -> Reply {
    dataverse_error(
        400,
        codes::QUERY_SYNTAX,
        format!("The metadata path '{path}' is not supported by dataverse-sim."),
    )
}

/// A stable GUID-shaped id for a name, so repeated reads agree.
pub(crate) fn metadata_id(name: &str) -> String {
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let hex = format!("{hash:016x}");
    format!(
        "{}-{}-4000-8000-0000{}",
        &hex[..8],
        &hex[8..12],
        &hex[8..16]
    )
}
