//! The real built binary under cargo lambda's Runtime API emulator, invoked with the sample
//! events in `events/`, as `make invoke` does by hand.

use crate::support::*;
use serde_json::{json, Value};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Kills the processes when the test ends, however it ends.
struct Running(Vec<Child>);

impl Drop for Running {
    fn drop(&mut self) {
        for child in &mut self.0 {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The template's Timeout, the deadline the deployed function is given.
const FUNCTION_TIMEOUT_SECONDS: &str = "300";

/// scripts/deadline_proxy.py in front of the emulator at `upstream`, as the local runs use it,
/// so the function is given a deadline as Lambda sends it; its runtime API address.
fn deadline_proxy(upstream: &str) -> (Child, String) {
    let mut proxy = Command::new(venv_bin("python"))
        .arg(root().join("scripts/deadline_proxy.py"))
        .args([upstream, FUNCTION_TIMEOUT_SECONDS])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the deadline proxy");
    let mut runtime_api = String::new();
    let stdout = proxy.stdout.take().expect("the proxy's output");
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut runtime_api)
        .expect("the proxy's address");
    (proxy, runtime_api.trim().to_owned())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn wait_for_port(port: u16) {
    let started = Instant::now();
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the emulator did not start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The emulator on a free port, and the function binary connected to it, its standard output
/// going to `stdout` when given.
async fn emulator_with_function(
    harness: &Harness,
    stdout: Option<std::fs::File>,
) -> (u16, Running, Running) {
    let port = free_port();
    let emulator = Command::new(venv_bin("cargo-lambda"))
        .args([
            "lambda",
            "watch",
            "--only-lambda-apis",
            "-A",
            "127.0.0.1",
            "-P",
        ])
        .arg(port.to_string())
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cargo lambda watch");
    wait_for_port(port).await;
    let (proxy, runtime_api) = deadline_proxy(&format!("http://127.0.0.1:{port}/.rt"));
    let function = Running(vec![Command::new(env!("CARGO_BIN_EXE_session-sweeper"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", "_")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url())
        .env("DATAVERSE_SECRET_ID", &harness.secret_id)
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(stdout.map_or_else(Stdio::null, Stdio::from))
        .stderr(Stdio::null())
        .spawn()
        .expect("start the function")]);
    (port, Running(vec![emulator, proxy]), function)
}

async fn invoke(port: u16, event_file: &str) -> (u16, Value) {
    let (status, _, answer) = invoke_with_headers(port, event_file).await;
    (status, answer)
}

/// The status, the response headers and the JSON answer of one invocation.
async fn invoke_with_headers(
    port: u16,
    event_file: &str,
) -> (u16, reqwest::header::HeaderMap, Value) {
    let event = std::fs::read_to_string(root().join(event_file)).unwrap();
    let response = reqwest::Client::new()
        .post(format!(
            "http://127.0.0.1:{port}/2015-03-31/functions/_/invocations"
        ))
        .body(event)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("invoke through the emulator");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    (
        status,
        headers,
        response.json().await.expect("a JSON answer"),
    )
}

fn demo_harness_org() -> dataverse_sim::Dataset {
    org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![
            session(1, Some(SUPPORT), Some(hours(30)), hours(40)),
            session(2, Some(SUPPORT), Some(hours(3)), hours(40)),
        ],
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_built_function_sweeps_when_the_emulator_sends_the_scheduled_event() {
    let harness = Harness::start(demo_harness_org()).await;
    let (port, _emulator, _function) = emulator_with_function(&harness, None).await;

    let (status, summary) = invoke(port, "events/scheduled.json").await;

    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["closed"], 1, "{summary}");
    assert_eq!(summary["closed_sessions"][0]["id"], sid(1));
    assert_eq!(summary["complete"], true);
    assert_eq!(harness.closed_ids(), [sid(1)].into_iter().collect());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dry_run_event_closes_nothing_through_the_emulator() {
    let harness = Harness::start(demo_harness_org()).await;
    let (port, _emulator, _function) = emulator_with_function(&harness, None).await;

    let (_, summary) = invoke(port, "events/dry-run.json").await;

    assert_eq!(summary["dry_run"], true, "{summary}");
    assert_eq!(summary["would_close"], 1);
    assert!(harness.closed_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_malformed_event_returns_a_lambda_error_and_closes_nothing() {
    let harness = Harness::start(demo_harness_org()).await;
    let (port, _emulator, _function) = emulator_with_function(&harness, None).await;

    let (_, answer) = invoke(port, "events/malformed.json").await;

    assert_eq!(answer["errorType"], "InvalidEvent", "{answer}");
    assert!(answer["errorMessage"]
        .as_str()
        .unwrap()
        .contains("Scheduled Event"));
    assert!(harness.closed_ids().is_empty());
    assert_eq!(harness.sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_logs_json_lines_and_one_embedded_metric_format_line() {
    let harness = Harness::start(demo_harness_org()).await;
    let log_path = std::env::temp_dir().join(format!("sweeper-stdout-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let (port, _emulator, function) = emulator_with_function(&harness, Some(log)).await;

    invoke(port, "events/scheduled.json").await;
    drop(function);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);

    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let closed = lines
        .iter()
        .find(|l| l["message"] == "session closed")
        .expect("a close line");
    assert_eq!(closed["session_id"], sid(1));
    assert_eq!(closed["configuration_id"], SUPPORT);
    let metrics: Vec<&Value> = lines.iter().filter(|l| l.get("_aws").is_some()).collect();
    assert_eq!(metrics.len(), 1, "{text}");
    assert_eq!(
        metrics[0]["_aws"]["CloudWatchMetrics"][0]["Namespace"],
        "SessionSweeper"
    );
    assert_eq!(metrics[0]["SessionsClosed"], 1);
    assert_eq!(metrics[0]["SessionsEligible"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_line_of_an_invocation_carries_that_invocations_request_id() {
    let harness = Harness::start(demo_harness_org()).await;
    let log_path =
        std::env::temp_dir().join(format!("sweeper-request-id-{}.log", std::process::id()));
    let log = std::fs::File::create(&log_path).unwrap();
    let (port, _emulator, function) = emulator_with_function(&harness, Some(log)).await;

    invoke(port, "events/scheduled.json").await;
    invoke(port, "events/dry-run.json").await;
    drop(function);
    let text = std::fs::read_to_string(&log_path).unwrap();
    let _ = std::fs::remove_file(&log_path);

    // The handler logs the request id it was given on "sweep started"; every line after it,
    // up to the next invocation's, must carry the same id in the runtime's `requestId`.
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let mut current: Option<&Value> = None;
    let mut invocations = Vec::new();
    for line in lines.iter().filter(|line| line["message"] != "ready") {
        if line["message"] == "sweep started" {
            current = Some(&line["request_id"]);
            invocations.push(&line["request_id"]);
        }
        let expected = current.unwrap_or_else(|| panic!("a line before any invocation: {line}"));
        assert_eq!(&line["requestId"], expected, "{line}");
    }
    assert_eq!(invocations.len(), 2, "{text}");
    assert_ne!(invocations[0], invocations[1]);
    assert!(lines
        .iter()
        .any(|line| line.get("_aws").is_some() && line["requestId"] == *invocations[0]));
}
