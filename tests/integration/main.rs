//! One integration binary: the real handler against dataverse-sim and moto's Secrets Manager,
//! EventBridge Scheduler, EventBridge and SQS, and the adapter's edge cases against wiremock.

mod adapter;
mod aws_deadlines;
mod check;
mod check_messages;
mod date_only;
mod emulator;
mod events;
mod judging;
mod misconfigurations;
mod notify;
mod notify_cost;
mod outcomes;
mod pacing;
mod refusals;
mod reliability;
mod reopen;
mod scenarios;
mod secret_urls;
mod session_end;
mod settings_docs;
mod support;
mod throttling;
mod transitions;
mod wake;
mod wake_ahead;
mod wake_writes;
mod warning_oracle;
