//! The function in virtual time, for `make bench-day` (scripts/bench_day.py): the same `App`
//! and `handle` as the Lambda binary, built from the same environment, but each invocation's
//! `now` is given by the caller through the clock `App` takes, so a day of sweeps runs in
//! seconds and nothing sleeps.
//!
//! One invocation per line on stdin, `{"now": "<RFC 3339>", "event": {...}}`; one answer per
//! line on stdout, `{"response": ...}` or `{"error": {"error_type", "error_message"}}`, with
//! `wall_ms`, the real time the invocation took. An invocation woken ahead of its moment waits
//! by the virtual clock: it prints `{"wait_until": "<RFC 3339>"}` and reads back
//! `{"now": "<RFC 3339>"}`, the moment the caller moved virtual time to (after applying what
//! happened meanwhile). It prints `{"ready": true}` once the app is built. No log subscriber is
//! installed, so stdout carries only these lines.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::sync::mpsc::{channel, Receiver};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, SecondsFormat, Utc};
use lambda_runtime::{Context, Diagnostic, LambdaEvent};
use serde::Deserialize;
use serde_json::{json, Value};
use session_sweeper::handler::{handle, App, Clock, VirtualClock};

/// The template's Timeout: each invocation gets this long before its (real) deadline.
const TIMEOUT_MS: i64 = 300_000;
const DEFAULT_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:session-sweeper-day";

#[derive(Deserialize)]
struct Invocation {
    now: DateTime<Utc>,
    event: Value,
}

/// The caller's answer to a `wait_until`.
#[derive(Deserialize)]
struct Moved {
    now: DateTime<Utc>,
}

/// Writes one line to stdout; false when the caller has gone.
fn say(line: &Value) -> bool {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}").and_then(|()| out.flush()).is_ok()
}

/// The lines of stdin, read on their own thread so that a wait inside an invocation can read
/// its answer while the main loop is in that invocation.
fn lines() -> Arc<Mutex<Receiver<String>>> {
    let (send, receive) = channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if send.send(line).is_err() {
                break;
            }
        }
    });
    Arc::new(Mutex::new(receive))
}

/// The next line of stdin; the lock is released before the line is handled, so a wait can
/// take it.
fn next_line(input: &Mutex<Receiver<String>>) -> Option<String> {
    input.lock().ok()?.recv().ok()
}

/// A virtual clock whose waits ask the caller to move virtual time.
fn driven_clock(input: Arc<Mutex<Receiver<String>>>) -> VirtualClock {
    VirtualClock::new(DateTime::<Utc>::UNIX_EPOCH, move |target| {
        if !say(&json!({ "wait_until": target.to_rfc3339_opts(SecondsFormat::Millis, true) })) {
            return None;
        }
        let line = next_line(&input)?;
        serde_json::from_str::<Moved>(&line)
            .ok()
            .map(|moved| moved.now)
    })
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut app = match runtime.block_on(App::from_env()) {
        Ok(app) => app,
        Err(error) => {
            eprintln!("cannot start: {error}");
            return ExitCode::FAILURE;
        }
    };
    let arn = std::env::var("VIRTUAL_FUNCTION_ARN").unwrap_or_else(|_| DEFAULT_ARN.to_owned());
    let input = lines();
    let clock = driven_clock(Arc::clone(&input));
    app.clock = Clock::Virtual(clock.clone());
    if !say(&json!({"ready": true})) {
        return ExitCode::FAILURE;
    }
    while let Some(line) = next_line(&input) {
        let started = std::time::Instant::now();
        let mut answer = match serde_json::from_str::<Invocation>(&line) {
            Ok(invocation) => {
                clock.set(invocation.now);
                runtime.block_on(invoke(&app, &arn, invocation.event))
            }
            Err(error) => {
                json!({"error": {"error_type": "InvalidInvocation", "error_message": error.to_string()}})
            }
        };
        answer["wall_ms"] = json!(started.elapsed().as_secs_f64() * 1000.0);
        if !say(&answer) {
            break;
        }
    }
    ExitCode::SUCCESS
}

async fn invoke(app: &App, arn: &str, event: Value) -> Value {
    let mut context = Context::default();
    context.invoked_function_arn = arn.to_owned();
    context.deadline = u64::try_from(Utc::now().timestamp_millis() + TIMEOUT_MS).unwrap_or(0);
    match handle(app, LambdaEvent::new(event, context)).await {
        Ok(response) => json!({ "response": response }),
        Err(error) => {
            let diagnostic = Diagnostic::from(error);
            json!({"error": {"error_type": diagnostic.error_type, "error_message": diagnostic.error_message}})
        }
    }
}
