//! The pure decisions of a sweep: what a configured Session Timeout means, and whether a session
//! is past it. Nothing here performs I/O or reads the clock; `now` is always an argument, so the
//! rules can be tested to the second.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

mod decimal;
mod reading;

use decimal::{Decimal, Exact};
pub use reading::{length_in_words, more_natural_unit, UnitDoubt};

/// The longest timeout accepted; anything longer is almost certainly a unit mistake.
const MAX_TIMEOUT_SECONDS: i64 = 3650 * 86_400;

/// Why a configured Session Timeout cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimeoutError {
    /// The column is empty.
    #[error("the session timeout is empty")]
    Missing,
    /// Zero or negative: closing on it would close every session.
    #[error("the session timeout must be greater than zero, found {0}")]
    NotPositive(String),
    /// Neither a number nor a recognised duration text.
    #[error("the session timeout {0:?} is not a duration (use a number of {1}, text such as \"1 Day\" or \"30 minutes\", or ISO-8601 such as \"PT24H\")")]
    Unparseable(String, TimeoutUnit),
    /// Longer than ten years.
    #[error("the session timeout {0:?} is longer than ten years")]
    TooLong(String),
    /// Shorter than `MIN_SESSION_TIMEOUT`: most likely a unit mistake ("2" meant as hours, read as minutes).
    #[error("the session timeout of {seconds} s is shorter than MIN_SESSION_TIMEOUT ({minimum} s); check the value and CONFIGURATION_TIMEOUT_UNIT")]
    TooShort { seconds: i64, minimum: i64 },
}

/// The unit of a numeric Session Timeout column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeoutUnit {
    /// Dataverse whole-number columns in Duration format store minutes.
    Minutes,
    /// Hours.
    Hours,
    /// Days.
    Days,
}

impl TimeoutUnit {
    fn seconds(self) -> i64 {
        match self {
            TimeoutUnit::Minutes => 60,
            TimeoutUnit::Hours => 3_600,
            TimeoutUnit::Days => 86_400,
        }
    }

    fn from_word(word: &str) -> Option<Self> {
        match word.to_ascii_lowercase().as_str() {
            "minute" | "minutes" | "min" | "mins" => Some(TimeoutUnit::Minutes),
            "hour" | "hours" | "hr" | "hrs" => Some(TimeoutUnit::Hours),
            "day" | "days" => Some(TimeoutUnit::Days),
            _ => None,
        }
    }
}

impl FromStr for TimeoutUnit {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        TimeoutUnit::from_word(text.trim()).ok_or(())
    }
}

impl fmt::Display for TimeoutUnit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutUnit::Minutes => "minutes",
            TimeoutUnit::Hours => "hours",
            TimeoutUnit::Days => "days",
        })
    }
}

/// A validated Session Timeout: a whole number of seconds, greater than zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SessionTimeout {
    seconds: i64,
}

impl SessionTimeout {
    /// A timeout of `seconds`, which must be positive and at most ten years.
    #[cfg(test)]
    pub(crate) fn from_seconds(seconds: i64) -> Result<Self, TimeoutError> {
        if seconds <= 0 {
            return Err(TimeoutError::NotPositive(format!("{seconds} seconds")));
        }
        if seconds > MAX_TIMEOUT_SECONDS {
            return Err(TimeoutError::TooLong(format!("{seconds} seconds")));
        }
        Ok(SessionTimeout { seconds })
    }

    /// Reads the timeout column as Dataverse returns it: a number in `unit`, or text.
    pub fn from_column(value: Option<&Value>, unit: TimeoutUnit) -> Result<Self, TimeoutError> {
        match value {
            None | Some(Value::Null) => Err(TimeoutError::Missing),
            Some(Value::Number(number)) => Self::from_number(&number.to_string(), unit),
            Some(Value::String(text)) => Self::parse(text, unit),
            Some(other) => Err(TimeoutError::Unparseable(other.to_string(), unit)),
        }
    }

    /// Parses text: a bare number in `unit`, `1 Day`, `24 Hours`, `30 minutes`, or ISO-8601 `PT24H`.
    pub fn parse(text: &str, unit: TimeoutUnit) -> Result<Self, TimeoutError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(TimeoutError::Missing);
        }
        let unparseable = || TimeoutError::Unparseable(trimmed.to_owned(), unit);
        if trimmed.starts_with(['P', 'p']) {
            return Self::from_total(parse_iso8601(trimmed).ok_or_else(unparseable)?, trimmed);
        }
        if Decimal::parse(trimmed).is_some() {
            return Self::from_number(trimmed, unit);
        }
        let split = trimmed
            .find(|c: char| c.is_ascii_alphabetic())
            .ok_or_else(unparseable)?;
        let (amount, word) = trimmed.split_at(split);
        let word_unit = TimeoutUnit::from_word(word.trim()).ok_or_else(unparseable)?;
        let amount = amount.trim();
        if amount.is_empty() {
            return Err(unparseable());
        }
        Self::from_number(amount, word_unit).map_err(|error| match error {
            TimeoutError::Unparseable(..) => unparseable(),
            other => other,
        })
    }

    /// This timeout, or an error when it is shorter than `minimum`: a timeout below the floor
    /// is far more often a unit mistake than a wish, and would close a whole org at once.
    pub fn at_least(self, minimum: SessionTimeout) -> Result<Self, TimeoutError> {
        if self < minimum {
            Err(TimeoutError::TooShort {
                seconds: self.seconds,
                minimum: minimum.seconds,
            })
        } else {
            Ok(self)
        }
    }

    /// The timeout in whole seconds.
    pub fn seconds(self) -> i64 {
        self.seconds
    }

    /// The timeout as a chrono duration.
    pub fn duration(self) -> Duration {
        Duration::seconds(self.seconds)
    }

    /// The latest last-activity instant that is eligible at `now`, truncated to the second
    /// because Dataverse stores date-times to the second.
    pub fn cutoff(self, now: DateTime<Utc>) -> DateTime<Utc> {
        let cutoff = now - self.duration();
        cutoff
            .duration_trunc(Duration::seconds(1))
            .unwrap_or(cutoff)
    }

    /// A decimal amount of `unit`, computed exactly: an amount that does not come to a whole
    /// number of seconds (`0.001 minutes`) is refused, not rounded, because Dataverse stores
    /// times to the second and a rounded timeout would close a session early or late.
    fn from_number(text: &str, unit: TimeoutUnit) -> Result<Self, TimeoutError> {
        let decimal =
            Decimal::parse(text).ok_or_else(|| TimeoutError::Unparseable(text.to_owned(), unit))?;
        let shown = format!("{text} {unit}");
        match decimal.times(unit.seconds()) {
            Some(Exact::Seconds(seconds)) => Self::from_total(seconds, &shown),
            Some(Exact::Fraction) => Err(TimeoutError::Unparseable(text.to_owned(), unit)),
            None => Err(TimeoutError::TooLong(shown)),
        }
    }

    fn from_total(seconds: i64, shown: &str) -> Result<Self, TimeoutError> {
        if seconds <= 0 {
            Err(TimeoutError::NotPositive(shown.to_owned()))
        } else if seconds > MAX_TIMEOUT_SECONDS {
            Err(TimeoutError::TooLong(shown.to_owned()))
        } else {
            Ok(SessionTimeout { seconds })
        }
    }
}

/// Parses the ISO-8601 durations that have a fixed length: weeks, days, hours, minutes, seconds.
/// Years and months are refused because their length depends on the calendar.
fn parse_iso8601(text: &str) -> Option<i64> {
    let upper = text.to_ascii_uppercase();
    let body = upper.strip_prefix('P')?;
    let (date, time) = match body.split_once('T') {
        Some((date, time)) if !time.is_empty() => (date, Some(time)),
        Some(_) => return None,
        None => (body, None),
    };
    let mut total: i64 = 0;
    let mut components = 0;
    for (part, units) in [(date, &[('W', 604_800), ('D', 86_400)][..])]
        .into_iter()
        .chain(time.map(|time| (time, &[('H', 3_600), ('M', 60), ('S', 1)][..])))
    {
        let mut rest = part;
        let mut allowed = units;
        while !rest.is_empty() {
            let digits = rest.find(|c: char| !c.is_ascii_digit())?;
            if digits == 0 {
                return None;
            }
            let amount: i64 = rest[..digits].parse().ok()?;
            let designator = rest[digits..].chars().next()?;
            let position = allowed.iter().position(|(d, _)| *d == designator)?;
            total = total.checked_add(amount.checked_mul(allowed[position].1)?)?;
            allowed = &allowed[position + 1..];
            rest = &rest[digits + 1..];
            components += 1;
        }
    }
    (components > 0).then_some(total)
}

/// What the rules say about one session at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// The instant the session becomes (or became) eligible to close.
    pub eligible_at: DateTime<Utc>,
    /// Whether the session is to be closed now.
    pub close: bool,
    /// How long past `eligible_at` the session is, in whole seconds (0 when not eligible).
    pub overdue_seconds: i64,
}

/// Decides whether a session is past its timeout at `now`.
///
/// The session's last activity is its customer's last message or, when the customer never
/// wrote, its creation. It is eligible when `now >= last_activity + timeout`; a last activity in
/// the future (clock skew) is never eligible.
pub fn decide(
    timeout: SessionTimeout,
    now: DateTime<Utc>,
    last_customer_message: Option<DateTime<Utc>>,
    created_on: DateTime<Utc>,
) -> Decision {
    let last_activity = last_customer_message.unwrap_or(created_on);
    let eligible_at = last_activity + timeout.duration();
    let close = last_activity <= now && now >= eligible_at;
    Decision {
        eligible_at,
        close,
        overdue_seconds: if close {
            (now - eligible_at).num_seconds()
        } else {
            0
        },
    }
}

/// Whether a session waits on an agent: its customer wrote, and no agent message came at or
/// after the customer's last one. Such a session is never closed, whatever its timeout,
/// because a customer nobody answered is what a supervisor needs to see, not a closed chat.
pub fn awaiting_agent(
    last_customer_message: Option<DateTime<Utc>>,
    last_agent_message: Option<DateTime<Utc>>,
) -> bool {
    match (last_customer_message, last_agent_message) {
        (None, _) => false,
        (Some(_), None) => true,
        (Some(customer), Some(agent)) => agent < customer,
    }
}

/// How long after the customer's last message WhatsApp lets a business send free-form
/// messages (its customer service window); after it only approved templates may be sent.
pub const CUSTOMER_SERVICE_WINDOW: Duration = Duration::hours(24);

/// Whether a free-form message sent `at` falls inside the customer's service window: the
/// customer wrote, and less than 24 hours before `at`. A session whose customer never wrote
/// has no open window.
pub fn within_customer_service_window(
    last_customer_message: Option<DateTime<Utc>>,
    at: DateTime<Utc>,
) -> bool {
    last_customer_message.is_some_and(|last| at < last + CUSTOMER_SERVICE_WINDOW)
}

#[cfg(test)]
mod tests;
