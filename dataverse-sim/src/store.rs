//! The in-memory tables. Rows live in a `BTreeMap` keyed by the lowercase primary key so
//! that paging can resume *after a key* (rows that change between page reads never make
//! others shift). Every change takes a new value from one global version counter, which is
//! what the row's `versionnumber` and ETag (`W/"<versionnumber>"`) show.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{Map, Value};

use crate::clock::SimClock;
use crate::dataset::{stamp, Dataset, SendsMessage};
use crate::ids::INTEGRATION_USER_ID;
use crate::index::{is_indexed, is_time_column, EqIndex};

/// A row: its columns as a JSON object (system columns included).
pub(crate) type Row = Map<String, Value>;

/// One table in the store.
#[derive(Debug)]
pub(crate) struct TableState {
    pub entity_name: String,
    pub primary_key: String,
    pub columns: BTreeSet<String>,
    /// The rows by id. Read freely; change them only through [`Store`], which keeps
    /// [`TableState::index`] true.
    pub rows: BTreeMap<String, Row>,
    /// Declared column definitions for the metadata endpoints.
    pub attributes: BTreeMap<String, Value>,
    /// Which rows hold each value of the state, status and lookup columns.
    pub index: EqIndex,
}

/// The columns of `row` the indexes keep, to tell them what a change replaced.
fn indexed_part(row: &Row) -> Row {
    row.iter()
        .filter(|(column, _)| is_indexed(column) || is_time_column(column))
        .map(|(column, value)| (column.clone(), value.clone()))
        .collect()
}

impl TableState {
    /// True when the table has this column.
    pub(crate) fn has_column(&self, column: &str) -> bool {
        self.columns.contains(column)
    }

    /// The declared `AttributeType` of a column, or the one its name implies for the state
    /// and status columns every table has; `None` for an undeclared column.
    pub(crate) fn declared_type(&self, column: &str) -> Option<&str> {
        match self.attributes.get(column) {
            Some(declared) => declared["AttributeType"].as_str(),
            None if column == "statecode" => Some("State"),
            None if column == "statuscode" => Some("Status"),
            None => None,
        }
    }

    /// The single-valued navigation property of a lookup column `_x_value`: the declared
    /// `NavigationProperty`, else the lookup's logical name `x`.
    pub(crate) fn navigation_of(&self, column: &str) -> Option<String> {
        let logical = column.strip_prefix('_')?.strip_suffix("_value")?;
        let declared = self
            .attributes
            .get(column)
            .and_then(|a| a["NavigationProperty"].as_str());
        Some(declared.unwrap_or(logical).to_string())
    }

    /// The lookup column whose navigation property is exactly `navigation` (OData names are
    /// case-sensitive), with the tables it may point to (empty when not declared).
    pub(crate) fn lookup_by_navigation(&self, navigation: &str) -> Option<(String, Vec<String>)> {
        let column = self
            .columns
            .iter()
            .find(|c| self.navigation_of(c).as_deref() == Some(navigation))?;
        let targets = self
            .attributes
            .get(column)
            .and_then(|a| a["Targets"].as_array())
            .map(|t| {
                t.iter()
                    .filter_map(|v| v.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        Some((column.clone(), targets))
    }

    /// True when the column is declared a date and time column with the behaviour Date only.
    pub(crate) fn is_date_only(&self, column: &str) -> bool {
        self.attributes
            .get(column)
            .is_some_and(|a| a["DateTimeBehavior"] == "DateOnly")
    }

    /// True when the table enforces its state transitions (declared on its `statuscode`).
    pub(crate) fn enforces_state_transitions(&self) -> bool {
        self.attributes
            .get("statuscode")
            .is_some_and(|s| s["EnforceStateTransitions"] == true)
    }

    /// Whether status `from` may move to `to`: always, unless the table enforces its state
    /// transitions and `from`'s `TransitionData` does not list `to`.
    pub(crate) fn allows_status_change(&self, from: i64, to: i64) -> bool {
        if from == to || !self.enforces_state_transitions() {
            return true;
        }
        let wanted = format!("tostatusid=\"{to}\"");
        self.attributes["statuscode"]["Options"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|option| option["Value"].as_i64() == Some(from))
            .filter_map(|option| option["TransitionData"].as_str())
            .any(|data| data.contains(&wanted))
    }

    /// Keeps only the date of each Date only column's value: Dataverse stores such a column
    /// with no time of day and no time zone, and the Web API reads it as `Edm.Date`.
    fn keep_dates_only(&self, row: &mut Row) {
        for (column, value) in row.iter_mut() {
            if let (true, Some(text)) = (self.is_date_only(column), value.as_str()) {
                if let Some(date) = text.get(..10).filter(|_| text.len() > 10) {
                    *value = Value::from(date);
                }
            }
        }
    }
}

/// A row as it was before a change: (entity set, key, previous row or `None` if it was new).
type Undo = (String, String, Option<Row>);

/// Every table plus the version counter.
#[derive(Debug, Default)]
pub(crate) struct Store {
    tables: HashMap<String, TableState>,
    version: u64,
    /// What `createdon` and `modifiedon` are stamped with.
    pub clock: SimClock,
    /// What each custom API does when called, by unique name.
    pub actions: BTreeMap<String, SendsMessage>,
    /// While a change set runs: every row it changed, as it was before, so that a failure
    /// can put each one back whatever operation (PATCH, POST or action) changed it.
    journal: Option<Vec<Undo>>,
}

/// The ETag Dataverse derives from a row's version.
pub(crate) fn etag(row: &Row) -> String {
    let version = row
        .get("versionnumber")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    format!("W/\"{version}\"")
}

/// Normalises an id as the store keys it (GUIDs are case-insensitive).
pub(crate) fn key(id: &str) -> String {
    id.trim().to_ascii_lowercase()
}

impl Store {
    /// Loads a dataset, assigning versions and filling missing system columns.
    pub(crate) fn from_dataset(data: Dataset) -> Store {
        let mut store = Store {
            tables: HashMap::new(),
            version: 1000,
            clock: SimClock::System,
            journal: None,
            actions: data
                .actions()
                .map(|(name, effect)| (name.to_string(), effect.clone()))
                .collect(),
        };
        for (set, table) in data.tables() {
            store.tables.insert(
                set.to_string(),
                TableState {
                    entity_name: table.entity_name.clone(),
                    primary_key: table.primary_key.clone(),
                    columns: table.all_columns(),
                    rows: BTreeMap::new(),
                    attributes: table.attributes.clone(),
                    index: EqIndex::default(),
                },
            );
            for row in &table.rows {
                store.insert(set, row.clone());
            }
        }
        store
    }

    /// The entity set and table of a logical name.
    pub(crate) fn table_by_logical_name(&self, logical: &str) -> Option<(&String, &TableState)> {
        self.tables
            .iter()
            .find(|(_, table)| table.entity_name == logical)
    }

    /// Every table with its entity-set name.
    pub(crate) fn tables(&self) -> impl Iterator<Item = (&String, &TableState)> {
        self.tables.iter()
    }

    /// A table by entity-set name.
    pub(crate) fn table(&self, set: &str) -> Option<&TableState> {
        self.tables.get(set)
    }

    fn next_version(&mut self) -> u64 {
        self.version += 1;
        self.version
    }

    /// Inserts or replaces a row as a new version. Returns false when the table does not
    /// exist or the row has no string primary key.
    pub(crate) fn insert(&mut self, set: &str, row: Value) -> bool {
        let Value::Object(mut row) = row else {
            return false;
        };
        let version = self.next_version();
        let Some(table) = self.tables.get_mut(set) else {
            return false;
        };
        let Some(id) = row.get(&table.primary_key).and_then(Value::as_str).map(key) else {
            return false;
        };
        let now = stamp(self.clock.now());
        row.insert(table.primary_key.clone(), Value::from(id.clone()));
        row.entry("statecode").or_insert(Value::from(0));
        row.entry("statuscode").or_insert(Value::from(1));
        row.entry("createdon").or_insert(Value::from(now.clone()));
        row.entry("modifiedon").or_insert(Value::from(now));
        row.entry("_modifiedby_value")
            .or_insert(Value::from(INTEGRATION_USER_ID));
        row.insert("versionnumber".into(), Value::from(version));
        table.keep_dates_only(&mut row);
        table.columns.extend(row.keys().cloned());
        let before = table.rows.get(&id).map(indexed_part);
        table.index.update(&id, before.as_ref(), Some(&row));
        let previous = table.rows.insert(id.clone(), row);
        if let Some(journal) = self.journal.as_mut() {
            journal.push((set.to_string(), id, previous));
        }
        true
    }

    /// Merges `changes` into a row, bumps its version and records `modifier` and the time as
    /// `_modifiedby_value` and `modifiedon`, as Dataverse does on every update. Returns the
    /// row's new state, or `None` when the table or row does not exist.
    pub(crate) fn merge(
        &mut self,
        set: &str,
        id: &str,
        changes: &Row,
        modifier: &str,
    ) -> Option<&Row> {
        let version = self.next_version();
        let table = self.tables.get_mut(set)?;
        let primary_key = table.primary_key.clone();
        let mut changes = changes.clone();
        table.keep_dates_only(&mut changes);
        let id = key(id);
        let row = table.rows.get_mut(&id)?;
        if let Some(journal) = self.journal.as_mut() {
            journal.push((set.to_string(), id.clone(), Some(row.clone())));
        }
        let before = indexed_part(row);
        for (column, value) in changes {
            // The key and the version are the server's to set, as in Dataverse.
            if column != primary_key && column != "versionnumber" {
                row.insert(column, value);
            }
        }
        row.insert("modifiedon".into(), Value::from(stamp(self.clock.now())));
        row.insert("_modifiedby_value".into(), Value::from(modifier));
        row.insert("versionnumber".into(), Value::from(version));
        table.index.update(&id, Some(&before), Some(row));
        Some(row)
    }

    /// A copy of a row, for undo logs and the admin API.
    pub(crate) fn get(&self, set: &str, id: &str) -> Option<&Row> {
        self.tables.get(set)?.rows.get(&key(id))
    }

    /// Starts recording every change, for a change set that may have to undo them.
    pub(crate) fn begin_change_set(&mut self) {
        self.journal = Some(Vec::new());
    }

    /// Keeps the change set's changes and stops recording.
    pub(crate) fn commit_change_set(&mut self) {
        self.journal = None;
    }

    /// Puts back every row the change set changed, newest change first, and stops recording.
    pub(crate) fn roll_back_change_set(&mut self) {
        for (set, id, previous) in self.journal.take().unwrap_or_default().into_iter().rev() {
            self.restore(&set, &id, previous);
        }
    }

    /// Puts a row back exactly as it was (`None` removes it).
    fn restore(&mut self, set: &str, id: &str, previous: Option<Row>) {
        if let Some(table) = self.tables.get_mut(set) {
            let id = key(id);
            let before = table.rows.get(&id).map(indexed_part);
            table.index.update(&id, before.as_ref(), previous.as_ref());
            match previous {
                Some(row) => {
                    table.rows.insert(id, row);
                }
                None => {
                    table.rows.remove(&id);
                }
            }
        }
    }
}
