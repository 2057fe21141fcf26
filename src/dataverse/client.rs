//! The Dataverse Web API client: one `reqwest::Client` with timeouts, authorised requests that
//! survive throttling, outages and token expiry within bounds, paged reads, and `$batch` closes.

use super::auth::{self, AuthError, TokenCache};
use super::batch::{self, CloseOutcome, CloseRequest};
use super::transport;
use super::wire::{self, EntraError, ErrorBody, Page, TokenResponse};
use super::DataverseError;
use crate::credentials::SecretSource;
use crate::settings::Schema;
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use secrecy::{ExposeSecret, SecretString};
use std::collections::hash_map::RandomState;
use std::collections::HashSet;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The Web API version this client speaks.
pub const API_PATH: &str = "api/data/v9.2/";
/// Rows per page: Dataverse's maximum for standard tables.
pub const PAGE_SIZE: usize = 5000;

/// How long a sweep may keep starting work.
#[derive(Debug, Clone, Copy)]
pub struct Budget {
    stop_at: Option<Instant>,
}

impl Budget {
    /// No deadline (tests, and a context without one).
    pub fn unlimited() -> Self {
        Budget { stop_at: None }
    }

    /// Stops `margin` before `deadline`.
    pub fn until(deadline: Instant, margin: Duration) -> Self {
        Budget {
            stop_at: Some(deadline.checked_sub(margin).unwrap_or_else(Instant::now)),
        }
    }

    /// Whether no new work may start.
    pub fn exhausted(&self) -> bool {
        self.stop_at.is_some_and(|stop| Instant::now() >= stop)
    }

    /// Time left before the stop, when there is a stop.
    pub fn remaining(&self) -> Option<Duration> {
        self.stop_at
            .map(|stop| stop.saturating_duration_since(Instant::now()))
    }
}

/// Bounds on retries and on each request.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff after a 5xx or a connection error; doubled per attempt, with jitter.
    pub base_backoff: Duration,
    /// Longest single wait, whatever Retry-After says.
    pub max_wait: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 6,
            base_backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .base_backoff
            .saturating_mul(1 << attempt.min(16).saturating_sub(1));
        let capped = exponential.min(self.max_wait);
        // Jitter between half and the whole wait, so parallel batches do not retry in step.
        let random = RandomState::new().build_hasher().finish();
        capped / 2 + capped.mul_f64((random % 1000) as f64 / 2000.0)
    }
}

/// A Dataverse environment reached with the credentials in Secrets Manager.
pub struct Dataverse {
    http: reqwest::Client,
    secrets: SecretSource,
    tokens: TokenCache,
    retry: RetryPolicy,
    requests: AtomicU64,
}

impl Dataverse {
    /// A client that reads its credentials from `secrets`.
    pub fn new(secrets: SecretSource, retry: RetryPolicy) -> Result<Self, DataverseError> {
        let http = transport::http_client(retry.request_timeout)?;
        Ok(Dataverse {
            http,
            secrets,
            tokens: TokenCache::new(),
            retry,
            requests: AtomicU64::new(0),
        })
    }

    /// HTTP requests sent so far to Entra ID and Dataverse, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The Web API root of the environment named in the secret.
    pub async fn api_root(&self) -> Result<Url, DataverseError> {
        let credentials = self.secrets.get().await?;
        let mut root = credentials.environment_url.clone();
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        root.join(API_PATH)
            .map_err(|error| DataverseError::Internal(format!("environment URL: {error}")))
    }

    /// The active configurations, all pages.
    pub async fn active_configurations(
        &self,
        root: &Url,
        schema: &Schema,
        budget: &Budget,
    ) -> Result<Vec<wire::ConfigurationRow>, DataverseError> {
        let mut url = query_url(
            root,
            schema.configuration_table.as_str(),
            &wire::configuration_columns(schema),
            "statecode eq 0",
        )?;
        let mut rows = Vec::new();
        loop {
            let page = self.page(&url, budget).await?;
            for row in &page.value {
                rows.push(wire::configuration_row(schema, row)?);
            }
            match page.next_link {
                Some(next) => url = self.next_url(root, &next)?,
                None => return Ok(rows),
            }
        }
    }

    /// The URL of the first page of active sessions matching `filter` (which the caller
    /// builds from validated names and typed values only).
    pub fn sessions_url(
        &self,
        root: &Url,
        schema: &Schema,
        filter: &str,
    ) -> Result<Url, DataverseError> {
        query_url(
            root,
            schema.session_table.as_str(),
            &wire::session_columns(schema),
            filter,
        )
    }

    /// Which of `ids` are in the closed state now. After a 412 this tells a session closed
    /// earlier (by a retried batch whose first answer was lost, or by an agent) from one that
    /// received a message. `ids` are GUIDs, checked when the rows were read.
    pub async fn closed_among(
        &self,
        root: &Url,
        schema: &Schema,
        ids: &[String],
        budget: &Budget,
    ) -> Result<HashSet<String>, DataverseError> {
        // Fifty GUIDs keep the URL near 3 KB, far below the Web API's limit.
        const IDS_PER_QUERY: usize = 50;
        let key = schema.session_id.as_str();
        let mut closed = HashSet::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let filter = chunk
                .iter()
                .map(|id| format!("{key} eq {id}"))
                .collect::<Vec<_>>()
                .join(" or ");
            let url = query_url(
                root,
                schema.session_table.as_str(),
                &format!("{key},statecode"),
                &filter,
            )?;
            let page = self.page(&url, budget).await?;
            closed.extend(page.value.iter().filter_map(|row| {
                let id = row.get(key)?.as_str()?;
                (row.get("statecode")?.as_i64()? == schema.closed_statecode)
                    .then(|| id.to_ascii_lowercase())
            }));
        }
        Ok(closed)
    }

    /// A `@odata.nextLink`, accepted only on the environment's own host.
    pub fn next_url(&self, root: &Url, next: &str) -> Result<Url, DataverseError> {
        let url = root
            .join(next)
            .map_err(|error| DataverseError::BadResponse(format!("@odata.nextLink {error}")))?;
        if url.origin() != root.origin() {
            return Err(DataverseError::BadResponse(
                "@odata.nextLink points outside the environment".into(),
            ));
        }
        Ok(url)
    }

    /// One page of a collection query.
    pub async fn page(&self, url: &Url, budget: &Budget) -> Result<Page, DataverseError> {
        let response = self
            .send_authorized(
                || {
                    self.http
                        .get(url.clone())
                        .header("Accept", "application/json")
                        .header("OData-MaxVersion", "4.0")
                        .header("OData-Version", "4.0")
                        .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"))
                },
                budget,
            )
            .await?;
        let response = success(response).await?;
        response
            .json::<Page>()
            .await
            .map_err(|error| DataverseError::BadResponse(format!("a page of rows: {error}")))
    }

    /// Closes `closes` in one `$batch`; one outcome per close, in order. Operations Dataverse
    /// did not answer are reported as failed, never as closed.
    pub async fn close_batch(
        &self,
        root: &Url,
        schema: &Schema,
        patch_body: &str,
        closes: &[CloseRequest],
        budget: &Budget,
    ) -> Result<Vec<CloseOutcome>, DataverseError> {
        let boundary = format!("batch_{:016x}", RandomState::new().build_hasher().finish());
        let body = batch::encode(
            &boundary,
            root.path(),
            schema.session_table.as_str(),
            patch_body,
            closes,
        );
        let url = root
            .join("$batch")
            .map_err(|error| DataverseError::Internal(format!("$batch URL: {error}")))?;
        let response = self
            .send_authorized(
                || {
                    self.http
                        .post(url.clone())
                        .header(
                            "Content-Type",
                            format!("multipart/mixed; boundary={boundary}"),
                        )
                        .header("Accept", "application/json")
                        .header("OData-MaxVersion", "4.0")
                        .header("OData-Version", "4.0")
                        .header("Prefer", "odata.continue-on-error")
                        .body(body.clone())
                },
                budget,
            )
            .await?;
        let response = success(response).await?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let text = response
            .text()
            .await
            .map_err(|error| DataverseError::BadResponse(format!("$batch response: {error}")))?;
        let mut outcomes =
            batch::decode(&content_type, &text).map_err(DataverseError::BadResponse)?;
        outcomes.truncate(closes.len());
        outcomes.resize(
            closes.len(),
            CloseOutcome::Failed {
                status: 0,
                message: "Dataverse sent no result for this operation".into(),
            },
        );
        Ok(outcomes)
    }

    /// Sends with a bearer token. A 401 first renews the token, then re-reads the secret (it
    /// may have been rotated), then gives up.
    async fn send_authorized(
        &self,
        build: impl Fn() -> RequestBuilder,
        budget: &Budget,
    ) -> Result<Response, DataverseError> {
        for round in 0..3 {
            let token = self.token(budget).await?;
            let response = self
                .send_with_retries(|| build().bearer_auth(token.expose_secret()), budget)
                .await?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            tracing::warn!(round, "Dataverse refused the token; renewing it");
            self.tokens.invalidate();
            if round == 1 {
                self.secrets.refresh().await?;
            }
        }
        Err(DataverseError::Unauthorized)
    }

    async fn token(&self, budget: &Budget) -> Result<SecretString, DataverseError> {
        let credentials = self.secrets.get().await?;
        if let Some(token) = self.tokens.current(&credentials) {
            return Ok(token);
        }
        match self.request_token(&credentials, budget).await {
            Err(DataverseError::Auth(error)) if error.may_be_rotation() => {
                tracing::warn!(
                    "Entra ID refused the cached client secret; reading the secret again"
                );
                let fresh = self.secrets.refresh().await?;
                self.request_token(&fresh, budget).await
            }
            other => other,
        }
    }

    async fn request_token(
        &self,
        credentials: &crate::credentials::DataverseCredentials,
        budget: &Budget,
    ) -> Result<SecretString, DataverseError> {
        let url = auth::token_url(credentials);
        let form = auth::token_form(credentials);
        let response = self
            .send_with_retries(|| self.http.post(url.as_str()).form(&form), budget)
            .await?;
        let status = response.status().as_u16();
        if response.status().is_success() {
            let token: TokenResponse = response
                .json()
                .await
                .map_err(|_| AuthError::BadResponse { status })?;
            let secret = SecretString::from(token.access_token);
            self.tokens
                .store(credentials, secret.clone(), token.expires_in);
            return Ok(secret);
        }
        let error: EntraError = response.json().await.unwrap_or(EntraError {
            error: "unknown_error".into(),
            error_description: "Entra ID sent no error description".into(),
        });
        Err(AuthError::Refused {
            status,
            error: error.error,
            // The first line holds the AADSTS code and the reason; the rest is trace noise.
            description: error
                .error_description
                .lines()
                .next()
                .unwrap_or_default()
                .to_owned(),
            client_id: credentials.client_id.clone(),
            tenant_id: credentials.tenant_id.clone(),
        }
        .into())
    }

    /// Sends, retrying 429 after `Retry-After` (or 2^attempt seconds), and 5xx and connection
    /// errors with exponential backoff, within the retry bounds and the budget.
    async fn send_with_retries(
        &self,
        build: impl Fn() -> RequestBuilder,
        budget: &Budget,
    ) -> Result<Response, DataverseError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            if budget.exhausted() {
                return Err(DataverseError::DeadlineReached);
            }
            let request = build()
                .build()
                .map_err(|error| DataverseError::Internal(format!("request: {error}")))?;
            transport::check_destination(request.url())?;
            self.requests.fetch_add(1, Ordering::Relaxed);
            let (wait, failure) = match self.http.execute(request).await {
                Ok(response) if response.status().is_redirection() => {
                    return Err(transport::redirected(&response))
                }
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let wait = transport::retry_after(response.headers(), chrono::Utc::now())
                        .unwrap_or_else(|| Duration::from_secs(1 << attempt.min(10)));
                    (wait, DataverseError::Throttled { attempts: attempt })
                }
                Ok(response) if is_transient(response.status()) => (
                    self.retry.backoff(attempt),
                    DataverseError::Unavailable {
                        status: response.status().as_u16(),
                        attempts: attempt,
                    },
                ),
                Ok(response) => return Ok(response),
                Err(error) => (
                    self.retry.backoff(attempt),
                    DataverseError::Unreachable {
                        host: error
                            .url()
                            .and_then(|url| url.host_str().map(str::to_owned))
                            .unwrap_or_default(),
                        attempts: attempt,
                        reason: describe(&error),
                    },
                ),
            };
            if attempt >= self.retry.max_attempts {
                return Err(failure);
            }
            let wait = wait.min(self.retry.max_wait);
            if budget.remaining().is_some_and(|left| wait >= left) {
                return Err(DataverseError::DeadlineReached);
            }
            tracing::warn!(attempt, wait_ms = wait.as_millis() as u64, error = %failure, "retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

fn is_transient(status: StatusCode) -> bool {
    matches!(status.as_u16(), 500 | 502 | 503 | 504)
}

/// The error and its causes, without the URL (which is named separately).
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "connection failed".to_owned()
    } else {
        "connection error".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Passes a success through; turns anything else into Dataverse's error.
async fn success(response: Response) -> Result<Response, DataverseError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    let (code, message) = match serde_json::from_str::<ErrorBody>(&body) {
        Ok(error) => (error.error.code, error.error.message),
        Err(_) => (String::new(), body.chars().take(300).collect()),
    };
    Err(DataverseError::Api {
        status,
        code,
        message,
    })
}

/// `{root}{table}?$select=…&$filter=…`, with spaces encoded as `%20` as the Web API expects.
fn query_url(root: &Url, table: &str, select: &str, filter: &str) -> Result<Url, DataverseError> {
    let text = format!(
        "{root}{table}?$select={}&$filter={}",
        encode_query(select),
        encode_query(filter)
    );
    Url::parse(&text).map_err(|error| DataverseError::Internal(format!("query URL: {error}")))
}

fn encode_query(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z'
            | b'a'..=b'z'
            | b'0'..=b'9'
            | b'-'
            | b'.'
            | b'_'
            | b'~'
            | b'('
            | b')'
            | b','
            | b'\''
            | b':' => out.push(byte as char),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_filter_is_encoded_with_percent_twenty_for_spaces() {
        assert_eq!(
            encode_query("statecode eq 0 and x le 2026-11-24T15:00:00Z"),
            "statecode%20eq%200%20and%20x%20le%202026-11-24T15:00:00Z"
        );
        assert_eq!(encode_query("a+b&c=d"), "a%2Bb%26c%3Dd");
    }

    #[test]
    fn backoff_grows_and_stays_within_the_cap() {
        let policy = RetryPolicy {
            base_backoff: Duration::from_millis(100),
            max_wait: Duration::from_secs(1),
            ..RetryPolicy::default()
        };
        let first = policy.backoff(1);
        assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
        let fourth = policy.backoff(4);
        assert!(fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800));
        assert!(policy.backoff(30) <= Duration::from_secs(1));
    }

    #[test]
    fn a_budget_stops_its_margin_before_the_deadline() {
        let deadline = Instant::now() + Duration::from_secs(5);
        assert!(Budget::until(deadline, Duration::from_secs(10)).exhausted());
        assert!(!Budget::until(deadline, Duration::from_secs(1)).exhausted());
        assert!(!Budget::unlimited().exhausted());
    }
}
