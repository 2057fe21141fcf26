//! One thing the check found, with its severity and the fix in one sentence. A leaf of
//! `check/`: every rule module makes findings, and the report collects them.

use serde::Serialize;

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// As it should be.
    Ok,
    /// Works, but probably not as meant.
    Warning,
    /// A sweep would fail or do the wrong thing.
    Error,
}

/// One thing the check found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// What was checked: a setting's name (`SESSION_TABLE`), or `secret`, `token`, ….
    pub subject: String,
    /// How much it matters.
    pub severity: Severity,
    /// What was found.
    pub message: String,
    /// What to do, in one sentence; absent when nothing is to be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    /// Real names that come closest, when a name was not found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub suggestions: Vec<String>,
}

impl Finding {
    /// Nothing to do.
    pub fn ok(subject: impl Into<String>, message: impl Into<String>) -> Self {
        Finding {
            subject: subject.into(),
            severity: Severity::Ok,
            message: message.into(),
            fix: None,
            suggestions: Vec::new(),
        }
    }

    /// Probably not as meant.
    pub fn warning(
        subject: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            fix: Some(fix.into()),
            ..Finding::ok(subject, message)
        }
    }

    /// Must be fixed before sweeps can be trusted.
    pub fn error(
        subject: impl Into<String>,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        Finding {
            severity: Severity::Error,
            fix: Some(fix.into()),
            ..Finding::ok(subject, message)
        }
    }

    /// The same finding with suggested real names.
    pub fn suggesting(mut self, names: Vec<String>) -> Self {
        self.suggestions = names;
        self
    }
}
