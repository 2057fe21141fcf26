//! What a per-row judgement hands the closer: a change of the session (with or without its
//! closing message) or a warning, each conditional on the ETag read with the row, and the
//! rules the settings turn on for the judgement.

use crate::ids::Guid;
use crate::policy::SessionTimeout;
use crate::summary::{SessionReport, WarningReport};
use chrono::{DateTime, Utc};

/// What the per-row judgement asks for, conditional on the ETag read with the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Task {
    /// The pass's change (a close or a reopen) of the session as reported.
    Change {
        report: SessionReport,
        etag: String,
        closing_message: ClosingMessage,
    },
    /// A warning before the close.
    Warn { report: WarningReport, etag: String },
}

/// Whether a close carries the closing message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ClosingMessage {
    /// None is configured (or the change is a reopen).
    Off,
    /// Sent in the close's change set.
    Send,
    /// Configured, but the close comes outside the customer's 24-hour window: closed without.
    OutsideWindow,
}

impl Task {
    /// The change of `report` without a closing message.
    pub(super) fn change(report: SessionReport, etag: String) -> Self {
        Task::Change {
            report,
            etag,
            closing_message: ClosingMessage::Off,
        }
    }

    /// The session's id.
    pub(super) fn id(&self) -> &Guid {
        match self {
            Task::Change { report, .. } => &report.id,
            Task::Warn { report, .. } => &report.id,
        }
    }
}

/// What the sweep's judgement needs besides the row: the instant, and the rules the settings
/// turn on.
#[derive(Debug, Clone, Copy)]
pub(super) struct Rules {
    pub now: DateTime<Utc>,
    /// `SESSION_LAST_AGENT_MESSAGE_COLUMN` is set.
    pub agent_rule: bool,
    /// `CLOSING_MESSAGE_TEXT` is set.
    pub closing_messages: bool,
    /// `WARNING_LEAD`, when set.
    pub lead: Option<SessionTimeout>,
}
