//! The just-in-time wake-up: after a real sweep, the function asks to be run again at the
//! moment the next session becomes eligible, instead of waiting for the rate rule. This module
//! decides that moment from what the sweep found; [`schedule`] writes it to EventBridge
//! Scheduler. The decision is pure: `now` and the candidates are arguments.

pub mod ahead;
pub mod schedule;

pub use ahead::{schedule_at, wait_before, Wait};
pub use schedule::{WakeError, WakeSchedule, WakeWrite, Written};

use chrono::{DateTime, Duration, DurationRound, Utc};

/// When to run next, after a sweep at `now`.
///
/// `earliest_eligibility` is the earliest moment an active session not yet eligible becomes
/// eligible (`None` when there is none; a moment at or before `now` when the sweep left
/// eligible sessions behind). The result is never later than `now + shortest_timeout`,
/// because a session that starts after this sweep cannot become eligible sooner than that,
/// and never earlier than `now + min_interval`, so an org full of sessions that become
/// eligible one after another costs at most one invocation per `min_interval`. It is rounded
/// up to the whole second, because the scheduler's `at()` expression has no fractions and an
/// early wake-up would find the session one instant short of its timeout.
pub fn next_wake(
    now: DateTime<Utc>,
    earliest_eligibility: Option<DateTime<Utc>>,
    shortest_timeout: Duration,
    min_interval: Duration,
) -> DateTime<Utc> {
    let latest = now + shortest_timeout;
    let wanted = earliest_eligibility.map_or(latest, |at| at.min(latest));
    not_before(wanted, now, min_interval)
}

/// The moment to write, read at write time: `planned`, or `now + min_interval` when the
/// sweep took so long that `planned` is closer than that (or already past: the scheduler may
/// refuse an `at()` in the past, and would fire it at once). Rounded up like [`next_wake`].
pub fn not_before(
    planned: DateTime<Utc>,
    now: DateTime<Utc>,
    min_interval: Duration,
) -> DateTime<Utc> {
    ceil_to_second(planned.max(now + min_interval))
}

fn ceil_to_second(at: DateTime<Utc>) -> DateTime<Utc> {
    let second = Duration::seconds(1);
    match at.duration_trunc(second) {
        Ok(floor) if floor == at => at,
        Ok(floor) => floor + second,
        Err(_) => at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn minutes(m: i64) -> Duration {
        Duration::minutes(m)
    }

    #[test]
    fn the_wake_up_is_the_earliest_upcoming_eligibility_to_the_second() {
        let at = now() + minutes(37) + Duration::seconds(12);
        assert_eq!(next_wake(now(), Some(at), minutes(1440), minutes(1)), at);
    }

    #[test]
    fn with_no_upcoming_session_the_wake_up_is_one_shortest_timeout_away() {
        assert_eq!(
            next_wake(now(), None, minutes(90), minutes(1)),
            now() + minutes(90)
        );
    }

    #[test]
    fn an_eligibility_beyond_the_shortest_timeout_waits_only_that_timeout() {
        let at = now() + minutes(300);
        assert_eq!(
            next_wake(now(), Some(at), minutes(120), minutes(1)),
            now() + minutes(120)
        );
    }

    #[test]
    fn an_eligibility_closer_than_the_minimum_interval_waits_the_minimum() {
        let at = now() + Duration::seconds(20);
        assert_eq!(
            next_wake(now(), Some(at), minutes(1440), minutes(5)),
            now() + minutes(5)
        );
    }

    #[test]
    fn work_left_behind_wakes_after_the_minimum_interval() {
        assert_eq!(
            next_wake(now(), Some(now()), minutes(1440), minutes(1)),
            now() + minutes(1)
        );
    }

    #[test]
    fn a_planned_moment_still_far_enough_ahead_at_write_time_is_kept() {
        let planned = now() + minutes(37);
        assert_eq!(not_before(planned, now() + minutes(2), minutes(1)), planned);
    }

    #[test]
    fn a_planned_moment_a_slow_sweep_left_in_the_past_moves_to_write_time_plus_the_minimum() {
        let planned = now() + minutes(1);
        let written_at = now() + minutes(3) + Duration::milliseconds(400);
        assert_eq!(
            not_before(planned, written_at, minutes(1)),
            now() + minutes(4) + Duration::seconds(1)
        );
    }

    #[test]
    fn a_now_with_a_fraction_of_a_second_is_rounded_up_never_down() {
        let now = now() + Duration::milliseconds(250);
        assert_eq!(
            next_wake(now, None, minutes(60), minutes(1)),
            Utc.with_ymd_and_hms(2026, 11, 24, 16, 0, 1).unwrap()
        );
    }
}
