//! Read-only questions about the environment's definitions, through the documented metadata
//! Web API ("Query table definitions using the Web API"): which table has an entity set name,
//! its columns and their types, a date and time column's `DateTimeBehavior`, a lookup's
//! `Targets`, the status and state option sets; plus the active cloud flows and the paged read
//! of the active sessions, for the check; `messages` adds what a message to the customer
//! depends on (relationships, text lengths, choices, the action). Every request here is a
//! GET; nothing in this module writes.
//!
//! Logical names that come back from Dataverse are checked to be identifiers before they are
//! placed in a URL, as the settings' names are.

mod messages;

pub use messages::{
    choice_options, custom_api, many_to_one, max_length, process_action, status_or_state_values,
    ApiParameter, CustomApi, ManyToOne, ParameterType, ProcessAction,
};

use super::org::{Org, SessionPages};
use super::query;
use super::wire;
use super::DataverseError;
use serde::Deserialize;
use serde_json::Value;

/// A table's definition: the names the Web API and the metadata know it by.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct TableDefinition {
    /// The logical name, e.g. `w4d_chatsession`.
    #[serde(rename = "LogicalName")]
    pub logical_name: String,
    /// The entity set name the Web API uses, e.g. `w4d_chatsessions`.
    #[serde(rename = "EntitySetName", default)]
    pub entity_set: Option<String>,
    /// The primary key column.
    #[serde(rename = "PrimaryIdAttribute", default)]
    pub primary_id: Option<String>,
    /// Whether a row may change status only along the transitions of its status options.
    #[serde(rename = "EnforceStateTransitions", default)]
    pub enforce_state_transitions: Option<bool>,
}

/// A column's definition.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ColumnDefinition {
    /// The logical name (a lookup `x` is read through the Web API as `_x_value`).
    #[serde(rename = "LogicalName")]
    pub logical_name: String,
    /// `AttributeType`: `DateTime`, `Integer`, `Lookup`, `String`, …
    #[serde(rename = "AttributeType", default)]
    pub attribute_type: String,
}

/// One option of a status column: its value, the state it belongs to and, when the table
/// enforces its state transitions, the statuses it may move to.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct StatusOption {
    /// The statuscode value.
    #[serde(rename = "Value")]
    pub value: i64,
    /// The statecode it belongs to.
    #[serde(rename = "State")]
    pub state: i64,
    /// The `allowedtransitions` XML document: `<allowedtransition sourcestatusid="1"
    /// tostatusid="6" />` per status this one may move to.
    #[serde(rename = "TransitionData", default)]
    pub transition_data: Option<String>,
}

impl StatusOption {
    /// True when its `TransitionData` lists `to` (a status may always keep itself).
    pub fn allows(&self, to: i64) -> bool {
        let Some(data) = &self.transition_data else {
            return self.value == to;
        };
        self.value == to
            || data
                .split("tostatusid=\"")
                .skip(1)
                .filter_map(|rest| rest.split('"').next()?.trim().parse::<i64>().ok())
                .any(|target| target == to)
    }
}

/// An activated cloud flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CloudFlow {
    /// `workflowid`.
    pub id: String,
    /// Its name.
    pub name: String,
}

#[derive(Deserialize)]
struct Collection<T> {
    value: Vec<T>,
}

#[derive(Deserialize)]
struct OptionSetOf<T> {
    #[serde(rename = "OptionSet")]
    option_set: Options<T>,
}

#[derive(Deserialize)]
struct Options<T> {
    #[serde(rename = "Options")]
    options: Vec<T>,
}

#[derive(Deserialize)]
struct StateOption {
    #[serde(rename = "Value")]
    value: i64,
}

/// The logical name of a column as the Web API reads it: `_x_value` is the lookup `x`.
pub fn logical_column(odata_name: &str) -> &str {
    odata_name
        .strip_prefix('_')
        .and_then(|name| name.strip_suffix("_value"))
        .unwrap_or(odata_name)
}

/// The privilege a 403 names (`prvReadWorkflow`), when the error is a missing privilege.
pub fn missing_privilege(error: &DataverseError) -> Option<String> {
    let DataverseError::Api {
        status: 403,
        message,
        ..
    } = error
    else {
        return None;
    };
    let start = message.find("prv")?;
    let name: String = message[start..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    Some(name)
}

/// The table whose entity set name is `entity_set`, if the environment has one.
pub async fn table_by_entity_set(
    org: &Org,
    entity_set: &str,
) -> Result<Option<TableDefinition>, DataverseError> {
    let url = org.url(&format!(
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute,EnforceStateTransitions&$filter=EntitySetName%20eq%20'{}'",
        identifier(entity_set)?
    ))?;
    Ok(
        decode::<Collection<TableDefinition>>(org.get_json(&url).await?, "EntityDefinitions")?
            .value
            .into_iter()
            .next(),
    )
}

/// Every table's names, for suggestions when a table setting names none of them.
pub async fn all_tables(org: &Org) -> Result<Vec<TableDefinition>, DataverseError> {
    let url = org.url("EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute")?;
    Ok(
        decode::<Collection<TableDefinition>>(org.get_json(&url).await?, "EntityDefinitions")?
            .value,
    )
}

/// Every column of the table `table` (a logical name).
pub async fn columns(org: &Org, table: &str) -> Result<Vec<ColumnDefinition>, DataverseError> {
    let url = org.url(&format!(
        "EntityDefinitions(LogicalName='{}')/Attributes?$select=LogicalName,AttributeType",
        identifier(table)?
    ))?;
    Ok(decode::<Collection<ColumnDefinition>>(org.get_json(&url).await?, "Attributes")?.value)
}

/// The `DateTimeBehavior` of a date and time column: `UserLocal`, `TimeZoneIndependent` or
/// `DateOnly`.
pub async fn datetime_behavior(
    org: &Org,
    table: &str,
    column: &str,
) -> Result<String, DataverseError> {
    let answer = cast(
        org,
        table,
        column,
        "DateTimeAttributeMetadata",
        "$select=DateTimeBehavior",
    )
    .await?;
    answer["DateTimeBehavior"]["Value"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| DataverseError::BadResponse("DateTimeBehavior has no Value".into()))
}

/// The tables (logical names) a lookup column may point to.
pub async fn lookup_targets(
    org: &Org,
    table: &str,
    column: &str,
) -> Result<Vec<String>, DataverseError> {
    let answer = cast(
        org,
        table,
        column,
        "LookupAttributeMetadata",
        "$select=Targets",
    )
    .await?;
    Ok(answer["Targets"]
        .as_array()
        .map(|targets| {
            targets
                .iter()
                .filter_map(|target| target.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default())
}

/// The options of the table's `statuscode`, each with the state it belongs to.
pub async fn status_options(org: &Org, table: &str) -> Result<Vec<StatusOption>, DataverseError> {
    let answer = cast(
        org,
        table,
        "statuscode",
        "StatusAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet",
    )
    .await?;
    Ok(
        decode::<OptionSetOf<StatusOption>>(answer, "the statuscode option set")?
            .option_set
            .options,
    )
}

/// The values of the table's `statecode`.
pub async fn state_values(org: &Org, table: &str) -> Result<Vec<i64>, DataverseError> {
    let answer = cast(
        org,
        table,
        "statecode",
        "StateAttributeMetadata",
        "$select=LogicalName&$expand=OptionSet",
    )
    .await?;
    Ok(
        decode::<OptionSetOf<StateOption>>(answer, "the statecode option set")?
            .option_set
            .options
            .into_iter()
            .map(|option| option.value)
            .collect(),
    )
}

/// The activated cloud flows (`workflows` of category 5 in state 1).
pub async fn active_cloud_flows(org: &Org) -> Result<Vec<CloudFlow>, DataverseError> {
    let mut url = Some(query::query_url(
        org.root(),
        "workflows",
        "workflowid,name",
        "category eq 5 and statecode eq 1",
    )?);
    let mut flows = Vec::new();
    while let Some(current) = url {
        let (page, next) = org.page(&current).await?;
        flows.extend(page.value.iter().map(|row| CloudFlow {
            id: text(row.get("workflowid")),
            name: text(row.get("name")),
        }));
        url = next;
    }
    Ok(flows)
}

/// The first position of a paged read of every active session, each row read as the sweep
/// reads a candidate; the caller takes one page at a time ([`Org::next_page`]), so the check
/// never holds more than a page.
pub fn active_sessions(org: &Org) -> SessionPages {
    org.session_pages(&wire::session_columns(org.schema()), "statecode eq 0")
}

/// One column's definition cast to a derived metadata type.
async fn cast(
    org: &Org,
    table: &str,
    column: &str,
    type_name: &str,
    options: &str,
) -> Result<Value, DataverseError> {
    let url = org.url(&format!(
        "EntityDefinitions(LogicalName='{}')/Attributes(LogicalName='{}')/Microsoft.Dynamics.CRM.{type_name}?{options}",
        identifier(table)?,
        identifier(column)?
    ))?;
    org.get_json(&url).await
}

fn decode<T: serde::de::DeserializeOwned>(value: Value, what: &str) -> Result<T, DataverseError> {
    serde_json::from_value(value)
        .map_err(|error| DataverseError::BadResponse(format!("{what}: {error}")))
}

/// A name checked to hold identifier characters only, so it can sit inside `'…'` in a URL.
fn identifier(name: &str) -> Result<&str, DataverseError> {
    let valid = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if valid {
        Ok(name)
    } else {
        Err(DataverseError::BadResponse(format!(
            "the name {name:?} is not a Dataverse logical name"
        )))
    }
}

fn text(value: Option<&Value>) -> String {
    value.and_then(Value::as_str).unwrap_or_default().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lookup_read_as_underscore_value_has_the_logical_name_inside() {
        assert_eq!(
            logical_column("_w4d_configurationid_value"),
            "w4d_configurationid"
        );
        assert_eq!(logical_column("w4d_sessiontimeout"), "w4d_sessiontimeout");
    }

    #[test]
    fn a_403_names_the_missing_privilege() {
        let error = DataverseError::Api {
            status: 403,
            code: "0x80040220".into(),
            message: "Principal user (Id=1, type=8), is missing prvReadWorkflow privilege (Id=2)"
                .into(),
        };
        assert_eq!(
            missing_privilege(&error).as_deref(),
            Some("prvReadWorkflow")
        );
    }

    #[test]
    fn a_name_from_dataverse_with_a_quote_never_reaches_a_url() {
        assert!(identifier("x') or ('a").is_err());
    }
}
