//! The seed data types: a [`Table`] (logical name, key, columns, rows) and a [`Dataset`] of
//! tables by entity-set name, parsed from a seed file or built in code.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::action::SendsMessage;
use crate::error::SimError;

/// Columns every Dataverse table has; the store adds them to every table.
pub(crate) const SYSTEM_COLUMNS: [&str; 6] = [
    "statecode",
    "statuscode",
    "createdon",
    "modifiedon",
    "_modifiedby_value",
    "versionnumber",
];

/// One table: its logical name, primary key, columns and rows.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Table {
    /// Logical (entity) name, e.g. `w4d_chatsession`; used in error messages.
    pub entity_name: String,
    /// Primary key column, e.g. `w4d_chatsessionid`.
    pub primary_key: String,
    /// Column names; the primary key, system columns and every key found in a row are added.
    #[serde(default)]
    pub columns: Vec<String>,
    /// Rows as JSON objects; each must carry its primary key as a string.
    #[serde(default)]
    pub rows: Vec<Value>,
    /// Column definitions the metadata endpoints report, by column name, e.g.
    /// `{"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}`; a column not listed
    /// gets its type from its name (see the README's metadata section).
    #[serde(default)]
    pub attributes: BTreeMap<String, Value>,
}

impl Table {
    /// An empty table with the given columns.
    pub fn new(entity_name: &str, primary_key: &str, columns: &[&str]) -> Table {
        Table {
            entity_name: entity_name.to_string(),
            primary_key: primary_key.to_string(),
            columns: columns.iter().map(|c| c.to_string()).collect(),
            rows: Vec::new(),
            attributes: BTreeMap::new(),
        }
    }

    /// Declares a column's definition for the metadata endpoints, builder style.
    pub fn with_attribute(mut self, column: &str, definition: Value) -> Table {
        self.attributes.insert(column.to_string(), definition);
        self
    }

    /// Every column name: declared, primary key, system columns and keys present in rows.
    pub fn all_columns(&self) -> BTreeSet<String> {
        let mut all: BTreeSet<String> = self.columns.iter().cloned().collect();
        all.insert(self.primary_key.clone());
        all.extend(SYSTEM_COLUMNS.iter().map(|c| c.to_string()));
        for row in &self.rows {
            if let Some(object) = row.as_object() {
                all.extend(object.keys().cloned());
            }
        }
        all
    }
}

/// Tables by entity-set name, and what the org's custom APIs do when called.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    tables: BTreeMap<String, Table>,
    actions: BTreeMap<String, SendsMessage>,
}

impl Dataset {
    /// No tables at all.
    pub fn new() -> Self {
        Dataset::default()
    }

    /// Adds (or replaces) a table under its entity-set name.
    pub fn with_table(mut self, entity_set: &str, table: Table) -> Self {
        self.tables.insert(entity_set.to_string(), table);
        self
    }

    /// Sets the `DateTimeBehavior` (`UserLocal`, `TimeZoneIndependent` or `DateOnly`) the
    /// metadata endpoints report for a date and time column; ignored for an unknown table.
    pub fn with_datetime_behavior(
        mut self,
        entity_set: &str,
        column: &str,
        behavior: &str,
    ) -> Self {
        if let Some(table) = self.tables.get_mut(entity_set) {
            table.attributes.insert(
                column.to_string(),
                json!({"AttributeType": "DateTime", "DateTimeBehavior": behavior}),
            );
        }
        self
    }

    /// Makes a table enforce its state transitions ("Define custom state model transitions"):
    /// `allowed` holds (from status, to status) pairs, written into each status option's
    /// `TransitionData` as Dataverse's `allowedtransitions` document. A status with no pair
    /// may move nowhere. Ignored for an unknown table.
    pub fn with_state_transitions(mut self, entity_set: &str, allowed: &[(i64, i64)]) -> Self {
        let Some(table) = self.tables.get_mut(entity_set) else {
            return self;
        };
        let status = table
            .attributes
            .entry("statuscode".to_string())
            .or_insert_with(|| json!({"AttributeType": "Status"}));
        if status.get("Options").is_none() {
            status["Options"] = json!([
                {"Value": 1, "State": 0, "Label": "Active"},
                {"Value": 2, "State": 1, "Label": "Inactive"}
            ]);
        }
        status["EnforceStateTransitions"] = json!(true);
        if let Some(options) = status["Options"].as_array_mut() {
            for option in options {
                let from = option["Value"].as_i64().unwrap_or_default();
                option["TransitionData"] = Value::from(transition_data(from, allowed));
            }
        }
        self
    }

    /// Says what calling the custom API `unique_name` does: create a message row (its
    /// definition must also be a row of `customapis`, with its parameters in
    /// `customapirequestparameters`, for the Web API to accept the call).
    pub fn with_message_action(mut self, unique_name: &str, effect: SendsMessage) -> Self {
        self.actions.insert(unique_name.to_string(), effect);
        self
    }

    /// What each custom API does, by unique name.
    pub fn actions(&self) -> impl Iterator<Item = (&str, &SendsMessage)> {
        self.actions
            .iter()
            .map(|(name, effect)| (name.as_str(), effect))
    }

    /// The tables, by entity-set name.
    pub fn tables(&self) -> impl Iterator<Item = (&str, &Table)> {
        self.tables
            .iter()
            .map(|(name, table)| (name.as_str(), table))
    }

    /// One table by entity-set name.
    pub fn table(&self, entity_set: &str) -> Option<&Table> {
        self.tables.get(entity_set)
    }

    /// Parses a seed file: `{"<entity_set>": {"entity_name", "primary_key", "columns"?, "rows"?}}`.
    pub fn from_json(text: &str) -> Result<Self, SimError> {
        let tables: BTreeMap<String, Table> =
            serde_json::from_str(text).map_err(|e| SimError::Seed(e.to_string()))?;
        for (set, table) in &tables {
            if table.primary_key.is_empty() || table.entity_name.is_empty() {
                return Err(SimError::Seed(format!(
                    "table '{set}' needs a non-empty entity_name and primary_key"
                )));
            }
            let mut seen = BTreeSet::new();
            for (index, row) in table.rows.iter().enumerate() {
                let id = row
                    .as_object()
                    .and_then(|o| o.get(&table.primary_key))
                    .and_then(Value::as_str)
                    .ok_or_else(|| {
                        SimError::Seed(format!(
                            "row {index} of '{set}' is not an object with a string '{}'",
                            table.primary_key
                        ))
                    })?;
                if !seen.insert(id.to_ascii_lowercase()) {
                    return Err(SimError::Seed(format!("duplicate id '{id}' in '{set}'")));
                }
            }
        }
        Ok(Dataset {
            tables,
            actions: BTreeMap::new(),
        })
    }

    /// One table by entity-set name, to fill in its rows (the built-in orgs).
    pub(super) fn table_mut(&mut self, entity_set: &str) -> Option<&mut Table> {
        self.tables.get_mut(entity_set)
    }
}

/// The `TransitionData` of status `from`: the documented `allowedtransitions` XML.
fn transition_data(from: i64, allowed: &[(i64, i64)]) -> String {
    let transitions: String = allowed
        .iter()
        .filter(|(source, _)| *source == from)
        .map(|(source, to)| {
            format!("<allowedtransition sourcestatusid=\"{source}\" tostatusid=\"{to}\" />")
        })
        .collect();
    format!("<allowedtransitions xmlns=\"http://schemas.microsoft.com/crm/2009/WebServices\">{transitions}</allowedtransitions>")
}

/// Dataverse's UTC datetime format: `2026-11-24T15:00:00Z`.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}
