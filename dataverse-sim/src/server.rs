//! [`Sim`]: the HTTP server. It owns the connection loop (hyper, not a framework, because an
//! injected "dropped connection" must close the socket without writing any response: the
//! service returns an error and hyper tears the connection down), routes requests to the
//! token endpoint, the Web API (through `pipeline`) and the admin endpoints, and keeps
//! [`Stats`].
//!
//! The execution cost is slept after the lock is released, so concurrent requests cost
//! time in parallel while the operations of one `$batch` add up, as in Dataverse.

use std::fmt;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::auth;
use crate::clock::SimClock;
use crate::dataset::Dataset;
use crate::faults::Faults;
use crate::ids::INTEGRATION_USER_ID;
use crate::limits::Limits;
use crate::options::SimOptions;
use crate::pipeline::{web_api, InFlight, Outcome};
use crate::reply::{codes, dataverse_error, Reply};
use crate::request::{Headers, API_PREFIX};
use crate::state::{lock, Shared, State};
use crate::stats::{LoggedRequest, Stats};
use crate::store::Store;
use crate::timeline;
use crate::webapi;

/// A running simulator; dropping it stops accepting connections.
pub struct Sim {
    state: Shared,
    url: String,
    accept_loop: JoinHandle<()>,
}

/// Returned by the service to make hyper close the connection without a response.
#[derive(Debug)]
struct DropConnection;

impl fmt::Display for DropConnection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for DropConnection {}

impl Sim {
    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start(options: SimOptions, data: Dataset) -> std::io::Result<Sim> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        Sim::start_on(listener, options, data).await
    }

    /// Serves on an already bound listener.
    pub async fn start_on(
        listener: TcpListener,
        options: SimOptions,
        data: Dataset,
    ) -> std::io::Result<Sim> {
        let url = url_of(listener.local_addr()?);
        let state = State::shared(url.clone(), options, Store::from_dataset(data));
        let accept_loop = tokio::spawn(accept_loop(listener, state.clone()));
        Ok(Sim {
            state,
            url,
            accept_loop,
        })
    }

    /// `http://127.0.0.1:PORT`: both the environment URL and the authority URL.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        lock(&self.state)
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> Stats {
        self.lock().stats
    }

    /// Zeroes the counters (the fault clock keeps running).
    pub fn reset_stats(&self) {
        self.lock().stats = Stats::default();
    }

    /// One row with every column (`statecode`, `statuscode`, `versionnumber` included).
    pub fn row(&self, entity_set: &str, id: &str) -> Option<Value> {
        self.lock()
            .store
            .get(entity_set, id)
            .map(|row| Value::Object(row.clone()))
    }

    /// Every row of a table, ordered by primary key; empty for an unknown table.
    pub fn rows(&self, entity_set: &str) -> Vec<Value> {
        webapi::all_rows(&self.lock(), entity_set).unwrap_or_default()
    }

    /// Inserts (or replaces) a row as a new version; ignored for an unknown table or a row
    /// without a string primary key.
    pub fn insert(&self, entity_set: &str, row: Value) {
        self.lock().store.insert(entity_set, row);
    }

    /// Merges `changes` into a row and bumps its version, like a person editing it: the row
    /// is then last modified by [`crate::INTEGRATION_USER_ID`], now.
    pub fn update(&self, entity_set: &str, id: &str, changes: Value) {
        if let Value::Object(changes) = changes {
            self.lock()
                .store
                .merge(entity_set, id, &changes, INTEGRATION_USER_ID);
        }
    }

    /// Replaces the fault switches; rows touched by an earlier `touch_after_read` may be
    /// touched again.
    pub fn set_faults(&self, faults: Faults) {
        self.lock().faults.replace(faults);
    }

    /// Replaces the limits, cost and dop hint; what the window already holds still counts.
    pub fn set_limits(&self, limits: Limits) {
        self.lock().options.limits = limits;
    }

    /// Takes away a read privilege: every GET of `entity_set` (or of `EntityDefinitions`)
    /// answers 403 naming `privilege`, as Dataverse does for a security role without it.
    pub fn deny_privilege(&self, entity_set: &str, privilege: &str) {
        self.lock()
            .denied
            .insert(entity_set.to_string(), privilege.to_string());
    }

    /// Every Web API request so far as `METHOD target` (path after `/api/data/v9.2/`, query
    /// included), in arrival order; token and admin requests are not listed.
    pub fn request_log(&self) -> Vec<String> {
        self.lock()
            .log
            .iter()
            .map(|request| request.line.clone())
            .collect()
    }

    /// Every Web API request so far with when it arrived, what it was answered and how many
    /// rows it was served, in arrival order; token and admin requests are not listed.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().log.clone()
    }

    /// Sets the clock rows are stamped with (virtual time for a driver that plays a day).
    pub fn set_clock(&self, clock: SimClock) {
        self.lock().store.clock = clock;
    }

    /// Changes the client secret and revokes every token issued so far.
    pub fn rotate_client_secret(&self, new_secret: &str) {
        let mut state = self.lock();
        state.options.client_secret = new_secret.to_string();
        state.tokens.clear();
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        self.accept_loop.abort();
    }
}

fn url_of(address: SocketAddr) -> String {
    let port = address.port();
    match address {
        SocketAddr::V4(v4) if v4.ip().is_unspecified() => format!("http://127.0.0.1:{port}"),
        SocketAddr::V4(v4) => format!("http://{}:{port}", v4.ip()),
        SocketAddr::V6(v6) if v6.ip().is_unspecified() => format!("http://[::1]:{port}"),
        SocketAddr::V6(v6) => format!("http://[{}]:{port}", v6.ip()),
    }
}

async fn accept_loop(listener: TcpListener, state: Shared) {
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Usually out of file descriptors; back off instead of spinning.
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        tokio::spawn(async move {
            let service = service_fn(move |request| handle(state.clone(), request));
            // A connection error (including our own DropConnection) just ends it.
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

enum Route {
    Admin,
    Token(String),
    WebApi(String),
    Unknown,
}

fn route(path: &str) -> Route {
    if path.starts_with("/_sim/") {
        return Route::Admin;
    }
    if let Some(target) = path.strip_prefix(API_PREFIX) {
        return Route::WebApi(target.to_string());
    }
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match segments.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] if !tenant.is_empty() => {
            Route::Token((*tenant).to_string())
        }
        _ => Route::Unknown,
    }
}

fn to_response(reply: Reply) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(reply.body)));
    *response.status_mut() =
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::from_bytes(name.as_bytes()),
            hyper::header::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

/// The request's headers as the pipeline reads them (values decoded lossily).
fn request_headers(request: &Request<Incoming>) -> Headers {
    Headers(
        request
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
    )
}

async fn handle(
    state: Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let headers = request_headers(&request);
    let route = route(&path);
    if let Route::Admin = route {
        if method == "POST" {
            let body = request
                .into_body()
                .collect()
                .await
                .map_err(|_| DropConnection)?;
            return Ok(to_response(timeline::admin_post(
                &state,
                &path,
                &body.to_bytes(),
            )));
        }
        return Ok(to_response(admin(&state, &method, &path)));
    }

    let latency = {
        let mut state = lock(&state);
        state.stats.requests += 1;
        state.faults.switches.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DropConnection),
    };

    let outcome = {
        let mut state = lock(&state);
        match route {
            Route::Token(tenant) => Outcome::answered(token(&mut state, &method, &tenant, &body)),
            Route::WebApi(target) => web_api(&mut state, &method, &target, &query, &headers, &body),
            Route::Admin | Route::Unknown => Outcome::answered(dataverse_error(
                404,
                codes::RESOURCE_NOT_FOUND,
                format!("No HTTP resource was found that matches the request URI '{path}'."),
            )),
        }
    };
    // Held across the sleep: a request occupies its concurrency slot while it executes.
    let _slot = outcome.admitted.then(|| InFlight {
        state: state.clone(),
        cost: outcome.cost,
    });
    if !outcome.cost.is_zero() {
        tokio::time::sleep(outcome.cost).await;
    }
    match outcome.reply {
        Some(reply) => Ok(to_response(reply)),
        None => Err(DropConnection),
    }
}

fn token(state: &mut State, method: &str, tenant: &str, body: &[u8]) -> Reply {
    state.stats.token_requests += 1;
    if method == "POST" {
        auth::token(state, tenant, body)
    } else {
        Reply::json(
            405,
            &serde_json::json!({"error": "invalid_request", "error_description": "The token endpoint only accepts POST."}),
        )
    }
}

fn admin(state: &Shared, method: &str, path: &str) -> Reply {
    if method != "GET" {
        return dataverse_error(
            405,
            codes::QUERY_SYNTAX,
            "Admin endpoints only accept GET, and POST to /_sim/clock and /_sim/changes.",
        );
    }
    let state = lock(state);
    if path == "/_sim/stats" {
        return match serde_json::to_value(state.stats) {
            Ok(value) => Reply::json(200, &value),
            Err(e) => dataverse_error(500, codes::UNEXPECTED, e.to_string()),
        };
    }
    if let Some(set) = path.strip_prefix("/_sim/tables/") {
        return match webapi::all_rows(&state, set) {
            Some(rows) => Reply::json(200, &Value::Array(rows)),
            None => crate::reply::resource_not_found(set),
        };
    }
    dataverse_error(
        404,
        codes::RESOURCE_NOT_FOUND,
        format!("Unknown admin endpoint '{path}'."),
    )
}
