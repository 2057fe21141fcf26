//! [`Stats`]: the counters of what the simulator has served.

use serde::Serialize;
use std::time::Instant;

/// Counters of what the simulator has served since start or the last reset.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Stats {
    /// Every HTTP request, token requests included, admin endpoints excluded.
    pub requests: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// GET operations (top level or inside a `$batch`).
    pub reads: u64,
    /// Rows returned by collection GETs (top level or inside a `$batch`).
    pub rows_served: u64,
    /// PATCH operations (top level or inside a `$batch`).
    pub patches: u64,
    /// POST operations that created a row (top level or inside a `$batch`).
    pub creates: u64,
    /// Actions called (top level or inside a `$batch`).
    pub actions: u64,
    /// `$batch` requests.
    pub batches: u64,
    /// Operations carried inside `$batch` requests.
    pub batch_operations: u64,
    /// Requests answered 429 by the fault injector.
    pub throttled: u64,
    /// Requests answered 503 by the fault injector.
    pub unavailable: u64,
    /// Connections closed without a response by the fault injector.
    pub dropped: u64,
    /// Requests carried out whose answer the fault injector then dropped.
    pub lost: u64,
    /// Requests answered 429 by the request-count limit.
    pub limited_requests: u64,
    /// Requests answered 429 by the execution-time limit.
    pub limited_execution_time: u64,
    /// Requests answered 429 by the concurrency limit.
    pub limited_concurrency: u64,
    /// Execution time charged, in milliseconds (operations × `Limits::operation_cost`).
    pub execution_ms: u64,
    /// Most Web API requests in progress at once.
    pub peak_in_flight: u64,
}

/// One Web API request as the sim saw it, for tests that ask what a single request cost or
/// when it arrived.
#[derive(Clone, Debug)]
pub struct LoggedRequest {
    /// When it arrived (after the injected latency).
    pub at: Instant,
    /// `METHOD target`, the path after `/api/data/v9.2/`, query included.
    pub line: String,
    /// The status answered; `None` when the connection was closed without an answer.
    pub status: Option<u16>,
    /// Rows its collection GETs returned (inside a `$batch` too).
    pub rows: u64,
    /// The `Retry-After` seconds of a 429.
    pub retry_after_secs: Option<u64>,
}
