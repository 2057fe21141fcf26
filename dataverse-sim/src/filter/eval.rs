//! Evaluation of an [`Expr`] against one row, with OData's null semantics and
//! case-insensitive string comparison.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, Utc};
use serde_json::Value;

use super::expr::{parse_datetime, CmpOp, Expr, Literal, Operand};
use crate::index::{cmp_ignoring_case, EqKey};
use crate::store::Row;

impl Expr {
    /// Every column the filter names, to check them against the table before evaluating.
    pub(crate) fn columns<'a>(&'a self, out: &mut Vec<&'a str>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.columns(out);
                b.columns(out);
            }
            Expr::Not(a) => a.columns(out),
            Expr::Compare(left, _, right) => {
                for operand in [left, right] {
                    if let Operand::Column(c) = operand {
                        out.push(c);
                    }
                }
            }
        }
    }

    /// Every column compared with a date and time literal, with the operator.
    pub(crate) fn datetime_comparisons<'a>(&'a self, out: &mut Vec<(&'a str, CmpOp)>) {
        match self {
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.datetime_comparisons(out);
                b.datetime_comparisons(out);
            }
            Expr::Not(a) => a.datetime_comparisons(out),
            Expr::Compare(Operand::Column(c), op, Operand::Literal(Literal::DateTime(_)))
            | Expr::Compare(Operand::Literal(Literal::DateTime(_)), op, Operand::Column(c)) => {
                out.push((c, *op));
            }
            Expr::Compare(..) => {}
        }
    }

    /// The `column eq literal` comparisons every matching row satisfies (those joined to the
    /// whole filter by `and` alone), with the value as the index keys it; date and time
    /// literals are left out (they compare chronologically, not by text).
    pub(crate) fn equalities(&self) -> Vec<(&str, EqKey)> {
        match self {
            Expr::And(a, b) => {
                let mut out = a.equalities();
                out.extend(b.equalities());
                out
            }
            Expr::Compare(Operand::Column(c), CmpOp::Eq, Operand::Literal(l))
            | Expr::Compare(Operand::Literal(l), CmpOp::Eq, Operand::Column(c)) => {
                let key = match l {
                    Literal::Null => Some(EqKey::Null),
                    Literal::Bool(b) => Some(EqKey::Bool(*b)),
                    Literal::Number(n) => Some(EqKey::number(*n)),
                    Literal::Str(s) | Literal::Guid(s) => Some(EqKey::text(s)),
                    Literal::DateTime(_) => None,
                };
                key.map(|key| vec![(c.as_str(), key)]).unwrap_or_default()
            }
            _ => Vec::new(),
        }
    }

    /// The latest date and time literal that `column` must be after (`gt`) or at or after
    /// (`ge`) in every matching row, from the comparisons joined to the whole filter by `and`.
    pub(crate) fn lower_bound(&self, column: &str) -> Option<DateTime<FixedOffset>> {
        match self {
            Expr::And(a, b) => match (a.lower_bound(column), b.lower_bound(column)) {
                (Some(x), Some(y)) => Some(x.max(y)),
                (x, y) => x.or(y),
            },
            Expr::Compare(
                Operand::Column(c),
                CmpOp::Gt | CmpOp::Ge,
                Operand::Literal(Literal::DateTime(at)),
            ) if c == column => Some(*at),
            _ => None,
        }
    }

    /// Date and time columns with a moment each, such that every matching row holds a date
    /// and time at or before the moment in at least one of them: from a `column le/lt
    /// <date and time>` joined to the filter by `and`, or one in each branch of an `or`
    /// (`last le t or (last eq null and createdon le t)` gives both columns). `None` when the
    /// filter bounds no such column.
    pub(crate) fn upper_bounds(&self) -> Option<Vec<(&str, DateTime<FixedOffset>)>> {
        match self {
            Expr::And(a, b) => a.upper_bounds().or_else(|| b.upper_bounds()),
            Expr::Or(a, b) => {
                let mut out = a.upper_bounds()?;
                out.extend(b.upper_bounds()?);
                Some(out)
            }
            Expr::Compare(
                Operand::Column(c),
                CmpOp::Le | CmpOp::Lt,
                Operand::Literal(Literal::DateTime(at)),
            ) => Some(vec![(c.as_str(), *at)]),
            _ => None,
        }
    }

    /// True when the row satisfies the filter.
    pub(crate) fn matches(&self, row: &Row) -> bool {
        match self {
            Expr::And(a, b) => a.matches(row) && b.matches(row),
            Expr::Or(a, b) => a.matches(row) || b.matches(row),
            Expr::Not(a) => !a.matches(row),
            Expr::Compare(left, op, right) => {
                compare(&resolve(left, row), *op, &resolve(right, row))
            }
        }
    }
}

/// A value during evaluation: a literal, or a column's JSON value seen as one.
enum Val<'a> {
    Null,
    Bool(bool),
    Number(f64),
    Str(&'a str),
    Guid(&'a str),
    DateTime(DateTime<FixedOffset>),
}

fn resolve<'a>(operand: &'a Operand, row: &'a Row) -> Val<'a> {
    match operand {
        Operand::Column(c) => match row.get(c) {
            None | Some(Value::Null) => Val::Null,
            Some(Value::Bool(b)) => Val::Bool(*b),
            Some(Value::Number(n)) => n.as_f64().map_or(Val::Null, Val::Number),
            Some(Value::String(s)) => Val::Str(s),
            // Arrays and objects are not column values Dataverse filters on.
            Some(_) => Val::Null,
        },
        Operand::Literal(l) => match l {
            Literal::Null => Val::Null,
            Literal::Bool(b) => Val::Bool(*b),
            Literal::Number(n) => Val::Number(*n),
            Literal::Str(s) => Val::Str(s),
            Literal::Guid(g) => Val::Guid(g),
            Literal::DateTime(d) => Val::DateTime(*d),
        },
    }
}

fn compare(left: &Val, op: CmpOp, right: &Val) -> bool {
    let left_null = matches!(left, Val::Null);
    let right_null = matches!(right, Val::Null);
    if left_null || right_null {
        return match op {
            CmpOp::Eq => left_null && right_null,
            CmpOp::Ne => !(left_null && right_null),
            _ => false,
        };
    }
    let ordering = order(left, right);
    match op {
        CmpOp::Eq => ordering == Some(Ordering::Equal),
        CmpOp::Ne => ordering != Some(Ordering::Equal),
        CmpOp::Gt => ordering == Some(Ordering::Greater),
        CmpOp::Ge => matches!(ordering, Some(Ordering::Greater | Ordering::Equal)),
        CmpOp::Lt => ordering == Some(Ordering::Less),
        CmpOp::Le => matches!(ordering, Some(Ordering::Less | Ordering::Equal)),
    }
}

/// Orders two non-null values; `None` when their types do not compare.
fn order(left: &Val, right: &Val) -> Option<Ordering> {
    let as_instant = |v: &Val| -> Option<DateTime<Utc>> {
        match v {
            Val::DateTime(d) => Some(d.with_timezone(&Utc)),
            Val::Str(s) => parse_datetime(s).map(|d| d.with_timezone(&Utc)),
            _ => None,
        }
    };
    match (left, right) {
        (Val::Number(a), Val::Number(b)) => a.partial_cmp(b),
        (Val::Bool(a), Val::Bool(b)) => Some(a.cmp(b)),
        (Val::DateTime(_), _) | (_, Val::DateTime(_)) => {
            Some(as_instant(left)?.cmp(&as_instant(right)?))
        }
        (Val::Str(a) | Val::Guid(a), Val::Str(b) | Val::Guid(b)) => Some(cmp_ignoring_case(a, b)),
        _ => None,
    }
}
