//! Everything that speaks HTTP to Microsoft: the Entra ID token, the Dataverse Web API queries
//! and the `$batch` closes. OData syntax, column names and JSON shapes stay inside this module:
//! callers hold an [`Org`] and ask it for typed things ([`SessionQuery`] in, [`SessionRow`]s
//! and [`CloseOutcome`]s out). Nothing here decides whether a session is eligible.
//!
//! - `client`: the HTTP client, retries, paging and `$batch` transport.
//! - `auth`: the Entra ID token and its cache.
//! - `org`: the per-sweep handle (client, API root, schema, budget); `org/write.rs` builds
//!   each session's change set (its PATCH and the message that goes with it).
//! - `query`: `$filter` text, query URLs and PATCH bodies.
//! - `wire`: JSON shapes and their decoding into typed rows.
//! - `batch`: the multipart `$batch` format, change sets of one or more operations.
//! - `metadata`: read-only questions about table and column definitions, for the check.

// OData text, JSON shapes and HTTP details stay private: the compiler keeps the boundary.
pub mod auth;
pub mod batch;
pub mod client;
pub mod metadata;
pub mod org;
mod query;
mod transport;
mod wire;

pub use auth::{AuthError, TokenCache};
pub use batch::{CloseOutcome, CloseRequest};
pub use client::{Dataverse, Environment, RetryPolicy};
pub use org::{Org, ReadRow, SessionPages, SessionWrite, Write};
pub use query::{
    Basis, Owner, ReopenQuery, SessionChange, SessionQuery, UpcomingQuery, WarningQuery,
    CLOSE_REASON,
};
pub use wire::{ConfigurationRow, LastChange, RowError, SessionRow, WhoAmI};

use crate::credentials::CredentialsError;

/// A Dataverse request that did not succeed, with what an administrator needs to act on it.
#[derive(Debug, thiserror::Error)]
pub enum DataverseError {
    /// Dataverse answered with its error JSON.
    #[error("Dataverse answered {status} {code}: {message}{}", hint(*.status, message))]
    Api {
        status: u16,
        code: String,
        message: String,
    },
    /// Service protection kept answering 429.
    #[error("Dataverse kept throttling the requests (429) after {attempts} attempts; the next sweep continues")]
    Throttled { attempts: u32 },
    /// A 429's `Retry-After` ends past the budget's stop, so the request was not sent: the
    /// service protection limits are per user, and sending inside the wait extends it.
    #[error("Dataverse's service protection limits asked for no request before {retry_at} (Retry-After), which is past this sweep's stop; the next sweep continues after it")]
    ThrottledUntil {
        retry_at: chrono::DateTime<chrono::Utc>,
    },
    /// Dataverse kept answering 5xx.
    #[error("Dataverse was unavailable ({status}) after {attempts} attempts")]
    Unavailable { status: u16, attempts: u32 },
    /// No connection, or the connection broke.
    #[error("could not reach {host} after {attempts} attempts: {reason}")]
    Unreachable {
        host: String,
        attempts: u32,
        reason: String,
    },
    /// A request that would send credentials over plain `http://` to another machine.
    #[error("refused to send a request to http://{host}: plain http is allowed only to this machine (localhost); use https:// in the secret's environment_url and authority_url")]
    InsecureUrl { host: String },
    /// A redirect, which this client never follows so that the client secret and the token
    /// are sent only to the addresses in the secret.
    #[error("{host} answered {status} with a redirect to {location}; redirects are not followed, so that credentials go only to the addresses in the secret: check environment_url and authority_url")]
    Redirected {
        host: String,
        status: u16,
        location: String,
    },
    /// The secret, read again mid-sweep, names another environment, tenant or authority than
    /// the sweep started with.
    #[error("the secret now names another environment ({field} changed since this sweep started); the sweep stopped and sent nothing more to either environment, and the next sweep uses the new one")]
    EnvironmentChanged { field: &'static str },
    /// Still 401 after a fresh token and a freshly read secret.
    #[error("Dataverse refused the application user (401) even with a fresh token and secret: check that the app registration is an application user in this environment and is enabled")]
    Unauthorized,
    /// The token could not be obtained.
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The credentials could not be read.
    #[error(transparent)]
    Credentials(#[from] CredentialsError),
    /// The Lambda deadline is too close to start or to wait for another request.
    #[error("the sweep's time budget ran out before the request could be sent")]
    DeadlineReached,
    /// A request that changes data was sent, and no answer could be read: it timed out, the
    /// connection broke, or Dataverse's 200 answer cannot be decoded. Dataverse may have
    /// carried it out; the next sweep's query finds whatever it did not.
    #[error("whether Dataverse carried the request out is unknown ({reason}); the next sweep's query finds the sessions it did not close")]
    OutcomeUnknown { reason: String },
    /// A response that does not have the shape the Web API documents.
    #[error("Dataverse sent a response this function cannot read: {0}")]
    BadResponse(String),
    /// A fault of this function, not of Dataverse or the settings, with the error behind it.
    #[error("internal error: {what}: {source}")]
    Internal {
        /// What this function was doing.
        what: String,
        /// The error it met.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn hint(status: u16, message: &str) -> &'static str {
    if status == 403 || message.contains("privilege") {
        " (give the application user a security role with read and write access to the session and configuration tables)"
    } else {
        ""
    }
}

impl DataverseError {
    /// A fault of this function while doing `what`, keeping the error behind it.
    pub(crate) fn internal(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        DataverseError::Internal {
            what: what.into(),
            source: Box::new(source),
        }
    }

    /// True when Dataverse refused a query because it compares a Date only column (an
    /// `Edm.Date`) with a date and time: ODataLib's "incompatible types" 400.
    pub(crate) fn compares_date_only(&self) -> bool {
        matches!(self, DataverseError::Api { status: 400, message, .. }
            if message.contains("incompatible types") && message.contains("'Edm.Date'"))
    }

    /// The table or column a 400/404 complains about, quoted in Dataverse's message as
    /// "Could not find a property named 'x'" or "Resource not found for the segment 'x'".
    pub fn unknown_name(&self) -> Option<&str> {
        let DataverseError::Api {
            status: 400 | 404,
            message,
            ..
        } = self
        else {
            return None;
        };
        if !(message.contains("Could not find a property named")
            || message.contains("Resource not found for the segment"))
        {
            return None;
        }
        let start = message.find('\'')? + 1;
        let end = start + message[start..].find('\'')?;
        Some(&message[start..end])
    }
}
