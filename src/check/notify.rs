//! The message settings against the environment, each only when it is set: the message table
//! (its entity set, the navigation property to the session, the text column and its length,
//! every fixed value's column, type and options) and the action (a custom API, else a custom
//! process action). Reads only, through `dataverse::metadata`; `message_rules` and
//! `action_rules` judge what the reads found.

use super::action_rules;
use super::finding::Finding;
use super::message_rules::{self, ColumnFacts};
use super::rules::{self, ColumnSpec};
use super::tables::read_failed;
use crate::dataverse::metadata::{self, ColumnDefinition, TableDefinition};
use crate::dataverse::{DataverseError, Org};
use crate::settings::{setting, MessageAction, MessageTable, NotifySettings};

/// Checks the message settings that are set; a read that fails is a finding and ends the
/// part it belongs to.
pub(super) async fn check(
    org: &Org,
    notify: &NotifySettings,
    session: Option<&TableDefinition>,
    findings: &mut Vec<Finding>,
) {
    if !notify.sends_messages() {
        return;
    }
    let Some(session) = session else {
        findings.push(Finding::warning(
            "messages",
            "the message settings were not checked, because SESSION_TABLE names no table",
            "fix SESSION_TABLE, then run the check again",
        ));
        return;
    };
    findings.extend(nothing_to_send(notify));
    if let Some(table) = &notify.message_table {
        let texts = texts(notify);
        if let Err(error) = message_table(org, table, &texts, session, findings).await {
            findings.push(read_failed(
                setting::MESSAGE_TABLE.name,
                "the message table's definition",
                &error,
            ));
        }
    }
    if let Some(action) = &notify.action {
        if let Err(error) = message_action(org, action, session, findings).await {
            findings.push(read_failed(
                setting::MESSAGE_ACTION.name,
                "the custom APIs and processes (customapis, customapirequestparameters, workflows)",
                &error,
            ));
        }
    }
}

/// A way to send set up with no text to send through it.
fn nothing_to_send(notify: &NotifySettings) -> Option<Finding> {
    let warns = notify.warning.as_ref().is_some_and(|w| w.text.is_some());
    if warns || notify.closing_text.is_some() {
        return None;
    }
    let subject = match notify.message_table {
        Some(_) => setting::MESSAGE_TABLE.name,
        None => setting::MESSAGE_ACTION.name,
    };
    Some(Finding::warning(
        subject,
        format!("{subject} is set, but neither WARNING_MESSAGE_TEXT nor CLOSING_MESSAGE_TEXT is, so no message is sent"),
        "set WARNING_LEAD with WARNING_MESSAGE_TEXT, or CLOSING_MESSAGE_TEXT, or leave the message settings empty",
    ))
}

/// The configured texts and their lengths in characters.
fn texts(notify: &NotifySettings) -> Vec<(&'static str, usize)> {
    let warning = notify.warning.as_ref().and_then(|w| w.text.as_deref());
    [
        (setting::WARNING_MESSAGE_TEXT.name, warning),
        (
            setting::CLOSING_MESSAGE_TEXT.name,
            notify.closing_text.as_deref(),
        ),
    ]
    .into_iter()
    .filter_map(|(name, text)| text.map(|text| (name, text.chars().count())))
    .collect()
}

async fn message_table(
    org: &Org,
    settings: &MessageTable,
    texts: &[(&'static str, usize)],
    session: &TableDefinition,
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    const SETTING: &str = setting::MESSAGE_TABLE.name;
    let entity_set = settings.table.as_str();
    let Some(table) = metadata::table_by_entity_set(org, entity_set).await? else {
        let tables = metadata::all_tables(org).await?;
        findings.push(rules::table_not_found(SETTING, entity_set, &tables));
        return Ok(());
    };
    let logical = table.logical_name.as_str();
    findings.push(Finding::ok(
        SETTING,
        format!("{entity_set} is the entity set of the table {logical}"),
    ));
    let relationships = metadata::many_to_one(org, logical).await?;
    findings.push(message_rules::navigation_finding(
        settings.session_navigation.as_str(),
        &relationships,
        logical,
        &session.logical_name,
    ));
    let columns = metadata::columns(org, logical).await?;
    text_column(org, settings, &table, &columns, texts, findings).await?;
    for (name, value) in &settings.fixed_values {
        let column = columns
            .iter()
            .find(|c| c.logical_name.eq_ignore_ascii_case(name.as_str()));
        let facts = match column {
            Some(column) => facts(org, logical, column, value).await?,
            None => ColumnFacts::default(),
        };
        findings.push(message_rules::fixed_value_finding(
            name.as_str(),
            value,
            column,
            &facts,
            logical,
        ));
    }
    Ok(())
}

/// The text column's type, then its length against the longest text.
async fn text_column(
    org: &Org,
    settings: &MessageTable,
    table: &TableDefinition,
    columns: &[ColumnDefinition],
    texts: &[(&'static str, usize)],
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    let spec = ColumnSpec {
        setting: setting::MESSAGE_TEXT_COLUMN.name,
        value: settings.text_column.to_string(),
        accepted: &["String", "Memo"],
        kind: "a text",
    };
    let found = rules::column_finding(&spec, table, columns);
    let column = columns
        .iter()
        .find(|c| c.logical_name.eq_ignore_ascii_case(&spec.value));
    // A text column of the right name is then judged by its length alone: one finding.
    let (None, Some(column)) = (&found.fix, column) else {
        findings.push(found);
        return Ok(());
    };
    let max = metadata::max_length(
        org,
        &table.logical_name,
        &column.logical_name,
        &column.attribute_type,
    )
    .await?;
    findings.push(message_rules::text_length_finding(
        &column.logical_name,
        max,
        texts,
    ));
    Ok(())
}

/// The options of a choice, status or state column, or the length of a text column given a
/// text, for judging a fixed value.
async fn facts(
    org: &Org,
    table: &str,
    column: &ColumnDefinition,
    value: &serde_json::Value,
) -> Result<ColumnFacts, DataverseError> {
    let name = column.logical_name.as_str();
    let kind = column.attribute_type.as_str();
    Ok(match kind {
        "Picklist" => ColumnFacts {
            options: Some(metadata::choice_options(org, table, name).await?),
            max_length: None,
        },
        "Status" | "State" => ColumnFacts {
            options: Some(metadata::status_or_state_values(org, table, name, kind).await?),
            max_length: None,
        },
        "String" | "Memo" if value.is_string() => ColumnFacts {
            options: None,
            max_length: metadata::max_length(org, table, name, kind).await?,
        },
        _ => ColumnFacts::default(),
    })
}

async fn message_action(
    org: &Org,
    action: &MessageAction,
    session: &TableDefinition,
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    let session_table = session.logical_name.as_str();
    if let Some(api) = metadata::custom_api(org, action.name.as_str()).await? {
        findings.extend(action_rules::custom_api_findings(
            action,
            &api,
            session_table,
        ));
        return Ok(());
    }
    match metadata::process_action(org, action.name.as_str()).await? {
        Some(process) => findings.extend(action_rules::process_action_findings(
            action,
            &process,
            session_table,
        )),
        None => findings.push(action_rules::action_not_found(action)),
    }
    Ok(())
}
