//! Indexes over a table, so that a query reads only the rows that can match instead of every
//! row: equality indexes over the state, status and lookup columns (for a filter's top-level
//! `column eq literal`), ordered indexes over the date and time columns (for `$orderby` one of
//! them with a `column gt/ge <date and time>` in the filter), and the same ordered indexes kept
//! per state and per state and lookup value (for a filter that asks for one state and puts its
//! rows at or before a moment: a sweep's candidates, among active rows only, since the closed
//! rows of a long day all lie before any cutoff). A leaf: it knows JSON values, not filters.
//! The rows it returns are still matched against the whole filter, in the order a scan would
//! use, so an indexed query answers exactly what a scan would.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, Datelike, FixedOffset, SecondsFormat, Timelike, Utc};

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

/// The column whose value splits the scoped ordered indexes.
pub(crate) const STATE_COLUMN: &str = "statecode";

/// Whether a column is indexed: the state and status codes and the lookup columns
/// (`_name_value`), which is what `eq` filters name.
pub(crate) fn is_indexed(column: &str) -> bool {
    column == STATE_COLUMN || column == "statuscode" || is_lookup(column)
}

/// Whether a column is a lookup's value (`_name_value`).
pub(crate) fn is_lookup(column: &str) -> bool {
    column.starts_with('_') && column.ends_with("_value")
}

/// Orders two texts by their lowercase forms (as `$orderby` and the filter compare text),
/// without building them when both are ASCII (where lowercasing byte by byte gives the same).
pub(crate) fn cmp_ignoring_case(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a
            .bytes()
            .map(|c| c.to_ascii_lowercase())
            .cmp(b.bytes().map(|c| c.to_ascii_lowercase()));
    }
    a.to_lowercase().cmp(&b.to_lowercase())
}

/// Whether a column gets an ordered index: Dataverse names its date and time columns `…on`
/// (`createdon`, `modifiedon`); any other column is simply scanned.
pub(crate) fn is_time_column(column: &str) -> bool {
    column.ends_with("on")
}

/// Whether `text` is a date and time as the store writes them, `YYYY-MM-DDTHH:MM:SSZ`: among
/// such texts, the order of the text is the order of time.
fn is_canonical(text: &str) -> bool {
    let b = text.as_bytes();
    b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// A row in an ordered index: its text in the column, then its id, in `$orderby`'s order.
#[derive(Debug, Clone)]
struct Entry {
    text: String,
    id: String,
}

impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_ignoring_case(&self.text, &other.text)
            .then_with(|| cmp_ignoring_case(&self.id, &other.id))
    }
}

impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Entry {}

/// One date and time column's rows that hold text, in order, and how many of those texts are
/// not in the store's own format (while any is, the index cannot seek by time).
#[derive(Debug, Default)]
struct Ordered {
    entries: BTreeSet<Entry>,
    irregular: usize,
}

/// The rows a scoped ordered index holds: those in one state and, for a lookup scope, holding
/// one value in one lookup column.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Scope {
    state: EqKey,
    lookup: Option<(String, EqKey)>,
}

/// The scopes `row` belongs to: its state alone, and its state with each of its lookup values.
/// A row whose state is null belongs to none (no `statecode eq` filter can ask for it).
fn scopes_of(row: &Row) -> Vec<Scope> {
    let state = EqKey::of_value(row.get(STATE_COLUMN));
    if state == EqKey::Null {
        return Vec::new();
    }
    let lookups = row
        .iter()
        .filter(|(column, _)| is_lookup(column))
        .map(|(column, value)| (column, EqKey::of_value(Some(value))))
        .filter(|(_, key)| *key != EqKey::Null)
        .map(|(column, key)| Scope {
            state: state.clone(),
            lookup: Some((column.clone(), key)),
        })
        .collect::<Vec<_>>();
    std::iter::once(Scope {
        state,
        lookup: None,
    })
    .chain(lookups)
    .collect()
}

/// The text a row holds in a column, if any.
fn text_in<'a>(row: Option<&'a Row>, column: &str) -> Option<&'a str> {
    row.and_then(|row| row.get(column)).and_then(Value::as_str)
}

/// For each indexed column, the ids of the rows holding each value other than null. Null is
/// left out (a row without the column holds it too), so `column eq null` reads every row.
/// For each date and time column, its rows that hold text, in `$orderby`'s order; and the same
/// per scope, as (text, id) in byte order: they are read only while every text is in the
/// store's own format, where that is the order of time, and their rows are then sorted by id.
#[derive(Debug, Default)]
pub(crate) struct EqIndex {
    columns: HashMap<String, HashMap<EqKey, BTreeSet<String>>>,
    ordered: HashMap<String, Ordered>,
    scoped: HashMap<Scope, HashMap<String, BTreeSet<(String, String)>>>,
}

impl EqIndex {
    /// Records the row `id`, which held `before` (`None`: it did not exist) and now holds
    /// `after` (`None`: it was removed). Every change to a table's rows must come through here.
    pub(crate) fn update(&mut self, id: &str, before: Option<&Row>, after: Option<&Row>) {
        self.rescope(id, before, after);
        let columns: BTreeSet<&String> = before
            .into_iter()
            .chain(after)
            .flat_map(|row| row.keys())
            .filter(|column| is_indexed(column) || is_time_column(column))
            .collect();
        for column in columns {
            if is_time_column(column) {
                let text = |row: Option<&Row>| {
                    row.and_then(|row| row.get(column))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                self.reorder(id, column, text(before), text(after));
            }
            if !is_indexed(column) {
                continue;
            }
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

    /// Moves the row's entries in the scoped ordered indexes: only those of a column whose
    /// text changed, or of a scope the row left or joined.
    fn rescope(&mut self, id: &str, before: Option<&Row>, after: Option<&Row>) {
        let old_scopes = before.map(scopes_of).unwrap_or_default();
        let new_scopes = after.map(scopes_of).unwrap_or_default();
        let columns: BTreeSet<&String> = before
            .into_iter()
            .chain(after)
            .flat_map(|row| row.keys())
            .filter(|column| is_time_column(column))
            .collect();
        for column in columns {
            let (old, new) = (text_in(before, column), text_in(after, column));
            if let Some(text) = old {
                let left = old_scopes
                    .iter()
                    .filter(|scope| old != new || !new_scopes.contains(scope));
                for scope in left {
                    let Some(columns) = self.scoped.get_mut(scope) else {
                        continue;
                    };
                    if let Some(entries) = columns.get_mut(column.as_str()) {
                        entries.remove(&(text.to_owned(), id.to_owned()));
                        if entries.is_empty() {
                            columns.remove(column.as_str());
                        }
                    }
                    if columns.is_empty() {
                        self.scoped.remove(scope);
                    }
                }
            }
            if let Some(text) = new {
                let joined = new_scopes
                    .iter()
                    .filter(|scope| old != new || !old_scopes.contains(scope));
                for scope in joined {
                    self.scoped
                        .entry(scope.clone())
                        .or_default()
                        .entry(column.clone())
                        .or_default()
                        .insert((text.to_owned(), id.to_owned()));
                }
            }
        }
    }

    fn reorder(&mut self, id: &str, column: &str, old: Option<String>, new: Option<String>) {
        if old == new {
            return;
        }
        let ordered = self.ordered.entry(column.to_owned()).or_default();
        if let Some(text) = old {
            ordered.irregular -= usize::from(!is_canonical(&text));
            ordered.entries.remove(&Entry {
                text,
                id: id.to_owned(),
            });
        }
        if let Some(text) = new {
            ordered.irregular += usize::from(!is_canonical(&text));
            ordered.entries.insert(Entry {
                text,
                id: id.to_owned(),
            });
        }
    }

    /// The ids of the rows whose `column` holds a date and time at or after `at`'s whole
    /// second, in `$orderby`'s ascending order of `column` (then id), and possibly some rows
    /// before it that hold other text; `None` when the index cannot say (the column is not a
    /// date and time column, or holds text in another format): every row must then be read.
    /// A row without text in `column` is never after `at`, so none is left out that could match.
    pub(crate) fn ordered_from<'a>(
        &'a self,
        column: &str,
        at: DateTime<FixedOffset>,
    ) -> Option<Box<dyn Iterator<Item = &'a String> + 'a>> {
        if !is_time_column(column) {
            return None;
        }
        let Some(ordered) = self.ordered.get(column) else {
            return Some(Box::new(std::iter::empty()));
        };
        if ordered.irregular > 0 {
            return None;
        }
        let second = at.with_timezone(&Utc).with_nanosecond(0)?;
        let from = Entry {
            text: second.to_rfc3339_opts(SecondsFormat::Secs, true),
            id: String::new(),
        };
        Some(Box::new(
            ordered.entries.range(from..).map(|entry| &entry.id),
        ))
    }

    /// The ids of the rows whose `state` column holds `state` (and, with `lookup`, whose lookup
    /// column holds that value) and whose `column` holds a date and time at or before `at`'s
    /// whole second, in `$orderby`'s order of `column`; `None` when the index cannot say (as
    /// for [`Self::ordered_from`], or a moment outside the years the store writes). A row
    /// without text in `column` is never at or before `at`, so none is left out that could match.
    pub(crate) fn scoped_until<'a>(
        &'a self,
        state: &EqKey,
        lookup: Option<(&str, &EqKey)>,
        column: &str,
        at: DateTime<FixedOffset>,
    ) -> Option<Box<dyn Iterator<Item = &'a String> + 'a>> {
        if !is_time_column(column) || *state == EqKey::Null {
            return None;
        }
        if self.ordered.get(column).is_some_and(|o| o.irregular > 0) {
            return None;
        }
        let next_second =
            at.with_timezone(&Utc).with_nanosecond(0)? + chrono::TimeDelta::seconds(1);
        if !(1..=9999).contains(&next_second.year()) {
            return None;
        }
        let scope = Scope {
            state: state.clone(),
            lookup: lookup.map(|(column, key)| (column.to_owned(), key.clone())),
        };
        let Some(entries) = self
            .scoped
            .get(&scope)
            .and_then(|columns| columns.get(column))
        else {
            return Some(Box::new(std::iter::empty()));
        };
        let before = (
            next_second.to_rfc3339_opts(SecondsFormat::Secs, true),
            String::new(),
        );
        Some(Box::new(entries.range(..before).map(|(_, id)| id)))
    }

    /// How many rows hold text in `column`, for a date and time column (`None` for another).
    pub(crate) fn texts_in(&self, column: &str) -> Option<usize> {
        is_time_column(column).then(|| {
            self.ordered
                .get(column)
                .map_or(0, |ordered| ordered.entries.len())
        })
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
