//! The order `$orderby` and paging use: a total order over JSON values, and each row's sort
//! key (its `$orderby` values, then its id, so the order is strict and a page can resume
//! after any row).

use std::cmp::Ordering;

use serde_json::Value;

use crate::index::cmp_ignoring_case;
use crate::store::Row;

/// Total order used by `$orderby` and paging: null first, then booleans, numbers, strings
/// (case-insensitive, as under SQL Server's default collation).
fn order_values(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            _ => 4,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            x.partial_cmp(&y).unwrap_or(Ordering::Equal)
        }
        (Value::String(x), Value::String(y)) => cmp_ignoring_case(x, y),
        _ => rank(a).cmp(&rank(b)),
    }
}

/// The row's `$orderby` values, then its id.
pub(super) fn sort_key(row: &Row, orderby: &[(String, bool)], id: &str) -> Vec<Value> {
    let mut key: Vec<Value> = orderby
        .iter()
        .map(|(c, _)| row.get(c).cloned().unwrap_or(Value::Null))
        .collect();
    key.push(Value::from(id));
    key
}

/// Compares two sort keys, each column ascending or descending as `$orderby` says.
pub(super) fn compare_keys(a: &[Value], b: &[Value], orderby: &[(String, bool)]) -> Ordering {
    for (index, (x, y)) in a.iter().zip(b).enumerate() {
        let descending = orderby.get(index).is_some_and(|(_, d)| *d);
        let ordering = order_values(x, y);
        let ordering = if descending {
            ordering.reverse()
        } else {
            ordering
        };
        if ordering != Ordering::Equal {
            return ordering;
        }
    }
    Ordering::Equal
}
