//! The JSON shapes of the Web API and Entra ID, and their translation into typed rows. Column
//! names from the schema settings are used here and nowhere past this module.

use super::DataverseError;
use crate::settings::Schema;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Map, Value};

/// Dataverse's error body: `{"error": {"code": "0x…", "message": "…"}}`.
#[derive(Debug, Deserialize)]
pub struct ErrorBody {
    /// The error object.
    pub error: ErrorDetail,
}

/// The inner error object.
#[derive(Debug, Deserialize)]
pub struct ErrorDetail {
    /// Hexadecimal error code.
    #[serde(default)]
    pub code: String,
    /// Human-readable message.
    #[serde(default)]
    pub message: String,
}

/// One page of a collection query.
#[derive(Debug, Deserialize)]
pub struct Page {
    /// The rows of this page.
    pub value: Vec<Map<String, Value>>,
    /// The next page, when there is one.
    #[serde(rename = "@odata.nextLink")]
    pub next_link: Option<String>,
}

/// Entra ID's token response.
#[derive(Deserialize)]
pub struct TokenResponse {
    /// The bearer token.
    pub access_token: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

/// Entra ID's error response.
#[derive(Debug, Deserialize)]
pub struct EntraError {
    /// OAuth error code, e.g. `invalid_client`.
    #[serde(default)]
    pub error: String,
    /// Text that starts with the AADSTS code.
    #[serde(default)]
    pub error_description: String,
}

/// The `WhoAmI` function's answer: who the application user is in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct WhoAmI {
    /// The application user's `systemuserid`.
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
    pub id: String,
    /// The timeout column as stored, to be read by `policy`.
    pub timeout: Option<Value>,
}

/// An active chat session as read for a decision.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRow {
    /// Primary key.
    pub id: String,
    /// The row version; the close is conditional on it.
    pub etag: String,
    /// The configuration lookup, when set.
    pub configuration_id: Option<String>,
    /// The customer's last message, when the customer wrote.
    pub last_customer_message: Option<DateTime<Utc>>,
    /// When the session was created.
    pub created_on: DateTime<Utc>,
    /// The row's statecode (0 = active).
    pub statecode: i64,
}

/// Columns of a session that a decision needs, for `$select`.
pub fn session_columns(schema: &Schema) -> String {
    [
        schema.session_id.as_str(),
        schema.last_customer_message.as_str(),
        "createdon",
        schema.configuration_lookup.as_str(),
        "statecode",
    ]
    .join(",")
}

/// Columns of a configuration, for `$select`.
pub fn configuration_columns(schema: &Schema) -> String {
    [
        schema.configuration_id.as_str(),
        schema.timeout_column.as_str(),
    ]
    .join(",")
}

/// Reads a configuration row.
pub fn configuration_row(
    schema: &Schema,
    row: &Map<String, Value>,
) -> Result<ConfigurationRow, DataverseError> {
    Ok(ConfigurationRow {
        id: text(row, schema.configuration_id.as_str())?.to_ascii_lowercase(),
        timeout: row.get(schema.timeout_column.as_str()).cloned(),
    })
}

/// Reads a session row. A row that lacks what a safe close needs is an error for that row.
pub fn session_row(schema: &Schema, row: &Map<String, Value>) -> Result<SessionRow, RowError> {
    let id = text(row, schema.session_id.as_str()).map_err(|_| RowError {
        id: None,
        reason: format!("a row without {}", schema.session_id),
    })?;
    let fail = |reason: String| RowError {
        id: Some(id.clone()),
        reason,
    };
    if !is_guid(&id) {
        return Err(fail("its id is not a GUID".into()));
    }
    let etag = text(row, "@odata.etag").map_err(|_| fail("the row has no ETag".into()))?;
    let last_customer_message =
        optional_time(row, schema.last_customer_message.as_str()).map_err(&fail)?;
    let created_on = optional_time(row, "createdon")
        .map_err(&fail)?
        .ok_or_else(|| fail("the row has no createdon".into()))?;
    let configuration_id = match row.get(schema.configuration_lookup.as_str()) {
        Some(Value::String(id)) if !id.is_empty() => Some(id.to_ascii_lowercase()),
        _ => None,
    };
    let statecode = row
        .get("statecode")
        .and_then(Value::as_i64)
        .ok_or_else(|| fail("the row has no statecode".into()))?;
    Ok(SessionRow {
        id,
        etag,
        configuration_id,
        last_customer_message,
        created_on,
        statecode,
    })
}

/// A key checked to be a GUID, lowercased: the only key shape placed in a URL or a filter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Guid(String);

impl Guid {
    /// `text` as a GUID, or `None` when it is not one.
    pub fn parse(text: &str) -> Option<Self> {
        is_guid(text).then(|| Guid(text.to_ascii_lowercase()))
    }

    /// The GUID as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is a GUID (`8-4-4-4-12` hex digits), the only key shape placed in a URL or
/// a filter.
pub fn is_guid(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(at, c)| match at {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
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

fn optional_time(row: &Map<String, Value>, column: &str) -> Result<Option<DateTime<Utc>>, String> {
    match row.get(column) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(value)) => DateTime::parse_from_rfc3339(value)
            .map(|time| Some(time.with_timezone(&Utc)))
            .map_err(|_| format!("{column} holds {value:?}, which is not a date and time")),
        Some(other) => Err(format!(
            "{column} holds {other}, which is not a date and time"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    use crate::settings::tests::default_schema as schema;

    fn row(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn a_session_row_is_read_with_its_etag_and_lowercased_lookup() {
        let parsed = session_row(
            &schema(),
            &row(json!({
                "@odata.etag": "W/\"42\"",
                "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
                "w4d_lastcustomermessageon": "2026-11-24T15:00:00Z",
                "createdon": "2026-11-20T08:00:00Z",
                "_w4d_configurationid_value": "ABC",
                "statecode": 0
            })),
        )
        .unwrap();
        assert_eq!(parsed.etag, "W/\"42\"");
        assert_eq!(parsed.configuration_id.as_deref(), Some("abc"));
        assert_eq!(
            parsed.last_customer_message.map(|t| t.to_rfc3339()),
            Some("2026-11-24T15:00:00+00:00".to_owned())
        );
    }

    #[test]
    fn a_session_row_with_an_unreadable_time_is_an_error_for_that_row() {
        let error = session_row(
            &schema(),
            &row(json!({
                "@odata.etag": "W/\"1\"",
                "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
                "w4d_lastcustomermessageon": "yesterday",
                "createdon": "2026-11-20T08:00:00Z",
                "statecode": 0
            })),
        )
        .unwrap_err();
        assert_eq!(
            error.id.as_deref(),
            Some("00000000-0000-4000-8000-0000000000a1")
        );
        assert!(error.reason.contains("w4d_lastcustomermessageon"));
    }

    #[test]
    fn a_session_row_without_an_etag_cannot_be_closed_safely() {
        let error = session_row(
            &schema(),
            &row(json!({
                "w4d_chatsessionid": "00000000-0000-4000-8000-0000000000a1",
                "createdon": "2026-11-20T08:00:00Z",
                "statecode": 0
            })),
        )
        .unwrap_err();
        assert!(error.reason.contains("ETag"));
    }
}
