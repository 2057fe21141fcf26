//! The pure decisions of a sweep: what a configured Session Timeout means, and whether a session
//! is past it. Nothing here performs I/O or reads the clock; `now` is always an argument, so the
//! rules can be tested to the second.

use chrono::{DateTime, Duration, DurationRound, Utc};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

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
    /// Shorter than `MIN_SESSION_TIMEOUT`: most likely a unit mistake ("24" meant as hours).
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
    pub fn from_seconds(seconds: i64) -> Result<Self, TimeoutError> {
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

/// A decimal number as written (`-12.50`), kept as digits so that no binary rounding occurs.
struct Decimal {
    negative: bool,
    /// The digits without the point, as one integer.
    digits: i128,
    /// How many of `digits` follow the point, trailing zeros removed.
    scale: u32,
}

/// A decimal multiplied out to seconds.
enum Exact {
    Seconds(i64),
    /// Not a whole number of seconds.
    Fraction,
}

impl Decimal {
    /// `[+-]digits[.digits]` or `[+-].digits`; no exponent, no other characters.
    fn parse(text: &str) -> Option<Decimal> {
        let (negative, unsigned) = match text.as_bytes().first()? {
            b'-' => (true, &text[1..]),
            b'+' => (false, &text[1..]),
            _ => (false, text),
        };
        let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
        let all_digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
        if whole.is_empty() && fraction.is_empty() || !all_digits(whole) || !all_digits(fraction) {
            return None;
        }
        let fraction = fraction.trim_end_matches('0');
        let whole = whole.trim_start_matches('0');
        // Beyond these lengths the amount is far too long, or (since a unit has at most two
        // factors of five) cannot come to whole seconds; both are refused, not approximated.
        if whole.len() > 19 {
            return Some(Decimal {
                negative,
                digits: i128::MAX,
                scale: 0,
            });
        }
        if fraction.len() > 18 {
            return Some(Decimal {
                negative,
                digits: 1,
                scale: u32::MAX,
            });
        }
        let joined = format!("{whole}{fraction}");
        let digits = if joined.is_empty() {
            0
        } else {
            joined.parse::<i128>().ok()?
        };
        Some(Decimal {
            negative,
            digits,
            scale: fraction.len() as u32,
        })
    }

    /// The value times `factor`, exactly; `None` when it does not fit in an `i64`.
    fn times(&self, factor: i64) -> Option<Exact> {
        let product = self.digits.checked_mul(i128::from(factor))?;
        let divisor = 10i128.checked_pow(self.scale);
        let seconds = match divisor {
            Some(divisor) if product % divisor == 0 => product / divisor,
            // A fraction of more than 38 digits cannot come to whole seconds.
            _ => return Some(Exact::Fraction),
        };
        let seconds = i64::try_from(seconds).ok()?;
        Some(Exact::Seconds(if self.negative {
            -seconds
        } else {
            seconds
        }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    #[test]
    fn a_timeout_below_the_minimum_is_refused_and_one_at_it_accepted() {
        let five = SessionTimeout::from_seconds(300).unwrap();
        let two = SessionTimeout::from_seconds(120).unwrap();
        assert_eq!(
            two.at_least(five),
            Err(TimeoutError::TooShort {
                seconds: 120,
                minimum: 300
            })
        );
        assert_eq!(five.at_least(five), Ok(five));
    }

    #[test]
    fn a_customer_message_without_an_agent_reply_awaits_the_agent() {
        assert!(awaiting_agent(Some(at(10, 0, 0)), None));
        assert!(awaiting_agent(Some(at(10, 0, 0)), Some(at(9, 59, 59))));
    }

    #[test]
    fn an_agent_reply_at_or_after_the_customer_message_does_not_await_the_agent() {
        assert!(!awaiting_agent(Some(at(10, 0, 0)), Some(at(10, 0, 0))));
        assert!(!awaiting_agent(Some(at(10, 0, 0)), Some(at(11, 0, 0))));
    }

    #[test]
    fn a_session_whose_customer_never_wrote_does_not_await_the_agent() {
        assert!(!awaiting_agent(None, None));
        assert!(!awaiting_agent(None, Some(at(10, 0, 0))));
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    fn one_day() -> SessionTimeout {
        SessionTimeout::from_seconds(86_400).unwrap()
    }

    fn minutes(text: &str) -> Result<i64, TimeoutError> {
        SessionTimeout::parse(text, TimeoutUnit::Minutes).map(SessionTimeout::seconds)
    }

    #[test]
    fn a_session_is_eligible_at_exactly_its_timeout() {
        let now = at(15, 0, 0) + Duration::days(1);
        let decision = decide(one_day(), now, Some(at(15, 0, 0)), at(9, 0, 0));
        assert!(decision.close);
        assert_eq!(decision.eligible_at, now);
        assert_eq!(decision.overdue_seconds, 0);
    }

    #[test]
    fn a_session_is_not_eligible_one_second_before_its_timeout() {
        let now = at(14, 59, 59) + Duration::days(1);
        let decision = decide(one_day(), now, Some(at(15, 0, 0)), at(9, 0, 0));
        assert!(!decision.close);
        assert_eq!(decision.overdue_seconds, 0);
    }

    #[test]
    fn overdue_seconds_count_from_the_eligible_instant() {
        let now = at(16, 0, 0) + Duration::days(1);
        let decision = decide(one_day(), now, Some(at(15, 0, 0)), at(9, 0, 0));
        assert_eq!(decision.overdue_seconds, 3_600);
    }

    #[test]
    fn a_session_whose_customer_never_wrote_is_judged_from_its_creation() {
        let now = at(9, 0, 0) + Duration::days(1);
        let decision = decide(one_day(), now, None, at(9, 0, 0));
        assert!(decision.close);
        assert_eq!(decision.eligible_at, now);
    }

    #[test]
    fn the_customer_message_not_the_creation_decides_when_both_exist() {
        let now = at(10, 0, 0) + Duration::days(1);
        let decision = decide(one_day(), now, Some(at(15, 0, 0)), at(9, 0, 0));
        assert!(!decision.close);
    }

    #[test]
    fn a_last_message_in_the_future_is_never_eligible() {
        let now = at(12, 0, 0);
        let future = at(12, 0, 1);
        let short = SessionTimeout::from_seconds(1).unwrap();
        assert!(!decide(short, now, Some(future), at(0, 0, 0)).close);
    }

    #[test]
    fn the_cutoff_is_now_minus_the_timeout_to_the_second() {
        let now = at(15, 0, 0) + Duration::days(1) + Duration::milliseconds(750);
        assert_eq!(one_day().cutoff(now), at(15, 0, 0));
    }

    #[test]
    fn a_number_is_read_in_the_configured_unit() {
        let unit = TimeoutUnit::Minutes;
        let timeout = SessionTimeout::from_column(Some(&json!(1440)), unit).unwrap();
        assert_eq!(timeout.seconds(), 86_400);
        let hours = SessionTimeout::from_column(Some(&json!(24)), TimeoutUnit::Hours).unwrap();
        assert_eq!(hours.seconds(), 86_400);
        let days = SessionTimeout::from_column(Some(&json!(1)), TimeoutUnit::Days).unwrap();
        assert_eq!(days.seconds(), 86_400);
    }

    #[test]
    fn a_whole_float_is_accepted_and_a_fraction_of_a_second_is_not() {
        let unit = TimeoutUnit::Minutes;
        assert_eq!(
            SessionTimeout::from_column(Some(&json!(1440.0)), unit).map(SessionTimeout::seconds),
            Ok(86_400)
        );
        assert_eq!(minutes("1.5"), Ok(90));
        assert!(matches!(
            minutes("0.001"),
            Err(TimeoutError::Unparseable(..))
        ));
    }

    #[test]
    fn a_decimal_amount_is_computed_exactly_without_floating_point() {
        assert_eq!(minutes("1.1 hours"), Ok(3_960));
        assert_eq!(minutes("0.1 days"), Ok(8_640));
        assert_eq!(minutes("2.05 hours"), Ok(7_380));
        assert_eq!(minutes("1.10000000000000000000000 hours"), Ok(3_960));
        assert_eq!(minutes("+.5"), Ok(30));
    }

    #[test]
    fn a_decimal_that_is_not_whole_seconds_is_refused_not_rounded() {
        for text in ["1.0001 hours", "0.01", "1.00000000000000000000001 days"] {
            assert!(
                matches!(minutes(text), Err(TimeoutError::Unparseable(..))),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn malformed_decimals_are_refused() {
        for text in [".", "-", "1.2.3", "1,5", "1e3", "0x10", "1 .5 hours"] {
            assert!(
                matches!(minutes(text), Err(TimeoutError::Unparseable(..))),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn text_with_a_unit_word_is_accepted_in_any_case() {
        assert_eq!(minutes("1 Day"), Ok(86_400));
        assert_eq!(minutes("24 Hours"), Ok(86_400));
        assert_eq!(minutes("30 minutes"), Ok(1_800));
        assert_eq!(minutes("1 hour"), Ok(3_600));
        assert_eq!(minutes("2days"), Ok(172_800));
        assert_eq!(minutes("  45 MIN "), Ok(2_700));
        assert_eq!(minutes("1440"), Ok(86_400));
    }

    #[test]
    fn iso_8601_durations_of_fixed_length_are_accepted() {
        assert_eq!(minutes("PT24H"), Ok(86_400));
        assert_eq!(minutes("P1D"), Ok(86_400));
        assert_eq!(minutes("P1DT12H"), Ok(129_600));
        assert_eq!(minutes("PT30M"), Ok(1_800));
        assert_eq!(minutes("pt90s"), Ok(90));
        assert_eq!(minutes("P1W"), Ok(604_800));
    }

    #[test]
    fn iso_8601_durations_that_depend_on_the_calendar_or_are_malformed_are_refused() {
        for text in [
            "P1M", "P1Y", "P", "PT", "PT1H30", "PTH", "P1H", "PT1M1H", "P1DT",
        ] {
            assert!(
                matches!(minutes(text), Err(TimeoutError::Unparseable(..))),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn an_iso_8601_duration_repeating_a_component_is_refused() {
        for text in ["PT1H1H", "P1D1D", "P1W1W", "PT30M30M", "PT5S5S"] {
            assert!(
                matches!(minutes(text), Err(TimeoutError::Unparseable(..))),
                "{text} should be refused"
            );
        }
    }

    #[test]
    fn a_zero_timeout_is_refused_in_every_form() {
        for text in ["0", "0 days", "PT0S", "P0D", "0.0"] {
            assert!(
                matches!(minutes(text), Err(TimeoutError::NotPositive(_))),
                "{text} should be refused as not positive"
            );
        }
        let zero = SessionTimeout::from_column(Some(&json!(0)), TimeoutUnit::Minutes);
        assert!(matches!(zero, Err(TimeoutError::NotPositive(_))));
    }

    #[test]
    fn a_negative_timeout_is_refused() {
        assert!(matches!(minutes("-5"), Err(TimeoutError::NotPositive(_))));
        assert!(matches!(
            minutes("-1 day"),
            Err(TimeoutError::NotPositive(_))
        ));
        let negative = SessionTimeout::from_column(Some(&json!(-1440)), TimeoutUnit::Minutes);
        assert!(matches!(negative, Err(TimeoutError::NotPositive(_))));
    }

    #[test]
    fn a_missing_timeout_is_refused() {
        let unit = TimeoutUnit::Minutes;
        assert_eq!(
            SessionTimeout::from_column(None, unit),
            Err(TimeoutError::Missing)
        );
        let null = SessionTimeout::from_column(Some(&Value::Null), unit);
        assert_eq!(null, Err(TimeoutError::Missing));
        assert_eq!(minutes("   "), Err(TimeoutError::Missing));
    }

    #[test]
    fn unparseable_timeouts_are_refused() {
        for text in [
            "soon",
            "1 fortnight",
            "day",
            "1 day 2",
            "NaN",
            "inf",
            "12:00",
            "1e400",
        ] {
            assert!(
                matches!(
                    minutes(text),
                    Err(TimeoutError::Unparseable(..) | TimeoutError::TooLong(_))
                ),
                "{text} should be refused"
            );
        }
        let boolean = SessionTimeout::from_column(Some(&json!(true)), TimeoutUnit::Minutes);
        assert!(matches!(boolean, Err(TimeoutError::Unparseable(..))));
    }

    #[test]
    fn a_timeout_longer_than_ten_years_is_refused() {
        assert!(matches!(
            minutes("4000 days"),
            Err(TimeoutError::TooLong(_))
        ));
        assert!(matches!(
            minutes("9223372036854775807"),
            Err(TimeoutError::TooLong(_))
        ));
    }

    #[test]
    fn a_timeout_of_exactly_ten_years_is_accepted_and_one_second_more_is_refused() {
        let ten_years = 3650 * 86_400;
        assert_eq!(
            SessionTimeout::from_seconds(ten_years).map(SessionTimeout::seconds),
            Ok(ten_years)
        );
        assert!(matches!(
            SessionTimeout::from_seconds(ten_years + 1),
            Err(TimeoutError::TooLong(_))
        ));
        assert_eq!(minutes("3650 days"), Ok(ten_years));
        assert!(matches!(
            minutes("PT315360001S"),
            Err(TimeoutError::TooLong(_))
        ));
    }

    #[test]
    fn an_amount_of_forty_digits_is_refused_as_too_long_not_as_unreadable() {
        let forty_digits = format!("1{}", "0".repeat(39));
        assert!(
            matches!(minutes(&forty_digits), Err(TimeoutError::TooLong(_))),
            "{:?}",
            minutes(&forty_digits)
        );
        assert!(matches!(
            minutes(&format!("{forty_digits}.5 days")),
            Err(TimeoutError::TooLong(_))
        ));
    }

    #[test]
    fn the_unit_setting_accepts_singular_and_plural_words() {
        assert_eq!("minutes".parse::<TimeoutUnit>(), Ok(TimeoutUnit::Minutes));
        assert_eq!("Hour".parse::<TimeoutUnit>(), Ok(TimeoutUnit::Hours));
        assert_eq!("days".parse::<TimeoutUnit>(), Ok(TimeoutUnit::Days));
        assert_eq!("weeks".parse::<TimeoutUnit>(), Err(()));
    }

    /// `value / 10^scale` written as a decimal text with exactly `scale` fraction digits.
    fn render(value: i64, scale: u32) -> String {
        let divisor = 10i64.pow(scale);
        let whole = value / divisor;
        if scale == 0 {
            return whole.to_string();
        }
        let fraction = value % divisor;
        format!("{whole}.{fraction:0width$}", width = scale as usize)
    }

    fn any_unit() -> impl proptest::strategy::Strategy<Value = TimeoutUnit> {
        proptest::prop_oneof![
            proptest::strategy::Just(TimeoutUnit::Minutes),
            proptest::strategy::Just(TimeoutUnit::Hours),
            proptest::strategy::Just(TimeoutUnit::Days),
        ]
    }

    proptest::proptest! {
        /// Any decimal amount of a unit reads back as its exact number of seconds when that is
        /// whole, and is refused when it is not.
        #[test]
        fn a_decimal_text_reads_back_as_its_exact_seconds(
            value in 1i64..10_000_000,
            scale in 0u32..6,
            unit in any_unit(),
        ) {
            let text = format!("{} {unit}", render(value, scale));
            let product = i128::from(value) * i128::from(unit.seconds());
            let divisor = 10i128.pow(scale);
            let parsed = SessionTimeout::parse(&text, TimeoutUnit::Minutes);
            if product % divisor != 0 {
                proptest::prop_assert!(matches!(parsed, Err(TimeoutError::Unparseable(..))), "{text}: {parsed:?}");
            } else if product / divisor > MAX_TIMEOUT_SECONDS as i128 {
                proptest::prop_assert!(matches!(parsed, Err(TimeoutError::TooLong(_))), "{text}: {parsed:?}");
            } else {
                proptest::prop_assert_eq!(parsed.map(SessionTimeout::seconds), Ok((product / divisor) as i64), "{}", text);
            }
        }

        /// Whole seconds written as a decimal of a unit, when that decimal terminates, read
        /// back as the same seconds.
        #[test]
        fn whole_seconds_written_in_a_unit_read_back_unchanged(
            seconds in 1i64..MAX_TIMEOUT_SECONDS,
            unit in any_unit(),
        ) {
            // seconds / unit terminates within six digits only when the unit's factors of 3
            // cancel; scale the seconds so that they always do.
            let seconds = seconds - seconds % 27 + 27;
            proptest::prop_assume!(seconds <= MAX_TIMEOUT_SECONDS);
            let scaled = i128::from(seconds) * 1_000_000 / i128::from(unit.seconds());
            proptest::prop_assume!(scaled * i128::from(unit.seconds()) == i128::from(seconds) * 1_000_000);
            let text = format!("{} {unit}", render(scaled as i64, 6));
            proptest::prop_assert_eq!(SessionTimeout::parse(&text, TimeoutUnit::Minutes).map(SessionTimeout::seconds), Ok(seconds), "{}", text);
        }
    }

    /// Seconds from the timeout to the session's age at `now`: mostly within three seconds of
    /// the boundary, where `>=` and `>` part ways, and sometimes far on either side.
    fn offset_from_the_boundary() -> impl proptest::strategy::Strategy<Value = i64> {
        proptest::prop_oneof![
            3 => -3i64..=3,
            1 => -20_000_000i64..20_000_000,
        ]
    }

    /// An instant in milliseconds, on a whole second half of the time: Dataverse stores whole
    /// seconds, and a clock can read one.
    fn any_now_ms() -> impl proptest::strategy::Strategy<Value = i64> {
        use proptest::strategy::Strategy;
        proptest::prop_oneof![
            (1_700_000_000i64..1_900_000_000).prop_map(|seconds| seconds * 1000),
            1_700_000_000_000i64..1_900_000_000_000,
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2_000, ..Default::default() })]

        /// The server-side filter (`last activity <= cutoff`) and the local decision agree for
        /// every whole-second activity, at any `now`: the filter never hides an eligible session
        /// and never offers an ineligible one, and both turn at exactly the timeout.
        #[test]
        fn the_cutoff_filter_and_the_decision_agree_to_the_second(
            now_ms in any_now_ms(),
            offset_s in offset_from_the_boundary(),
            timeout_s in 1i64..10_000_000,
        ) {
            let now = DateTime::from_timestamp_millis(now_ms).unwrap();
            let age_s = timeout_s + offset_s;
            let last = DateTime::from_timestamp(now.timestamp() - age_s, 0).unwrap();
            let timeout = SessionTimeout::from_seconds(timeout_s).unwrap();

            let decision = decide(timeout, now, Some(last), last);

            proptest::prop_assert_eq!(decision.close, last <= timeout.cutoff(now));
            proptest::prop_assert_eq!(decision.close, (now - last).num_milliseconds() >= timeout_s * 1000);
            proptest::prop_assert_eq!(decision.close, offset_s >= 0);
            proptest::prop_assert_eq!(decision.overdue_seconds, offset_s.max(0));
        }
    }
}
