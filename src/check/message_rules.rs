//! Pure judgements on the definitions a message row depends on: the warned-at column's date
//! and time behaviour, the navigation property from a message to its session, the text
//! column's length against the configured texts, and each of `MESSAGE_FIXED_VALUES` against
//! its column's type and, for a choice, its options. Nothing here performs I/O.

use super::finding::Finding;
use crate::dataverse::metadata::{ColumnDefinition, ManyToOne};
use crate::ids::Guid;
use crate::settings::setting;
use serde_json::Value;

/// What the definitions said about one fixed value's column, beyond its type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ColumnFacts {
    /// A choice, status or state column's option values.
    pub options: Option<Vec<i64>>,
    /// A text column's `MaxLength`.
    pub max_length: Option<i64>,
}

/// Whether the warned-at column keeps the moment of a warning.
pub(crate) fn warned_at_behavior_finding(column: &str, behavior: &str) -> Finding {
    const SETTING: &str = setting::SESSION_WARNED_AT_COLUMN.name;
    if behavior == "DateOnly" {
        return Finding::error(
            SETTING,
            format!("{column} has the behaviour Date only: it keeps the day of a warning and not its time, and the Web API refuses to compare it with a date and time, so a warning could not be told apart from a customer message later that day"),
            format!("set {SETTING} to a date and time column with the behaviour User local (format Date and time)"),
        );
    }
    Finding::ok(
        SETTING,
        format!("{column} is a date and time column that keeps the moment of each warning"),
    )
}

/// Whether `navigation` is a single-valued navigation property of the message table
/// `message_table` that points to the session table `session_table`.
pub(crate) fn navigation_finding(
    navigation: &str,
    relationships: &[ManyToOne],
    message_table: &str,
    session_table: &str,
) -> Finding {
    const SETTING: &str = setting::MESSAGE_SESSION_NAVIGATION.name;
    let to_sessions: Vec<String> = relationships
        .iter()
        .filter(|r| r.target.eq_ignore_ascii_case(session_table))
        .map(|r| r.navigation.clone())
        .collect();
    let fix = |names: &[String]| {
        match names.first() {
        Some(first) => format!("set {SETTING} to {first}, the navigation property of {message_table}'s lookup to {session_table}"),
        None => format!("add a lookup column to {session_table} on {message_table}, or set MESSAGE_TABLE to the table whose rows are the session's messages"),
    }
    };
    if let Some(found) = relationships.iter().find(|r| r.navigation == navigation) {
        if found.target.eq_ignore_ascii_case(session_table) {
            return Finding::ok(
                SETTING,
                format!("{navigation} is a single-valued navigation property of {message_table} (its lookup {}) to {session_table}", found.lookup),
            );
        }
        return Finding::error(
            SETTING,
            format!(
                "{navigation} leads from {message_table} to {}, not to the session table {session_table}",
                found.target
            ),
            fix(&to_sessions),
        )
        .suggesting(to_sessions);
    }
    let lookup = crate::dataverse::metadata::logical_column(navigation);
    let near = relationships.iter().find(|r| {
        r.navigation.eq_ignore_ascii_case(navigation) || r.lookup.eq_ignore_ascii_case(lookup)
    });
    if let Some(near) = near {
        return Finding::error(
            SETTING,
            format!("{navigation} is not a navigation property of {message_table}; its lookup {} is bound through the navigation property {}, whose name is case-sensitive", near.lookup, near.navigation),
            format!("set {SETTING} to {}", near.navigation),
        )
        .suggesting(vec![near.navigation.clone()]);
    }
    Finding::error(
        SETTING,
        format!("{message_table} has no single-valued navigation property {navigation}"),
        fix(&to_sessions),
    )
    .suggesting(to_sessions)
}

/// Whether the text column holds the longest of `texts` (each a setting and its length in
/// characters).
pub(crate) fn text_length_finding(
    column: &str,
    max_length: Option<i64>,
    texts: &[(&'static str, usize)],
) -> Finding {
    const SETTING: &str = setting::MESSAGE_TEXT_COLUMN.name;
    let Some((longest, chars)) = texts.iter().copied().max_by_key(|(_, chars)| *chars) else {
        return Finding::ok(SETTING, format!("{column} is a text column"));
    };
    let Some(max) = max_length else {
        return Finding::warning(
            SETTING,
            format!("the definition of {column} gives no maximum length, so whether it holds {longest} ({chars} characters) was not checked"),
            format!("look up the column's maximum character count in Power Apps and make sure it is at least {chars}"),
        );
    };
    if i64::try_from(chars).is_ok_and(|chars| chars <= max) {
        return Finding::ok(
            SETTING,
            format!("{column} is a text column of at most {max} characters, enough for {longest} ({chars})"),
        );
    }
    Finding::error(
        SETTING,
        format!("{column} holds at most {max} characters, but {longest} has {chars}: Dataverse refuses the message row, so the session is reported as failed and stays open"),
        format!("raise the column's maximum character count to at least {chars} (Power Apps → Tables → the message table → Columns → {column}), or shorten {longest}"),
    )
}

/// Whether `value` fits `column` (its definition, `None` when the table has no such column).
pub(crate) fn fixed_value_finding(
    name: &str,
    value: &Value,
    column: Option<&ColumnDefinition>,
    facts: &ColumnFacts,
    message_table: &str,
) -> Finding {
    const SETTING: &str = setting::MESSAGE_FIXED_VALUES.name;
    let Some(column) = column else {
        return Finding::error(
            SETTING,
            format!("{message_table} has no column {name}"),
            format!("remove {name} from {SETTING}, or correct it to the logical name of a column of {message_table}"),
        );
    };
    if column.logical_name != name {
        return Finding::error(
            SETTING,
            format!(
                "{name}: the Web API knows this column only by its logical name {}",
                column.logical_name
            ),
            format!("write {} in {SETTING}", column.logical_name),
        );
    }
    match value_problem(value, &column.attribute_type, facts) {
        None => Finding::ok(SETTING, format!("{name} = {value} fits its column ({})", column.attribute_type)),
        Some(Problem::Unchecked) => Finding::warning(
            SETTING,
            format!("{name} is a column of type {}, whose values the check does not know how to judge; {value} was not checked", column.attribute_type),
            format!("create one outgoing message by hand with {name} = {value} to see that Dataverse accepts it"),
        ),
        Some(Problem::Wrong(expected)) => Finding::error(
            SETTING,
            format!("{name} = {value}, but {name} is a column of type {} that takes {expected}: Dataverse refuses the message row, so the session is reported as failed and stays open", column.attribute_type),
            format!("give {name} {expected} in {SETTING}"),
        ),
    }
}

enum Problem {
    Unchecked,
    Wrong(String),
}

fn value_problem(value: &Value, attribute_type: &str, facts: &ColumnFacts) -> Option<Problem> {
    if value.is_null() {
        return None;
    }
    let wrong = |expected: &str| Some(Problem::Wrong(expected.to_owned()));
    match attribute_type {
        "String" | "Memo" => match (value.as_str(), facts.max_length) {
            (None, _) => wrong("text"),
            (Some(text), Some(max)) if text.chars().count() as i64 > max => {
                wrong(&format!("a text of at most {max} characters"))
            }
            _ => None,
        },
        "Integer" | "BigInt" => (!value.is_i64()).then(|| Problem::Wrong("a whole number".into())),
        "Decimal" | "Double" | "Money" => {
            (!value.is_number()).then(|| Problem::Wrong("a number".into()))
        }
        "Boolean" => (!value.is_boolean()).then(|| Problem::Wrong("true or false".into())),
        "DateTime" => match value.as_str() {
            Some(text) if is_date(text) => None,
            _ => wrong("a date and time as text, such as \"2026-11-24T15:00:00Z\""),
        },
        "Uniqueidentifier" => match value.as_str().and_then(Guid::parse) {
            Some(_) => None,
            None => wrong("a GUID as text"),
        },
        "Picklist" | "Status" | "State" => {
            let options = facts.options.as_deref().unwrap_or_default();
            match value.as_i64() {
                Some(chosen) if options.contains(&chosen) => None,
                _ => wrong(&format!("one of its option values {}", list(options))),
            }
        }
        "Lookup" | "Customer" | "Owner" => wrong(
            "a row, which is set through its navigation property (name@odata.bind) and cannot be a fixed value",
        ),
        _ => Some(Problem::Unchecked),
    }
}

fn is_date(text: &str) -> bool {
    chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok()
}

fn list(values: &[i64]) -> String {
    let texts: Vec<String> = values.iter().map(i64::to_string).collect();
    texts.join(", ")
}

#[cfg(test)]
mod tests;
