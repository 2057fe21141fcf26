//! The one table of settings: each environment variable with its template parameter, default,
//! allowed form and meaning, and the reader that parses a value by its spec. Adding a setting
//! is one row in [`SPECS`], one in the README's table and one in `template.yaml` (a test
//! checks all three agree).

use super::{Name, SettingsError};

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
    /// Read by the logging set-up, not by [`super::Settings`].
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

/// Every setting the function reads, in the README's order.
#[rustfmt::skip]
pub const SPECS: &[Spec] = &[
    spec("DATAVERSE_SECRET_ID", "DataverseSecretId", None, Form::Text, "name or ARN of the Secrets Manager secret"),
    spec("DRY_RUN", "DryRun", Some("false"), Form::Flag, "evaluate and report, close nothing"),
    spec("MAX_CLOSURES_PER_SWEEP", "MaxClosuresPerSweep", Some("5000"), Form::Number { min: 1, max: 1_000_000 }, "safety cap; the rest wait for the next sweep"),
    spec("SECRET_CACHE_SECONDS", "SecretCacheSeconds", Some("300"), Form::Number { min: 0, max: 86_400 }, "how long a warm function reuses the secret"),
    spec("SESSION_TABLE", "SessionTable", Some("w4d_chatsessions"), Form::Name, "entity set of the chat sessions"),
    spec("SESSION_ID_COLUMN", "SessionIdColumn", Some("w4d_chatsessionid"), Form::Name, "its primary key"),
    spec("SESSION_LAST_CUSTOMER_MESSAGE_COLUMN", "SessionLastCustomerMessageColumn", Some("w4d_lastcustomermessageon"), Form::Name, "when the customer's last incoming message arrived (UTC)"),
    spec("SESSION_CONFIGURATION_LOOKUP", "SessionConfigurationLookup", Some("_w4d_configurationid_value"), Form::Name, "the session's configuration lookup, as the Web API reads it"),
    spec("SESSION_CLOSED_STATECODE", "SessionClosedStatecode", Some("1"), Form::Number { min: 1, max: i32::MAX as u64 }, "the statecode that means closed (0 is active)"),
    spec("SESSION_CLOSED_STATUSCODE", "SessionClosedStatuscode", Some("2"), Form::Number { min: 0, max: i32::MAX as u64 }, "the statuscode that goes with it"),
    spec("SESSION_CLOSE_REASON_COLUMN", "SessionCloseReasonColumn", None, Form::OptionalName, "optional text column set to \"Closed by session timeout\""),
    spec("CONFIGURATION_TABLE", "ConfigurationTable", Some("w4d_whatsappconfigurations"), Form::Name, "entity set of the WhatsApp Configurations"),
    spec("CONFIGURATION_ID_COLUMN", "ConfigurationIdColumn", Some("w4d_whatsappconfigurationid"), Form::Name, "its primary key"),
    spec("CONFIGURATION_TIMEOUT_COLUMN", "ConfigurationTimeoutColumn", Some("w4d_sessiontimeout"), Form::Name, "the Session Timeout column"),
    spec("CONFIGURATION_TIMEOUT_UNIT", "ConfigurationTimeoutUnit", Some("minutes"), Form::OneOf(&["minutes", "hours", "days"]), "unit of a numeric timeout"),
    spec("CLOSE_BATCH_SIZE", "CloseBatchSize", Some("100"), Form::Number { min: 1, max: MAX_BATCH_SIZE as u64 }, "closes per $batch request (Dataverse's limit is 1000)"),
    spec("CLOSE_CONCURRENCY", "CloseConcurrency", Some("4"), Form::Number { min: 1, max: MAX_CONCURRENCY as u64 }, "at most this many $batch requests in flight; fewer when Dataverse's x-ms-dop-hint or a 429 asks"),
    spec("DEADLINE_MARGIN_SECONDS", "DeadlineMarginSeconds", Some("20"), Form::Number { min: 0, max: 120 }, "time kept free before the Lambda timeout"),
    spec("RUST_LOG", "LogLevel", Some("info"), Form::LogFilter, "log filter"),
];

/// The spec named `name`. Every name passed here is a literal in `Settings::from_lookup`,
/// and a test sets each spec by its name, so the fallback is never reached.
pub(super) fn spec_of(name: &str) -> &'static Spec {
    SPECS
        .iter()
        .find(|spec| spec.name == name)
        .unwrap_or(&SPECS[0])
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

    pub(super) fn text(&self, name: &str) -> Result<String, SettingsError> {
        let spec = spec_of(name);
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

    pub(super) fn name(&self, name: &str) -> Result<Name, SettingsError> {
        let spec = spec_of(name);
        Name::parse(spec.name, &self.text(name)?)
    }

    pub(super) fn optional_name(&self, name: &str) -> Result<Option<Name>, SettingsError> {
        let spec = spec_of(name);
        self.raw(spec)
            .map(|value| Name::parse(spec.name, &value))
            .transpose()
    }

    pub(super) fn flag(&self, name: &str) -> Result<bool, SettingsError> {
        let spec = spec_of(name);
        match self.text(name)?.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" => Ok(false),
            other => Err(Self::bad(spec, other.to_owned(), "true or false".into())),
        }
    }

    pub(super) fn number(&self, name: &str) -> Result<u64, SettingsError> {
        let spec = spec_of(name);
        let Form::Number { min, max } = spec.form else {
            return Err(Self::bad(spec, String::new(), "a number".into()));
        };
        let text = self.text(name)?;
        text.parse::<u64>()
            .ok()
            .filter(|n| (min..=max).contains(n))
            .ok_or_else(|| Self::bad(spec, text, format!("a whole number from {min} to {max}")))
    }

    pub(super) fn one_of<T: std::str::FromStr>(&self, name: &str) -> Result<T, SettingsError> {
        let spec = spec_of(name);
        let text = self.text(name)?;
        let expected = match spec.form {
            Form::OneOf(words) => format!("one of {}", words.join(", ")),
            _ => "a known word".into(),
        };
        text.parse().map_err(|_| Self::bad(spec, text, expected))
    }
}
