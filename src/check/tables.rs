//! The metadata half of the check: each table and column setting against the environment's
//! definitions, the date and time behaviour of each column a session is timed from, the lookup's
//! target, the warned-at column's behaviour and the close and reopen state/status pairs. Reads
//! only, through `dataverse::metadata`.

use super::finding::Finding;
use super::message_rules;
use super::rules::{self, ColumnSpec};
use super::states;
use super::transitions;
use crate::dataverse::metadata::{self, ColumnDefinition, TableDefinition};
use crate::dataverse::{DataverseError, Org};
use crate::settings::{setting, Schema};

/// Accepted types of a Session Timeout: whole number, decimal, float or text.
const TIMEOUT_TYPES: &[&str] = &["Integer", "Decimal", "Double", "String", "Memo"];

/// What the table checks found, for the checks that follow.
pub(super) struct Tables {
    /// True when a table or column setting is wrong (the data reads would fail).
    pub broken: bool,
    /// The session table's definition, when `SESSION_TABLE` names one.
    pub session: Option<TableDefinition>,
}

/// The settings that name a table or column the data reads use.
const NAME_SETTINGS: [&str; 12] = [
    setting::CONFIGURATION_TABLE.name,
    setting::CONFIGURATION_ID_COLUMN.name,
    setting::CONFIGURATION_TIMEOUT_COLUMN.name,
    setting::SESSION_TABLE.name,
    setting::SESSION_ID_COLUMN.name,
    setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name,
    "createdon",
    setting::SESSION_CONFIGURATION_LOOKUP.name,
    setting::SESSION_CLOSE_REASON_COLUMN.name,
    setting::SESSION_LAST_AGENT_MESSAGE_COLUMN.name,
    setting::SESSION_END_COLUMN.name,
    setting::SESSION_WARNED_AT_COLUMN.name,
];

/// Checks every table and column setting; a metadata read that fails ends these checks with
/// a finding.
pub(super) async fn check(org: &Org, findings: &mut Vec<Finding>) -> Tables {
    let start = findings.len();
    let session = match walk(org, findings).await {
        Ok(session) => session,
        Err(error) => {
            findings.push(read_failed(
                "table definitions",
                "the table and column settings",
                &error,
            ));
            None
        }
    };
    // A wrong name makes the data reads fail or mean nothing; a wrong close status does not.
    let broken = findings[start..].iter().any(|f| {
        f.severity == super::finding::Severity::Error && NAME_SETTINGS.contains(&f.subject.as_str())
    });
    Tables { broken, session }
}

/// Every table and column check; the session table's definition, when it was found.
async fn walk(
    org: &Org,
    findings: &mut Vec<Finding>,
) -> Result<Option<TableDefinition>, DataverseError> {
    let schema = org.schema();
    let mut all = None;
    let configuration = table(
        org,
        setting::CONFIGURATION_TABLE.name,
        schema.configuration_table.as_str(),
        &mut all,
        findings,
    )
    .await?;
    let session = table(
        org,
        setting::SESSION_TABLE.name,
        schema.session_table.as_str(),
        &mut all,
        findings,
    )
    .await?;
    if let Some(configuration) = &configuration {
        let specs = [
            id_spec(
                setting::CONFIGURATION_ID_COLUMN.name,
                schema.configuration_id.as_str(),
            ),
            ColumnSpec {
                setting: setting::CONFIGURATION_TIMEOUT_COLUMN.name,
                value: schema.timeout_column.to_string(),
                accepted: TIMEOUT_TYPES,
                kind: "a whole number, decimal, float or text",
            },
        ];
        columns(org, configuration, &specs, findings).await?;
    }
    if let Some(session) = &session {
        session_checks(org, session, configuration.as_ref(), findings).await?;
    }
    Ok(session)
}

/// The session table's columns, the behaviour of the columns it is timed from, the lookup's
/// target, the close and reopen state/status pairs and the transitions between them.
async fn session_checks(
    org: &Org,
    session: &TableDefinition,
    configuration: Option<&TableDefinition>,
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    let schema = org.schema();
    let (found, all) = columns(org, session, &session_specs(schema), findings).await?;
    if schema.session_end.is_none() {
        findings.extend(rules::end_column_suggestion(&session.logical_name, &all));
    }
    behaviours(org, session, &found, findings).await?;
    if let (true, Some(configuration)) = (
        found.contains(&setting::SESSION_CONFIGURATION_LOOKUP.name),
        configuration,
    ) {
        let column = metadata::logical_column(schema.configuration_lookup.as_str());
        let targets = metadata::lookup_targets(org, &session.logical_name, column).await?;
        findings.push(rules::lookup_target_finding(
            setting::SESSION_CONFIGURATION_LOOKUP.name,
            &targets,
            &configuration.logical_name,
        ));
    }
    state_checks(org, session, findings).await
}

/// The `DateTimeBehavior` of each column a session is timed from that passed its type check.
async fn behaviours(
    org: &Org,
    session: &TableDefinition,
    found: &[&'static str],
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    let schema = org.schema();
    let timed = [
        (
            setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name,
            Some(schema.last_customer_message.as_str()),
        ),
        ("createdon", Some("createdon")),
        (
            setting::SESSION_LAST_AGENT_MESSAGE_COLUMN.name,
            schema.last_agent_message.as_ref().map(|n| n.as_str()),
        ),
    ];
    for (setting, column) in timed {
        let Some(column) = column.filter(|_| found.contains(&setting)) else {
            continue;
        };
        let behavior = metadata::datetime_behavior(org, &session.logical_name, column).await?;
        findings.push(rules::datetime_behavior_finding(setting, column, &behavior));
    }
    // Written and read back by this function alone, so only Date only (which drops the time)
    // is wrong for it; a time zone independent column returns what was written.
    let warned_at = schema.warned_at.as_ref().map(|n| n.as_str());
    if let Some(column) =
        warned_at.filter(|_| found.contains(&setting::SESSION_WARNED_AT_COLUMN.name))
    {
        let behavior = metadata::datetime_behavior(org, &session.logical_name, column).await?;
        findings.push(message_rules::warned_at_behavior_finding(column, &behavior));
    }
    Ok(())
}

/// The close and reopen state/status pairs, and the enforced transitions between them.
async fn state_checks(
    org: &Org,
    session: &TableDefinition,
    findings: &mut Vec<Finding>,
) -> Result<(), DataverseError> {
    let schema = org.schema();
    let states = metadata::state_values(org, &session.logical_name).await?;
    let statuses = metadata::status_options(org, &session.logical_name).await?;
    for pair in states::pairs(schema) {
        findings.push(states::pair_finding(
            &session.logical_name,
            pair,
            &states,
            &statuses,
        ));
    }
    findings.extend(transitions::findings(
        &session.logical_name,
        session.enforce_state_transitions == Some(true),
        schema,
        &statuses,
    ));
    Ok(())
}

/// The table whose entity set is `value`, or a finding with the closest real names.
async fn table(
    org: &Org,
    setting: &'static str,
    value: &str,
    all: &mut Option<Vec<TableDefinition>>,
    findings: &mut Vec<Finding>,
) -> Result<Option<TableDefinition>, DataverseError> {
    if let Some(found) = metadata::table_by_entity_set(org, value).await? {
        findings.push(Finding::ok(
            setting,
            format!(
                "{value} is the entity set of the table {}",
                found.logical_name
            ),
        ));
        return Ok(Some(found));
    }
    if all.is_none() {
        *all = Some(metadata::all_tables(org).await?);
    }
    let tables = all.as_deref().unwrap_or_default();
    findings.push(rules::table_not_found(setting, value, tables));
    Ok(None)
}

/// Checks `specs` against the columns of `table`; the settings that passed, and the columns.
async fn columns(
    org: &Org,
    table: &TableDefinition,
    specs: &[ColumnSpec],
    findings: &mut Vec<Finding>,
) -> Result<(Vec<&'static str>, Vec<ColumnDefinition>), DataverseError> {
    let columns = metadata::columns(org, &table.logical_name).await?;
    let mut passed = Vec::new();
    for spec in specs {
        let mut finding = rules::column_finding(spec, table, &columns);
        let is_key = spec.accepted == ["Uniqueidentifier"];
        if let (true, true, Some(primary)) = (finding.fix.is_none(), is_key, &table.primary_id) {
            if !primary.eq_ignore_ascii_case(&spec.value) {
                finding = Finding::error(
                    spec.setting,
                    format!(
                        "{} is not the primary key of {} ({primary} is)",
                        spec.value, table.logical_name
                    ),
                    format!("set {} to {primary}", spec.setting),
                );
            }
        }
        if finding.fix.is_none() {
            passed.push(spec.setting);
        }
        findings.push(finding);
    }
    Ok((passed, columns))
}

fn session_specs(schema: &Schema) -> Vec<ColumnSpec> {
    let mut specs = vec![
        id_spec(setting::SESSION_ID_COLUMN.name, schema.session_id.as_str()),
        ColumnSpec {
            setting: setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name,
            value: schema.last_customer_message.to_string(),
            accepted: &["DateTime"],
            kind: "a date and time",
        },
        ColumnSpec {
            setting: "createdon",
            value: "createdon".into(),
            accepted: &["DateTime"],
            kind: "a date and time",
        },
        ColumnSpec {
            setting: setting::SESSION_CONFIGURATION_LOOKUP.name,
            value: schema.configuration_lookup.to_string(),
            accepted: &["Lookup"],
            kind: "a lookup",
        },
    ];
    if let Some(agent) = &schema.last_agent_message {
        specs.push(ColumnSpec {
            setting: setting::SESSION_LAST_AGENT_MESSAGE_COLUMN.name,
            value: agent.to_string(),
            accepted: &["DateTime"],
            kind: "a date and time",
        });
    }
    if let Some(end) = &schema.session_end {
        specs.push(ColumnSpec {
            setting: setting::SESSION_END_COLUMN.name,
            value: end.to_string(),
            accepted: &["DateTime"],
            kind: "a date and time",
        });
    }
    if let Some(warned_at) = &schema.warned_at {
        specs.push(ColumnSpec {
            setting: setting::SESSION_WARNED_AT_COLUMN.name,
            value: warned_at.to_string(),
            accepted: &["DateTime"],
            kind: "a date and time",
        });
    }
    if let Some(reason) = &schema.close_reason {
        specs.push(ColumnSpec {
            setting: setting::SESSION_CLOSE_REASON_COLUMN.name,
            value: reason.to_string(),
            accepted: &["String", "Memo"],
            kind: "a text",
        });
    }
    specs
}

fn id_spec(setting: &'static str, value: &str) -> ColumnSpec {
    ColumnSpec {
        setting,
        value: value.to_owned(),
        accepted: &["Uniqueidentifier"],
        kind: "a unique identifier",
    }
}

/// A read that failed: the missing privilege when Dataverse named one (403), else the error.
pub(super) fn read_failed(subject: &str, what: &str, error: &DataverseError) -> Finding {
    match metadata::missing_privilege(error) {
        Some(privilege) => Finding::error(
            subject,
            format!(
                "the application user may not read {what}: its security role lacks {privilege}"
            ),
            format!("add the privilege {privilege} to the application user's security role"),
        ),
        None => Finding::error(
            subject,
            format!("could not read {what}: {error}"),
            "correct what the message names, then run the check again",
        ),
    }
}
