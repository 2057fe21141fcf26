//! Planning: which active configurations have a usable timeout, and which session queries
//! follow from them. A configuration that cannot be used is reported and gets no query, so
//! none of its sessions is touched.

use super::SweepError;
use crate::dataverse::{ConfigurationRow, Guid, Owner, SessionQuery};
use crate::policy::SessionTimeout;
use crate::settings::Schema;
use crate::summary::{ConfigurationReport, Incomplete, Summary};
use chrono::{DateTime, Utc};
use tracing::{error, info};

/// A configuration whose timeout can be applied.
#[derive(Debug, Clone)]
pub(super) struct Usable {
    pub id: Guid,
    pub timeout: SessionTimeout,
}

/// One server-side query and how to judge what it returns.
#[derive(Debug, Clone)]
pub(super) struct Planned {
    /// The configuration whose timeout applies; empty for unassigned sessions.
    pub configuration_id: String,
    pub timeout: SessionTimeout,
    pub query: SessionQuery,
    /// Sessions without a configuration while several are active: reported, never closed.
    pub unassigned: bool,
}

/// Checks each active configuration and reports it; the usable ones, or an error when there
/// is none.
pub(super) fn check_configurations(
    schema: &Schema,
    configurations: &[ConfigurationRow],
    summary: &mut Summary,
) -> Result<Vec<Usable>, SweepError> {
    if configurations.is_empty() {
        return Err(SweepError::NoActiveConfiguration {
            table: schema.configuration_table.to_string(),
        });
    }
    let mut usable = Vec::new();
    let mut problems = Vec::new();
    for configuration in configurations {
        let checked = match Guid::parse(&configuration.id) {
            Some(id) => {
                SessionTimeout::from_column(configuration.timeout.as_ref(), schema.timeout_unit)
                    .map(|timeout| Usable { id, timeout })
                    .map_err(|error| error.to_string())
            }
            None => Err("its id is not a GUID".to_owned()),
        };
        match checked {
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
    Ok(usable)
}

/// The queries for the usable configurations. `active` counts every active configuration,
/// usable or not: sessions without a lookup belong to the only one, and otherwise to none.
pub(super) fn build_queries(now: DateTime<Utc>, usable: &[Usable], active: usize) -> Vec<Planned> {
    let only_one = active == 1;
    let mut queries: Vec<Planned> = usable
        .iter()
        .map(|configuration| {
            let owner = if only_one {
                Owner::ConfigurationOrUnassigned(configuration.id.clone())
            } else {
                Owner::Configuration(configuration.id.clone())
            };
            Planned {
                configuration_id: configuration.id.to_string(),
                timeout: configuration.timeout,
                query: SessionQuery {
                    owner,
                    cutoff: configuration.timeout.cutoff(now),
                },
                unassigned: false,
            }
        })
        .collect();
    if !only_one {
        // Past even the longest timeout, such a session would be eligible under any of them;
        // it is still not closed, because which one applies is a guess.
        if let Some(longest) = usable.iter().map(|usable| usable.timeout).max() {
            queries.push(Planned {
                configuration_id: String::new(),
                timeout: longest,
                query: SessionQuery {
                    owner: Owner::Unassigned,
                    cutoff: longest.cutoff(now),
                },
                unassigned: true,
            });
        }
    }
    queries
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    use crate::settings::tests::default_schema as schema;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
    const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

    fn configuration(id: &str, timeout: serde_json::Value) -> ConfigurationRow {
        ConfigurationRow {
            id: id.into(),
            timeout: Some(timeout),
        }
    }

    fn plan(
        configurations: &[ConfigurationRow],
        summary: &mut Summary,
    ) -> Result<Vec<Planned>, SweepError> {
        let usable = check_configurations(&schema(), configurations, summary)?;
        Ok(build_queries(now(), &usable, configurations.len()))
    }

    #[test]
    fn one_configuration_also_owns_the_sessions_without_a_lookup() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(&[configuration(A, json!(1440))], &mut summary).unwrap();
        assert_eq!(queries.len(), 1);
        assert_eq!(
            queries[0].query,
            SessionQuery {
                owner: Owner::ConfigurationOrUnassigned(Guid::parse(A).unwrap()),
                cutoff: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
            }
        );
    }

    #[test]
    fn several_configurations_report_unassigned_sessions_past_the_longest_timeout() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(
            &[
                configuration(A, json!(30)),
                configuration(B, json!("2 days")),
            ],
            &mut summary,
        )
        .unwrap();
        assert_eq!(queries.len(), 3);
        let unassigned = &queries[2];
        assert!(unassigned.unassigned);
        assert_eq!(unassigned.timeout.seconds(), 172_800);
        assert_eq!(unassigned.query.owner, Owner::Unassigned);
        assert_eq!(
            queries[0].query.owner,
            Owner::Configuration(Guid::parse(A).unwrap())
        );
    }

    #[test]
    fn a_configuration_with_a_bad_timeout_gets_no_query_and_is_reported() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(
            &[configuration(A, json!(0)), configuration(B, json!(60))],
            &mut summary,
        )
        .unwrap();
        assert!(queries.iter().all(|query| query.configuration_id != A));
        assert!(!summary.complete());
        assert!(summary.configurations()[0].error.is_some());
    }

    #[test]
    fn no_usable_configuration_is_an_error_before_any_query() {
        let mut summary = Summary::new(now(), false);
        let error = plan(&[configuration(A, json!("soon"))], &mut summary)
            .err()
            .unwrap();
        assert!(matches!(error, SweepError::NoUsableConfiguration { .. }));
        assert!(error.to_string().contains("w4d_sessiontimeout"));
    }

    #[test]
    fn a_configuration_id_that_is_not_a_guid_never_reaches_a_filter() {
        let mut summary = Summary::new(now(), false);
        let error = plan(&[configuration("x or 1 eq 1", json!(60))], &mut summary)
            .err()
            .unwrap();
        assert!(error.to_string().contains("GUID"));
    }
}
