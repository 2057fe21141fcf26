//! Pure judgements on what the metadata said: does a column exist and have a type that fits,
//! which real names come closest to a wrong one, what a date and time behaviour does to the
//! timing, whether another flow closes sessions. Nothing here performs I/O.

use super::finding::Finding;
use crate::dataverse::metadata::{logical_column, CloudFlow, ColumnDefinition, TableDefinition};
use crate::settings::setting;

/// Words that say what a WhatsApp session setting is about, looked for in names.
const DOMAIN_WORDS: [&str; 10] = [
    "session",
    "chat",
    "timeout",
    "message",
    "customer",
    "configuration",
    "whatsapp",
    "close",
    "reason",
    "last",
];
/// Words of a setting's name that say nothing about what it names.
const FILLER_WORDS: [&str; 4] = ["column", "table", "lookup", "id"];
/// At most this many suggestions per finding.
const MAX_SUGGESTIONS: usize = 5;

/// What a column setting must name.
#[derive(Debug, Clone)]
pub(crate) struct ColumnSpec {
    /// The setting (`CONFIGURATION_TIMEOUT_COLUMN`), or the column itself for `createdon`.
    pub setting: &'static str,
    /// Its value, as the Web API reads it (`_x_value` for a lookup).
    pub value: String,
    /// The `AttributeType`s that fit.
    pub accepted: &'static [&'static str],
    /// The kind in words, for messages ("a date and time").
    pub kind: &'static str,
}

/// The words of a setting and its value that a real name should contain.
fn words(setting: &str, value: &str) -> Vec<String> {
    let value = value.to_ascii_lowercase();
    let mut found: Vec<String> = setting
        .to_ascii_lowercase()
        .split('_')
        .enumerate()
        // A column setting's first word is its table ("SESSION_…"), not what it names.
        .filter(|(at, word)| {
            !FILLER_WORDS.contains(word) && (*at > 0 || setting.ends_with("_TABLE"))
        })
        .map(|(_, word)| word.to_owned())
        .collect();
    found.extend(
        DOMAIN_WORDS
            .iter()
            .filter(|word| value.contains(*word))
            .map(|word| (*word).to_owned()),
    );
    found.sort();
    found.dedup();
    found
}

/// The candidates that contain the most words of the setting, best first.
pub(crate) fn suggestions<'a>(
    setting: &str,
    value: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Vec<String> {
    let words = words(setting, value);
    let mut scored: Vec<(usize, String)> = candidates
        .filter(|name| !name.eq_ignore_ascii_case(value))
        .map(|name| {
            let lower = name.to_ascii_lowercase();
            let score = words.iter().filter(|w| lower.contains(w.as_str())).count();
            (score, name.to_owned())
        })
        .filter(|(score, _)| *score > 0)
        .collect();
    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored
        .into_iter()
        .take(MAX_SUGGESTIONS)
        .map(|(_, name)| name)
        .collect()
}

/// A table setting that names no entity set of the environment.
pub(crate) fn table_not_found(setting: &str, value: &str, tables: &[TableDefinition]) -> Finding {
    let names = suggestions(
        setting,
        value,
        tables.iter().filter_map(|t| t.entity_set.as_deref()),
    );
    Finding::error(
        setting,
        format!("{setting} is \"{value}\", but no table of this environment has that entity set name"),
        format!("set {setting} to the table's entity set name (Power Apps → Tables → the table → Properties → Advanced options)"),
    )
    .suggesting(names)
}

/// The name of `column` as the Web API reads it.
fn odata_name(column: &ColumnDefinition) -> String {
    match column.attribute_type.as_str() {
        "Lookup" | "Customer" | "Owner" => format!("_{}_value", column.logical_name),
        _ => column.logical_name.clone(),
    }
}

/// A column setting that names no column of `table`, with the closest real names.
fn column_not_found(
    spec: &ColumnSpec,
    table: &TableDefinition,
    columns: &[ColumnDefinition],
) -> Finding {
    let setting = spec.setting;
    let names = suggestions(
        setting,
        &spec.value,
        columns.iter().map(|c| c.logical_name.as_str()),
    )
    .into_iter()
    .filter_map(|name| columns.iter().find(|c| c.logical_name == name))
    .map(odata_name)
    .collect();
    Finding::error(
        setting,
        format!(
            "{setting} is \"{}\", but the table {} has no such column",
            spec.value, table.logical_name
        ),
        format!(
            "set {setting} to the logical name of {} column of {}",
            spec.kind, table.logical_name
        ),
    )
    .suggesting(names)
}

/// Whether `spec` names a column of `table` with a type that fits.
pub(crate) fn column_finding(
    spec: &ColumnSpec,
    table: &TableDefinition,
    columns: &[ColumnDefinition],
) -> Finding {
    let setting = spec.setting;
    let logical = logical_column(&spec.value);
    let Some(column) = columns
        .iter()
        .find(|c| c.logical_name.eq_ignore_ascii_case(logical))
    else {
        return column_not_found(spec, table, columns);
    };
    if !spec.accepted.contains(&column.attribute_type.as_str()) {
        return Finding::error(
            setting,
            format!(
                "{setting} names {}, a column of type {}, not {}",
                spec.value, column.attribute_type, spec.kind
            ),
            format!(
                "set {setting} to {} column of {}",
                spec.kind, table.logical_name
            ),
        );
    }
    let expected = odata_name(column);
    if !expected.eq_ignore_ascii_case(&spec.value) {
        return Finding::error(
            setting,
            format!(
                "{setting} is \"{}\", but the Web API reads this column as {expected}",
                spec.value
            ),
            format!("set {setting} to {expected}"),
        );
    }
    Finding::ok(
        setting,
        format!(
            "{} is {} column of {}",
            spec.value, spec.kind, table.logical_name
        ),
    )
}

/// What a date and time column's `DateTimeBehavior` does to the timing.
pub(crate) fn datetime_behavior_finding(setting: &str, column: &str, behavior: &str) -> Finding {
    match behavior {
        "UserLocal" => Finding::ok(setting, format!("{column} holds UTC instants (behaviour User local)")),
        "TimeZoneIndependent" => Finding::warning(
            setting,
            format!("{column} has the behaviour Time zone independent: it holds the wall-clock time as written, with no time zone, and this function reads it as UTC, so sessions close early or late by the writer's offset from UTC"),
            "have the integration write UTC times into it, or point the setting at a User local date and time column",
        ),
        "DateOnly" => Finding::error(
            setting,
            format!("{column} has the behaviour Date only: the Web API reads it as a date with no time of day and no time zone (Edm.Date) and refuses the sweep's comparison of it with a date and time, so every sweep would stop with an error and every session read would be unreadable"),
            format!("set {setting} to a date and time column with the behaviour User local (format Date and time)"),
        ),
        other => Finding::warning(
            setting,
            format!("{column} has the unknown date and time behaviour {other:?}"),
            "check the column's behaviour in Power Apps; User local is the one this function expects",
        ),
    }
}

/// With `SESSION_END_COLUMN` unset, the session table's date and time columns whose names
/// contain "end", suggested as a warning; `None` when it has none.
pub fn end_column_suggestion(table: &str, columns: &[ColumnDefinition]) -> Option<Finding> {
    let names: Vec<String> = columns
        .iter()
        .filter(|c| {
            c.attribute_type == "DateTime" && c.logical_name.to_ascii_lowercase().contains("end")
        })
        .map(|c| c.logical_name.clone())
        .collect();
    let first = names.first()?.clone();
    Some(
        Finding::warning(
            setting::SESSION_END_COLUMN.name,
            format!("SESSION_END_COLUMN is not set, but {table} has the date and time column {}: a session this function closes keeps it empty, so views and reports that use it show the session as never ended", names.join(", ")),
            format!("set SESSION_END_COLUMN to {first} to record when each session was closed"),
        )
        .suggesting(names),
    )
}

/// Whether the lookup points to the configuration table.
pub(crate) fn lookup_target_finding(
    setting: &str,
    targets: &[String],
    configuration: &str,
) -> Finding {
    if targets
        .iter()
        .any(|t| t.eq_ignore_ascii_case(configuration))
    {
        Finding::ok(setting, format!("the lookup points to {configuration}"))
    } else {
        Finding::error(
            setting,
            format!(
                "the lookup points to {}, not to the configuration table {configuration}",
                targets.join(", ")
            ),
            format!("set {setting} to the session's lookup to {configuration}"),
        )
    }
}

/// Whether another activated cloud flow seems to close sessions too.
pub(crate) fn flows_finding(flows: &[CloudFlow]) -> Finding {
    let closers: Vec<&str> = flows
        .iter()
        .map(|flow| flow.name.as_str())
        .filter(|name| {
            let lower = name.to_ascii_lowercase();
            lower.contains("session")
                && ["timeout", "time out", "inactiv", "close", "expir"]
                    .iter()
                    .any(|word| lower.contains(word))
        })
        .collect();
    if closers.is_empty() {
        return Finding::ok(
            "cloud flows",
            "no activated cloud flow seems to close sessions",
        );
    }
    Finding::warning(
        "cloud flows",
        format!("activated cloud flows that seem to close sessions: {}; two closers are safe (each close is conditional on the row's version) but do the work twice", closers.join(", ")),
        "turn the vendor's session timeout flow off once this function closes sessions",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, kind: &str) -> ColumnDefinition {
        ColumnDefinition {
            logical_name: name.into(),
            attribute_type: kind.into(),
        }
    }

    fn sessions() -> TableDefinition {
        TableDefinition {
            logical_name: "w4d_chatsession".into(),
            entity_set: Some("w4d_chatsessions".into()),
            primary_id: Some("w4d_chatsessionid".into()),
            enforce_state_transitions: None,
        }
    }

    fn timeout_spec(value: &str) -> ColumnSpec {
        ColumnSpec {
            setting: "CONFIGURATION_TIMEOUT_COLUMN",
            value: value.into(),
            accepted: &["Integer", "Decimal", "Double", "String", "Memo"],
            kind: "a number or text",
        }
    }

    #[test]
    fn an_unknown_column_suggests_the_real_names_with_the_words_of_the_setting() {
        let columns = [
            column("w4d_sessiontimeoutminutes", "Integer"),
            column("w4d_name", "String"),
        ];
        let finding = column_finding(&timeout_spec("w4d_timeout"), &sessions(), &columns);
        assert_eq!(finding.severity, super::super::finding::Severity::Error);
        assert_eq!(finding.suggestions, ["w4d_sessiontimeoutminutes"]);
    }

    #[test]
    fn a_lookup_is_suggested_as_the_web_api_reads_it() {
        let columns = [column("w4d_configurationid", "Lookup")];
        let spec = ColumnSpec {
            setting: "SESSION_CONFIGURATION_LOOKUP",
            value: "_w4d_configuration_value".into(),
            accepted: &["Lookup"],
            kind: "a lookup",
        };
        let finding = column_finding(&spec, &sessions(), &columns);
        assert_eq!(finding.suggestions, ["_w4d_configurationid_value"]);
    }

    #[test]
    fn a_lookup_set_by_its_logical_name_is_told_the_web_api_name() {
        let columns = [column("w4d_configurationid", "Lookup")];
        let spec = ColumnSpec {
            setting: "SESSION_CONFIGURATION_LOOKUP",
            value: "w4d_configurationid".into(),
            accepted: &["Lookup"],
            kind: "a lookup",
        };
        let finding = column_finding(&spec, &sessions(), &columns);
        assert_eq!(
            finding.fix.as_deref(),
            Some("set SESSION_CONFIGURATION_LOOKUP to _w4d_configurationid_value")
        );
    }

    #[test]
    fn a_date_only_column_is_an_error_that_says_what_would_happen_and_what_to_choose() {
        let finding = datetime_behavior_finding("S", "w4d_lastcustomermessageon", "DateOnly");

        assert_eq!(finding.severity, super::super::finding::Severity::Error);
        assert!(finding.message.contains("refuses"), "{}", finding.message);
        assert!(
            finding.message.contains("no time of day"),
            "{}",
            finding.message
        );
        assert!(finding.fix.unwrap().contains("User local"));
    }

    #[test]
    fn a_user_local_column_is_ok() {
        let user_local = datetime_behavior_finding("S", "w4d_lastcustomermessageon", "UserLocal");
        assert_eq!(user_local.severity, super::super::finding::Severity::Ok);
    }

    #[test]
    fn only_date_and_time_columns_whose_names_contain_end_are_suggested_for_the_end_column() {
        let columns = [
            column("w4d_enddatetime", "DateTime"),
            column("w4d_endreason", "String"),
            column("createdon", "DateTime"),
        ];

        let finding = end_column_suggestion("w4d_chatsession", &columns).unwrap();

        assert_eq!(finding.severity, super::super::finding::Severity::Warning);
        assert_eq!(finding.suggestions, ["w4d_enddatetime"]);
        assert!(end_column_suggestion("w4d_chatsession", &columns[1..]).is_none());
    }

    #[test]
    fn only_flows_about_closing_sessions_are_a_warning() {
        let flow = |name: &str| CloudFlow {
            id: String::new(),
            name: name.into(),
        };
        let quiet = flows_finding(&[flow("Daily agent report")]);
        let closer = flows_finding(&[flow("Close inactive WhatsApp sessions")]);
        assert_eq!(quiet.severity, super::super::finding::Severity::Ok);
        assert_eq!(closer.severity, super::super::finding::Severity::Warning);
    }
}
