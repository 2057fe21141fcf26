//! The JSON shapes of the Web API and Entra ID, and their translation into typed rows. Column
//! names from the schema settings are used here and nowhere past this module.

use super::DataverseError;
use crate::ids::Guid;
use crate::settings::Schema;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Dataverse's error body: `{"error": {"code": "0x…", "message": "…"}}`.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorBody {
    /// The error object.
    pub error: ErrorDetail,
}

/// The inner error object.
#[derive(Debug, Deserialize)]
pub(crate) struct ErrorDetail {
    /// Hexadecimal error code.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

/// One page of a collection query.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    /// The rows of this page.
    pub value: Vec<Map<String, Value>>,
    /// The next page, when there is one.
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// Entra ID's token response.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// Entra ID's error response.
#[derive(Debug, Deserialize)]
pub(crate) struct EntraError {
    /// OAuth error code, e.g. `invalid_client`.
    #[serde(default)]
    pub error: String,
    /// Text that starts with the AADSTS code.
    #[serde(default)]
    pub error_description: String,
}

/// The `WhoAmI` function's answer (the `WhoAmIResponse` complex type): who the token is for.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WhoAmI {
    /// The `systemuserid` of the application user this function runs as.
    #[serde(rename = "UserId")]
    pub user_id: String,
    /// Its business unit.
    #[serde(rename = "BusinessUnitId")]
    pub business_unit_id: String,
    /// The environment's organization.
    #[serde(rename = "OrganizationId")]
    pub organization_id: String,
}

/// An active WhatsApp configuration and its raw Session Timeout value.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigurationRow {
    /// Primary key.
    pub id: Guid,
    /// The timeout column as stored, to be read by `policy`.
    pub timeout: Option<Value>,
}

/// An active chat session as read for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// Primary key.
    pub id: Guid,
    /// The row version; the close is conditional on it.
    pub etag: String,
    /// The configuration lookup, when set.
    pub configuration_id: Option<Guid>,
    /// The customer's last message, when the customer wrote.
    pub last_customer_message: Option<DateTime<Utc>>,
    /// When an agent last wrote; always `None` unless `SESSION_LAST_AGENT_MESSAGE_COLUMN`
    /// is set.
    pub last_agent_message: Option<DateTime<Utc>>,
    /// When the customer was last warned of the close; always `None` unless
    /// `SESSION_WARNED_AT_COLUMN` is set.
    pub warned_at: Option<DateTime<Utc>>,
    /// When the session was created.
    pub created_on: DateTime<Utc>,
    /// The row's statecode (0 = active).
    pub statecode: i64,
    /// Who last changed the row, when, and the close reason: read only by the reopen run,
    /// which re-checks them against its filter.
    pub last_change: Option<LastChange>,
}

/// The last change of a closed session, as the reopen run selects it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LastChange {
    /// `_modifiedby_value`, when it is a GUID.
    pub by: Option<Guid>,
    /// `modifiedon`, when it is a date.
    pub on: Option<DateTime<Utc>>,
    /// The `SESSION_CLOSE_REASON_COLUMN` value, when that column is set and holds text.
    pub close_reason: Option<String>,
}

/// Columns of a session that a decision needs, for `$select`.
pub(crate) fn session_columns(schema: &Schema) -> String {
    [
        schema.session_id.as_str(),
        schema.last_customer_message.as_str(),
        "createdon",
        schema.configuration_lookup.as_str(),
        "statecode",
    ]
    .into_iter()
    .chain(schema.last_agent_message.as_ref().map(|name| name.as_str()))
    .chain(schema.warned_at.as_ref().map(|name| name.as_str()))
    .collect::<Vec<_>>()
    .join(",")
}

/// Columns of a closed session the reopen run needs: a decision's, and who last changed it,
/// when and (with `SESSION_CLOSE_REASON_COLUMN`) why, so that its filter is checked.
pub(crate) fn reopen_columns(schema: &Schema) -> String {
    let mut columns = session_columns(schema);
    columns.push_str(",_modifiedby_value,modifiedon");
    if let Some(reason) = &schema.close_reason {
        columns.push(',');
        columns.push_str(reason.as_str());
    }
    columns
}

/// The last change of a session row, from the columns [`reopen_columns`] adds; a value of
/// the wrong shape reads as absent, which the reopen run's re-check refuses.
fn last_change(schema: &Schema, row: &Map<String, Value>) -> Option<LastChange> {
    let change = LastChange {
        by: row
            .get("_modifiedby_value")
            .and_then(Value::as_str)
            .and_then(Guid::parse),
        on: optional_time(row, "modifiedon", None).ok().flatten(),
        close_reason: schema
            .close_reason
            .as_ref()
            .and_then(|column| row.get(column.as_str()))
            .and_then(Value::as_str)
            .map(str::to_owned),
    };
    (change != LastChange::default()).then_some(change)
}

/// Columns of a configuration, for `$select`; `statecode` so that the filter is checked.
pub(crate) fn configuration_columns(schema: &Schema) -> String {
    [
        schema.configuration_id.as_str(),
        schema.timeout_column.as_str(),
        "statecode",
    ]
    .join(",")
}

/// Whether a configuration row says it is active (`statecode` 0). A row without the selected
/// `statecode` is not known to be active, so its timeout is not applied either.
pub fn configuration_is_active(row: &Map<String, Value>) -> bool {
    row.get("statecode").and_then(Value::as_i64) == Some(0)
}

/// Reads a configuration row.
pub(crate) fn configuration_row(
    schema: &Schema,
    row: &Map<String, Value>,
) -> Result<ConfigurationRow, DataverseError> {
    let id = text(row, schema.configuration_id.as_str())?;
    // A key that is not a GUID could never be placed in a filter; Dataverse's keys always are.
    let id = Guid::parse(&id).ok_or_else(|| {
        DataverseError::BadResponse(format!(
            "the configuration id {id:?} in {} is not a GUID",
            schema.configuration_id
        ))
    })?;
    Ok(ConfigurationRow {
        id,
        timeout: row.get(schema.timeout_column.as_str()).cloned(),
    })
}

/// Reads a session row. A row that lacks what a safe close needs is an error for that row.
pub(crate) fn session_row(
    schema: &Schema,
    row: &Map<String, Value>,
) -> Result<SessionRow, RowError> {
    let id = text(row, schema.session_id.as_str()).map_err(|_| RowError {
        id: None,
        reason: format!("a row without {}", schema.session_id),
    })?;
    let fail = |reason: String| RowError {
        id: Some(id.clone()),
        reason,
    };
    let Some(guid) = Guid::parse(&id) else {
        return Err(fail("its id is not a GUID".into()));
    };
    let etag = text(row, "@odata.etag").map_err(|_| fail("the row has no ETag".into()))?;
    let time =
        |column: &str| optional_time(row, column, schema.setting_named(column)).map_err(&fail);
    let last_customer_message = time(schema.last_customer_message.as_str())?;
    let last_agent_message = match &schema.last_agent_message {
        Some(column) => time(column.as_str())?,
        None => None,
    };
    let warned_at = match &schema.warned_at {
        Some(column) => time(column.as_str())?,
        None => None,
    };
    let created_on = time("createdon")?.ok_or_else(|| fail("the row has no createdon".into()))?;
    let configuration_id = match row.get(schema.configuration_lookup.as_str()) {
        Some(Value::String(lookup)) if !lookup.is_empty() => {
            Some(Guid::parse(lookup).ok_or_else(|| {
                fail(format!(
                    "its {} holds {lookup:?}, which is not a GUID",
                    schema.configuration_lookup
                ))
            })?)
        }
        _ => None,
    };
    let statecode = row
        .get("statecode")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail("the row has no statecode".into()))?;
    Ok(SessionRow {
        id: guid,
        etag,
        configuration_id,
        last_customer_message,
        last_agent_message,
        warned_at,
        created_on,
        statecode,
        last_change: last_change(schema, row),
    })
}

/// A session row that cannot be judged safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// The row's id, when it has one.
    pub id: Option<String>,
    /// What is wrong with it.
    pub reason: String,
}

fn text(row: &Map<String, Value>, column: &str) -> Result<String, DataverseError> {
    match row.get(column) {
        Some(Value::String(value)) if !value.is_empty() => Ok(value.clone()),
        _ => Err(DataverseError::BadResponse(format!(
            "a row has no value in the column {column}"
        ))),
    }
}

/// The date and time in `column` of a row, `None` when it is empty.
pub(crate) fn time_of(
    row: &Map<String, Value>,
    column: &str,
) -> Result<Option<DateTime<Utc>>, DataverseError> {
    optional_time(row, column, None).map_err(DataverseError::BadResponse)
}

/// The date and time in `column`; `setting`, the setting that names the column, is what the
/// reason tells the administrator to change.
fn optional_time(
    row: &Map<String, Value>,
    column: &str,
    setting: Option<&str>,
) -> Result<Option<DateTime<Utc>>, String> {
    match row.get(column) {
        None | Some(Value::Null) => Ok(None),
        // An Edm.Date: the column's behaviour is Date only. Any time of day would be a guess.
        Some(Value::String(value))
            if chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok() =>
        {
            let choose = setting.map_or_else(
                || "choose a User local date and time column".to_owned(),
                |setting| format!("set {setting} to a User local date and time column"),
            );
            Err(format!("{column} holds the date {value} with no time of day (the column's behaviour is Date only), so the session cannot be timed from it; {choose}"))
        }
        Some(Value::String(value)) => DateTime::parse_from_rfc3339(value)
            .map(|time| Some(time.with_timezone(&Utc)))
            .map_err(|_| format!("{column} holds {value:?}, which is not a date and time")),
        Some(other) => Err(format!(
            "{column} holds {other}, which is not a date and time"
        )),
    }
}

#[cfg(test)]
mod tests;
