//! The check's result: findings in the order they were made, each with a severity and, when
//! something is to be done, the fix in one sentence; `ok` is false only when a finding is an
//! error. Every finding is also one log line.

use super::finding::{Finding, Severity};
use super::sessions::SessionCounts;
use serde::Serialize;
use tracing::{error, info, warn};

/// The JSON the check returns.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    /// False when any finding is an error.
    pub ok: bool,
    /// In the order they were made.
    pub findings: Vec<Finding>,
    /// The configurations and sessions as a sweep would see them now, when they could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionCounts>,
}

impl CheckReport {
    /// The report of `findings`.
    pub fn new(findings: Vec<Finding>, sessions: Option<SessionCounts>) -> Self {
        let ok = findings.iter().all(|f| f.severity != Severity::Error);
        CheckReport {
            ok,
            findings,
            sessions,
        }
    }

    /// The findings with `severity`.
    pub fn with_severity(&self, severity: Severity) -> impl Iterator<Item = &Finding> {
        self.findings.iter().filter(move |f| f.severity == severity)
    }

    /// The first finding about `subject`.
    pub fn about(&self, subject: &str) -> Option<&Finding> {
        self.findings.iter().find(|f| f.subject == subject)
    }

    /// One log line per finding, then one for the verdict.
    pub fn log(&self) {
        for finding in &self.findings {
            let fix = finding.fix.as_deref().unwrap_or_default();
            let suggestions = finding.suggestions.join(", ");
            let subject = finding.subject.as_str();
            let message = finding.message.as_str();
            match finding.severity {
                Severity::Ok => info!(subject, severity = "ok", message, "check"),
                Severity::Warning => {
                    warn!(
                        subject,
                        severity = "warning",
                        message,
                        fix,
                        suggestions,
                        "check"
                    )
                }
                Severity::Error => {
                    error!(
                        subject,
                        severity = "error",
                        message,
                        fix,
                        suggestions,
                        "check"
                    )
                }
            }
        }
        info!(
            ok = self.ok,
            errors = self.with_severity(Severity::Error).count(),
            warnings = self.with_severity(Severity::Warning).count(),
            "check finished"
        );
    }
}
