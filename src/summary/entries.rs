//! The entries of a summary: configurations, sessions, skip reasons, failures, and why a sweep
//! stopped early; each serialises to the shape the README documents.

use crate::ids::Guid;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

/// Why a sweep stopped before it had looked at every candidate; the next sweep continues.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Incomplete {
    /// The time budget ran out.
    Deadline,
    /// `MAX_CLOSURES_PER_SWEEP` was reached.
    Cap,
    /// A configuration's timeout is unusable, so its sessions were not looked at.
    UnusableConfiguration,
    /// A request or a batch failed.
    Error,
    /// Closes were sent whose answers never arrived or cannot be read.
    OutcomeUnknown,
    /// Dataverse's service protection limits asked for a wait (`Retry-After`) that ends past
    /// the sweep's stop.
    Throttled,
}

/// Why an eligible session was not closed, with a text that stays the same across versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SkipReason {
    /// Dataverse answered 412: the row changed after it was read.
    ChangedSinceRead,
    /// Dataverse answered 412 and the session is in the closed state already.
    AlreadyClosed,
    /// Dataverse answered 404.
    NoLongerExists,
    /// No active configuration, several are active and `DEFAULT_CONFIGURATION_ID` is unset:
    /// which timeout applies would be a guess.
    NoConfigurationSeveralActive,
    /// The customer wrote last and no agent answered (`SESSION_LAST_AGENT_MESSAGE_COLUMN`).
    AwaitingAgentReply,
    /// A reopen candidate the next sweep would close again under the current timeouts.
    StillPastCurrentTimeout,
}

impl SkipReason {
    /// The stable text written in the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::ChangedSinceRead => "changed since read",
            SkipReason::AlreadyClosed => "already closed",
            SkipReason::NoLongerExists => "no longer exists",
            SkipReason::NoConfigurationSeveralActive => {
                "its configuration is not active and several configurations are active"
            }
            SkipReason::AwaitingAgentReply => "awaiting agent reply",
            SkipReason::StillPastCurrentTimeout => "still past the current timeout",
        }
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One active configuration as the sweep saw it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConfigurationReport {
    /// Primary key.
    pub id: Guid,
    /// The timeout applied, when valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<i64>,
    /// Why none of its sessions was touched, when the timeout is not valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why its sessions get no warning before their close, when warnings are on and its
    /// timeout is not longer than `WARNING_LEAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warnings_off: Option<String>,
}

/// A session whose customer was warned (or, in a dry run, would be) before its close.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WarningReport {
    /// Primary key.
    pub id: Guid,
    /// The configuration whose timeout applies.
    pub configuration_id: Guid,
    /// The customer's last message.
    #[serde(serialize_with = "optional_utc")]
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// When the session becomes eligible to close, unless the customer writes.
    #[serde(serialize_with = "utc")]
    pub eligible_at: DateTime<Utc>,
}

/// A session closed (or, in a dry run, to be closed), or reopened: then `eligible_at` is when
/// the current timeout makes it eligible again and `overdue_seconds` is 0.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct SessionReport {
    /// Primary key.
    pub id: Guid,
    /// The configuration whose timeout applied.
    pub configuration_id: Guid,
    /// The session's own configuration is empty or not active, so `configuration_id` is the
    /// only active configuration or `DEFAULT_CONFIGURATION_ID`.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub no_active_configuration: bool,
    /// The customer's last message; null when the session was judged from its creation.
    #[serde(serialize_with = "optional_utc")]
    pub last_customer_message_at: Option<DateTime<Utc>>,
    /// When it became eligible.
    #[serde(serialize_with = "utc")]
    pub eligible_at: DateTime<Utc>,
    /// Seconds between `eligible_at` and `evaluated_at`.
    pub overdue_seconds: i64,
}

/// An eligible session that was not closed, and why.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Skipped {
    /// Primary key.
    pub id: Guid,
    /// Why.
    pub reason: SkipReason,
}

/// A session whose close failed, or a row that could not be read, and the error.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Failed {
    /// Primary key (empty when Dataverse returned a row without one).
    pub id: String,
    /// The error.
    pub error: String,
    /// The HTTP status Dataverse answered this row's operation with, when it answered one;
    /// the close hint reads it, the summary does not show it.
    #[serde(skip)]
    pub status: Option<u16>,
}

impl Failed {
    /// An entry whose id and error are each within [`MAX_TEXT_CHARS`]: both can carry what
    /// Dataverse sent (a message, or a raw value where an id was expected).
    pub(super) fn capped(id: String, error: String, status: Option<u16>) -> Self {
        Failed {
            id: capped_text(id),
            error: capped_text(error),
            status,
        }
    }
}

/// The longest text an entry carries, in characters: a Dataverse message or a raw value is
/// cut here, so that the response bound holds whatever Dataverse says.
pub const MAX_TEXT_CHARS: usize = 300;

/// What ends a text that was cut.
pub const TEXT_CUT_MARKER: &str = "… (cut)";

/// `text` within [`MAX_TEXT_CHARS`], cut on a character boundary and marked when longer.
pub fn capped_text(text: String) -> String {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        None => text,
        Some((end, _)) => format!("{}{TEXT_CUT_MARKER}", &text[..end]),
    }
}

pub(super) fn utc<S: Serializer>(time: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&time.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub(super) fn optional_utc<S: Serializer>(
    time: &Option<DateTime<Utc>>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match time {
        Some(time) => utc(time, serializer),
        None => serializer.serialize_none(),
    }
}
