//! A Web API request's way through the sim once its body has arrived: the fault clock,
//! the bearer check, the service protection limits, then the operation (`$batch` or a single
//! call) and the execution time it costs. Runs under the state lock; the server sleeps the
//! cost afterwards and holds the request's concurrency slot ([`InFlight`]) until it answers.

use std::time::{Duration, Instant};

use crate::faults::Injected;
use crate::limits::Limit;
use crate::reply::{codes, dataverse_error, Reply};
use crate::request::Headers;
use crate::state::{lock, Shared, State};
use crate::stats::LoggedRequest;
use crate::webapi;
use crate::{auth, batch};

/// What a request came to while the lock was held.
pub(crate) struct Outcome {
    /// `None` closes the connection without an answer.
    pub reply: Option<Reply>,
    /// Execution time to spend before answering.
    pub cost: Duration,
    /// True when the limits admitted the request (it holds a concurrency slot).
    pub admitted: bool,
}

impl Outcome {
    pub fn answered(reply: Reply) -> Outcome {
        Outcome {
            reply: Some(reply),
            cost: Duration::ZERO,
            admitted: false,
        }
    }
}

/// A request's concurrency slot; releasing it charges the execution time, at the moment
/// the request completes, as Dataverse measures it.
pub(crate) struct InFlight {
    pub state: Shared,
    pub cost: Duration,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.state).window.finish(self.cost, Instant::now());
    }
}

/// A Web API request after latency: faults, then auth, then the limits, then the
/// operation. Every answer carries `x-ms-dop-hint`.
pub(crate) fn web_api(
    state: &mut State,
    method: &str,
    target: &str,
    query: &str,
    headers: &Headers,
    body: &[u8],
) -> Outcome {
    let line = match query {
        "" => format!("{method} {target}"),
        _ => format!("{method} {target}?{query}"),
    };
    let at = Instant::now();
    let rows_before = state.stats.rows_served;
    let mut outcome = checked_web_api(state, method, target, query, headers, body, at);
    if let Some(hint) = state.options.limits.dop_hint {
        outcome.reply = outcome
            .reply
            .map(|reply| reply.with_header("x-ms-dop-hint", hint.to_string()));
    }
    let reply = outcome.reply.as_ref();
    state.log.push(LoggedRequest {
        at,
        line,
        status: reply.map(|reply| reply.status),
        rows: state.stats.rows_served - rows_before,
        retry_after_secs: reply.and_then(|reply| {
            let (_, value) = reply
                .headers
                .iter()
                .find(|(name, _)| name == "Retry-After")?;
            value.parse().ok()
        }),
    });
    outcome
}

fn checked_web_api(
    state: &mut State,
    method: &str,
    target: &str,
    query: &str,
    headers: &Headers,
    body: &[u8],
    now: Instant,
) -> Outcome {
    let injected = state.faults.next_request(now);
    if let Some(reply) = injected_reply(state, injected) {
        return reply;
    }
    if !auth::is_authorized(state, headers.get("Authorization")) {
        let challenge = format!(
            "Bearer authorization_uri={}/common/oauth2/authorize, resource_id={}/",
            state.base_url, state.base_url
        );
        return Outcome::answered(
            dataverse_error(
                401,
                "0x0",
                "The request is not authenticated: a valid bearer token is required.",
            )
            .with_header("WWW-Authenticate", challenge),
        );
    }
    if let Err(reply) = admit(state) {
        return Outcome::answered(reply);
    }
    let operations_before = operations_done(state);
    let reply = operation(state, method, target, query, headers, body);
    // Counted under the lock, so the difference is exactly this request's operations.
    let operations = operations_done(state) - operations_before;
    let cost = state.options.limits.operation_cost * operations as u32;
    state.stats.execution_ms += cost.as_millis() as u64;
    let reply = if injected == Injected::LoseResponse {
        state.stats.lost += 1;
        None
    } else {
        Some(reply)
    };
    Outcome {
        reply,
        cost,
        admitted: true,
    }
}

/// Operations carried out so far, each of which costs `Limits::operation_cost`.
fn operations_done(state: &State) -> u64 {
    let stats = &state.stats;
    stats.reads + stats.patches + stats.creates + stats.actions
}

/// The answer to an injected fault, or `None` to serve the request.
fn injected_reply(state: &mut State, injected: Injected) -> Option<Outcome> {
    let reply = match injected {
        Injected::None | Injected::LoseResponse => return None,
        Injected::Drop => {
            state.stats.dropped += 1;
            None
        }
        Injected::Unavailable => {
            state.stats.unavailable += 1;
            Some(dataverse_error(
                503,
                codes::UNEXPECTED,
                "The service is temporarily unavailable (injected by dataverse-sim).",
            ))
        }
        Injected::Throttle { retry_after_secs } => {
            state.stats.throttled += 1;
            let reply = dataverse_error(
                429,
                codes::THROTTLED_REQUESTS,
                "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
            );
            Some(match retry_after_secs {
                Some(seconds) => reply.with_header("Retry-After", seconds.to_string()),
                None => reply,
            })
        }
    };
    Some(Outcome {
        reply,
        cost: Duration::ZERO,
        admitted: false,
    })
}

/// Takes a slot in the user's window, or the 429 of the limit the request crosses.
fn admit(state: &mut State) -> Result<(), Reply> {
    match state.window.admit(&state.options.limits, Instant::now()) {
        Ok(in_flight) => {
            state.stats.peak_in_flight = state.stats.peak_in_flight.max(in_flight);
            Ok(())
        }
        Err(refusal) => {
            match refusal.limit {
                Limit::Requests => state.stats.limited_requests += 1,
                Limit::ExecutionTime => state.stats.limited_execution_time += 1,
                Limit::Concurrency => state.stats.limited_concurrency += 1,
            }
            let (code, message) = refusal.code_and_message(&state.options.limits);
            Err(dataverse_error(429, code, message)
                .with_header("Retry-After", refusal.retry_after_secs.to_string()))
        }
    }
}

/// The authorised, admitted operation: a `$batch` or a single Web API call.
fn operation(
    state: &mut State,
    method: &str,
    target: &str,
    query: &str,
    headers: &Headers,
    body: &[u8],
) -> Reply {
    if target == "$batch" || target.eq_ignore_ascii_case("%24batch") {
        if method != "POST" {
            return dataverse_error(
                405,
                codes::QUERY_SYNTAX,
                "The $batch resource only accepts POST.",
            );
        }
        state.stats.batches += 1;
        return batch::handle(state, headers, body);
    }
    let full_target = if query.is_empty() {
        target.to_string()
    } else {
        format!("{target}?{query}")
    };
    webapi::dispatch(state, method, &full_target, headers, body)
}
