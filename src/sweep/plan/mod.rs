//! Planning: which active configurations have a usable timeout, and which session queries
//! follow from them. A configuration that cannot be used is reported and gets no query, so
//! none of its sessions is touched.

use super::SweepError;
use crate::dataverse::{ConfigurationRow, Owner, SessionQuery, SessionRow};
use crate::ids::Guid;
use crate::policy::{decide, Decision, SessionTimeout, UnitDoubt};
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
    pub(crate) fn owns(&self, lookup: Option<&Guid>) -> bool {
        match (&self.query.owner, lookup) {
            (Owner::Configuration(id), Some(lookup)) => id == lookup,
            (Owner::Configuration(_), None) => false,
            (Owner::NoneOf(_), None) => true,
            (Owner::NoneOf(ids), Some(lookup)) => !ids.contains(lookup),
        }
    }

    /// The decision on `row` at `now` by this query's timeout; `None` when it is not an active
    /// row this query asked for. The close verdict, the warning rule and the wake-up's read of
    /// the lead window all start here.
    pub(crate) fn decide(&self, row: &SessionRow, now: DateTime<Utc>) -> Option<Decision> {
        if row.statecode != 0 || !self.owns(row.configuration_id.as_ref()) {
            return None;
        }
        Some(decide(
            self.timeout,
            now,
            row.last_customer_message,
            row.created_on,
        ))
    }

    /// Whether a session with this lookup is judged by a timeout that is not its own
    /// configuration's.
    pub(crate) fn without_active_configuration(&self, lookup: Option<&Guid>) -> bool {
        self.configuration_id.is_none() || lookup != self.configuration_id.as_ref()
    }
}

/// The plan of a sweep: each active configuration as read, the usable ones, the queries,
/// and why a sweep may not run it. The sweep refuses a plan with a refusal; the check counts
/// with it as it is.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Each active configuration, in the order read, with its timeout or why it is unusable.
    pub configurations: Vec<ConfigurationReport>,
    /// The configurations whose timeout can be applied.
    pub usable: Vec<Usable>,
    /// The queries; none when the plan is refused before any read (a default that is not
    /// active).
    pub queries: Vec<Planned>,
    /// Why a sweep stops before reading: no active configuration, a default that is not
    /// active, or no usable timeout.
    pub refusal: Option<SweepError>,
    /// Usable configurations whose bare timeout reads more naturally in another unit: applied
    /// as configured, but warned about, since the floor cannot tell "24" minutes from hours.
    pub unit_doubts: Vec<(Guid, UnitDoubt)>,
}

/// Checks `DEFAULT_CONFIGURATION_ID` and each active configuration and plans the queries at
/// `now`. Pure: nothing is logged per configuration and nothing is recorded.
pub(crate) fn plan(
    now: DateTime<Utc>,
    settings: &Settings,
    configurations: &[ConfigurationRow],
) -> Plan {
    let checked: Vec<Result<Usable, String>> = configurations
        .iter()
        .map(|configuration| check_one(settings, configuration))
        .collect();
    let reports = configurations
        .iter()
        .zip(&checked)
        .map(|(configuration, checked)| ConfigurationReport {
            id: configuration.id.clone(),
            timeout_seconds: checked.as_ref().ok().map(|usable| usable.timeout.seconds()),
            error: checked.as_ref().err().cloned(),
            warnings_off: checked
                .as_ref()
                .ok()
                .and_then(|usable| warnings_off(settings, usable.timeout)),
        })
        .collect();
    let usable: Vec<Usable> = checked.into_iter().filter_map(Result::ok).collect();
    let unit = settings.schema.timeout_unit;
    let unit_doubts = configurations
        .iter()
        .filter(|configuration| usable.iter().any(|u| u.id == configuration.id))
        .filter_map(|configuration| {
            let doubt = UnitDoubt::of_column(configuration.timeout.as_ref(), unit)?;
            Some((configuration.id.clone(), doubt))
        })
        .collect();
    let default = settings.default_configuration.as_ref();
    let refused = if configurations.is_empty() {
        Some(SweepError::NoActiveConfiguration {
            table: settings.schema.configuration_table.to_string(),
        })
    } else {
        check_default(default, configurations).err()
    };
    if let Some(refusal) = refused {
        return Plan {
            configurations: reports,
            usable,
            queries: Vec::new(),
            refusal: Some(refusal),
            unit_doubts,
        };
    }
    let active: Vec<Guid> = configurations
        .iter()
        .map(|configuration| configuration.id.clone())
        .collect();
    let queries = build_queries(now, &usable, &active, default);
    let refusal = usable
        .is_empty()
        .then(|| SweepError::NoUsableConfiguration {
            column: settings.schema.timeout_column.to_string(),
            problems: reports
                .iter()
                .filter_map(|report| {
                    let reason = report.error.as_ref()?;
                    Some(format!("configuration {}: {reason}", report.id))
                })
                .collect::<Vec<_>>()
                .join("; "),
        });
    Plan {
        configurations: reports,
        usable,
        queries,
        refusal,
        unit_doubts,
    }
}

impl Plan {
    /// The plan a sweep (or reopen run) goes on with: its reports logged and recorded in
    /// `summary`, or its refusal.
    pub(super) fn adopt(self, summary: &mut Summary) -> Result<Self, SweepError> {
        // A default that is not active is refused before any configuration is looked at.
        if let Some(refusal @ SweepError::DefaultConfigurationNotActive { .. }) = self.refusal {
            return Err(refusal);
        }
        for report in &self.configurations {
            match (&report.timeout_seconds, &report.error) {
                (Some(seconds), _) => {
                    info!(configuration_id = %report.id, timeout_s = seconds, "configuration")
                }
                (None, reason) => {
                    error!(configuration_id = %report.id, reason = reason.as_deref().unwrap_or_default(), "configuration skipped: none of its sessions is touched")
                }
            }
        }
        for (id, doubt) in &self.unit_doubts {
            warn!(configuration_id = %id, configured = %doubt.configured_reading(), other_reading = %doubt.other_reading(), "{doubt}; check the value and CONFIGURATION_TIMEOUT_UNIT");
        }
        if let Some(refusal) = self.refusal {
            return Err(refusal);
        }
        for report in &self.configurations {
            summary.record_configuration(report.clone());
        }
        if self
            .configurations
            .iter()
            .any(|report| report.error.is_some())
        {
            summary.mark_incomplete(Incomplete::UnusableConfiguration);
        }
        Ok(self)
    }
}

/// Why a configuration with `timeout` gets no warnings: warnings are on and its timeout is
/// not longer than the lead, so a warning could never come before the close.
fn warnings_off(settings: &Settings, timeout: SessionTimeout) -> Option<String> {
    let lead = settings.notify.warning.as_ref()?.lead;
    (timeout <= lead).then(|| {
        format!(
            "its timeout ({} s) is not longer than WARNING_LEAD ({} s), so its sessions close without a warning",
            timeout.seconds(),
            lead.seconds()
        )
    })
}

/// A default that is not active is refused before anything is read: its sessions and the
/// sessions it was meant to judge would otherwise be judged by a guess.
fn check_default(
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
fn check_one(settings: &Settings, configuration: &ConfigurationRow) -> Result<Usable, String> {
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
fn build_queries(
    now: DateTime<Utc>,
    usable: &[Usable],
    active: &[Guid],
    default: Option<&Guid>,
) -> Vec<Planned> {
    let judge_of_orphans = match active {
        [only] => Some(only),
        _ => default,
    };
    let mut queries: Vec<Planned> = usable
        .iter()
        .map(|configuration| {
            let owner = if judge_of_orphans == Some(&configuration.id) {
                Owner::NoneOf(
                    active
                        .iter()
                        .filter(|id| **id != configuration.id)
                        .cloned()
                        .collect(),
                )
            } else {
                Owner::Configuration(configuration.id.clone())
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
        if !usable.iter().any(|usable| usable.id == *judge) {
            warn!(configuration_id = %judge, "the configuration that judges sessions without an active configuration has an unusable timeout; those sessions are not judged");
        }
    }
    if judge_of_orphans.is_none() {
        // Past even the longest timeout, such a session would be eligible under any of them;
        // it is still not closed, because which one applies is a guess.
        if let Some(longest) = usable.iter().map(|usable| usable.timeout).max() {
            queries.push(Planned {
                configuration_id: None,
                timeout: longest,
                query: SessionQuery {
                    owner: Owner::NoneOf(active.to_vec()),
                    cutoff: longest.cutoff(now),
                },
            });
        }
    }
    queries
}

#[cfg(test)]
pub(crate) mod tests;
