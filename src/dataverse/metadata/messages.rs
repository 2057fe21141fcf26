//! The definitions a message to the customer depends on, for the check: a table's many-to-one
//! relationships (the single-valued navigation properties a new row can be linked through),
//! a text column's `MaxLength`, a choice column's options, and the action that sends a
//! message, as a custom API (`customapis` and its `customapirequestparameters`) or as a
//! custom process action (`workflows` of category 3). Every request is a GET.

use super::{cast, decode, identifier, Collection, OptionSetOf, StateOption};
use crate::dataverse::{query, DataverseError, Org};
use serde::Deserialize;

/// One many-to-one relationship of a table: a lookup on it and the navigation property that
/// follows the lookup to one row of another table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ManyToOne {
    /// The single-valued navigation property on the referencing table (case-sensitive).
    #[serde(rename = "ReferencingEntityNavigationPropertyName", default)]
    pub navigation: String,
    /// The lookup column on the referencing table.
    #[serde(rename = "ReferencingAttribute", default)]
    pub lookup: String,
    /// The table the lookup points to (a logical name).
    #[serde(rename = "ReferencedEntity", default)]
    pub target: String,
}

/// The JSON type a custom API request parameter takes (`customapirequestparameter.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParameterType {
    /// 0: `true` or `false`.
    Boolean,
    /// 1: a date and time, as text.
    DateTime,
    /// 2, 6, 8: a number (Decimal, Float, Money).
    Number,
    /// 3, 4, 5: a row, rows or a reference to a row, which a JSON scalar cannot be.
    Entity,
    /// 7, 9: a whole number (Integer, and the value of a choice).
    Integer,
    /// 10: text.
    String,
    /// 11: a list of texts, which a JSON scalar cannot be.
    StringArray,
    /// 12: a GUID, as text.
    Guid,
    /// A type this function does not know.
    Other(i64),
}

impl ParameterType {
    /// The type with the documented option value `value`.
    pub fn from_value(value: i64) -> Self {
        match value {
            0 => ParameterType::Boolean,
            1 => ParameterType::DateTime,
            2 | 6 | 8 => ParameterType::Number,
            3..=5 => ParameterType::Entity,
            7 | 9 => ParameterType::Integer,
            10 => ParameterType::String,
            11 => ParameterType::StringArray,
            12 => ParameterType::Guid,
            other => ParameterType::Other(other),
        }
    }
}

/// One request parameter of a custom API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiParameter {
    /// Its unique name, as the action's body names it.
    pub name: String,
    /// The type it takes.
    pub kind: ParameterType,
    /// Whether a call may leave it out.
    pub optional: bool,
}

/// A custom API (a row of `customapis`) and its request parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomApi {
    /// Its unique name, the name the Web API calls it by.
    pub unique_name: String,
    /// `bindingtype`: 0 global (unbound), 1 a table, 2 a table's collection.
    pub binding_type: i64,
    /// The table it is bound to (a logical name), when bound.
    pub bound_table: Option<String>,
    /// A function is called with GET, never as an action.
    pub is_function: bool,
    /// Its request parameters (a bound API's `Target` is implicit and not among them).
    pub parameters: Vec<ApiParameter>,
}

/// A custom process action (a `workflows` row of category 3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessAction {
    /// Its unique name, the name the Web API calls it by.
    pub unique_name: String,
    /// The table it runs on (a logical name), or `none` when it is global (unbound).
    pub primary_table: String,
    /// Whether it is activated (an action in draft cannot be called).
    pub activated: bool,
}

#[derive(Deserialize)]
struct CustomApiRow {
    customapiid: String,
    uniquename: String,
    #[serde(default)]
    bindingtype: Option<i64>,
    #[serde(default)]
    boundentitylogicalname: Option<String>,
    #[serde(default)]
    isfunction: Option<bool>,
}

#[derive(Deserialize)]
struct ParameterRow {
    uniquename: String,
    #[serde(rename = "type", default)]
    kind: Option<i64>,
    #[serde(default)]
    isoptional: Option<bool>,
}

#[derive(Deserialize)]
struct WorkflowRow {
    #[serde(default)]
    uniquename: Option<String>,
    #[serde(default)]
    primaryentity: Option<String>,
    #[serde(default)]
    statecode: Option<i64>,
}

#[derive(Deserialize)]
struct Choices {
    #[serde(rename = "OptionSet", default)]
    option_set: Option<Options>,
    #[serde(rename = "GlobalOptionSet", default)]
    global_option_set: Option<Options>,
}

#[derive(Deserialize)]
struct Options {
    #[serde(rename = "Options", default)]
    options: Vec<StateOption>,
}

/// The many-to-one relationships of `table` (a logical name).
pub async fn many_to_one(org: &Org, table: &str) -> Result<Vec<ManyToOne>, DataverseError> {
    let url = org.url(&format!(
        "EntityDefinitions(LogicalName='{}')/ManyToOneRelationships?$select=ReferencingEntityNavigationPropertyName,ReferencingAttribute,ReferencedEntity",
        identifier(table)?
    ))?;
    Ok(decode::<Collection<ManyToOne>>(org.get_json(&url).await?, "ManyToOneRelationships")?.value)
}

/// The `MaxLength` (in characters) of a text column of type `attribute_type` (`String` or
/// `Memo`); `None` when the definition gives none.
pub async fn max_length(
    org: &Org,
    table: &str,
    column: &str,
    attribute_type: &str,
) -> Result<Option<i64>, DataverseError> {
    let type_name = match attribute_type {
        "Memo" => "MemoAttributeMetadata",
        _ => "StringAttributeMetadata",
    };
    let answer = cast(org, table, column, type_name, "$select=MaxLength").await?;
    Ok(answer["MaxLength"].as_i64())
}

/// The option values of a choice column, from its own option set or the global one it uses
/// (both expanded, as "Retrieve table definitions by name" shows).
pub async fn choice_options(
    org: &Org,
    table: &str,
    column: &str,
) -> Result<Vec<i64>, DataverseError> {
    let answer = cast(
        org,
        table,
        column,
        "PicklistAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet($select=Options)",
    )
    .await?;
    let choices = decode::<Choices>(answer, "the choice column's option set")?;
    let options = [choices.option_set, choices.global_option_set]
        .into_iter()
        .flatten()
        .flat_map(|set| set.options)
        .map(|option| option.value);
    let mut values: Vec<i64> = options.collect();
    values.sort_unstable();
    values.dedup();
    Ok(values)
}

/// The option values of a status (`statuscode`) or state (`statecode`) column.
pub async fn status_or_state_values(
    org: &Org,
    table: &str,
    column: &str,
    attribute_type: &str,
) -> Result<Vec<i64>, DataverseError> {
    let type_name = match attribute_type {
        "State" => "StateAttributeMetadata",
        _ => "StatusAttributeMetadata",
    };
    let answer = cast(
        org,
        table,
        column,
        type_name,
        "$select=LogicalName&$expand=OptionSet",
    )
    .await?;
    Ok(
        decode::<OptionSetOf<StateOption>>(answer, "the option set")?
            .option_set
            .options
            .into_iter()
            .map(|option| option.value)
            .collect(),
    )
}

/// The custom API whose unique name is `name`, with its request parameters.
pub async fn custom_api(org: &Org, name: &str) -> Result<Option<CustomApi>, DataverseError> {
    let url = query::query_url(
        org.root(),
        "customapis",
        "customapiid,uniquename,bindingtype,boundentitylogicalname,isfunction",
        &format!("uniquename eq '{}'", identifier(name)?),
    )?;
    let rows = decode::<Collection<CustomApiRow>>(org.get_json(&url).await?, "customapis")?.value;
    let Some(row) = rows.into_iter().next() else {
        return Ok(None);
    };
    let url = query::query_url(
        org.root(),
        "customapirequestparameters",
        "uniquename,type,isoptional",
        &format!(
            "_customapiid_value eq {}",
            identifier_or_guid(&row.customapiid)?
        ),
    )?;
    let parameters = decode::<Collection<ParameterRow>>(
        org.get_json(&url).await?,
        "customapirequestparameters",
    )?
    .value
    .into_iter()
    .map(|parameter| ApiParameter {
        name: parameter.uniquename,
        kind: ParameterType::from_value(parameter.kind.unwrap_or(-1)),
        optional: parameter.isoptional.unwrap_or(false),
    })
    .collect();
    Ok(Some(CustomApi {
        unique_name: row.uniquename,
        binding_type: row.bindingtype.unwrap_or(0),
        bound_table: row.boundentitylogicalname.filter(|table| !table.is_empty()),
        is_function: row.isfunction.unwrap_or(false),
        parameters,
    }))
}

/// The custom process action (a workflow definition of category 3) whose unique name is
/// `name`.
pub async fn process_action(
    org: &Org,
    name: &str,
) -> Result<Option<ProcessAction>, DataverseError> {
    let url = query::query_url(
        org.root(),
        "workflows",
        "workflowid,uniquename,primaryentity,statecode",
        &format!(
            "category eq 3 and type eq 1 and uniquename eq '{}'",
            identifier(name)?
        ),
    )?;
    let rows = decode::<Collection<WorkflowRow>>(org.get_json(&url).await?, "workflows")?.value;
    Ok(rows.into_iter().next().map(|row| ProcessAction {
        unique_name: row.uniquename.unwrap_or_else(|| name.to_owned()),
        primary_table: row.primaryentity.unwrap_or_else(|| "none".into()),
        activated: row.statecode == Some(1),
    }))
}

/// A row id from Dataverse, checked to be a GUID's characters before it is placed in a filter.
fn identifier_or_guid(id: &str) -> Result<&str, DataverseError> {
    if !id.is_empty() && id.chars().all(|c| c.is_ascii_hexdigit() || c == '-') {
        Ok(id)
    } else {
        Err(DataverseError::BadResponse(format!(
            "the id {id:?} of a custom API is not a GUID"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_relationship_reads_the_documented_property_names() {
        let answer = json!({"value": [{
            "SchemaName": "w4d_chatsession_w4d_message",
            "ReferencedEntity": "w4d_chatsession",
            "ReferencingEntity": "w4d_message",
            "ReferencingAttribute": "w4d_sessionid",
            "ReferencingEntityNavigationPropertyName": "w4d_SessionId",
            "MetadataId": "11111111-0000-4000-8000-000000000001"
        }]});
        let found = decode::<Collection<ManyToOne>>(answer, "r").unwrap().value;
        assert_eq!(
            found,
            [ManyToOne {
                navigation: "w4d_SessionId".into(),
                lookup: "w4d_sessionid".into(),
                target: "w4d_chatsession".into(),
            }]
        );
    }

    #[test]
    fn the_options_of_a_local_choice_are_read_when_the_global_set_is_null() {
        let answer = json!({
            "LogicalName": "w4d_direction",
            "OptionSet": {"Options": [{"Value": 1}, {"Value": 2}]},
            "GlobalOptionSet": null
        });
        let choices = decode::<Choices>(answer, "c").unwrap();
        assert!(choices.global_option_set.is_none());
        let values: Vec<i64> = choices
            .option_set
            .unwrap()
            .options
            .iter()
            .map(|o| o.value)
            .collect();
        assert_eq!(values, [1, 2]);
    }

    #[test]
    fn parameter_types_follow_the_documented_option_values() {
        assert_eq!(ParameterType::from_value(0), ParameterType::Boolean);
        assert_eq!(ParameterType::from_value(5), ParameterType::Entity);
        assert_eq!(ParameterType::from_value(7), ParameterType::Integer);
        assert_eq!(ParameterType::from_value(10), ParameterType::String);
        assert_eq!(ParameterType::from_value(12), ParameterType::Guid);
        assert_eq!(ParameterType::from_value(42), ParameterType::Other(42));
    }

    #[test]
    fn a_custom_api_id_that_is_not_a_guid_never_reaches_a_filter() {
        assert!(identifier_or_guid("1 or 1 eq 1").is_err());
        assert!(identifier_or_guid("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21").is_ok());
    }
}
