//! The deadline of one invocation: until when new work may start, and how long a request or a
//! wait may last. The handler builds it from the Lambda context; the sweep and the Dataverse
//! client only ask it questions, so no code past the handler reads the Lambda deadline itself.

use std::time::{Duration, Instant};

/// How long a sweep may keep starting work.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    stop_at: Option<Instant>,
}

impl Budget {
    /// No deadline (tests, and a context without one).
    pub fn unlimited() -> Self {
        Budget { stop_at: None }
    }

    /// Stops `margin` before `deadline`.
    pub fn until(deadline: Instant, margin: Duration) -> Self {
        Budget {
            stop_at: Some(deadline.checked_sub(margin).unwrap_or_else(Instant::now)),
        }
    }

    /// The Lambda deadline as a budget. Lambda sends milliseconds since the epoch; 0 means
    /// unknown. The margin never takes more than a quarter of the time left, so a function
    /// configured with a short timeout still does some work.
    // cargo lambda's emulator sends a constant instead of a date; the local runs and the
    // emulator tests put scripts/deadline_proxy.py in front of it, so the function reads
    // the deadline only as Lambda sends it.
    pub fn for_invocation(deadline_ms: u64, now_ms: i64, margin: Duration) -> Self {
        if deadline_ms == 0 {
            return Budget::unlimited();
        }
        let left = Duration::from_millis((deadline_ms as i64).saturating_sub(now_ms).max(0) as u64);
        Budget::until(Instant::now() + left, margin.min(left / 4))
    }

    /// Whether no new work may start.
    pub fn exhausted(&self) -> bool {
        self.stop_at.is_some_and(|stop| Instant::now() >= stop)
    }

    /// Time left before the stop, when there is a stop.
    pub fn remaining(&self) -> Option<Duration> {
        self.stop_at
            .map(|stop| stop.saturating_duration_since(Instant::now()))
    }

    /// `wait` (a sleep or a request timeout), shortened to the time left, so that nothing
    /// started inside the budget outlives it.
    pub fn bound(&self, wait: Duration) -> Duration {
        self.remaining().map_or(wait, |left| wait.min(left))
    }

    /// The timeouts for one AWS SDK call started now: the whole operation, retries included,
    /// ends by the stop (the SDK's defaults bound only the connection). `None` without a stop.
    pub fn aws_timeouts(&self) -> Option<aws_config::timeout::TimeoutConfig> {
        // The SDK's own default connect timeout, which an override would otherwise drop.
        const CONNECT: Duration = Duration::from_millis(3100);
        self.remaining().map(|left| {
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(left)
                .connect_timeout(CONNECT.min(left))
                .build()
        })
    }

    /// Whether a wait of `wait` still ends before the stop.
    pub fn allows(&self, wait: Duration) -> bool {
        self.remaining().is_none_or(|left| wait < left)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_stops_its_margin_before_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(Budget::until(deadline, Duration::from_secs(10)).exhausted());
        assert!(!Budget::until(deadline, Duration::from_secs(1)).exhausted());
        assert!(!Budget::unlimited().exhausted());
    }

    #[test]
    fn a_wait_is_bounded_by_the_time_left_and_unbounded_without_a_deadline() {
        let budget = Budget::until(Instant::now() + Duration::from_secs(5), Duration::ZERO);
        assert!(budget.bound(Duration::from_secs(60)) <= Duration::from_secs(5));
        assert_eq!(budget.bound(Duration::from_secs(1)), Duration::from_secs(1));
        assert_eq!(
            Budget::unlimited().bound(Duration::from_secs(60)),
            Duration::from_secs(60)
        );
    }

    #[test]
    fn a_wait_longer_than_the_time_left_is_not_allowed() {
        let budget = Budget::until(Instant::now() + Duration::from_secs(5), Duration::ZERO);
        assert!(budget.allows(Duration::from_secs(1)));
        assert!(!budget.allows(Duration::from_secs(6)));
        assert!(Budget::unlimited().allows(Duration::from_secs(3600)));
    }

    #[test]
    fn an_aws_call_may_take_at_most_the_time_left_and_is_unbounded_without_a_deadline() {
        let budget = Budget::until(Instant::now() + Duration::from_secs(5), Duration::ZERO);

        let timeouts = budget.aws_timeouts().expect("a deadline bounds AWS calls");

        let operation = timeouts.operation_timeout().expect("an operation timeout");
        assert!(operation <= Duration::from_secs(5) && operation > Duration::from_secs(4));
        assert!(timeouts.connect_timeout().is_some_and(|t| t <= operation));
        assert!(Budget::unlimited().aws_timeouts().is_none());
    }

    #[test]
    fn a_deadline_of_zero_means_no_budget_and_a_past_deadline_means_none_left() {
        assert!(Budget::for_invocation(0, 1_000, Duration::from_secs(20))
            .remaining()
            .is_none());
        let now_ms = 1_795_642_831_013;
        assert!(Budget::for_invocation(now_ms as u64 - 1_000, now_ms, Duration::ZERO).exhausted());
        let ample =
            Budget::for_invocation(now_ms as u64 + 120_000, now_ms, Duration::from_secs(20));
        let left = ample.remaining().unwrap();
        assert!(left > Duration::from_secs(90) && left <= Duration::from_secs(100));
    }

    #[test]
    fn a_deadline_is_read_as_a_date_however_small_as_lambda_sends_it() {
        // cargo lambda's emulator constant, 600000, is a date in 1970: no time left.
        let constant = Budget::for_invocation(600_000, 1_795_642_831_013, Duration::from_secs(20));
        assert!(constant.exhausted());
    }

    #[test]
    fn the_margin_takes_at_most_a_quarter_of_the_time_left() {
        let now_ms = 1_795_642_831_013;
        let short = Budget::for_invocation(now_ms as u64 + 20_000, now_ms, Duration::from_secs(20));
        let left = short.remaining().unwrap();
        assert!(left > Duration::from_secs(14) && left <= Duration::from_secs(15));
    }
}
