//! The one table of settings: each environment variable with its template parameter, default,
//! allowed form and meaning, and the reader that parses a value by its spec. Adding a setting
//! is one row in [`SPECS`], one in the README's table and one in `template.yaml` (a test
//! checks all three agree).

use super::{Name, SettingsError};
use crate::ids::Guid;
use crate::policy::{SessionTimeout, TimeoutUnit};

/// What values a setting accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// Any non-empty text.
    Text,
    /// A Dataverse table or column name.
    Name,
    /// A Dataverse name, or empty for none.
    OptionalName,
    /// `true` or `false` (also `1`/`0`, `yes`/`no`).
    Flag,
    /// A whole number in a range.
    Number { min: u64, max: u64 },
    /// One word of a list.
    OneOf(&'static [&'static str]),
    /// A Session Timeout in the forms a configuration accepts (a bare number is in
    /// `CONFIGURATION_TIMEOUT_UNIT`).
    Timeout,
    /// A Session Timeout in the same forms, or empty for none.
    OptionalTimeout,
    /// A JSON object whose keys are Dataverse names and whose values are JSON scalars, or
    /// empty for none.
    JsonObject,
    /// A GUID, or empty for none.
    OptionalGuid,
    /// Text, or empty for none.
    OptionalText,
    /// A length of time from `min` to `max` seconds: a number of minutes, text such as
    /// `1 minute`, or ISO-8601 such as `PT90S`.
    Duration { min: u64, max: u64 },
    /// Read by the logging set-up, not by [`super::Settings`]; Lambda sets it from the
    /// template's `LoggingConfig`, not from an environment variable of the template.
    LogFilter,
}

/// One setting: the environment variable, its template parameter, default and meaning.
#[derive(Debug, Clone, Copy)]
pub struct Spec {
    /// The environment variable.
    pub name: &'static str,
    /// The `template.yaml` parameter that sets it.
    pub parameter: &'static str,
    /// The default; `None` when the setting is required or optional without a value.
    pub default: Option<&'static str>,
    /// What it accepts.
    pub form: Form,
    /// One line for an administrator.
    pub meaning: &'static str,
}

const fn spec(
    name: &'static str,
    parameter: &'static str,
    default: Option<&'static str>,
    form: Form,
    meaning: &'static str,
) -> Spec {
    Spec {
        name,
        parameter,
        default,
        form,
        meaning,
    }
}

/// Dataverse refuses a `$batch` of more than 1000 operations.
pub const MAX_BATCH_SIZE: usize = 1000;
/// More parallel batches than this only earns 429s from service protection.
pub const MAX_CONCURRENCY: usize = 16;

/// Declares each setting as a constant named after its environment variable, so a mistyped
/// name does not compile, and [`SPECS`] as the list of all of them in the README's order.
macro_rules! settings_table {
    ($($name:ident: $parameter:literal, $default:expr, $form:expr, $meaning:literal;)*) => {
        /// Each setting by its environment variable's name.
        pub mod setting {
            use super::{spec, Form, Spec, MAX_BATCH_SIZE, MAX_CONCURRENCY};
            $(
                #[doc = $meaning]
                pub const $name: Spec = spec(stringify!($name), $parameter, $default, $form, $meaning);
            )*
        }

        /// Every setting the function reads, in the README's order.
        pub const SPECS: &[Spec] = &[$(setting::$name),*];
    };
}

settings_table! {
    DATAVERSE_SECRET_ID: "DataverseSecretId", None, Form::Text, "name or ARN of the Secrets Manager secret";
    DRY_RUN: "DryRun", Some("false"), Form::Flag, "evaluate and report, close nothing";
    MAX_CLOSURES_PER_SWEEP: "MaxClosuresPerSweep", Some("5000"), Form::Number { min: 1, max: 1_000_000 }, "safety cap; the rest wait for the next sweep";
    SECRET_CACHE_SECONDS: "SecretCacheSeconds", Some("300"), Form::Number { min: 0, max: 86_400 }, "how long a warm function reuses the secret";
    SESSION_TABLE: "SessionTable", Some("w4d_chatsessions"), Form::Name, "entity set of the chat sessions";
    SESSION_ID_COLUMN: "SessionIdColumn", Some("w4d_chatsessionid"), Form::Name, "its primary key";
    SESSION_LAST_CUSTOMER_MESSAGE_COLUMN: "SessionLastCustomerMessageColumn", Some("w4d_lastcustomermessageon"), Form::Name, "when the customer's last incoming message arrived (UTC)";
    SESSION_CONFIGURATION_LOOKUP: "SessionConfigurationLookup", Some("_w4d_configurationid_value"), Form::Name, "the session's configuration lookup, as the Web API reads it";
    SESSION_CLOSED_STATECODE: "SessionClosedStatecode", Some("1"), Form::Number { min: 1, max: i32::MAX as u64 }, "the statecode that means closed (0 is active)";
    SESSION_CLOSED_STATUSCODE: "SessionClosedStatuscode", Some("2"), Form::Number { min: 0, max: i32::MAX as u64 }, "the statuscode that goes with it";
    SESSION_ACTIVE_STATECODE: "SessionActiveStatecode", Some("0"), Form::Number { min: 0, max: i32::MAX as u64 }, "the statecode a reopen sets (active)";
    SESSION_ACTIVE_STATUSCODE: "SessionActiveStatuscode", Some("1"), Form::Number { min: 0, max: i32::MAX as u64 }, "the statuscode a reopen sets";
    SESSION_CLOSE_REASON_COLUMN: "SessionCloseReasonColumn", None, Form::OptionalName, "optional text column set to \"Closed by session timeout\"";
    SESSION_LAST_AGENT_MESSAGE_COLUMN: "SessionLastAgentMessageColumn", None, Form::OptionalName, "optional: when an agent last wrote; a session whose customer wrote after it is never closed";
    SESSION_END_COLUMN: "SessionEndColumn", None, Form::OptionalName, "optional date and time column set to the instant of the close (the session's End Date & Time); a reopen empties it";
    CONFIGURATION_TABLE: "ConfigurationTable", Some("w4d_whatsappconfigurations"), Form::Name, "entity set of the WhatsApp Configurations";
    CONFIGURATION_ID_COLUMN: "ConfigurationIdColumn", Some("w4d_whatsappconfigurationid"), Form::Name, "its primary key";
    CONFIGURATION_TIMEOUT_COLUMN: "ConfigurationTimeoutColumn", Some("w4d_sessiontimeout"), Form::Name, "the Session Timeout column";
    CONFIGURATION_TIMEOUT_UNIT: "ConfigurationTimeoutUnit", Some("minutes"), Form::OneOf(&["minutes", "hours", "days"]), "unit of a numeric timeout";
    MIN_SESSION_TIMEOUT: "MinSessionTimeout", Some("5 minutes"), Form::Timeout, "a configuration whose timeout is shorter is an error and none of its sessions is closed";
    DEFAULT_CONFIGURATION_ID: "DefaultConfigurationId", None, Form::OptionalGuid, "with several active configurations, the one whose timeout judges sessions without an active configuration";
    CLOSE_BATCH_SIZE: "CloseBatchSize", Some("100"), Form::Number { min: 1, max: MAX_BATCH_SIZE as u64 }, "closes per $batch request (Dataverse's limit is 1000)";
    CLOSE_CONCURRENCY: "CloseConcurrency", Some("4"), Form::Number { min: 1, max: MAX_CONCURRENCY as u64 }, "at most this many $batch requests in flight; fewer when Dataverse's x-ms-dop-hint or a 429 asks";
    DEADLINE_MARGIN_SECONDS: "DeadlineMarginSeconds", Some("20"), Form::Number { min: 0, max: 120 }, "time kept free before the Lambda timeout";
    WARNING_LEAD: "WarningLead", None, Form::OptionalTimeout, "how long before eligibility the customer is warned, at least 1 minute; unset: no warnings";
    SESSION_WARNED_AT_COLUMN: "SessionWarnedAtColumn", None, Form::OptionalName, "the session's date and time column set to the moment of the warning; required with WARNING_LEAD";
    WARNING_MESSAGE_TEXT: "WarningMessageText", None, Form::OptionalText, "the warning's text; required with WARNING_LEAD when MESSAGE_TABLE or MESSAGE_ACTION is set";
    CLOSING_MESSAGE_TEXT: "ClosingMessageText", None, Form::OptionalText, "the closing message's text, sent with the close inside the customer's 24-hour window; unset: none";
    MESSAGE_TABLE: "MessageTable", None, Form::OptionalName, "entity set of the outgoing messages: a message is a new row of it";
    MESSAGE_SESSION_NAVIGATION: "MessageSessionNavigation", None, Form::OptionalName, "the message's single-valued navigation property to its session; required with MESSAGE_TABLE";
    MESSAGE_TEXT_COLUMN: "MessageTextColumn", None, Form::OptionalName, "the message's text column; required with MESSAGE_TABLE";
    MESSAGE_FIXED_VALUES: "MessageFixedValues", None, Form::JsonObject, "a JSON object of the other columns an outgoing message row needs, such as its direction";
    MESSAGE_ACTION: "MessageAction", None, Form::OptionalName, "unique name of the Dataverse action that sends a message: a message is a call of it";
    MESSAGE_ACTION_BOUND: "MessageActionBound", Some("false"), Form::Flag, "true: MESSAGE_ACTION is bound to the session table; false: unbound";
    MESSAGE_ACTION_PARAMETERS: "MessageActionParameters", None, Form::JsonObject, "a JSON object of the action's parameters; strings may hold {session_id}, {configuration_id} and {text}";
    WAKE_SCHEDULE_NAME: "CloseOnTime", None, Form::OptionalText, "the EventBridge Scheduler one-time schedule that wakes the function when the next session becomes eligible; unset turns the wake-up off";
    WAKE_SCHEDULE_GROUP: "WakeScheduleGroup", Some("default"), Form::Text, "the schedule group of WAKE_SCHEDULE_NAME";
    WAKE_ROLE_ARN: "CloseOnTime", None, Form::OptionalText, "the role EventBridge Scheduler assumes to invoke the function; required with WAKE_SCHEDULE_NAME";
    WAKE_DEAD_LETTER_ARN: "CloseOnTime", None, Form::OptionalText, "the SQS queue EventBridge Scheduler sends a wake-up to when it could not invoke the function; unset: none";
    WAKE_RETRY_ATTEMPTS: "WakeRetryAttempts", Some("2"), Form::Number { min: 0, max: 185 }, "how often EventBridge Scheduler retries a wake-up it could not deliver";
    WAKE_MAX_EVENT_AGE_SECONDS: "WakeMaxEventAgeSeconds", Some("300"), Form::Number { min: 60, max: 86_400 }, "how long EventBridge Scheduler keeps retrying a wake-up before sending it to WAKE_DEAD_LETTER_ARN";
    MIN_WAKE_INTERVAL: "MinWakeInterval", Some("1 minute"), Form::Duration { min: 60, max: 86_400 }, "the earliest a wake-up is set after a sweep";
    EVENT_BUS_NAME: "EventBusName", None, Form::OptionalText, "the EventBridge event bus (its name, default, or its ARN) the lifecycle events are published to; unset: none";
    AWS_LAMBDA_LOG_LEVEL: "ApplicationLogLevel", Some("INFO"), Form::LogFilter, "log level; Lambda sets it from LoggingConfig, RUST_LOG wins in local runs";
}

/// Reads settings through a lookup, each by its spec.
pub(super) struct Reader<F> {
    lookup: F,
}

impl<F: Fn(&str) -> Option<String>> Reader<F> {
    pub(super) fn new(lookup: F) -> Self {
        Reader { lookup }
    }

    pub(super) fn raw(&self, spec: &Spec) -> Option<String> {
        (self.lookup)(spec.name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    }

    pub(super) fn text(&self, spec: &Spec) -> Result<String, SettingsError> {
        self.raw(spec)
            .or(spec.default.map(str::to_owned))
            .ok_or(SettingsError::Missing(spec.name))
    }

    fn bad(spec: &Spec, value: String, expected: String) -> SettingsError {
        SettingsError::BadValue {
            name: spec.name,
            value,
            expected,
        }
    }

    pub(super) fn name(&self, spec: &Spec) -> Result<Name, SettingsError> {
        Name::parse(spec.name, &self.text(spec)?)
    }

    pub(super) fn optional_name(&self, spec: &Spec) -> Result<Option<Name>, SettingsError> {
        self.raw(spec)
            .map(|value| Name::parse(spec.name, &value))
            .transpose()
    }

    pub(super) fn flag(&self, spec: &Spec) -> Result<bool, SettingsError> {
        match self.text(spec)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            other => Err(Self::bad(spec, other.to_owned(), "true or false".into())),
        }
    }

    pub(super) fn number(&self, spec: &Spec) -> Result<u64, SettingsError> {
        let Form::Number { min, max } = spec.form else {
            return Err(Self::bad(spec, String::new(), "a number".into()));
        };
        let text = self.text(spec)?;
        text.parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| Self::bad(spec, text, format!("a whole number from {min} to {max}")))
    }

    pub(super) fn timeout(
        &self,
        spec: &Spec,
        unit: TimeoutUnit,
    ) -> Result<SessionTimeout, SettingsError> {
        let text = self.text(spec)?;
        SessionTimeout::parse(&text, unit).map_err(|source| SettingsError::BadTimeout {
            name: spec.name,
            value: text,
            source,
        })
    }

    pub(super) fn optional_timeout(
        &self,
        spec: &Spec,
        unit: TimeoutUnit,
    ) -> Result<Option<SessionTimeout>, SettingsError> {
        match self.raw(spec) {
            Some(_) => self.timeout(spec, unit).map(Some),
            None => Ok(None),
        }
    }

    /// A JSON object of names to scalars; `None` when unset.
    pub(super) fn json_object(
        &self,
        spec: &Spec,
    ) -> Result<Option<Vec<(Name, serde_json::Value)>>, SettingsError> {
        let Some(text) = self.raw(spec) else {
            return Ok(None);
        };
        let expected = "a JSON object of column or parameter names to text, numbers, true/false or null, such as {\"w4d_direction\": 2}";
        let object = match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => return Err(Self::bad(spec, text, expected.into())),
        };
        let mut pairs = Vec::with_capacity(object.len());
        for (key, value) in object {
            let name = Name::parse(spec.name, &key)?;
            if value.is_object() || value.is_array() {
                return Err(Self::bad(spec, format!("{key}: {value}"), expected.into()));
            }
            pairs.push((name, value));
        }
        Ok(Some(pairs))
    }

    pub(super) fn optional_guid(&self, spec: &Spec) -> Result<Option<Guid>, SettingsError> {
        self.raw(spec)
            .map(|value| {
                Guid::parse(&value).ok_or_else(|| {
                    Self::bad(
                        spec,
                        value,
                        "a GUID such as 6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21".into(),
                    )
                })
            })
            .transpose()
    }

    pub(super) fn optional_text(&self, spec: &Spec) -> Option<String> {
        self.raw(spec)
    }

    pub(super) fn duration(&self, spec: &Spec) -> Result<std::time::Duration, SettingsError> {
        let Form::Duration { min, max } = spec.form else {
            return Err(Self::bad(spec, String::new(), "a duration".into()));
        };
        let text = self.text(spec)?;
        SessionTimeout::parse(&text, TimeoutUnit::Minutes)
            .ok()
            .map(|length| length.seconds() as u64)
            .filter(|seconds| (min..=max).contains(seconds))
            .map(std::time::Duration::from_secs)
            .ok_or_else(|| {
                let expected = format!("a duration from {min} to {max} seconds, such as \"1 minute\", \"5 minutes\" or \"PT90S\"");
                Self::bad(spec, text, expected)
            })
    }

    pub(super) fn one_of<T: std::str::FromStr>(&self, spec: &Spec) -> Result<T, SettingsError> {
        let text = self.text(spec)?;
        let expected = match spec.form {
            Form::OneOf(words) => format!("one of {}", words.join(", ")),
            _ => "a known word".into(),
        };
        text.parse().map_err(|_| Self::bad(spec, text, expected))
    }
}
