//! `dataverse-sim`: a local stand-in for the Microsoft Dataverse Web API and the Microsoft
//! Entra ID token endpoint, built from Microsoft's public documentation so the session
//! sweeper can be tested end to end without a tenant.
//!
//! Crate map (data flows top to bottom):
//! - [`server`]: [`Sim`], the connection loop, routing, admin endpoints; it sleeps the
//!   execution cost outside the lock and holds each request's concurrency slot.
//! - `pipeline`: one Web API request under the lock: faults, bearer check, limits, the
//!   operation and its execution cost.
//! - `auth`: the `/{tenant}/oauth2/v2.0/token` endpoint and bearer-token checks.
//! - `batch`: `$batch` multipart parsing, change sets and the multipart response.
//! - `webapi`: single Web API operations (GET collection/row, PATCH) on the store.
//! - `metadata`: `EntityDefinitions`, their `Attributes` and `WhoAmI`, derived from the store.
//! - `filter`: the `$filter` subset, parsed once and evaluated per row.
//! - `faults`: [`Faults`], the switches and the clock that decides which request they hit.
//! - `limits`: [`Limits`], the service protection limits, execution cost and `x-ms-dop-hint`.
//! - `state`: `State`, everything the sim knows, and its lock (data only, no handlers).
//! - `store`: the in-memory tables, row versions and ETags.
//! - [`dataset`]: seed data ([`Dataset`], [`Table`]): JSON seeds, the demo org, generated orgs.
//! - [`clock`]: [`SimClock`], the settable clock of virtual time, and its admin endpoints.
//! - `reply`: the transport-neutral response type and Dataverse's error JSON.
//! - `codec`: percent-encoding, hex and the tiny deterministic PRNG.

mod auth;
mod batch;
pub mod clock;
mod codec;
pub mod dataset;
mod faults;
mod filter;
mod limits;
mod metadata;
mod pipeline;
mod reply;
pub mod server;
mod state;
mod store;
mod webapi;

use std::fmt;

use serde::Serialize;

pub use clock::SimClock;
pub use dataset::{Dataset, Table};
pub use faults::Faults;
pub use limits::{Limits, DEFAULT_DOP_HINT};
pub use server::Sim;

/// The `systemuserid` of the application user behind the one client the token endpoint
/// knows: `WhoAmI` answers it, and every write through the Web API records it as the
/// row's `_modifiedby_value`.
pub const APPLICATION_USER_ID: &str = "a11ce5e0-0000-4000-8000-00000000a99e";

/// The `systemuserid` recorded for every other change: seeded rows (unless they say
/// otherwise), [`Sim::update`] and the customer messages the fault injector simulates. It
/// stands for people and integrations, anyone but this function.
pub const INTEGRATION_USER_ID: &str = "1e7e9a70-0000-4000-8000-0000000001e7";

/// The business unit and organization `WhoAmI` reports.
pub const BUSINESS_UNIT_ID: &str = "b0000000-0000-4000-8000-0000000000b0";
/// See [`BUSINESS_UNIT_ID`].
pub const ORGANIZATION_ID: &str = "0a000000-0000-4000-8000-0000000000a0";

/// How the simulator authenticates clients and shapes its answers.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The only application (client) id the token endpoint knows.
    pub client_id: String,
    /// The client secret that application must present.
    pub client_secret: String,
    /// Lifetime of issued access tokens, reported as `expires_in`.
    pub token_lifetime_secs: u64,
    /// Largest page a GET returns (Dataverse: 5000); `Prefer: odata.maxpagesize` is capped here.
    pub max_page_size: usize,
    /// Faults injected from the start.
    pub faults: Faults,
    /// Service protection limits, execution cost and `x-ms-dop-hint`.
    pub limits: Limits,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            client_id: "sim-client".to_string(),
            client_secret: "sim-secret".to_string(),
            token_lifetime_secs: 3599,
            max_page_size: 5000,
            faults: Faults::default(),
            limits: Limits::default(),
        }
    }
}

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

/// Errors from building a simulator (seed files, arguments).
#[derive(Debug)]
pub enum SimError {
    /// The seed text is not valid JSON of the documented shape.
    Seed(String),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::Seed(message) => write!(f, "invalid seed data: {message}"),
        }
    }
}

impl std::error::Error for SimError {}
