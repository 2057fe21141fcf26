//! `dataverse-sim`: a local stand-in for the Microsoft Dataverse Web API and the Microsoft
//! Entra ID token endpoint, built from Microsoft's public documentation so the session
//! sweeper can be tested end to end without a tenant.
//!
//! Crate map (data flows top to bottom; no module imports one that imports it back, and
//! none imports this root, which only declares modules and re-exports):
//! - [`server`]: [`Sim`], the connection loop, routing, admin endpoints; it sleeps the
//!   execution cost outside the lock and holds each request's concurrency slot.
//! - `pipeline`: one Web API request under the lock: faults, bearer check, limits, the
//!   operation and its execution cost.
//! - `auth`: the `/{tenant}/oauth2/v2.0/token` endpoint and bearer-token checks.
//! - `batch`: `$batch` multipart parsing, change sets and the multipart response.
//! - `webapi`: one Web API operation, top level or in a batch: routing, `WhoAmI`, GET of a
//!   collection (query options, order, key-based paging) or a row, POST, PATCH, the body
//!   checks they share, custom API actions; metadata requests go on to `metadata`.
//! - `metadata`: `EntityDefinitions`, their `Attributes` and `ManyToOneRelationships`,
//!   derived from the store.
//! - `access`: the 403 for a read privilege a test took away.
//! - `request`: the API path prefix, request headers, the entity set and row a path names.
//! - `filter`: the `$filter` subset, parsed once (`expr`, `parse`) and evaluated per row (`eval`).
//! - `faults`: [`Faults`], the switches and the clock that decides which request they hit.
//! - `limits`: [`Limits`], the service protection limits, execution cost and `x-ms-dop-hint`.
//! - `state`: `State`, everything the sim knows, and its lock (data only, no handlers).
//! - `store`: the in-memory tables, row versions and ETags, the change-set journal, and what
//!   each custom API does; `index`, a leaf, the equality and time indexes it keeps over state,
//!   status, lookup and date and time columns.
//! - [`dataset`]: seed data ([`Dataset`], [`Table`]): JSON seeds, the sample schema, the demo
//!   org (with its custom APIs, [`dataset::SendsMessage`]), generated orgs.
//! - `options`, `stats`, `ids`, `error`: [`SimOptions`], [`Stats`], the fixed user and org ids,
//!   [`SimError`].
//! - [`clock`]: [`SimClock`], the settable clock of virtual time.
//! - `timeline`: the admin endpoints that set that clock and apply a day's messages.
//! - `reply`: the transport-neutral response type and Dataverse's error JSON.
//! - `codec`: percent-encoding, hex and the tiny deterministic PRNG.

mod access;
mod auth;
mod batch;
pub mod clock;
mod codec;
pub mod dataset;
mod error;
mod faults;
mod filter;
mod ids;
mod index;
mod limits;
mod metadata;
mod options;
mod pipeline;
mod reply;
mod request;
pub mod server;
mod state;
mod stats;
mod store;
mod timeline;
mod webapi;

pub use clock::SimClock;
pub use dataset::{Dataset, Table};
pub use error::SimError;
pub use faults::Faults;
pub use ids::{APPLICATION_USER_ID, BUSINESS_UNIT_ID, INTEGRATION_USER_ID, ORGANIZATION_ID};
pub use limits::{Limits, DEFAULT_DOP_HINT};
pub use options::SimOptions;
pub use server::Sim;
pub use stats::{LoggedRequest, Stats};
