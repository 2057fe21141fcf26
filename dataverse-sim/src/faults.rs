//! Fault injection: the switches ([`Faults`]), the clock that decides which Web API request
//! a `*_every` switch hits, and the rows already touched by `touch_after_read`. Every fault the
//! sim can inject is decided here; the server only carries out the decision.

use std::collections::HashSet;
use std::time::{Duration, Instant};

/// Fault switches; every counter counts Web API requests only (not token, not admin).
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Added to every request, token endpoint included.
    pub latency: Duration,
    /// Every k-th Web API request answers 429.
    pub throttle_every: Option<u64>,
    /// The n-th Web API request (counting from 1) answers 429, once.
    pub throttle_request: Option<u64>,
    /// `Retry-After` seconds on those 429s; `None` omits the header. Until that time has
    /// passed every Web API request answers 429 again, and each one restarts the wait: per
    /// "Service protection API limits", a client that keeps sending has its wait extended.
    pub retry_after_secs: Option<u64>,
    /// Every k-th Web API request answers 503 with Dataverse error JSON.
    pub unavailable_every: Option<u64>,
    /// Every k-th Web API request has its connection closed without any response.
    pub drop_every: Option<u64>,
    /// Every k-th Web API request is carried out, then its connection is closed without the
    /// answer (a response lost on the way back: the client cannot tell it from a drop).
    pub lose_response_every: Option<u64>,
    /// Ids of rows that "receive a customer message" right after a GET first returned them.
    pub touch_after_read: Vec<String>,
    /// Column set to now when a row is touched (the version is bumped either way).
    pub touch_column: Option<String>,
}

/// What the fault clock decided for one Web API request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Injected {
    /// Serve the request normally.
    None,
    /// Close the connection without a response.
    Drop,
    /// Answer 503.
    Unavailable,
    /// Answer 429, with `Retry-After` when set.
    Throttle { retry_after_secs: Option<u64> },
    /// Carry the request out, then close the connection without the answer.
    LoseResponse,
}

/// The live switches and what they have done so far.
#[derive(Debug, Default)]
pub(crate) struct FaultState {
    pub switches: Faults,
    /// Web API requests seen, the clock of the `*_every` faults.
    web_requests: u64,
    /// Rows already touched by `touch_after_read` (each is touched once per `replace`).
    touched: HashSet<String>,
    /// Until when an injected 429's `Retry-After` holds, and its length.
    held: Option<(Instant, Duration)>,
}

impl FaultState {
    pub fn new(switches: Faults) -> FaultState {
        FaultState {
            switches,
            ..FaultState::default()
        }
    }

    /// New switches; rows touched under the old ones may be touched again.
    pub fn replace(&mut self, switches: Faults) {
        self.switches = switches;
        self.touched.clear();
        self.held = None;
    }

    /// Advances the clock by one Web API request and says which fault, if any, hits it.
    /// When several are due the order is drop, 503, 429, lost answer.
    /// A request inside the `Retry-After` of an injected 429 is refused again and restarts
    /// the wait, whatever the other switches say.
    pub fn next_request(&mut self, now: Instant) -> Injected {
        self.web_requests += 1;
        let n = self.web_requests;
        if let Some((until, wait)) = self.held {
            if now < until {
                self.held = Some((now + wait, wait));
                return Injected::Throttle {
                    retry_after_secs: Some(wait.as_secs()),
                };
            }
            self.held = None;
        }
        let due = |every: Option<u64>| every.is_some_and(|k| k > 0 && n.is_multiple_of(k));
        let faults = &self.switches;
        if due(faults.drop_every) {
            Injected::Drop
        } else if due(faults.unavailable_every) {
            Injected::Unavailable
        } else if due(faults.throttle_every) || faults.throttle_request == Some(n) {
            let retry_after_secs = faults.retry_after_secs;
            if let Some(seconds) = retry_after_secs.filter(|s| *s > 0) {
                let wait = Duration::from_secs(seconds);
                self.held = Some((now + wait, wait));
            }
            Injected::Throttle { retry_after_secs }
        } else if due(faults.lose_response_every) {
            Injected::LoseResponse
        } else {
            Injected::None
        }
    }

    /// True the first time a GET returns a row listed in `touch_after_read` (`id` is the
    /// stored lowercase key, `key_of` normalises the configured ids the same way).
    pub fn should_touch(&mut self, id: &str, key_of: impl Fn(&str) -> String) -> bool {
        let wanted = self
            .switches
            .touch_after_read
            .iter()
            .any(|t| key_of(t) == id);
        wanted && self.touched.insert(id.to_string())
    }

    /// True when no row is to be touched (the common case, checked before any work).
    pub fn touches_nothing(&self) -> bool {
        self.switches.touch_after_read.is_empty()
    }
}
