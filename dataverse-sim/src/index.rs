//! Equality indexes over a table's state and lookup columns, so that a `$filter` whose
//! top-level conjuncts include `column eq literal` reads only the rows holding that value
//! instead of every row. A leaf: it knows JSON values, not filters. The rows it returns are
//! still evaluated against the whole filter, in key order, so an indexed query answers exactly
//! what a scan would.

use std::collections::{BTreeSet, HashMap};

use serde_json::{Map, Value};

/// A row, as the store holds it.
type Row = Map<String, Value>;

/// A column's value as an `eq` comparison sees it: null (missing, null, or not a scalar),
/// a boolean, a number (as its `f64`, zero unsigned), or text compared case-insensitively.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum EqKey {
    Null,
    Bool(bool),
    Number(u64),
    Text(String),
}

impl EqKey {
    /// The key of a row's value in a column.
    pub(crate) fn of_value(value: Option<&Value>) -> EqKey {
        match value {
            Some(Value::Bool(b)) => EqKey::Bool(*b),
            Some(Value::Number(n)) => n.as_f64().map_or(EqKey::Null, EqKey::number),
            Some(Value::String(s)) => EqKey::text(s),
            _ => EqKey::Null,
        }
    }

    /// The key of a number: `0.0` and `-0.0` compare equal, so they share one.
    pub(crate) fn number(n: f64) -> EqKey {
        EqKey::Number((n + 0.0).to_bits())
    }

    /// The key of a text, as the filter compares text: by its lowercase form.
    pub(crate) fn text(s: &str) -> EqKey {
        EqKey::Text(s.to_lowercase())
    }
}

/// Whether a column is indexed: the state and status codes and the lookup columns
/// (`_name_value`), which is what `eq` filters name.
pub(crate) fn is_indexed(column: &str) -> bool {
    column == "statecode"
        || column == "statuscode"
        || (column.starts_with('_') && column.ends_with("_value"))
}

/// For each indexed column, the ids of the rows holding each value other than null. Null is
/// left out (a row without the column holds it too), so `column eq null` reads every row.
#[derive(Debug, Default)]
pub(crate) struct EqIndex {
    columns: HashMap<String, HashMap<EqKey, BTreeSet<String>>>,
}

impl EqIndex {
    /// Records the row `id`, which held `before` (`None`: it did not exist) and now holds
    /// `after` (`None`: it was removed). Every change to a table's rows must come through here.
    pub(crate) fn update(&mut self, id: &str, before: Option<&Row>, after: Option<&Row>) {
        let columns: BTreeSet<&String> = before
            .into_iter()
            .chain(after)
            .flat_map(|row| row.keys())
            .filter(|column| is_indexed(column))
            .collect();
        for column in columns {
            let old = EqKey::of_value(before.and_then(|row| row.get(column)));
            let new = EqKey::of_value(after.and_then(|row| row.get(column)));
            if old == new {
                continue;
            }
            let values = self.columns.entry(column.clone()).or_default();
            if let Some(ids) = values.get_mut(&old) {
                ids.remove(id);
                if ids.is_empty() {
                    values.remove(&old);
                }
            }
            if new != EqKey::Null {
                values.entry(new).or_default().insert(id.to_owned());
            }
        }
    }

    /// The ids of the rows whose `column` holds `key`, in key order; `None` when the index
    /// cannot say (the column is not indexed, or `key` is null): every row must then be read.
    pub(crate) fn rows_with(&self, column: &str, key: &EqKey) -> Option<&BTreeSet<String>> {
        static NONE: BTreeSet<String> = BTreeSet::new();
        if !is_indexed(column) || *key == EqKey::Null {
            return None;
        }
        let ids = self.columns.get(column).and_then(|values| values.get(key));
        Some(ids.unwrap_or(&NONE))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Row {
        value.as_object().unwrap().clone()
    }

    fn ids(index: &EqIndex, column: &str, key: &EqKey) -> Vec<String> {
        index
            .rows_with(column, key)
            .unwrap()
            .iter()
            .cloned()
            .collect()
    }

    #[test]
    fn a_change_moves_the_row_to_the_bucket_of_its_new_value_and_a_removal_drops_it() {
        let mut index = EqIndex::default();
        let open = row(json!({"statecode": 0, "_c_value": "ABC"}));
        let closed = row(json!({"statecode": 1, "_c_value": "abc"}));
        index.update("a", None, Some(&open));
        index.update("b", None, Some(&open));
        index.update("a", Some(&open), Some(&closed));

        assert_eq!(ids(&index, "statecode", &EqKey::number(0.0)), ["b"]);
        assert_eq!(ids(&index, "statecode", &EqKey::number(-0.0)), ["b"]);
        assert_eq!(ids(&index, "statecode", &EqKey::number(1.0)), ["a"]);
        assert_eq!(ids(&index, "_c_value", &EqKey::text("aBc")), ["a", "b"]);

        index.update("b", Some(&open), None);
        assert!(ids(&index, "statecode", &EqKey::number(0.0)).is_empty());
    }

    #[test]
    fn null_and_columns_outside_the_index_are_left_to_a_scan() {
        let mut index = EqIndex::default();
        index.update(
            "a",
            None,
            Some(&row(json!({"statecode": null, "name": "x"}))),
        );
        assert!(index.rows_with("statecode", &EqKey::Null).is_none());
        assert!(index.rows_with("name", &EqKey::text("x")).is_none());
        assert!(index.rows_with("statuscode", &EqKey::number(1.0)).is_some());
    }
}
