//! The retry loop every request goes through: 429 after `Retry-After`, 5xx and connection
//! errors with jittered backoff, all within the retry bounds and the budget, and a note of any
//! attempt that may have reached Dataverse unanswered, so a change is never called failed when
//! it may have been applied.
//!
//! A 429's `Retry-After` holds the whole client, not only the throttled request: the service
//! protection limits are per user, and Dataverse extends the wait of a client that keeps
//! sending. No request is sent before it has passed; when it ends past the budget's stop the
//! request fails with [`DataverseError::ThrottledUntil`] at once instead of waiting.

use super::Dataverse;
use super::DataverseError;
use crate::budget::Budget;

use crate::dataverse::transport;
use reqwest::{RequestBuilder, Response, StatusCode};
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Until when Dataverse asked this client to send nothing: as an instant to sleep until, and
/// as the moment of day to report.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hold {
    until: Instant,
    retry_at: chrono::DateTime<chrono::Utc>,
}

/// Bounds on retries and on each request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff after a 5xx or a connection error; doubled per attempt, with jitter.
    pub base_backoff: Duration,
    /// Longest backoff after a 5xx or a connection error. A `Retry-After` is never cut short.
    pub max_wait: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    pub(super) fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .base_backoff
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        let capped = exponential.min(self.max_wait);
        // Jitter between half and the whole wait, so parallel batches do not retry in step.
        let random = RandomState::new().build_hasher().finish();
        capped / 2 + capped.mul_f64((random % 1000) as f64 / 2000.0)
    }
}

/// Whether a request may have reached Dataverse without its answer reaching this function:
/// a timeout, a connection lost after the request was written, or a 5xx (which a gateway may
/// send after Dataverse ran it). A connection that could not
/// be opened carried nothing, so it leaves this unset.
#[derive(Debug, Default)]
pub(in crate::dataverse) struct Delivery {
    pub(super) unanswered: Option<String>,
}

impl Delivery {
    /// `error` as it concerns a request that changes data: when an attempt may have been
    /// carried out and no later attempt answered, whether Dataverse applied it is unknown.
    pub(super) fn settle(self, error: DataverseError) -> DataverseError {
        match (self.unanswered, error) {
            (
                Some(reason),
                DataverseError::DeadlineReached
                | DataverseError::ThrottledUntil { .. }
                | DataverseError::Unreachable { .. }
                | DataverseError::Unavailable { .. }
                | DataverseError::Throttled { .. },
            ) => DataverseError::OutcomeUnknown { reason },
            (_, error) => error,
        }
    }
}

/// What one attempt came to: an answer to hand back, or a failure worth another attempt.
enum Attempt {
    Done(Result<Response, DataverseError>),
    Retry {
        wait: Duration,
        failure: DataverseError,
    },
}

impl Dataverse {
    /// Sends, retrying 429 after `Retry-After` (or 2^attempt seconds), and 5xx and connection
    /// errors with exponential backoff, within the retry bounds and the budget.
    pub(in crate::dataverse) async fn send_with_retries(
        &self,
        build: impl Fn() -> RequestBuilder,
        budget: &Budget,
    ) -> Result<Response, DataverseError> {
        self.send_tracked(build, budget, &mut Delivery::default())
            .await
    }

    /// [`Self::send_with_retries`], noting in `delivery` an attempt that may have been carried
    /// out without an answer. Each attempt's timeout ends with the budget, so that no request
    /// outlives the invocation.
    pub(super) async fn send_tracked(
        &self,
        build: impl Fn() -> RequestBuilder,
        budget: &Budget,
        delivery: &mut Delivery,
    ) -> Result<Response, DataverseError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if budget.exhausted() {
                return Err(DataverseError::DeadlineReached);
            }
            self.hold_off(budget).await?;
            let request = build()
                .timeout(budget.bound(self.retry.request_timeout))
                .build()
                .map_err(|error| DataverseError::internal("request", error))?;
            transport::check_destination(request.url())?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let sent = self.http.execute(request).await;
            if let Ok(response) = &sent {
                self.note_pacing(response);
            }
            let (wait, failure) = match self.judge_attempt(sent, attempt, delivery) {
                Attempt::Done(result) => return result,
                Attempt::Retry { wait, failure } => (wait, failure),
            };
            if attempt >= self.retry.max_attempts {
                return Err(failure);
            }
            if let DataverseError::Throttled { .. } = failure {
                tracing::warn!(
                    attempt,
                    retry_after_ms = wait.as_millis() as u64,
                    "throttled; no request is sent until Dataverse's Retry-After has passed"
                );
                self.hold_for(wait);
                continue;
            }
            let wait = wait.min(self.retry.max_wait);
            if !budget.allows(wait) {
                return Err(DataverseError::DeadlineReached);
            }
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %failure, "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Holds every request of this client back until `wait` from now, unless an earlier 429
    /// already holds it longer.
    fn hold_for(&self, wait: Duration) {
        // Longer than any invocation, so it stops the sweep all the same, and short enough
        // that no header can overflow the clock arithmetic.
        const LONGEST_HOLD: Duration = Duration::from_secs(86_400);
        let wait = wait.min(LONGEST_HOLD);
        let until = Instant::now() + wait;
        let retry_at = chrono::Utc::now()
            + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::days(1));
        let mut hold = self
            .hold
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if hold.is_none_or(|held| held.until < until) {
            *hold = Some(Hold { until, retry_at });
        }
    }

    /// Waits out the hold a 429 set, or fails at once when it ends past the budget's stop.
    /// Loops because another request may extend the hold while this one sleeps.
    async fn hold_off(&self, budget: &Budget) -> Result<(), DataverseError> {
        loop {
            let Some(held) = self.current_hold() else {
                return Ok(());
            };
            let wait = held.until.saturating_duration_since(Instant::now());
            if wait.is_zero() {
                return Ok(());
            }
            if !budget.allows(wait) {
                return Err(DataverseError::ThrottledUntil {
                    retry_at: held.retry_at,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    fn current_hold(&self) -> Option<Hold> {
        *self
            .hold
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The moment the last 429 named, while it is still ahead.
    pub fn throttled_until(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.current_hold()
            .filter(|held| held.until > Instant::now())
            .map(|held| held.retry_at)
    }

    /// Sorts the answer (or the error) of attempt number `attempt` into done or worth
    /// retrying, and how long to wait first.
    fn judge_attempt(
        &self,
        sent: Result<Response, reqwest::Error>,
        attempt: u32,
        delivery: &mut Delivery,
    ) -> Attempt {
        let (wait, failure) = match sent {
            Ok(response) if response.status().is_redirection() => {
                return Attempt::Done(Err(transport::redirected(&response)))
            }
            Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                let wait = transport::retry_after(response.headers(), chrono::Utc::now())
                    .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(10)));
                (wait, DataverseError::Throttled { attempts: attempt })
            }
            Ok(response) if is_transient(response.status()) => {
                // A gateway's 5xx (a 504 above all) may come after the request was carried out.
                delivery.unanswered = Some(format!("Dataverse answered {}", response.status()));
                (
                    self.retry.backoff(attempt),
                    DataverseError::Unavailable {
                        status: response.status().as_u16(),
                        attempts: attempt,
                    },
                )
            }
            Ok(response) => return Attempt::Done(Ok(response)),
            Err(error) => {
                if !error.is_connect() {
                    delivery.unanswered = Some(describe(&error));
                }
                (
                    self.retry.backoff(attempt),
                    DataverseError::Unreachable {
                        host: error
                            .url()
                            .and_then(|url| url.host_str().map(str::to_owned))
                            .unwrap_or_default(),
                        attempts: attempt,
                        reason: describe(&error),
                    },
                )
            }
        };
        Attempt::Retry { wait, failure }
    }

    /// Keeps what every response says about pacing; the sweep reads it between batches, so
    /// that the retry loop needs to know nothing about how many requests are in flight.
    fn note_pacing(&self, response: &Response) {
        if let Some(hint) = transport::dop_hint(response.headers()) {
            self.dop_hint.store(hint, Ordering::Relaxed);
        }
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            self.throttled.fetch_add(1, Ordering::Relaxed);
        }
    }
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The error and its causes, without the URL (which is named separately).
pub(super) fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "connection error".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
