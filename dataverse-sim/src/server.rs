//! [`Sim`]: the HTTP server. It owns the connection loop (hyper, not a framework, because an
//! injected "dropped connection" must close the socket without writing any response: the
//! service returns an error and hyper tears the connection down), routes requests to the
//! token endpoint, the Web API and the admin endpoints, applies faults and keeps [`Stats`].
//!
//! All state sits behind one `std::sync::Mutex`: nothing awaits while it is held, and one
//! lock makes a `$batch` (and its change sets) atomic with respect to other requests.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

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

use crate::codec::Prng;
use crate::reply::{codes, dataverse_error, Reply};
use crate::store::Store;
use crate::webapi::{self, Headers, API_PREFIX};
use crate::{auth, batch, Dataset, Faults, SimOptions, Stats};

/// Everything the simulator knows; guarded by one mutex.
pub(crate) struct State {
    pub base_url: String,
    pub options: SimOptions,
    pub faults: Faults,
    pub store: Store,
    pub stats: Stats,
    pub tokens: HashMap<String, Instant>,
    /// Rows already touched by `Faults::touch_after_read` (each is touched once).
    pub touched: HashSet<String>,
    /// Web API requests seen, the clock of the `*_every` faults.
    pub web_requests: u64,
    pub rng: Prng,
}

type Shared = Arc<Mutex<State>>;

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
        let state = Arc::new(Mutex::new(State {
            base_url: url.clone(),
            faults: options.faults.clone(),
            options,
            store: Store::from_dataset(data),
            stats: Stats::default(),
            tokens: HashMap::new(),
            touched: HashSet::new(),
            web_requests: 0,
            rng: Prng::from_clock(),
        }));
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

    fn lock(&self) -> MutexGuard<'_, State> {
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

    /// Merges `changes` into a row and bumps its version, like a user editing it.
    pub fn update(&self, entity_set: &str, id: &str, changes: Value) {
        if let Value::Object(changes) = changes {
            self.lock().store.merge(entity_set, id, &changes);
        }
    }

    /// Replaces the fault switches; rows touched by an earlier `touch_after_read` may be
    /// touched again.
    pub fn set_faults(&self, faults: Faults) {
        let mut state = self.lock();
        state.faults = faults;
        state.touched.clear();
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

/// Poisoning only means another request panicked mid-update; the data is still usable for a
/// test tool, and refusing every later request would hide the first failure.
fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
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

async fn handle(
    state: Shared,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, DropConnection> {
    let method = request.method().as_str().to_string();
    let path = request.uri().path().to_string();
    let query = request.uri().query().unwrap_or_default().to_string();
    let headers = Headers(
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
    );
    let route = route(&path);
    if let Route::Admin = route {
        return Ok(to_response(admin(&state, &method, &path)));
    }

    let latency = {
        let mut state = lock(&state);
        state.stats.requests += 1;
        state.faults.latency
    };
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    let body = match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => return Err(DropConnection),
    };

    let reply = {
        let mut state = lock(&state);
        match route {
            Route::Token(tenant) => {
                state.stats.token_requests += 1;
                if method == "POST" {
                    auth::token(&mut state, &tenant, &body)
                } else {
                    Reply::json(
                        405,
                        &serde_json::json!({"error": "invalid_request", "error_description": "The token endpoint only accepts POST."}),
                    )
                }
            }
            Route::WebApi(target) => {
                match web_api(&mut state, &method, &target, &query, &headers, &body) {
                    Some(reply) => reply,
                    None => return Err(DropConnection),
                }
            }
            Route::Admin | Route::Unknown => dataverse_error(
                404,
                codes::RESOURCE_NOT_FOUND,
                format!("No HTTP resource was found that matches the request URI '{path}'."),
            ),
        }
    };
    Ok(to_response(reply))
}

/// A Web API request after latency: faults, then auth, then the operation. `None` means
/// "drop the connection".
fn web_api(
    state: &mut State,
    method: &str,
    target: &str,
    query: &str,
    headers: &Headers,
    body: &[u8],
) -> Option<Reply> {
    state.web_requests += 1;
    let n = state.web_requests;
    let due = |every: Option<u64>| every.is_some_and(|k| k > 0 && n.is_multiple_of(k));
    let lose_response = due(state.faults.lose_response_every);
    if due(state.faults.drop_every) {
        state.stats.dropped += 1;
        return None;
    }
    if due(state.faults.unavailable_every) {
        state.stats.unavailable += 1;
        return Some(dataverse_error(
            503,
            codes::UNEXPECTED,
            "The service is temporarily unavailable (injected by dataverse-sim).",
        ));
    }
    if due(state.faults.throttle_every) {
        state.stats.throttled += 1;
        let mut reply = dataverse_error(
            429,
            codes::THROTTLED_REQUESTS,
            "Number of requests exceeded the limit of 6000 over time window of 300 seconds.",
        );
        if let Some(seconds) = state.faults.retry_after_secs {
            reply = reply.with_header("Retry-After", seconds.to_string());
        }
        return Some(reply);
    }
    if !auth::is_authorized(state, headers.get("Authorization")) {
        let challenge = format!(
            "Bearer authorization_uri={}/common/oauth2/authorize, resource_id={}/",
            state.base_url, state.base_url
        );
        return Some(
            dataverse_error(
                401,
                "0x0",
                "The request is not authenticated: a valid bearer token is required.",
            )
            .with_header("WWW-Authenticate", challenge),
        );
    }
    let full_target = if query.is_empty() {
        target.to_string()
    } else {
        format!("{target}?{query}")
    };
    if target == "$batch" || target.eq_ignore_ascii_case("%24batch") {
        if method != "POST" {
            return Some(dataverse_error(
                405,
                codes::QUERY_SYNTAX,
                "The $batch resource only accepts POST.",
            ));
        }
        state.stats.batches += 1;
        let reply = batch::handle(state, headers, body);
        return answer_or_lose(state, reply, lose_response);
    }
    let reply = webapi::dispatch(state, method, &full_target, headers, body);
    answer_or_lose(state, reply, lose_response)
}

/// The reply, or `None` (close the connection) when the fault says the answer of a request
/// that was carried out gets lost on its way back.
fn answer_or_lose(state: &mut State, reply: Reply, lose: bool) -> Option<Reply> {
    if lose {
        state.stats.lost += 1;
        return None;
    }
    Some(reply)
}

fn admin(state: &Shared, method: &str, path: &str) -> Reply {
    if method != "GET" {
        return dataverse_error(405, codes::QUERY_SYNTAX, "Admin endpoints only accept GET.");
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
