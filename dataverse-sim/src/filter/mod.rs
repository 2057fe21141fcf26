//! The `$filter` subset the sweeper needs: comparisons (`eq ne gt ge lt le`) joined by
//! `and`/`or`/`not` with parentheses, over literals `null`, `true`/`false`, numbers,
//! single-quoted strings, GUIDs and DateTimeOffsets. Parsed once per request into an
//! [`Expr`], then evaluated against each row.
//!
//! Semantics follow OData: `x eq null` holds for a missing or null value, and any ordering
//! comparison with null is false. A datetime literal compares chronologically with a column
//! holding a datetime string; strings compare case-insensitively, as SQL Server's default
//! collation under Dataverse does.

mod eval;
mod expr;
mod parse;

pub(crate) use expr::Expr;
pub(crate) use parse::parse;

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::*;
    use crate::store::Row;

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
