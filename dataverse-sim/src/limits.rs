//! Dataverse's service protection limits and the execution cost of operations, per
//! "Service protection API limits" and "Send parallel requests": per user, over a sliding
//! window, the number of requests, the combined execution time (a `$batch` costs the sum of
//! its operations, which Dataverse runs one after another) and the number of concurrent
//! requests. Crossing one answers 429 with `Retry-After` and the documented error code.
//!
//! The sim has one application user, so it keeps one window. Nothing here sleeps or locks:
//! the server charges the cost and holds the in-flight count; this module only keeps the
//! books and decides.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// The limits and costs the sim applies; the default charges nothing and limits nothing but
/// still sends `x-ms-dop-hint`.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Execution time of one operation: a top-level GET or PATCH, or each operation inside a
    /// `$batch` (so a batch of 100 takes 100 times as long). Zero charges nothing.
    pub operation_cost: Duration,
    /// Length of the sliding window (Dataverse: 300 s); a bench scales it down.
    pub window: Duration,
    /// Requests per user per window (Dataverse: 6,000); `None` is unlimited.
    pub max_requests: Option<u64>,
    /// Combined execution time per user per window (Dataverse: 1,200 s); `None` is unlimited.
    pub max_execution_time: Option<Duration>,
    /// Concurrent requests per user (Dataverse: 52); `None` is unlimited.
    pub max_concurrent: Option<u64>,
    /// `x-ms-dop-hint` on every Web API response; `None` omits the header.
    pub dop_hint: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            operation_cost: Duration::ZERO,
            window: Duration::from_secs(300),
            max_requests: None,
            max_execution_time: None,
            max_concurrent: None,
            dop_hint: Some(DEFAULT_DOP_HINT),
        }
    }
}

/// The sim's recommended parallelism; real environments vary with their allocated servers.
pub const DEFAULT_DOP_HINT: u64 = 4;

impl Limits {
    /// Dataverse's documented defaults: 6,000 requests and 1,200 s of execution time per
    /// 300 s window, 52 concurrent requests.
    pub fn dataverse() -> Limits {
        Limits {
            max_requests: Some(6000),
            max_execution_time: Some(Duration::from_secs(1200)),
            max_concurrent: Some(52),
            ..Limits::default()
        }
    }
}

/// Which limit refused a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Limit {
    Requests,
    ExecutionTime,
    Concurrency,
}

/// A refused request: which limit, and when the client may try again.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusal {
    pub limit: Limit,
    pub retry_after_secs: u64,
}

impl Refusal {
    /// The documented error code (hex, as the Web API shows it) and message.
    pub fn code_and_message(&self, limits: &Limits) -> (&'static str, String) {
        let window = limits.window.as_secs();
        match self.limit {
            Limit::Requests => (
                "0x80072322",
                format!(
                    "Number of requests exceeded the limit of {} over time window of {window} seconds.",
                    limits.max_requests.unwrap_or_default()
                ),
            ),
            Limit::ExecutionTime => (
                "0x80072321",
                format!(
                    "Combined execution time of incoming requests exceeded limit of {} milliseconds over time window of {window} seconds. Decrease number of concurrent requests or reduce the duration of requests and try again later.",
                    limits.max_execution_time.unwrap_or_default().as_millis()
                ),
            ),
            Limit::Concurrency => (
                "0x80072326",
                format!(
                    "Number of concurrent requests exceeded the limit of {}.",
                    limits.max_concurrent.unwrap_or_default()
                ),
            ),
        }
    }
}

/// The user's sliding window: requests admitted, execution time charged, requests in flight.
#[derive(Debug, Default)]
pub(crate) struct Window {
    admitted: VecDeque<Instant>,
    executed: VecDeque<(Instant, Duration)>,
    executed_total: Duration,
    in_flight: u64,
}

impl Window {
    /// Admits a request (counting it and holding one concurrency slot until
    /// [`Window::finish`]) or says which limit it crosses.
    pub fn admit(&mut self, limits: &Limits, now: Instant) -> Result<u64, Refusal> {
        self.forget_before(now, limits.window);
        if let Some(max) = limits.max_requests {
            if self.admitted.len() as u64 >= max {
                let oldest = self.admitted.front().copied().unwrap_or(now);
                return Err(refusal(Limit::Requests, oldest + limits.window, now));
            }
        }
        if let Some(max) = limits.max_execution_time {
            if self.executed_total >= max {
                let frees_at = self.execution_frees_at(max, limits.window).unwrap_or(now);
                return Err(refusal(Limit::ExecutionTime, frees_at, now));
            }
        }
        if let Some(max) = limits.max_concurrent {
            if self.in_flight >= max {
                // Nothing in the window says when a slot frees; a second is the shortest
                // wait the header can express.
                return Err(refusal(Limit::Concurrency, now, now));
            }
        }
        if limits.max_requests.is_some() {
            self.admitted.push_back(now);
        }
        self.in_flight += 1;
        Ok(self.in_flight)
    }

    /// Releases the request's concurrency slot and charges its execution time at `now`.
    pub fn finish(&mut self, cost: Duration, now: Instant) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if !cost.is_zero() {
            self.executed.push_back((now, cost));
            self.executed_total += cost;
        }
    }

    fn forget_before(&mut self, now: Instant, window: Duration) {
        let Some(start) = now.checked_sub(window) else {
            return;
        };
        while self.admitted.front().is_some_and(|t| *t <= start) {
            self.admitted.pop_front();
        }
        while let Some((t, cost)) = self.executed.front().copied() {
            if t > start {
                break;
            }
            self.executed.pop_front();
            self.executed_total = self.executed_total.saturating_sub(cost);
        }
    }

    /// When enough charged time leaves the window for the total to drop under `max`.
    fn execution_frees_at(&self, max: Duration, window: Duration) -> Option<Instant> {
        let mut remaining = self.executed_total;
        for (t, cost) in &self.executed {
            remaining = remaining.saturating_sub(*cost);
            if remaining < max {
                return Some(*t + window);
            }
        }
        None
    }
}

fn refusal(limit: Limit, frees_at: Instant, now: Instant) -> Refusal {
    let wait = frees_at.saturating_duration_since(now);
    Refusal {
        limit,
        retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            window: Duration::from_secs(10),
            max_requests: Some(2),
            max_execution_time: Some(Duration::from_secs(1)),
            max_concurrent: Some(1),
            ..Limits::default()
        }
    }

    #[test]
    fn a_request_over_the_count_waits_until_the_oldest_leaves_the_window() {
        let mut window = Window::default();
        let t0 = Instant::now();
        let limits = limits();
        assert!(window.admit(&limits, t0).is_ok());
        window.finish(Duration::ZERO, t0);
        assert!(window.admit(&limits, t0 + Duration::from_secs(3)).is_ok());
        window.finish(Duration::ZERO, t0 + Duration::from_secs(3));

        let refused = window
            .admit(&limits, t0 + Duration::from_secs(4))
            .unwrap_err();

        assert_eq!(
            (refused.limit, refused.retry_after_secs),
            (Limit::Requests, 6)
        );
        assert!(window.admit(&limits, t0 + Duration::from_secs(10)).is_ok());
    }

    #[test]
    fn charged_time_that_left_the_window_no_longer_counts() {
        let mut window = Window::default();
        let t0 = Instant::now();
        let limits = Limits {
            max_requests: None,
            ..limits()
        };
        assert!(window.admit(&limits, t0).is_ok());
        window.finish(Duration::from_secs(2), t0);

        let refused = window
            .admit(&limits, t0 + Duration::from_secs(1))
            .unwrap_err();

        assert_eq!(
            (refused.limit, refused.retry_after_secs),
            (Limit::ExecutionTime, 9)
        );
        assert!(window.admit(&limits, t0 + Duration::from_secs(10)).is_ok());
    }
}
