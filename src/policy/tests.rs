//! Session timeouts parse exactly and eligibility holds to the second.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

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

#[test]
fn a_message_is_inside_the_window_until_one_second_before_24_hours_after_the_customer_wrote() {
    let wrote = at(10, 0, 0);
    let day = Duration::hours(24);
    assert!(within_customer_service_window(Some(wrote), wrote));
    assert!(within_customer_service_window(
        Some(wrote),
        wrote + day - Duration::seconds(1)
    ));
    assert!(!within_customer_service_window(Some(wrote), wrote + day));
}

#[test]
fn a_session_whose_customer_never_wrote_has_no_open_window() {
    assert!(!within_customer_service_window(None, at(10, 0, 0)));
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
