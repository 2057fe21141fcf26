//! The `$filter` subset the sweeper needs: comparisons (`eq ne gt ge lt le`) joined by
//! `and`/`or`/`not` with parentheses, over literals `null`, `true`/`false`, numbers,
//! single-quoted strings, GUIDs and DateTimeOffsets. Parsed once per request into an
//! [`Expr`], then evaluated against each row.
//!
//! Semantics follow OData: `x eq null` holds for a missing or null value, and any ordering
//! comparison with null is false. A datetime literal compares chronologically with a column
//! holding a datetime string; strings compare case-insensitively, as SQL Server's default
//! collation under Dataverse does.

use std::cmp::Ordering;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, TimeZone, Utc};
use serde_json::Value;

use crate::store::Row;

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

#[derive(Clone, Debug, PartialEq)]
enum Token {
    Open,
    Close,
    Str(String),
    Word(String),
}

/// Parses filter text; the error is the message Dataverse-style 400s carry.
pub(crate) fn parse(text: &str) -> Result<Expr, String> {
    let tokens = tokenize(text)?;
    let mut parser = Parser {
        tokens,
        position: 0,
        text,
    };
    let expr = parser.or_expr()?;
    if parser.position < parser.tokens.len() {
        return Err(parser.syntax_error());
    }
    Ok(expr)
}

fn tokenize(text: &str) -> Result<Vec<(Token, usize)>, String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            tokens.push((Token::Open, i));
            i += 1;
        } else if c == ')' {
            tokens.push((Token::Close, i));
            i += 1;
        } else if c == '\'' {
            let start = i;
            let mut value = String::new();
            i += 1;
            loop {
                match chars.get(i) {
                    None => {
                        return Err(format!(
                        "There is an unterminated string literal at position {start} in '{text}'."
                    ))
                    }
                    Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                        value.push('\'');
                        i += 2;
                    }
                    Some('\'') => {
                        i += 1;
                        break;
                    }
                    Some(other) => {
                        value.push(*other);
                        i += 1;
                    }
                }
            }
            tokens.push((Token::Str(value), start));
        } else if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_ascii_alphanumeric() || "_-:.+".contains(chars[i]))
            {
                i += 1;
            }
            tokens.push((Token::Word(chars[start..i].iter().collect()), start));
        } else {
            return Err(format!(
                "Syntax error: character '{c}' is not valid at position {i} in '{text}'."
            ));
        }
    }
    Ok(tokens)
}

struct Parser<'a> {
    tokens: Vec<(Token, usize)>,
    position: usize,
    text: &'a str,
}

impl Parser<'_> {
    fn syntax_error(&self) -> String {
        let at = self
            .tokens
            .get(self.position)
            .map(|(_, at)| *at)
            .unwrap_or(self.text.chars().count());
        format!("Syntax error at position {at} in '{}'.", self.text)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.tokens.get(self.position), Some((Token::Word(w), _)) if w == word)
    }

    fn or_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.and_expr()?;
        while self.peek_word("or") {
            self.position += 1;
            let right = self.and_expr()?;
            left = Expr::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, String> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.position += 1;
            let right = self.unary()?;
            left = Expr::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, String> {
        if self.peek_word("not") {
            self.position += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        if matches!(self.tokens.get(self.position), Some((Token::Open, _))) {
            self.position += 1;
            let inner = self.or_expr()?;
            if !matches!(self.tokens.get(self.position), Some((Token::Close, _))) {
                return Err(self.syntax_error());
            }
            self.position += 1;
            return Ok(inner);
        }
        let left = self.operand()?;
        let op = match self.tokens.get(self.position) {
            Some((Token::Word(w), _)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                _ => return Err(self.syntax_error()),
            },
            _ => return Err(self.syntax_error()),
        };
        self.position += 1;
        let right = self.operand()?;
        Ok(Expr::Compare(left, op, right))
    }

    fn operand(&mut self) -> Result<Operand, String> {
        let Some((token, _)) = self.tokens.get(self.position).cloned() else {
            return Err(format!(
                "Expression expected at position {} in '{}'.",
                self.text.chars().count(),
                self.text
            ));
        };
        let operand = match token {
            Token::Str(s) => Operand::Literal(Literal::Str(s)),
            Token::Word(word) => classify(&word).ok_or_else(|| self.syntax_error())?,
            Token::Open | Token::Close => return Err(self.syntax_error()),
        };
        self.position += 1;
        Ok(operand)
    }
}

const KEYWORDS: [&str; 9] = ["and", "or", "not", "eq", "ne", "gt", "ge", "lt", "le"];

fn classify(word: &str) -> Option<Operand> {
    match word {
        "null" => return Some(Operand::Literal(Literal::Null)),
        "true" => return Some(Operand::Literal(Literal::Bool(true))),
        "false" => return Some(Operand::Literal(Literal::Bool(false))),
        w if KEYWORDS.contains(&w) => return None,
        _ => {}
    }
    if is_guid(word) {
        return Some(Operand::Literal(Literal::Guid(word.to_ascii_lowercase())));
    }
    if let Some(at) = parse_datetime(word) {
        return Some(Operand::Literal(Literal::DateTime(at)));
    }
    let first = word.chars().next()?;
    if first.is_ascii_digit() || first == '-' {
        return word
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .map(|n| Operand::Literal(Literal::Number(n)));
    }
    if word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Some(Operand::Column(word.to_string()));
    }
    None
}

fn is_guid(word: &str) -> bool {
    let groups: Vec<&str> = word.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
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
        (Val::Str(a) | Val::Guid(a), Val::Str(b) | Val::Guid(b)) => {
            Some(a.to_lowercase().cmp(&b.to_lowercase()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(value: Value) -> Row {
        value.as_object().unwrap().clone()
    }

    fn check(filter: &str, value: Value) -> bool {
        parse(filter).unwrap().matches(&row(value))
    }

    #[test]
    fn a_datetime_literal_compares_chronologically_with_a_string_column() {
        let r = json!({"t": "2026-11-24T14:59:59Z"});
        assert!(check("t le 2026-11-24T15:00:00Z", r.clone()));
        assert!(!check("t gt 2026-11-24T16:59:59.5+02:00", r));
    }

    #[test]
    fn eq_null_holds_for_missing_and_null_values() {
        assert!(check("x eq null", json!({})));
        assert!(check("x eq null", json!({"x": null})));
        assert!(!check("x eq null", json!({"x": 1})));
    }

    #[test]
    fn ordering_comparisons_with_null_are_false() {
        assert!(!check("x lt 2026-11-24T15:00:00Z", json!({"x": null})));
        assert!(!check("not (x lt 5) and x lt 5", json!({"x": null})));
    }

    #[test]
    fn the_sweeper_candidate_filter_parses_and_matches() {
        let filter = "statecode eq 0 and _w4d_configurationid_value eq 6F1C2B7A-3D4E-4F50-8A61-7B8C9D0E1F21 and (w4d_lastcustomermessageon le 2026-11-24T15:00:00Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-24T15:00:00Z))";
        let r = json!({"statecode": 0, "_w4d_configurationid_value": "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21",
                       "w4d_lastcustomermessageon": null, "createdon": "2026-11-20T00:00:00Z"});
        assert!(check(filter, r));
    }

    #[test]
    fn quoted_strings_unescape_doubled_quotes() {
        assert!(check("name eq 'O''Brien'", json!({"name": "o'brien"})));
    }

    #[test]
    fn a_dangling_operator_is_a_syntax_error() {
        assert!(parse("statecode eq").is_err());
        assert!(parse("statecode eq 0 and").is_err());
        assert!(parse("(statecode eq 0").is_err());
    }
}
