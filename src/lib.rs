//! session-sweeper closes WhatsApp chat sessions in Microsoft Dataverse whose customer has been
//! silent for longer than the Session Timeout of their WhatsApp Configuration.
//!
//! Data flows one way: [`handler`] → [`sweep`] → ([`policy`], [`dataverse`], [`credentials`])
//! → [`summary`]. [`policy`] is pure; every I/O type is built once in [`handler::App`]; the
//! [`budget`] bounds the time of one invocation. `docs/architecture.md` explains the map.

pub mod budget;
pub mod check;
pub mod credentials;
pub mod dataverse;
pub mod handler;
pub mod policy;
pub mod settings;
pub mod summary;
pub mod sweep;

/// Structured JSON logs, one line per event, filtered by `RUST_LOG` (default `info`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
}
