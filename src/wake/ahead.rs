//! Waking ahead and waiting: EventBridge Scheduler runs a one-time schedule anywhere within the
//! minute of its `at()` time, so a schedule for the exact moment may fire up to 59 s before or
//! after it. The function therefore names a minute that ends no later than the moment, carries
//! the moment itself in the event, and the invocation waits inside until then. Both rules are
//! pure: the moment, `now` and the time left are arguments.

use super::ceil_to_second;
use chrono::{DateTime, Duration, DurationRound, Utc};

/// How far ahead of the write the schedule's `at()` is at least: a moment the scheduler
/// receives in its past is not documented to run.
pub const SCHEDULE_LEAD: Duration = Duration::seconds(1);

/// The longest wait a wake-up this function wrote can ask for: from the first second of the
/// minute before the moment's minute to the moment's last second. A target further ahead was
/// not written by [`schedule_at`], and the invocation sweeps at once.
pub const MAX_WAIT: Duration = Duration::seconds(120);

/// The `at()` moment to write for a sweep at `target`, the schedule written at `now`: the
/// first second of the minute that ends at the start of `target`'s minute, so that wherever
/// the scheduler fires inside it, it fires no later than `target`. Never earlier than
/// [`SCHEDULE_LEAD`] after `now` (rounded up to the second) and never later than `target`:
/// when the minute ahead is already over, the schedule names `target`'s own minute and may
/// fire after it, as without waking ahead.
pub fn schedule_at(target: DateTime<Utc>, now: DateTime<Utc>) -> DateTime<Utc> {
    let minute = Duration::minutes(1);
    let ahead = target
        .duration_trunc(minute)
        .map_or(target - minute, |start| start - minute);
    let earliest = ceil_to_second(now + SCHEDULE_LEAD);
    ahead.max(earliest).min(target)
}

/// What an invocation woken for `target` does first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wait {
    /// Wait this long, then sweep.
    For(std::time::Duration),
    /// Sweep at once: the moment has come.
    Due,
    /// Sweep at once: the moment is more than [`MAX_WAIT`] ahead.
    TooFarAhead,
    /// Sweep at once: the wait would take more than half of the time left, leaving too
    /// little for the sweep.
    OverBudget,
}

/// Whether to wait for `target` at `now`, with `left` of the invocation's time (`None`: no
/// deadline). The wait may take at most half of what is left, so the sweep after it has at
/// least as long as the wait.
pub fn wait_before(
    target: DateTime<Utc>,
    now: DateTime<Utc>,
    left: Option<std::time::Duration>,
) -> Wait {
    let Ok(wait) = (target - now).to_std() else {
        return Wait::Due;
    };
    if wait.is_zero() {
        return Wait::Due;
    }
    if target - now > MAX_WAIT {
        return Wait::TooFarAhead;
    }
    match left {
        Some(left) if wait > left / 2 => Wait::OverBudget,
        _ => Wait::For(wait),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, h, m, s).unwrap()
    }

    fn secs(s: u64) -> std::time::Duration {
        std::time::Duration::from_secs(s)
    }

    #[test]
    fn the_schedule_names_the_minute_that_ends_where_the_moments_minute_begins() {
        assert_eq!(schedule_at(at(15, 37, 12), at(15, 0, 0)), at(15, 36, 0));
        assert_eq!(schedule_at(at(15, 37, 0), at(15, 0, 0)), at(15, 36, 0));
    }

    #[test]
    fn every_second_of_the_named_minute_is_at_or_before_the_moment() {
        for second in 0..60 {
            let target = at(15, 37, second);
            let named = schedule_at(target, at(15, 0, 0));
            let last_firing =
                named.duration_trunc(Duration::minutes(1)).unwrap() + Duration::seconds(59);
            assert!(last_firing < target, "{target}: {named}");
        }
    }

    #[test]
    fn a_minute_ahead_already_begun_is_named_from_just_after_the_write() {
        let now = at(15, 0, 20) + Duration::milliseconds(300);
        assert_eq!(schedule_at(at(15, 1, 21), now), at(15, 0, 22));
    }

    #[test]
    fn a_minute_ahead_already_over_names_the_moments_own_minute_never_past_the_moment() {
        let now = at(15, 0, 59) + Duration::milliseconds(500);
        assert_eq!(schedule_at(at(15, 1, 0), now), at(15, 1, 0));
        assert_eq!(schedule_at(at(15, 2, 0), at(15, 1, 59)), at(15, 2, 0));
    }

    #[test]
    fn a_moment_ahead_is_waited_for_to_the_millisecond() {
        let now = at(15, 0, 0) + Duration::milliseconds(250);
        assert_eq!(
            wait_before(at(15, 0, 40), now, Some(secs(280))),
            Wait::For(std::time::Duration::from_millis(39_750))
        );
        assert_eq!(
            wait_before(at(15, 2, 0), at(15, 0, 0), None),
            Wait::For(secs(120))
        );
    }

    #[test]
    fn a_moment_reached_or_past_sweeps_at_once() {
        assert_eq!(
            wait_before(at(15, 0, 0), at(15, 0, 0), Some(secs(280))),
            Wait::Due
        );
        assert_eq!(
            wait_before(at(15, 0, 0), at(15, 0, 30), Some(secs(280))),
            Wait::Due
        );
    }

    #[test]
    fn a_moment_further_ahead_than_any_written_wake_up_sweeps_at_once() {
        let now = at(15, 0, 0);
        assert_eq!(
            wait_before(now + MAX_WAIT + Duration::seconds(1), now, None),
            Wait::TooFarAhead
        );
    }

    #[test]
    fn a_wait_longer_than_half_the_time_left_sweeps_at_once() {
        let now = at(15, 0, 0);
        assert_eq!(
            wait_before(at(15, 0, 31), now, Some(secs(60))),
            Wait::OverBudget
        );
        assert_eq!(
            wait_before(at(15, 0, 30), now, Some(secs(60))),
            Wait::For(secs(30))
        );
    }
}
