//! Whether a bare Session Timeout number reads more naturally in another unit than
//! `CONFIGURATION_TIMEOUT_UNIT`: the unit mistake a timeout floor cannot see ("24" meant as
//! hours is 24 minutes, well above five minutes, and closes every session silent for 24
//! minutes). Pure.
//!
//! The rule: a number has the shape of hours when it is a whole multiple of 24 up to 168 (one
//! to seven days counted in hours), and the shape of minutes when it is a whole multiple of
//! 60 up to 10,080 (one hour to a week counted in minutes). A number read in one unit reads
//! more naturally in another when it has that other unit's shape and not its own unit's
//! (days have no shape of their own: any number of days reads as days). So under minutes
//! 24, 48 … 168 look like hours (but 120, two hours, does not); under hours 60, 180 … 720,
//! 1440 look like minutes (but 120 and 168, whole days, do not); under days 24 … 168 look
//! like hours and multiples of 60 like minutes.

use super::TimeoutUnit;
use serde_json::Value;
use std::fmt;

/// The hours in a week: the longest timeout whose count of hours reads as a habit.
const WEEK_HOURS: i64 = 7 * 24;
/// The minutes in a week: the longest timeout whose count of minutes reads as a habit.
const WEEK_MINUTES: i64 = 7 * 24 * 60;

/// A bare number whose configured unit is doubtful: both readings, for a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnitDoubt {
    /// The number as configured.
    pub amount: i64,
    /// The unit it is read in (`CONFIGURATION_TIMEOUT_UNIT`).
    pub configured: TimeoutUnit,
    /// The unit it reads more naturally in.
    pub other: TimeoutUnit,
}

impl UnitDoubt {
    /// The doubt about a Session Timeout column's raw value read in `unit`, when it is a bare
    /// whole number (a JSON number or text of digits) that reads more naturally in another
    /// unit. Text with its own unit (`24 hours`, `PT24H`) is never in doubt.
    pub fn of_column(value: Option<&Value>, unit: TimeoutUnit) -> Option<UnitDoubt> {
        let amount = match value? {
            Value::Number(number) => number.as_i64()?,
            Value::String(text) => {
                let text = text.trim();
                if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                text.parse().ok()?
            }
            _ => return None,
        };
        more_natural_unit(amount, unit).map(|other| UnitDoubt {
            amount,
            configured: unit,
            other,
        })
    }

    /// "24 minutes".
    pub fn configured_reading(&self) -> String {
        format!("{} {}", self.amount, self.configured)
    }

    /// "24 hours".
    pub fn other_reading(&self) -> String {
        format!("{} {}", self.amount, self.other)
    }
}

impl fmt::Display for UnitDoubt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the timeout {} is read as {}, but it reads more naturally as {}",
            self.amount,
            with_length(self.amount, self.configured),
            with_length(self.amount, self.other),
        )
    }
}

/// The unit `amount` reads more naturally in than `unit`, by the rule in the module's doc.
pub fn more_natural_unit(amount: i64, unit: TimeoutUnit) -> Option<TimeoutUnit> {
    if has_shape(amount, unit) {
        return None;
    }
    [TimeoutUnit::Hours, TimeoutUnit::Minutes]
        .into_iter()
        .find(|&other| other != unit && has_shape(amount, other))
}

/// Whether `amount` looks like a count in `unit` that someone converted a day or an hour into.
fn has_shape(amount: i64, unit: TimeoutUnit) -> bool {
    match unit {
        TimeoutUnit::Hours => amount > 0 && amount % 24 == 0 && amount <= WEEK_HOURS,
        TimeoutUnit::Minutes => amount > 0 && amount % 60 == 0 && amount <= WEEK_MINUTES,
        TimeoutUnit::Days => false,
    }
}

/// "720 hours (30 days)"; "24 minutes" alone when nothing larger is whole.
fn with_length(amount: i64, unit: TimeoutUnit) -> String {
    let reading = format!("{amount} {unit}");
    let length = spelled(amount, unit);
    if length == reading {
        reading
    } else {
        format!("{reading} ({length})")
    }
}

/// `amount` of `unit` in the largest unit it comes to whole: "1 day", "12 hours", "24 minutes".
fn spelled(amount: i64, unit: TimeoutUnit) -> String {
    length_in_words(amount.saturating_mul(unit.seconds()))
}

/// A length of `seconds` in the largest unit it comes to whole: "1 day", "90 minutes",
/// "2 hours", "45 seconds".
pub fn length_in_words(seconds: i64) -> String {
    let (count, word) = match seconds {
        s if s != 0 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s != 0 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s != 0 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    let plural = if count == 1 { "" } else { "s" };
    format!("{count} {word}{plural}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use TimeoutUnit::{Days, Hours, Minutes};

    #[test]
    fn day_counts_in_hours_read_as_minutes_look_like_hours() {
        for amount in [24, 48, 72, 96, 144, 168] {
            assert_eq!(more_natural_unit(amount, Minutes), Some(Hours), "{amount}");
        }
    }

    #[test]
    fn whole_hours_in_minutes_and_counts_past_a_week_stay_minutes() {
        for amount in [30, 60, 120, 240, 1440, 192, 5] {
            assert_eq!(more_natural_unit(amount, Minutes), None, "{amount}");
        }
    }

    #[test]
    fn hour_counts_in_minutes_read_as_hours_look_like_minutes() {
        for amount in [60, 180, 720, 1440, 10_080] {
            assert_eq!(more_natural_unit(amount, Hours), Some(Minutes), "{amount}");
        }
    }

    #[test]
    fn whole_days_in_hours_and_odd_counts_stay_hours() {
        for amount in [1, 12, 24, 48, 120, 168, 200, 20_160] {
            assert_eq!(more_natural_unit(amount, Hours), None, "{amount}");
        }
    }

    #[test]
    fn under_days_day_counts_in_hours_and_hour_counts_in_minutes_are_doubted() {
        assert_eq!(more_natural_unit(24, Days), Some(Hours));
        assert_eq!(more_natural_unit(1440, Days), Some(Minutes));
        assert_eq!(more_natural_unit(30, Days), None);
    }

    #[test]
    fn only_a_bare_whole_number_is_doubted_and_the_message_names_both_readings() {
        let doubt = UnitDoubt::of_column(Some(&json!(" 24 ")), Minutes).expect("a doubt");
        assert_eq!(
            doubt.to_string(),
            "the timeout 24 is read as 24 minutes, but it reads more naturally as 24 hours (1 day)"
        );
        assert_eq!(
            UnitDoubt::of_column(Some(&json!(720)), Hours).map(|d| d.other_reading()),
            Some("720 minutes".to_owned())
        );
        for value in [
            json!("24 hours"),
            json!("PT24H"),
            json!(24.5),
            json!("24.0"),
        ] {
            assert_eq!(UnitDoubt::of_column(Some(&value), Minutes), None, "{value}");
        }
    }
}
