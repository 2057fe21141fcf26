//! One sweep: read the active configurations and their timeouts, page through the sessions the
//! server says are past the cutoff, judge each one again with `policy`, and close the eligible
//! ones in `$batch` requests while the next page is read. Every path that is unsure closes
//! nothing: a bad timeout skips its configuration, an unknown table or column stops the sweep
//! before the first close, and a session that changed since it was read is left alone.
//!
//! - `plan`: which configurations are usable, and which queries follow from them.
//! - `judge`: the verdict on each row (shared with the check), and the pass that reads the
//!   pages and schedules what a per-row judgement asks for (shared with `reopen`).
//! - `warn`: which sessions are due a warning before their close (shared with the check),
//!   and the query that finds them.
//! - `task`: what a judgement asks for (a close, a reopen or a warning).
//! - `close`: batches in flight; `outcome`: what each outcome means in the summary.
//! - `pace`: how many requests may be in flight, from `x-ms-dop-hint` and the 429s.
//! - `run`: the sweep from start to summary, and the start and end every run shares.
//! - `reopen`: the undo of a sweep, reopening what it closed since an instant.
//!
//! The sweep asks [`crate::dataverse::Org`] for typed things; it never writes a query or a
//! request body.

mod close;
mod judge;
mod outcome;
mod pace;
// The check counts sessions with the sweep's own plan and verdict.
pub(crate) mod plan;
mod reopen;
mod run;
mod task;
mod upcoming;
// The check counts "would warn now" with the sweep's own warning rule.
pub(crate) mod warn;

pub(crate) use judge::{verdict, Verdict};
pub use reopen::reopen;
pub use run::run;

use crate::budget::Budget;
use crate::dataverse::DataverseError;
use crate::settings::{setting, Schema};
use crate::summary::Summary;
use chrono::{DateTime, Utc};

/// What one sweep is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// The instant every decision uses.
    pub now: DateTime<Utc>,
    /// Report, close nothing.
    pub dry_run: bool,
    /// When to stop starting new work.
    pub budget: Budget,
    /// Work out the next wake-up after the sweep (a real sweep with the wake-up on).
    pub plan_wake: bool,
}

/// Why a sweep stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A table or column setting names something the environment does not have.
    #[error("{setting} is set to {name:?}, which this Dataverse environment does not have; correct {setting} (Dataverse said: {source}). No session was closed")]
    UnknownName {
        setting: &'static str,
        name: String,
        source: Box<DataverseError>,
    },
    /// A date and time setting names a Date only column, which Dataverse will not compare
    /// with the sweep's cutoff.
    #[error("{setting} is {name:?}, a Date only column: it holds no time of day, and Dataverse refuses to compare it with a date and time; set {setting} to a User local date and time column (Dataverse said: {source}). No session was closed")]
    DateOnlyColumn {
        setting: &'static str,
        name: String,
        source: Box<DataverseError>,
    },
    /// No configuration is active, so no timeout is known.
    #[error("no active WhatsApp configuration was found in {table}; no session was closed")]
    NoActiveConfiguration { table: String },
    /// `DEFAULT_CONFIGURATION_ID` names a configuration that is not active (or does not exist).
    #[error("the environment variable DEFAULT_CONFIGURATION_ID = {id:?} is not one of the active WhatsApp configurations ({active}); set it to one of them or leave it empty. No session was closed")]
    DefaultConfigurationNotActive { id: String, active: String },
    /// Every active configuration has an unusable timeout.
    #[error("no active WhatsApp configuration has a usable Session Timeout ({column}), so no session was closed: {problems}")]
    NoUsableConfiguration { column: String, problems: String },
    /// Dataverse or Entra ID failed.
    #[error("{0}")]
    Dataverse(DataverseError),
    /// The sweep failed part-way; what it did before is in `summary`.
    #[error("the sweep stopped after closing {} sessions: {source}", summary.closed())]
    Interrupted {
        summary: Box<Summary>,
        source: Box<SweepError>,
    },
}

impl SweepError {
    fn from_dataverse(schema: &Schema, error: DataverseError) -> Self {
        if error.compares_date_only() {
            // The sweep compares only the last customer message and `createdon` with a date
            // and time, and `createdon` is always User local.
            return SweepError::DateOnlyColumn {
                setting: setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name,
                name: schema.last_customer_message.to_string(),
                source: Box::new(error),
            };
        }
        match error
            .unknown_name()
            .and_then(|name| Some((schema.setting_named(name)?, name.to_owned())))
        {
            Some((setting, name)) => SweepError::UnknownName {
                setting,
                name,
                source: Box::new(error),
            },
            None => SweepError::Dataverse(error),
        }
    }
}
