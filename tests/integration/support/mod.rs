//! Shared wiring for the integration tests: moto's Secrets Manager (one server per test
//! binary), dataverse-sim (one per test, on a free port), and the real handler between them.

#![allow(dead_code)]

use aws_sdk_secretsmanager::config::{BehaviorVersion, Credentials, Region};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use dataverse_sim::{Dataset, Sim, SimOptions};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use session_sweeper::check::CheckReport;
use session_sweeper::dataverse::RetryPolicy;
use session_sweeper::handler::{handle, App, HandlerError, Response};
use session_sweeper::settings::Settings;
use session_sweeper::summary::Summary;
use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

pub const SESSIONS: &str = "w4d_chatsessions";
pub const CONFIGURATIONS: &str = "w4d_whatsappconfigurations";
pub const SUPPORT: &str = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
pub const SALES: &str = "0b9e8d7c-6a5f-4e3d-9c2b-1a0f9e8d7c61";
pub const SIM_SECRET: &str = "sim-secret";

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The project's venv binary `name`; the Makefile installs it.
pub fn venv_bin(name: &str) -> PathBuf {
    let path = root().join(".venv/bin").join(name);
    assert!(
        path.exists(),
        "{} is missing: run `make venv` (make test does it)",
        path.display()
    );
    path
}

struct Moto {
    url: String,
    /// The access key of a user without permissions (a denying server only).
    key: Option<(String, String)>,
    _child: Mutex<Child>,
}

fn start_moto(deny: bool) -> Moto {
    let mut command = Command::new(venv_bin("python"));
    command.arg(root().join("tests/integration/support/moto_guard.py"));
    if deny {
        command.arg("--deny");
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start moto");
    let mut stdout = BufReader::new(child.stdout.take().expect("moto stdout"));
    let mut next_line = || {
        let mut line = String::new();
        stdout.read_line(&mut line).expect("moto prints its URL");
        line.trim().to_owned()
    };
    let url = next_line();
    assert!(url.starts_with("http://"), "moto said {url:?}");
    let key = deny.then(|| (next_line(), next_line()));
    Moto {
        url,
        key,
        _child: Mutex::new(child),
    }
}

/// The URL of this test binary's moto server, started on first use. The guard script exits
/// when this process does, so no server outlives the tests.
pub fn moto_url() -> String {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| start_moto(false)).url.clone()
}

/// An EventBridge Scheduler client on moto.
pub fn scheduler_client() -> aws_sdk_scheduler::Client {
    scheduler_on(
        &moto_url(),
        Credentials::new("testing", "testing", None, None, "tests"),
    )
}

/// A schedule name no other test uses, starting with `label`.
pub fn unique_schedule(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The schedule `name` of the default group, as moto's EventBridge Scheduler holds it.
pub async fn get_schedule(
    name: &str,
) -> aws_sdk_scheduler::operation::get_schedule::GetScheduleOutput {
    scheduler_client()
        .get_schedule()
        .name(name)
        .group_name("default")
        .send()
        .await
        .expect("the schedule exists")
}

/// An EventBridge Scheduler client whose every request moto refuses (AccessDenied): its user
/// has no permission at all.
pub fn refusing_scheduler_client() -> aws_sdk_scheduler::Client {
    static DENYING: OnceLock<Moto> = OnceLock::new();
    let moto = DENYING.get_or_init(|| start_moto(true));
    let (id, secret) = moto.key.clone().expect("a denying moto prints a key");
    scheduler_on(&moto.url, Credentials::new(id, secret, None, None, "tests"))
}

fn scheduler_on(url: &str, credentials: Credentials) -> aws_sdk_scheduler::Client {
    let config = aws_sdk_scheduler::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(url)
        .credentials_provider(credentials)
        .build();
    aws_sdk_scheduler::Client::from_conf(config)
}

/// An EventBridge client on moto.
pub fn events_client() -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

/// An SQS client on moto.
pub fn sqs_client() -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

/// The ARN the tests' invocations carry as the function's own.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:session-sweeper";

/// A Secrets Manager client on moto.
pub fn secrets_client() -> aws_sdk_secretsmanager::Client {
    let config = aws_sdk_secretsmanager::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(moto_url())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_secretsmanager::Client::from_conf(config)
}

/// A secret name no other test uses.
pub fn unique_secret_name(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "sweeper-tests/{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Stores `value` as the secret `name`.
pub async fn put_secret(name: &str, value: &str) {
    let client = secrets_client();
    let exists = client
        .describe_secret()
        .secret_id(name)
        .send()
        .await
        .is_ok();
    if exists {
        client
            .put_secret_value()
            .secret_id(name)
            .secret_string(value)
            .send()
            .await
            .expect("put secret value");
    } else {
        client
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("create secret");
    }
}

/// The secret JSON that reaches `sim` with `client_secret`.
pub fn secret_json(sim: &Sim, client_secret: &str) -> String {
    json!({
        "tenant_id": "00000000-0000-0000-0000-000000000000",
        "client_id": "sim-client",
        "client_secret": client_secret,
        "environment_url": sim.url(),
        "authority_url": sim.url(),
    })
    .to_string()
}

/// Retries fast enough for tests, with the same bounds as production.
pub fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        base_backoff: std::time::Duration::from_millis(5),
        ..RetryPolicy::default()
    }
}

/// A simulator, a secret that reaches it, and the real handler.
pub struct Harness {
    pub sim: Sim,
    pub app: App,
    pub secret_id: String,
}

/// How to build a harness.
pub struct Setup {
    pub data: Dataset,
    pub options: SimOptions,
    pub env: Vec<(&'static str, String)>,
    /// The secret's text; `None` stores the one that reaches the simulator; `Some("")` stores none.
    pub secret: Option<String>,
}

impl Setup {
    pub fn new(data: Dataset) -> Self {
        Setup {
            data,
            options: SimOptions::default(),
            env: Vec::new(),
            secret: None,
        }
    }

    pub fn env(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.env.push((name, value.into()));
        self
    }

    pub fn secret(mut self, text: impl Into<String>) -> Self {
        self.secret = Some(text.into());
        self
    }

    pub async fn start(self) -> Harness {
        let sim = Sim::start(self.options, self.data)
            .await
            .expect("start dataverse-sim");
        let secret_id = unique_secret_name("dataverse");
        match self.secret {
            None => put_secret(&secret_id, &secret_json(&sim, SIM_SECRET)).await,
            Some(text) if text.is_empty() => {}
            Some(text) => put_secret(&secret_id, &text.replace("{sim}", &sim.url())).await,
        }
        let mut env: HashMap<String, String> = self
            .env
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect();
        env.entry("DATAVERSE_SECRET_ID".into())
            .or_insert(secret_id.clone());
        let settings = Settings::from_lookup(|name| env.get(name).cloned()).expect("settings");
        let app = App::new(settings, secrets_client(), fast_retries())
            .expect("app")
            .with_scheduler(scheduler_client())
            .with_events(events_client());
        Harness {
            sim,
            app,
            secret_id,
        }
    }
}

impl Harness {
    /// A harness with default settings over `data`.
    pub async fn start(data: Dataset) -> Harness {
        Setup::new(data).start().await
    }

    /// One invocation with the scheduled event and no Lambda deadline.
    pub async fn sweep(&self) -> Result<Summary, HandlerError> {
        self.invoke(scheduled_event(json!({}))).await
    }

    /// One invocation with `event`, which asks for a sweep.
    pub async fn invoke(&self, event: Value) -> Result<Summary, HandlerError> {
        let mut context = Context::default();
        context.invoked_function_arn = FUNCTION_ARN.into();
        handle(&self.app, LambdaEvent::new(event, context))
            .await
            .map(sweep_summary)
    }

    /// One invocation of the check.
    pub async fn check(&self) -> CheckReport {
        let event = scheduled_event(json!({"check": true}));
        match handle(&self.app, LambdaEvent::new(event, Context::default())).await {
            Ok(Response::Check(report)) => report,
            other => panic!("the check returned {other:?}"),
        }
    }

    /// One invocation whose Lambda deadline is `ms` milliseconds away.
    pub async fn sweep_with_deadline(&self, ms: i64) -> Result<Summary, HandlerError> {
        let mut context = Context::default();
        context.invoked_function_arn = FUNCTION_ARN.into();
        context.deadline = (Utc::now().timestamp_millis() + ms) as u64;
        handle(
            &self.app,
            LambdaEvent::new(scheduled_event(json!({})), context),
        )
        .await
        .map(sweep_summary)
    }

    /// Ids of the sessions in the closed state.
    pub fn closed_ids(&self) -> BTreeSet<String> {
        self.sim
            .rows(SESSIONS)
            .into_iter()
            .filter(|row| row["statecode"] == 1)
            .filter_map(|row| row["w4d_chatsessionid"].as_str().map(str::to_owned))
            .collect()
    }

    /// Ids of the sessions still active.
    pub fn active_ids(&self) -> BTreeSet<String> {
        self.sim
            .rows(SESSIONS)
            .into_iter()
            .filter(|row| row["statecode"] == 0)
            .filter_map(|row| row["w4d_chatsessionid"].as_str().map(str::to_owned))
            .collect()
    }
}

/// The summary of a sweep's response.
/// The summary of a sweep or reopen run; the check's report is not one.
pub fn sweep_summary(response: Response) -> Summary {
    match response {
        Response::Sweep(summary) => summary,
        Response::Check(report) => panic!("a sweep was expected, the check answered {report:?}"),
    }
}

/// The EventBridge Scheduled Event, with `detail`.
pub fn scheduled_event(detail: Value) -> Value {
    json!({
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-24T15:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:events:us-east-1:123456789012:rule/session-sweeper"],
        "detail": detail
    })
}

pub fn stamp(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A session id from a small number.
pub fn sid(n: u32) -> String {
    format!("5e551000-0000-4000-8000-{n:012}")
}

/// An active configuration row.
pub fn configuration(id: &str, timeout: Value) -> Value {
    json!({
        "w4d_whatsappconfigurationid": id,
        "w4d_name": format!("configuration {id}"),
        "w4d_sessiontimeout": timeout,
        "statecode": 0,
        "statuscode": 1,
        "createdon": "2025-01-01T00:00:00Z",
        "modifiedon": "2025-01-01T00:00:00Z",
    })
}

/// An active session of `configuration` whose customer last wrote `quiet` ago (never, when
/// `None`), created `age` ago.
pub fn session(
    n: u32,
    configuration: Option<&str>,
    quiet: Option<Duration>,
    age: Duration,
) -> Value {
    let now = Utc::now();
    json!({
        "w4d_chatsessionid": sid(n),
        "w4d_name": format!("session {n}"),
        "w4d_lastcustomermessageon": quiet.map(|q| stamp(now - q)),
        "_w4d_configurationid_value": configuration,
        "w4d_closereason": null,
        "statecode": 0,
        "statuscode": 1,
        "createdon": stamp(now - age),
        "modifiedon": stamp(now - age),
    })
}

/// A dataset with the sample schema and these rows.
pub fn org(configurations: Vec<Value>, sessions: Vec<Value>) -> Dataset {
    let empty = Dataset::whatsapp_empty();
    let mut configuration_table = empty.table(CONFIGURATIONS).cloned().expect("schema");
    let mut session_table = empty.table(SESSIONS).cloned().expect("schema");
    configuration_table.rows = configurations;
    session_table.rows = sessions;
    empty
        .with_table(CONFIGURATIONS, configuration_table)
        .with_table(SESSIONS, session_table)
}

/// Ids of a summary's closed sessions.
pub fn summary_closed(summary: &Summary) -> BTreeSet<String> {
    summary
        .closed_sessions()
        .iter()
        .map(|s| s.id.to_string())
        .collect()
}

pub fn hours(h: i64) -> Duration {
    Duration::hours(h)
}

pub fn minutes(m: i64) -> Duration {
    Duration::minutes(m)
}

thread_local! {
    static CAPTURE: std::cell::RefCell<Option<std::sync::Arc<Mutex<Vec<u8>>>>> = const { std::cell::RefCell::new(None) };
}

/// Writes a log line to the capture of the current thread, if any.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some(buffer) = capture.borrow().as_ref() {
                buffer.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The JSON log lines emitted on this thread while it lives. One global subscriber serves
/// every test: per-test scoped subscribers race on tracing's callsite cache and lose events.
/// Use it in a `current_thread` test so that every task logs on this thread.
pub struct LogCapture {
    buffer: std::sync::Arc<Mutex<Vec<u8>>>,
}

impl LogCapture {
    pub fn start() -> LogCapture {
        static INSTALLED: OnceLock<()> = OnceLock::new();
        INSTALLED.get_or_init(|| {
            tracing_subscriber::fmt()
                .json()
                .flatten_event(true)
                .with_max_level(tracing::Level::TRACE)
                .with_writer(|| ThreadWriter)
                .init();
        });
        let buffer = std::sync::Arc::new(Mutex::new(Vec::new()));
        CAPTURE.with(|capture| *capture.borrow_mut() = Some(buffer.clone()));
        LogCapture { buffer }
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.buffer.lock().unwrap().clone()).unwrap()
    }
}

impl Drop for LogCapture {
    fn drop(&mut self) {
        CAPTURE.with(|capture| *capture.borrow_mut() = None);
    }
}

/// The URL of a TCP endpoint on this machine that accepts connections and never answers: an
/// AWS service that stalls. Its thread holds every connection until the test binary exits.
pub fn stalled_endpoint() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a local port");
    let url = format!("http://{}", listener.local_addr().expect("a local address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    url
}
