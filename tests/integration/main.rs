//! One integration binary: the real handler against dataverse-sim and moto's Secrets Manager,
//! and the adapter's edge cases against wiremock.

mod adapter;
mod aws_deadlines;
mod check;
mod emulator;
mod judging;
mod outcomes;
mod pacing;
mod refusals;
mod reliability;
mod reopen;
mod scenarios;
mod secret_urls;
mod settings_docs;
mod support;
mod throttling;
mod wake;
mod wake_writes;
