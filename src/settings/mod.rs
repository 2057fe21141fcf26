//! Typed settings read once from the function's environment. Every value is checked here, so
//! the rest of the crate works with names and numbers that cannot be wrong.
//!
//! [`SPECS`] is the one list of settings: name, template parameter, default, allowed form and
//! meaning. Parsing and its errors read it, and a test holds the README's table and
//! `template.yaml` to it; a new setting is one row there, one in the README, one in the
//! template.

mod events;
mod notify;
mod spec;
mod wake;

pub use events::EventSettings;
pub use notify::{MessageAction, MessageTable, NotifySettings, WarningSettings, MAX_MESSAGE_CHARS};
pub use spec::{setting, Form, Spec, MAX_BATCH_SIZE, MAX_CONCURRENCY, SPECS};
pub use wake::WakeSettings;

use crate::ids::Guid;
use crate::policy::{SessionTimeout, TimeoutUnit};
use spec::Reader;
use std::fmt;
use std::time::Duration;

/// A setting that cannot be used, named so an administrator knows what to change.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// A required variable is absent or empty.
    #[error("the environment variable {0} is required but not set")]
    Missing(&'static str),
    /// A table or column name with characters Dataverse names never have.
    #[error("the environment variable {name} = {value:?} is not a Dataverse name (letters, digits and underscores only)")]
    BadName { name: &'static str, value: String },
    /// A value that does not parse or is out of range.
    #[error("the environment variable {name} = {value:?} is invalid: {expected}")]
    BadValue {
        name: &'static str,
        value: String,
        expected: String,
    },
    /// A Session Timeout setting that does not parse, with why.
    #[error("the environment variable {name} = {value:?} is invalid: {source}")]
    BadTimeout {
        name: &'static str,
        value: String,
        #[source]
        source: crate::policy::TimeoutError,
    },
    /// A setting that needs another one, which is missing.
    #[error("the environment variable {name} is set, so it needs {requires}")]
    Requires {
        name: &'static str,
        requires: String,
    },
}

/// A Dataverse table or column name, checked to hold identifier characters only, so that it
/// can be placed in a URL or an OData query without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Name(String);

impl Name {
    /// Checks `value` as the setting `setting`.
    pub fn parse(setting: &'static str, value: &str) -> Result<Self, SettingsError> {
        let valid = !value.is_empty()
            && value.len() <= 128
            && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !value.starts_with(|c: char| c.is_ascii_digit());
        if valid {
            Ok(Name(value.to_owned()))
        } else {
            Err(SettingsError::BadName {
                name: setting,
                value: value.to_owned(),
            })
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Where the sessions and configurations live in the org, and what "closed" means there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    /// Entity set of the chat sessions.
    pub session_table: Name,
    /// Primary key of a session.
    pub session_id: Name,
    /// When the customer's last message arrived.
    pub last_customer_message: Name,
    /// The session's configuration lookup, as the Web API reads it (`_x_value`).
    pub configuration_lookup: Name,
    /// The statecode that means closed.
    pub closed_statecode: i64,
    /// The statuscode that means closed.
    pub closed_statuscode: i64,
    /// The statecode a reopen sets.
    pub active_statecode: i64,
    /// The statuscode a reopen sets.
    pub active_statuscode: i64,
    /// Optional text column that records why the session was closed.
    pub close_reason: Option<Name>,
    /// Optional column of when an agent last wrote; when set, a session awaiting an agent's
    /// reply is never closed.
    pub last_agent_message: Option<Name>,
    /// Optional date and time column set to the instant of the close (the session's End
    /// Date & Time), emptied by a reopen.
    pub session_end: Option<Name>,
    /// Optional date and time column set to the moment the customer was warned; set only
    /// with `WARNING_LEAD`.
    pub warned_at: Option<Name>,
    /// Entity set of the WhatsApp configurations.
    pub configuration_table: Name,
    /// Primary key of a configuration.
    pub configuration_id: Name,
    /// The Session Timeout column.
    pub timeout_column: Name,
    /// The unit of a numeric Session Timeout.
    pub timeout_unit: TimeoutUnit,
}

impl Schema {
    /// The setting whose value is `name` (Dataverse compares names case-insensitively).
    pub fn setting_named(&self, name: &str) -> Option<&'static str> {
        [
            (setting::SESSION_TABLE.name, &self.session_table),
            (setting::SESSION_ID_COLUMN.name, &self.session_id),
            (
                setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name,
                &self.last_customer_message,
            ),
            (
                setting::SESSION_CONFIGURATION_LOOKUP.name,
                &self.configuration_lookup,
            ),
            (setting::CONFIGURATION_TABLE.name, &self.configuration_table),
            (
                setting::CONFIGURATION_ID_COLUMN.name,
                &self.configuration_id,
            ),
            (
                setting::CONFIGURATION_TIMEOUT_COLUMN.name,
                &self.timeout_column,
            ),
        ]
        .into_iter()
        .chain(
            self.close_reason
                .as_ref()
                .map(|n| (setting::SESSION_CLOSE_REASON_COLUMN.name, n)),
        )
        .chain(
            self.last_agent_message
                .as_ref()
                .map(|n| (setting::SESSION_LAST_AGENT_MESSAGE_COLUMN.name, n)),
        )
        .chain(
            self.session_end
                .as_ref()
                .map(|n| (setting::SESSION_END_COLUMN.name, n)),
        )
        .chain(
            self.warned_at
                .as_ref()
                .map(|n| (setting::SESSION_WARNED_AT_COLUMN.name, n)),
        )
        .find(|(_, value)| value.as_str().eq_ignore_ascii_case(name))
        .map(|(setting, _)| setting)
    }
}

/// Everything the function reads from its environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Name or ARN of the Secrets Manager secret with the Dataverse credentials.
    pub secret_id: String,
    /// Evaluate and report, close nothing.
    pub dry_run: bool,
    /// The most sessions one sweep closes; the rest wait for the next sweep.
    pub max_closures: usize,
    /// How long a warm function reuses the secret.
    pub secret_cache: Duration,
    /// Operations per `$batch` request.
    pub close_batch_size: usize,
    /// The most `$batch` requests in flight at once; the dop hint and 429s may lower it.
    pub close_concurrency: usize,
    /// Time kept free before the Lambda deadline; no new work starts inside it.
    pub deadline_margin: Duration,
    /// A configuration whose timeout is shorter is unusable.
    pub min_timeout: SessionTimeout,
    /// With several active configurations, the one whose timeout judges the sessions without
    /// an active configuration; checked against the active ones at the start of each sweep.
    pub default_configuration: Option<Guid>,
    /// Table and column names.
    pub schema: Schema,
    /// The just-in-time wake-up, when `WAKE_SCHEDULE_NAME` is set.
    pub wake: Option<WakeSettings>,
    /// The earliest a wake-up is set after a sweep.
    pub min_wake_interval: Duration,
    /// The warning before a close and the closing message.
    pub notify: NotifySettings,
    /// The lifecycle events' bus, when `EVENT_BUS_NAME` is set.
    pub events: Option<EventSettings>,
}

impl Settings {
    /// Reads the settings from the process environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the settings through `lookup`, so tests need not touch the process environment.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, SettingsError> {
        let read = Reader::new(lookup);
        if read.raw(&setting::SESSION_CLOSED_STATECODE).as_deref() == Some("0") {
            return Err(SettingsError::BadValue {
                name: setting::SESSION_CLOSED_STATECODE.name,
                value: "0".into(),
                expected: "not 0, which is the active state".into(),
            });
        }
        let unit = read.one_of::<TimeoutUnit>(&setting::CONFIGURATION_TIMEOUT_UNIT)?;
        let events = EventSettings::read(&read)?;
        let notify = NotifySettings::read(&read, unit, events.is_some())?;
        let schema = Schema {
            session_table: read.name(&setting::SESSION_TABLE)?,
            session_id: read.name(&setting::SESSION_ID_COLUMN)?,
            last_customer_message: read.name(&setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN)?,
            configuration_lookup: read.name(&setting::SESSION_CONFIGURATION_LOOKUP)?,
            closed_statecode: read.number(&setting::SESSION_CLOSED_STATECODE)? as i64,
            closed_statuscode: read.number(&setting::SESSION_CLOSED_STATUSCODE)? as i64,
            active_statecode: read.number(&setting::SESSION_ACTIVE_STATECODE)? as i64,
            active_statuscode: read.number(&setting::SESSION_ACTIVE_STATUSCODE)? as i64,
            close_reason: read.optional_name(&setting::SESSION_CLOSE_REASON_COLUMN)?,
            last_agent_message: read.optional_name(&setting::SESSION_LAST_AGENT_MESSAGE_COLUMN)?,
            session_end: read.optional_name(&setting::SESSION_END_COLUMN)?,
            warned_at: notify
                .warning
                .as_ref()
                .map(|warning| warning.warned_at.clone()),
            configuration_table: read.name(&setting::CONFIGURATION_TABLE)?,
            configuration_id: read.name(&setting::CONFIGURATION_ID_COLUMN)?,
            timeout_column: read.name(&setting::CONFIGURATION_TIMEOUT_COLUMN)?,
            timeout_unit: unit,
        };
        if schema.active_statecode == schema.closed_statecode {
            return Err(SettingsError::BadValue {
                name: setting::SESSION_ACTIVE_STATECODE.name,
                value: schema.active_statecode.to_string(),
                expected: "not SESSION_CLOSED_STATECODE: a reopen must leave the closed state"
                    .into(),
            });
        }
        Ok(Settings {
            secret_id: read.text(&setting::DATAVERSE_SECRET_ID)?,
            dry_run: read.flag(&setting::DRY_RUN)?,
            max_closures: read.number(&setting::MAX_CLOSURES_PER_SWEEP)? as usize,
            secret_cache: Duration::from_secs(read.number(&setting::SECRET_CACHE_SECONDS)?),
            close_batch_size: read.number(&setting::CLOSE_BATCH_SIZE)? as usize,
            close_concurrency: read.number(&setting::CLOSE_CONCURRENCY)? as usize,
            deadline_margin: Duration::from_secs(read.number(&setting::DEADLINE_MARGIN_SECONDS)?),
            min_timeout: read.timeout(&setting::MIN_SESSION_TIMEOUT, schema.timeout_unit)?,
            default_configuration: read.optional_guid(&setting::DEFAULT_CONFIGURATION_ID)?,
            schema,
            wake: WakeSettings::read(&read)?,
            min_wake_interval: read.duration(&setting::MIN_WAKE_INTERVAL)?,
            notify,
            events,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests;
