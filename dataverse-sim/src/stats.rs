//! [`Stats`]: the counters of what the simulator has served.

use serde::Serialize;

/// Counters of what the simulator has served since start or the last reset.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Stats {
    /// Every HTTP request, token requests included, admin endpoints excluded.
    pub requests: u64,
    /// Requests to the token endpoint.
    pub token_requests: u64,
    /// GET operations (top level or inside a `$batch`).
    pub reads: u64,
    /// PATCH operations (top level or inside a `$batch`).
    pub patches: u64,
    /// Rows returned by GETs of a collection (every page).
    pub rows_read: u64,
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
