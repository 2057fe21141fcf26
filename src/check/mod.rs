//! The check: a read-only pass that proves the settings against the environment before
//! anything is closed. In order: the secret, the token and the application user (`WhoAmI`;
//! a failure here is the first finding and ends the check), each table and column setting
//! against the metadata, the close and reopen state/status pairs, the message table and the
//! action that send the warning and the closing message (when set), the active configurations
//! and sessions as a sweep would see them now (counted by the sweep's own plan, the warning
//! lead and the closing message against each timeout), and other activated cloud flows that
//! close sessions.
//!
//! It sends only GET requests: no PATCH, no `$batch`, nothing that changes a row.
//!
//! - `report`: [`Finding`], [`Severity`] and the [`CheckReport`] JSON.
//! - `tables`: the metadata reads and what they prove (`rules` judges them, purely).
//! - `sessions`: configurations and sessions counted by the sweep's rules (pure).
//! - `counted`: the findings those counts give (pure).
//! - `paging`: the active sessions read and counted a page at a time (memory flat with size).
//! - `states`: the close and reopen state/status pairs against the status option set (pure).
//! - `notify`: the message table and the action against their definitions (`message_rules` and
//!   `action_rules` judge them, purely).
//! - `lead`: the warning lead and the closing message against each timeout (pure).
//! - `transitions`: closes and reopens against enforced state transitions (pure).

mod action_rules;
mod counted;
mod finding;
mod lead;
mod message_rules;
mod notify;
mod paging;
mod report;
mod rules;
mod sessions;
mod states;
mod tables;
mod transitions;

#[cfg(test)]
mod agreement_tests;

pub use finding::{Finding, Severity};
pub use report::CheckReport;
pub use sessions::{ConfigurationCount, SessionCounts};

use crate::budget::Budget;
use crate::dataverse::{metadata, Dataverse, DataverseError, Org};
use crate::settings::Settings;
use chrono::{DateTime, Utc};
use std::sync::Arc;

/// Runs the check and logs each finding.
pub async fn run(
    dataverse: &Arc<Dataverse>,
    settings: &Settings,
    now: DateTime<Utc>,
    budget: Budget,
) -> CheckReport {
    let mut findings = Vec::new();
    let schema = Arc::new(settings.schema.clone());
    let Some(org) = credentials(dataverse, schema, budget, now, &mut findings).await else {
        let report = CheckReport::new(findings, None);
        report.log();
        return report;
    };
    let tables = tables::check(&org, &mut findings).await;
    notify::check(
        &org,
        &settings.notify,
        tables.session.as_ref(),
        &mut findings,
    )
    .await;
    let sessions = if tables.broken {
        findings.push(Finding::warning(
            "sessions",
            "the configurations and sessions were not read, because a table or column setting is wrong",
            "fix the errors above, then run the check again to see what a sweep would close",
        ));
        None
    } else {
        count_sessions(&org, settings, now, &mut findings).await
    };
    findings.push(match metadata::active_cloud_flows(&org).await {
        Ok(flows) => rules::flows_finding(&flows),
        Err(error) => {
            let mut finding =
                tables::read_failed("cloud flows", "the cloud flows (workflows)", &error);
            // The sweep does not need to read flows: not being able to is not an error.
            finding.severity = Severity::Warning;
            finding
        }
    });
    let report = CheckReport::new(findings, sessions);
    report.log();
    report
}

/// The secret, the token and the application user, proved together by `WhoAmI`; on failure
/// the one finding that says which, and no handle.
async fn credentials(
    dataverse: &Arc<Dataverse>,
    schema: Arc<crate::settings::Schema>,
    budget: Budget,
    now: DateTime<Utc>,
    findings: &mut Vec<Finding>,
) -> Option<Org> {
    // The check closes nothing; `now` only completes the handle.
    let outcome = match Org::open(dataverse.clone(), schema, budget, now).await {
        Ok(org) => org.who_am_i().await.map(|user| (org, user)),
        Err(error) => Err(error),
    };
    match outcome {
        Ok((org, user)) => {
            findings.push(Finding::ok("secret", "the secret was read and is complete"));
            findings.push(Finding::ok(
                "token",
                "Entra ID issued a token for the environment",
            ));
            findings.push(Finding::ok(
                "application user",
                format!(
                    "Dataverse knows the application user (UserId {}, business unit {})",
                    user.user_id, user.business_unit_id
                ),
            ));
            Some(org)
        }
        Err(error) => {
            findings.push(credentials_failed(&error));
            None
        }
    }
}

fn credentials_failed(error: &DataverseError) -> Finding {
    match error {
        DataverseError::Credentials(_) => Finding::error(
            "secret",
            error.to_string(),
            "correct DATAVERSE_SECRET_ID or the secret's value (see the README's secret format)",
        ),
        DataverseError::Auth(_) => Finding::error(
            "token",
            error.to_string(),
            "check tenant_id, client_id and client_secret in the secret; create a new client secret if it expired",
        ),
        DataverseError::Unauthorized => Finding::error(
            "application user",
            error.to_string(),
            "add the app registration as an application user of this environment (Power Platform admin center → Environment → Users → App users)",
        ),
        other => tables::read_failed("application user", "who the application user is (WhoAmI)", other),
    }
}

/// The active configurations and sessions, counted as a sweep would judge them now.
async fn count_sessions(
    org: &Org,
    settings: &Settings,
    now: DateTime<Utc>,
    findings: &mut Vec<Finding>,
) -> Option<SessionCounts> {
    let read = async {
        let configurations = org.active_configurations().await?;
        let mut tally = sessions::Tally::new(settings, &configurations, now);
        paging::tally_pages(&mut paging::ActiveSessions::new(org), &mut tally).await?;
        Ok::<_, DataverseError>(tally.finish())
    };
    match read.await {
        Ok((counts, found)) => {
            findings.extend(found);
            let mut message = format!(
                "{}; a sweep now would close {}",
                counted::sessions(counts.active_sessions),
                counts.would_close
            );
            if let Some(column) = &settings.schema.last_agent_message {
                message += &format!(
                    " and leave open {} past their timeout that await an agent's reply ({column})",
                    counts.awaiting_agent
                );
            }
            if settings.notify.warning.is_some() {
                message += &format!(
                    "; it would warn {} now ({} more are due a warning outside WhatsApp's 24-hour window, which is not sent)",
                    counts.would_warn, counts.warnings_outside_window
                );
            }
            findings.push(Finding::ok("sessions", message));
            Some(counts)
        }
        Err(error) => {
            findings.push(tables::read_failed(
                "sessions",
                "the configurations and sessions",
                &error,
            ));
            None
        }
    }
}
