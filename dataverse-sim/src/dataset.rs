//! Seed data: what the simulator's tables hold when it starts. A [`Dataset`] is plain data
//! (tables by entity-set name); the server copies it into its store. Three sources: a JSON
//! seed file, the small demo org behind `make demo`, and generated orgs for load tests.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::codec::Prng;
use crate::SimError;

/// Entity set of WhatsApp configurations in the sample schema.
pub const CONFIGURATIONS: &str = "w4d_whatsappconfigurations";
/// Entity set of chat sessions in the sample schema.
pub const SESSIONS: &str = "w4d_chatsessions";

/// Entity set of processes (classic workflows and cloud flows).
pub const WORKFLOWS: &str = "workflows";

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

/// Tables by entity-set name.
#[derive(Clone, Debug, Default)]
pub struct Dataset {
    tables: BTreeMap<String, Table>,
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
        Ok(Dataset { tables })
    }

    /// The sample WhatsApp schema (configurations and chat sessions) with no rows.
    pub fn whatsapp_empty() -> Self {
        Dataset::new()
            .with_table(
                CONFIGURATIONS,
                Table::new(
                    "w4d_whatsappconfiguration",
                    "w4d_whatsappconfigurationid",
                    &[
                        "w4d_whatsappconfigurationid",
                        "w4d_name",
                        "w4d_sessiontimeout",
                        "statecode",
                        "statuscode",
                        "createdon",
                        "modifiedon",
                    ],
                )
                .with_attribute("w4d_sessiontimeout", json!({"AttributeType": "Integer"})),
            )
            .with_table(
                SESSIONS,
                Table::new(
                    "w4d_chatsession",
                    "w4d_chatsessionid",
                    &[
                        "w4d_chatsessionid",
                        "w4d_name",
                        "w4d_lastcustomermessageon",
                        "w4d_lastagentmessageon",
                        "_w4d_configurationid_value",
                        "w4d_closereason",
                        "statecode",
                        "statuscode",
                        "createdon",
                        "modifiedon",
                    ],
                )
                .with_attribute(
                    "w4d_lastcustomermessageon",
                    json!({"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}),
                )
                .with_attribute(
                    "w4d_lastagentmessageon",
                    json!({"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}),
                )
                .with_attribute(
                    "_w4d_configurationid_value",
                    json!({"AttributeType": "Lookup", "Targets": ["w4d_whatsappconfiguration"]}),
                )
                .with_attribute(
                    "statuscode",
                    json!({"AttributeType": "Status", "Options": [
                        {"Value": 1, "State": 0, "Label": "Active"},
                        {"Value": 2, "State": 1, "Label": "Closed"},
                        {"Value": 3, "State": 1, "Label": "Expired"}
                    ]}),
                ),
            )
            .with_table(
                WORKFLOWS,
                Table::new(
                    "workflow",
                    "workflowid",
                    &[
                        "workflowid",
                        "name",
                        "category",
                        "type",
                        "statecode",
                        "statuscode",
                    ],
                )
                .with_attribute("category", json!({"AttributeType": "Picklist"}))
                .with_attribute("type", json!({"AttributeType": "Picklist"})),
            )
    }

    /// The small sample org behind `make demo`; deterministic for a given `now`.
    ///
    /// Configurations: "Contoso Support" (1440 minutes, active), "Contoso Sales" (30 minutes,
    /// active), "Legacy number" (60 minutes, inactive). Twelve sessions, all assigned; the
    /// names say what a correct sweep at `now` does with each.
    pub fn demo(now: DateTime<Utc>) -> Self {
        let support = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
        let sales = "0b9e8d7c-6a5f-4e3d-9c2b-1a0f9e8d7c61";
        let legacy = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e61";
        let mut data = Dataset::whatsapp_empty();
        let days_ago = |d: i64| stamp(now - Duration::days(d));
        let configurations = [
            (support, "Contoso Support", 1440, 0, 1),
            (sales, "Contoso Sales", 30, 0, 1),
            (legacy, "Legacy number (retired)", 60, 1, 2),
        ];
        if let Some(table) = data.tables.get_mut(CONFIGURATIONS) {
            for (id, name, timeout, state, status) in configurations {
                table.rows.push(json!({
                    "w4d_whatsappconfigurationid": id,
                    "w4d_name": name,
                    "w4d_sessiontimeout": timeout,
                    "statecode": state,
                    "statuscode": status,
                    "createdon": days_ago(400),
                    "modifiedon": days_ago(30),
                }));
            }
        }
        // A cloud flow (category 5) that has nothing to do with sessions is on; the vendor's
        // own timeout flow is off, as it should be once this function closes sessions.
        let flows = [
            (
                "f10e0000-0000-4000-8000-000000000001",
                "Daily agent report",
                1,
                2,
            ),
            (
                "f10e0000-0000-4000-8000-000000000002",
                "WhatsApp session timeout (vendor)",
                0,
                1,
            ),
        ];
        if let Some(table) = data.tables.get_mut(WORKFLOWS) {
            for (id, name, state, status) in flows {
                table.rows.push(json!({
                    "workflowid": id, "name": name, "category": 5, "type": 1,
                    "statecode": state, "statuscode": status,
                }));
            }
        }
        const H: i64 = 60;
        const D: i64 = 24 * H;
        // (name, configuration, minutes since the last customer message, minutes since
        // creation, already closed); the name says what a correct sweep does.
        let sessions = [
            (
                "Support 0101 (2 days quiet: close)",
                support,
                Some(2 * D),
                3 * D,
                false,
            ),
            (
                "Support 0102 (25 h quiet: close)",
                support,
                Some(25 * H),
                2 * D,
                false,
            ),
            (
                "Support 0103 (3 h quiet: keep)",
                support,
                Some(3 * H),
                D,
                false,
            ),
            (
                "Support 0104 (23 h 59 m quiet: keep)",
                support,
                Some(D - 1),
                2 * D,
                false,
            ),
            (
                "Support 0105 (no message, created 3 days ago: close)",
                support,
                None,
                3 * D,
                false,
            ),
            (
                "Support 0106 (already closed)",
                support,
                Some(5 * D),
                6 * D,
                true,
            ),
            (
                "Support 0107 (a week quiet: close)",
                support,
                Some(7 * D),
                8 * D,
                false,
            ),
            (
                "Sales 0108 (45 m quiet: close)",
                sales,
                Some(45),
                2 * H,
                false,
            ),
            ("Sales 0109 (10 m quiet: keep)", sales, Some(10), H, false),
            (
                "Sales 0110 (2 h quiet: close)",
                sales,
                Some(2 * H),
                3 * H,
                false,
            ),
            (
                "Sales 0111 (message 5 m in the future: keep)",
                sales,
                Some(-5),
                H,
                false,
            ),
            (
                "Legacy 0112 (inactive configuration: keep)",
                legacy,
                Some(10 * D),
                11 * D,
                false,
            ),
        ];
        if let Some(table) = data.tables.get_mut(SESSIONS) {
            for (index, (name, configuration, quiet, age, closed)) in
                sessions.into_iter().enumerate()
            {
                let last = quiet.map(|q| now - Duration::minutes(q));
                let created = now - Duration::minutes(age);
                table.rows.push(json!({
                    "w4d_chatsessionid": format!("5e551000-0000-4000-8000-{:012}", index + 1),
                    "w4d_name": name,
                    "w4d_lastcustomermessageon": last.map(stamp),
                    "_w4d_configurationid_value": configuration,
                    "w4d_closereason": if closed { Value::from("Closed by agent") } else { Value::Null },
                    "statecode": if closed { 1 } else { 0 },
                    "statuscode": if closed { 2 } else { 1 },
                    "createdon": stamp(created),
                    "modifiedon": stamp(last.unwrap_or(created).min(now)),
                }));
            }
        }
        data
    }

    /// One active configuration (1440 minutes) and `sessions` active sessions, exactly
    /// `round(sessions * eligible_ratio)` of them quiet for longer than a day (spread over
    /// a week), the rest quiet for less. Deterministic for the same arguments.
    pub fn generated(sessions: usize, eligible_ratio: f64, now: DateTime<Utc>) -> Self {
        let configuration = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
        let ratio = if eligible_ratio.is_finite() {
            eligible_ratio.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let eligible = ((sessions as f64) * ratio).round() as usize;
        let mut rng = Prng::new(0x5e55_10f5 ^ sessions as u64);
        let mut data = Dataset::whatsapp_empty();
        if let Some(table) = data.tables.get_mut(CONFIGURATIONS) {
            table.rows.push(json!({
                "w4d_whatsappconfigurationid": configuration,
                "w4d_name": "Generated configuration",
                "w4d_sessiontimeout": 1440,
                "statecode": 0,
                "statuscode": 1,
                "createdon": stamp(now - Duration::days(400)),
                "modifiedon": stamp(now - Duration::days(30)),
            }));
        }
        const DAY: i64 = 86_400;
        if let Some(table) = data.tables.get_mut(SESSIONS) {
            table.rows.reserve(sessions);
            for index in 0..sessions {
                // Eligible: quiet between one day plus a minute and eight days. Otherwise:
                // quiet between one second and one day minus a minute, safely inside.
                let quiet = if index < eligible {
                    rng.range(DAY + 60, 8 * DAY)
                } else {
                    rng.range(1, DAY - 60)
                };
                let last = now - Duration::seconds(quiet);
                let created = last - Duration::seconds(rng.range(60, DAY));
                table.rows.push(json!({
                    "w4d_chatsessionid": rng.guid(),
                    "w4d_name": format!("Generated session {index}"),
                    "w4d_lastcustomermessageon": stamp(last),
                    "_w4d_configurationid_value": configuration,
                    "w4d_closereason": null,
                    "statecode": 0,
                    "statuscode": 1,
                    "createdon": stamp(created),
                    "modifiedon": stamp(last),
                }));
            }
        }
        data
    }
}

/// Dataverse's UTC datetime format: `2026-11-24T15:00:00Z`.
pub(crate) fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    #[test]
    fn generated_orgs_have_exactly_the_requested_number_of_overdue_sessions() {
        let data = Dataset::generated(1000, 0.2, now());
        let cutoff = stamp(now() - Duration::days(1));
        let rows = &data.table(SESSIONS).unwrap().rows;
        let overdue = rows
            .iter()
            .filter(|r| r["w4d_lastcustomermessageon"].as_str().unwrap() < cutoff.as_str())
            .count();
        assert_eq!((rows.len(), overdue), (1000, 200));
    }

    #[test]
    fn generated_orgs_are_deterministic() {
        let a = Dataset::generated(50, 0.5, now());
        let b = Dataset::generated(50, 0.5, now());
        assert_eq!(
            a.table(SESSIONS).unwrap().rows,
            b.table(SESSIONS).unwrap().rows
        );
    }

    #[test]
    fn seeds_with_a_row_missing_its_primary_key_are_rejected() {
        let seed = r#"{"things": {"entity_name": "thing", "primary_key": "thingid", "rows": [{"name": "x"}]}}"#;
        assert!(Dataset::from_json(seed).is_err());
    }

    #[test]
    fn the_demo_org_assigns_every_session_to_a_configuration() {
        let data = Dataset::demo(now());
        let rows = &data.table(SESSIONS).unwrap().rows;
        assert!(rows
            .iter()
            .all(|r| r["_w4d_configurationid_value"].is_string()));
    }
}
