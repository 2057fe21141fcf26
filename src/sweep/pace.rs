//! Pace: how many requests the sweep keeps in flight. Dataverse recommends a degree of
//! parallelism in `x-ms-dop-hint` on every response ("Send parallel requests"); the sweep
//! follows it, never above `CLOSE_CONCURRENCY`, halves after a 429 and climbs back one step
//! after a run of successes, so that a long sweep stays near what service protection allows
//! without spending its requests on 429s. Service protection counts over a sliding window, so
//! the limit that was throttled fills it again once the slower rounds have left it: after a
//! 429 the sweep spends only part of its rounds at that limit (a few there, then a few one
//! below), keeping the window's average under what Dataverse allows.
//!
//! Nothing here performs I/O or reads the clock: the closer reports what it saw and asks for
//! the limit.

// Two thirds of the rounds at the throttled limit: near its throughput, while the window's
// average stays a third of a request below it, so the window no longer fills to a 429.

/// Rounds of successes one below the limit Dataverse last throttled, before stepping to it.
const ROUNDS_BELOW_A_THROTTLED_LIMIT: usize = 3;
/// Rounds of successes at the limit Dataverse last throttled, before stepping one below it.
const ROUNDS_AT_A_THROTTLED_LIMIT: usize = 6;

/// The in-flight limit and what it is derived from.
#[derive(Debug, Clone)]
pub(super) struct Pace {
    /// `CLOSE_CONCURRENCY`: never more than this, whatever the hint.
    ceiling: usize,
    /// The last `x-ms-dop-hint`, once one was seen.
    hint: Option<usize>,
    limit: usize,
    /// The limit the last 429 came at: the sweep spends only part of its rounds there.
    throttled_at: Option<usize>,
    /// Successes since the limit last changed.
    successes: usize,
}

impl Pace {
    /// A pace that allows `ceiling` until a hint or a 429 says otherwise.
    pub(crate) fn new(ceiling: usize) -> Self {
        let ceiling = ceiling.max(1);
        Pace {
            ceiling,
            hint: None,
            limit: ceiling,
            throttled_at: None,
            successes: 0,
        }
    }

    /// How many requests may be in flight now.
    pub(crate) fn limit(&self) -> usize {
        self.limit
    }

    /// Takes the latest `x-ms-dop-hint`; a lower hint lowers the limit at once, a higher one
    /// is reached by climbing. A zero hint is ignored.
    pub(crate) fn hint(&mut self, hint: Option<usize>) {
        let Some(hint) = hint.filter(|hint| *hint > 0) else {
            return;
        };
        self.hint = Some(hint);
        if self.limit > self.cap() {
            self.limit = self.cap();
            self.successes = 0;
        }
    }

    /// Dataverse answered 429 since the last report: half as many in flight, at least one.
    pub(crate) fn throttled(&mut self) {
        self.throttled_at = Some(self.limit);
        self.limit = (self.limit / 2).max(1);
        self.successes = 0;
    }

    /// A request succeeded without a 429: after as many successes in a row as the limit
    /// allows in flight (one round), one more in flight, up to the cap. Around the limit last
    /// throttled, the limit alternates: [`ROUNDS_BELOW_A_THROTTLED_LIMIT`] rounds one below
    /// it, then [`ROUNDS_AT_A_THROTTLED_LIMIT`] rounds at it; it never climbs past it.
    pub(crate) fn succeeded(&mut self) {
        let at_throttled = self.throttled_at.is_some_and(|at| self.limit >= at);
        let (may_change, rounds) = if at_throttled {
            (self.limit > 1, ROUNDS_AT_A_THROTTLED_LIMIT)
        } else {
            (self.limit < self.cap(), self.rounds_per_step())
        };
        if !may_change {
            return;
        }
        self.successes += 1;
        if self.successes >= self.limit * rounds {
            self.limit = if at_throttled {
                self.limit - 1
            } else {
                self.limit + 1
            };
            self.successes = 0;
        }
    }

    fn rounds_per_step(&self) -> usize {
        match self.throttled_at {
            Some(throttled_at) if self.limit + 1 >= throttled_at => ROUNDS_BELOW_A_THROTTLED_LIMIT,
            _ => 1,
        }
    }

    /// The most the limit may climb to: the hint, never above the ceiling.
    fn cap(&self) -> usize {
        self.hint
            .map_or(self.ceiling, |hint| hint.min(self.ceiling))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn climbed(mut pace: Pace, successes: usize) -> Pace {
        for _ in 0..successes {
            pace.succeeded();
        }
        pace
    }

    #[test]
    fn without_a_hint_the_limit_is_the_ceiling() {
        assert_eq!(Pace::new(4).limit(), 4);
    }

    #[test]
    fn a_hint_below_the_ceiling_becomes_the_limit() {
        let mut pace = Pace::new(4);
        pace.hint(Some(2));
        assert_eq!(pace.limit(), 2);
    }

    #[test]
    fn a_hint_above_the_ceiling_is_capped_by_the_ceiling() {
        let mut pace = Pace::new(4);
        pace.hint(Some(8));
        assert_eq!(pace.limit(), 4);
    }

    #[test]
    fn a_zero_or_missing_hint_changes_nothing() {
        let mut pace = Pace::new(4);
        pace.hint(Some(0));
        pace.hint(None);
        assert_eq!(pace.limit(), 4);
    }

    #[test]
    fn a_zero_ceiling_still_allows_one_request() {
        assert_eq!(Pace::new(0).limit(), 1);
    }

    #[test]
    fn a_429_halves_the_limit() {
        let mut pace = Pace::new(8);
        pace.throttled();
        assert_eq!(pace.limit(), 4);
    }

    #[test]
    fn repeated_429s_never_take_the_limit_below_one() {
        let mut pace = Pace::new(3);
        pace.throttled();
        pace.throttled();
        pace.throttled();
        assert_eq!(pace.limit(), 1);
    }

    #[test]
    fn the_limit_climbs_by_one_after_a_round_of_successes() {
        let mut pace = Pace::new(8);
        pace.throttled();
        let pace = climbed(pace, 3);
        assert_eq!(pace.limit(), 4);
        let pace = climbed(pace, 1);
        assert_eq!(pace.limit(), 5);
    }

    #[test]
    fn a_429_restarts_the_run_of_successes() {
        let mut pace = Pace::new(8);
        pace.throttled();
        let mut pace = climbed(pace, 3);
        pace.throttled();
        let pace = climbed(pace, 1);
        assert_eq!(pace.limit(), 2);
    }

    #[test]
    fn the_limit_never_climbs_above_the_hint() {
        let mut pace = Pace::new(8);
        pace.hint(Some(1));
        pace.hint(Some(3));
        let pace = climbed(pace, 100);
        assert_eq!(pace.limit(), 3);
    }

    #[test]
    fn the_limit_never_climbs_above_the_ceiling() {
        let mut pace = Pace::new(2);
        pace.hint(Some(1));
        pace.hint(Some(8));
        let pace = climbed(pace, 100);
        assert_eq!(pace.limit(), 2);
    }

    #[test]
    fn below_the_limit_that_was_throttled_each_step_takes_one_round() {
        let mut pace = Pace::new(8);
        pace.throttled();
        let pace = climbed(pace, 4 + 5);
        assert_eq!(pace.limit(), 6);
        let pace = climbed(pace, 6);
        assert_eq!(pace.limit(), 7);
    }

    #[test]
    fn the_step_back_to_the_limit_that_was_throttled_takes_several_rounds() {
        let mut pace = Pace::new(4);
        pace.throttled();
        let pace = climbed(pace, 2);
        assert_eq!(pace.limit(), 3);
        let pace = climbed(pace, 3 * ROUNDS_BELOW_A_THROTTLED_LIMIT - 1);
        assert_eq!(pace.limit(), 3);
        let pace = climbed(pace, 1);
        assert_eq!(pace.limit(), 4);
    }

    #[test]
    fn at_the_limit_that_was_throttled_the_limit_steps_one_below_after_several_rounds() {
        let mut pace = Pace::new(4);
        pace.throttled();
        let pace = climbed(pace, 2 + 3 * ROUNDS_BELOW_A_THROTTLED_LIMIT);
        assert_eq!(pace.limit(), 4);
        let pace = climbed(pace, 4 * ROUNDS_AT_A_THROTTLED_LIMIT - 1);
        assert_eq!(pace.limit(), 4);
        let pace = climbed(pace, 1);
        assert_eq!(pace.limit(), 3);
        let pace = climbed(pace, 3 * ROUNDS_BELOW_A_THROTTLED_LIMIT);
        assert_eq!(pace.limit(), 4);
    }

    #[test]
    fn the_limit_never_climbs_past_the_one_that_was_throttled() {
        let mut pace = Pace::new(8);
        pace.hint(Some(2));
        pace.throttled();
        pace.hint(Some(8));
        let mut highest = pace.limit();
        for _ in 0..100 {
            pace.succeeded();
            highest = highest.max(pace.limit());
        }
        assert_eq!(highest, 2);
    }

    #[test]
    fn a_limit_throttled_at_one_stays_at_one() {
        let mut pace = Pace::new(8);
        pace.hint(Some(1));
        pace.throttled();
        pace.hint(Some(8));
        let pace = climbed(pace, 100);
        assert_eq!(pace.limit(), 1);
    }

    #[test]
    fn a_later_429_at_a_lower_limit_makes_that_limit_the_slow_step() {
        let mut pace = Pace::new(8);
        pace.throttled();
        let mut pace = climbed(pace, 4);
        assert_eq!(pace.limit(), 5);
        pace.throttled();
        let pace = climbed(pace, 2 + 3);
        assert_eq!(pace.limit(), 4);
        let pace = climbed(pace, 4 * ROUNDS_BELOW_A_THROTTLED_LIMIT - 1);
        assert_eq!(pace.limit(), 4);
        let pace = climbed(pace, 1);
        assert_eq!(pace.limit(), 5);
    }

    #[test]
    fn a_higher_hint_is_reached_by_climbing() {
        let mut pace = Pace::new(8);
        pace.hint(Some(2));
        pace.hint(Some(4));
        assert_eq!(pace.limit(), 2);
        let pace = climbed(pace, 2);
        assert_eq!(pace.limit(), 3);
    }
}
