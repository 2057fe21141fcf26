//! Planning: which active configurations have a usable timeout, and which session queries
//! follow from them. A configuration that cannot be used is reported and gets no query, so
//! none of its sessions is touched.

use super::SweepError;
use crate::dataverse::{ConfigurationRow, Owner, SessionQuery};
use crate::ids::Guid;
use crate::policy::SessionTimeout;
use crate::settings::Settings;
use crate::summary::{ConfigurationReport, Incomplete, Summary};
use chrono::{DateTime, Utc};
use tracing::{error, info, warn};

/// A configuration whose timeout can be applied.
#[derive(Debug, Clone)]
pub(crate) struct Usable {
    pub id: Guid,
    pub timeout: SessionTimeout,
}

/// The active configurations once checked.
#[derive(Debug, Clone)]
pub(crate) struct Checked {
    /// Those whose timeout can be applied.
    pub usable: Vec<Usable>,
    /// Every active configuration's id, usable or not.
    pub active: Vec<Guid>,
}

/// One server-side query and how to judge what it returns.
#[derive(Debug, Clone)]
pub(crate) struct Planned {
    /// The configuration whose timeout applies; `None` for sessions without an active
    /// configuration while several are active and no default is set: reported, never closed.
    pub configuration_id: Option<Guid>,
    pub timeout: SessionTimeout,
    pub query: SessionQuery,
}

impl Planned {
    /// Whether a session with this configuration lookup is one this query asked for; the
    /// server's filter is checked again here, never trusted alone.
    pub fn owns(&self, lookup: Option<&Guid>) -> bool {
        match (&self.query.owner, lookup) {
            (Owner::Configuration(id), Some(lookup)) => id == lookup,
            (Owner::Configuration(_), None) => false,
            (Owner::NoneOf(_), None) => true,
            (Owner::NoneOf(ids), Some(lookup)) => !ids.contains(lookup),
        }
    }

    /// Whether a session with this lookup is judged by a timeout that is not its own
    /// configuration's.
    pub fn without_active_configuration(&self, lookup: Option<&Guid>) -> bool {
        self.configuration_id.is_none() || lookup != self.configuration_id.as_ref()
    }
}

/// Checks `DEFAULT_CONFIGURATION_ID` and each active configuration, and reports each; the
/// usable ones, or an error when there is none.
pub(super) fn check_configurations(
    settings: &Settings,
    configurations: &[ConfigurationRow],
    summary: &mut Summary,
) -> Result<Checked, SweepError> {
    let schema = &settings.schema;
    if configurations.is_empty() {
        return Err(SweepError::NoActiveConfiguration {
            table: schema.configuration_table.to_string(),
        });
    }
    check_default(settings.default_configuration.as_ref(), configurations)?;
    let mut usable = Vec::new();
    let mut problems = Vec::new();
    for configuration in configurations {
        match check_one(settings, configuration) {
            Ok(found) => {
                info!(configuration_id = %found.id, timeout_s = found.timeout.seconds(), "configuration");
                summary.record_configuration(ConfigurationReport {
                    id: configuration.id.clone(),
                    timeout_seconds: Some(found.timeout.seconds()),
                    error: None,
                });
                usable.push(found);
            }
            Err(reason) => {
                error!(configuration_id = %configuration.id, reason = %reason, "configuration skipped: none of its sessions is touched");
                problems.push(format!("configuration {}: {reason}", configuration.id));
                summary.record_configuration(ConfigurationReport {
                    id: configuration.id.clone(),
                    timeout_seconds: None,
                    error: Some(reason),
                });
            }
        }
    }
    if usable.is_empty() {
        return Err(SweepError::NoUsableConfiguration {
            column: schema.timeout_column.to_string(),
            problems: problems.join("; "),
        });
    }
    if !problems.is_empty() {
        summary.mark_incomplete(Incomplete::UnusableConfiguration);
    }
    let active = configurations
        .iter()
        .map(|configuration| configuration.id.clone())
        .collect();
    Ok(Checked { usable, active })
}

/// A default that is not active is refused before anything is read: its sessions and the
/// sessions it was meant to judge would otherwise be judged by a guess.
pub(crate) fn check_default(
    default: Option<&Guid>,
    configurations: &[ConfigurationRow],
) -> Result<(), SweepError> {
    match default {
        Some(default)
            if !configurations
                .iter()
                .any(|configuration| configuration.id == *default) =>
        {
            Err(SweepError::DefaultConfigurationNotActive {
                id: default.to_string(),
                active: configurations
                    .iter()
                    .map(|configuration| configuration.id.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
        _ => Ok(()),
    }
}

/// The configuration's id and timeout, or why it cannot be used.
pub(crate) fn check_one(
    settings: &Settings,
    configuration: &ConfigurationRow,
) -> Result<Usable, String> {
    SessionTimeout::from_column(configuration.timeout.as_ref(), settings.schema.timeout_unit)
        .and_then(|timeout| timeout.at_least(settings.min_timeout))
        .map(|timeout| Usable {
            id: configuration.id.clone(),
            timeout,
        })
        .map_err(|error| error.to_string())
}

/// The queries for the usable configurations. Sessions without an active configuration
/// belong to the only active configuration, else to `default`; with neither, they are only
/// reported, once past even the longest timeout.
pub(crate) fn build_queries(
    now: DateTime<Utc>,
    checked: &Checked,
    default: Option<&Guid>,
) -> Vec<Planned> {
    let judge_of_orphans = match checked.active.as_slice() {
        [only] => Some(only),
        _ => default,
    };
    let mut queries: Vec<Planned> = checked
        .usable
        .iter()
        .map(|configuration| {
            let owner = match &checked.active {
                active if judge_of_orphans == Some(&configuration.id) => Owner::NoneOf(
                    active
                        .iter()
                        .filter(|id| **id != configuration.id)
                        .cloned()
                        .collect(),
                ),
                _ => Owner::Configuration(configuration.id.clone()),
            };
            Planned {
                configuration_id: Some(configuration.id.clone()),
                timeout: configuration.timeout,
                query: SessionQuery {
                    owner,
                    cutoff: configuration.timeout.cutoff(now),
                },
            }
        })
        .collect();
    if let Some(judge) = judge_of_orphans {
        if !checked.usable.iter().any(|usable| usable.id == *judge) {
            warn!(configuration_id = %judge, "the configuration that judges sessions without an active configuration has an unusable timeout; those sessions are not judged");
        }
    }
    if judge_of_orphans.is_none() {
        // Past even the longest timeout, such a session would be eligible under any of them;
        // it is still not closed, because which one applies is a guess.
        if let Some(longest) = checked.usable.iter().map(|usable| usable.timeout).max() {
            queries.push(Planned {
                configuration_id: None,
                timeout: longest,
                query: SessionQuery {
                    owner: Owner::NoneOf(checked.active.clone()),
                    cutoff: longest.cutoff(now),
                },
            });
        }
    }
    queries
}

#[cfg(test)]
pub(crate) mod tests;
