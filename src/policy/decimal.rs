//! Decimal amounts read exactly, digit by digit: a timeout of `0.5 Hours` must come to 1800
//! seconds, not to whatever a binary float rounds it to, and one that is not a whole number of
//! seconds must be refused rather than rounded.

/// A decimal number as written (`-12.50`), kept as digits so that no binary rounding occurs.
pub(super) struct Decimal {
    negative: bool,
    /// The digits without the point, as one integer.
    digits: i128,
    /// How many of `digits` follow the point, trailing zeros removed.
    scale: u32,
}

/// A decimal multiplied out to seconds.
pub(super) enum Exact {
    Seconds(i64),
    /// Not a whole number of seconds.
    Fraction,
}

impl Decimal {
    /// `[+-]digits[.digits]` or `[+-].digits`; no exponent, no other characters.
    pub(super) fn parse(text: &str) -> Option<Decimal> {
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
    pub(super) fn times(&self, factor: i64) -> Option<Exact> {
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
