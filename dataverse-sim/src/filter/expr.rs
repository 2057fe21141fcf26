//! The parsed form of a `$filter`: an [`Expr`] tree of comparisons between columns and
//! literals, and the datetime forms a literal (or a column's value) may take.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone};

/// A comparison operator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

impl CmpOp {
    /// ODataLib's name for the operator, as its error messages spell it.
    pub(crate) fn kind(self) -> &'static str {
        match self {
            CmpOp::Eq => "Equal",
            CmpOp::Ne => "NotEqual",
            CmpOp::Gt => "GreaterThan",
            CmpOp::Ge => "GreaterThanOrEqual",
            CmpOp::Lt => "LessThan",
            CmpOp::Le => "LessThanOrEqual",
        }
    }
}

/// One side of a comparison.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Column(String),
    Literal(Literal),
}

/// A literal value in a filter.
#[derive(Clone, Debug)]
pub(crate) enum Literal {
    Null,
    Bool(bool),
    Number(f64),
    Str(String),
    Guid(String),
    DateTime(DateTime<FixedOffset>),
}

/// A parsed filter.
#[derive(Clone, Debug)]
pub(crate) enum Expr {
    And(Box<Expr>, Box<Expr>),
    Or(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
}

/// Parses the datetime forms Dataverse stores and OData accepts: RFC 3339 with `Z` or an
/// offset (fractional seconds allowed), a naive `YYYY-MM-DDTHH:MM:SS` (taken as UTC), or a
/// bare date (midnight UTC).
pub(crate) fn parse_datetime(text: &str) -> Option<DateTime<FixedOffset>> {
    if text.len() < 10 || !text.as_bytes()[0].is_ascii_digit() {
        return None;
    }
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at);
    }
    let utc = FixedOffset::east_opt(0)?;
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(text, format) {
            return Some(utc.from_utc_datetime(&naive));
        }
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Some(utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?));
    }
    None
}
