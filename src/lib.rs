//! session-sweeper closes WhatsApp chat sessions in Microsoft Dataverse whose customer has been
//! silent for longer than the Session Timeout of their WhatsApp Configuration.
//!
//! Data flows one way: [`handler`] → [`sweep`] or [`check`] → ([`policy`], [`dataverse`],
//! [`credentials`]) → [`summary`]. [`policy`] and [`ids`] are pure leaves that every layer may
//! use; [`check`] counts with the sweep's own plan and verdict; only [`dataverse`] speaks
//! OData (its query, wire and transport modules are private). Every I/O type is built once in
//! [`handler::App`]; the [`budget`] bounds the time of one invocation; [`wake`] works out and
//! writes the next wake-up; [`events`] publishes the lifecycle events of confirmed changes.
//! `docs/architecture.md` explains the map.

pub mod budget;
pub mod check;
pub mod credentials;
pub mod dataverse;
pub mod events;
pub mod handler;
pub mod ids;
pub mod logging;
pub mod policy;
pub mod settings;
pub mod summary;
pub mod sweep;
pub mod wake;
