//! The Dataverse Web API client: one `reqwest::Client` with timeouts, authorised requests that
//! survive throttling, outages and token expiry within bounds, paged reads, and `$batch`
//! closes. It moves requests; what they ask for is built in `query` and read in `wire`.

use super::auth::TokenCache;
use super::batch::{self, CloseOutcome};
use super::transport;
use super::wire::{ErrorBody, Page};
use super::DataverseError;
use crate::budget::Budget;
use crate::credentials::SecretSource;
use reqwest::{RequestBuilder, Response, StatusCode, Url};
use secrecy::ExposeSecret;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;

mod environment;
mod retry;
mod token;

pub use environment::Environment;
pub use retry::RetryPolicy;
use retry::{describe, Delivery};

/// The Web API version this client speaks.
pub const API_PATH: &str = "api/data/v9.2/";
/// Rows per page: Dataverse's maximum for standard tables.
pub const PAGE_SIZE: usize = 5000;

/// A Dataverse environment reached with the credentials in Secrets Manager.
pub struct Dataverse {
    pub(super) http: reqwest::Client,
    pub(super) secrets: SecretSource,
    pub(super) tokens: TokenCache,
    retry: RetryPolicy,
    requests: AtomicU64,
    /// Dataverse's pacing signals: the last `x-ms-dop-hint` (0 before any) and the 429s.
    dop_hint: AtomicUsize,
    throttled: AtomicU64,
    /// The wait the last 429 asked for; every request waits it out. A std mutex, because
    /// nothing awaits while it is held.
    hold: Mutex<Option<retry::Hold>>,
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
            dop_hint: AtomicUsize::new(0),
            throttled: AtomicU64::new(0),
            hold: Mutex::new(None),
        })
    }

    /// HTTP requests sent so far to Entra ID and Dataverse, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The last `x-ms-dop-hint` Dataverse sent: its recommended requests in parallel.
    pub fn dop_hint(&self) -> Option<usize> {
        Some(self.dop_hint.load(Ordering::Relaxed)).filter(|hint| *hint > 0)
    }

    /// Responses answered 429 so far, retried ones included.
    pub fn throttled_responses(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// The environment named in the secret, read within `budget`: a sweep's requests go to
    /// it, and stop when the secret names another.
    pub async fn environment(&self, budget: &Budget) -> Result<Environment, DataverseError> {
        Environment::of(&*self.secrets.get(budget).await?)
    }

    /// One page of a collection query, at most [`PAGE_SIZE`] rows; the same preference is
    /// sent for every `@odata.nextLink`, as "Page results" asks.
    pub(super) async fn page(
        &self,
        env: &Environment,
        url: &Url,
        budget: &Budget,
    ) -> Result<Page, DataverseError> {
        self.collection(env, url, budget).await
    }

    async fn collection(
        &self,
        env: &Environment,
        url: &Url,
        budget: &Budget,
    ) -> Result<Page, DataverseError> {
        let response = self
            .send_authorized(
                || {
                    odata(self.http.get(url.clone()))
                        .header("Prefer", format!("odata.maxpagesize={PAGE_SIZE}"))
                },
                env,
                budget,
                &mut Delivery::default(),
            )
            .await?;
        let response = success(response).await?;
        // A page cut off because the budget ended its timeout is the deadline, not a bad answer.
        response.json::<Page>().await.map_err(|error| {
            if error.is_timeout() && budget.exhausted() {
                DataverseError::DeadlineReached
            } else {
                DataverseError::BadResponse(format!("a page of rows: {error}"))
            }
        })
    }

    /// One JSON document (a single row or a function's answer), decoded as `T`; `what` names
    /// it in an error.
    pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        env: &Environment,
        url: &Url,
        budget: &Budget,
        what: &str,
    ) -> Result<T, DataverseError> {
        let response = self
            .send_authorized(
                || odata(self.http.get(url.clone())),
                env,
                budget,
                &mut Delivery::default(),
            )
            .await?;
        success(response)
            .await?
            .json::<T>()
            .await
            .map_err(|error| DataverseError::BadResponse(format!("{what}: {error}")))
    }

    /// The rows of queries that limit themselves with `$top`, read as GETs in one `$batch`:
    /// one HTTP request for all of them. One page per URL, in order. No `Prefer:
    /// odata.maxpagesize` is sent: Dataverse ignores `$top` beside it, and a one-row query
    /// would be served a whole page. Dataverse stops a batch at its first failed request,
    /// whose error is returned.
    pub(super) async fn top_rows_batched(
        &self,
        env: &Environment,
        urls: &[Url],
        budget: &Budget,
    ) -> Result<Vec<Page>, DataverseError> {
        let boundary = new_boundary();
        let body = batch::encode_reads(&boundary, urls);
        let response = self
            .post_batch(
                env,
                &boundary,
                &body,
                None,
                budget,
                &mut Delivery::default(),
            )
            .await?;
        let status = response.status().as_u16();
        let content_type = content_type_of(&response);
        let text = response.text().await.map_err(|error| {
            if error.is_timeout() && budget.exhausted() {
                DataverseError::DeadlineReached
            } else {
                DataverseError::BadResponse(format!("a $batch of reads: {}", describe(&error)))
            }
        })?;
        read_pages(status, &content_type, &text, urls.len())
    }

    /// Sends `change_sets` in one `$batch`, each in a change set of its own; one outcome per
    /// change set, in order, matched on each operation's `Content-ID`. A change set whose
    /// answer cannot be told apart, and a batch answered 5xx after it was sent, have an
    /// unknown outcome, never failed or done.
    pub(super) async fn batch(
        &self,
        env: &Environment,
        change_sets: &[Vec<batch::Operation>],
        budget: &Budget,
    ) -> Result<Vec<CloseOutcome>, DataverseError> {
        let boundary = new_boundary();
        let body = batch::encode_change_sets(&boundary, env.root().path(), change_sets);
        let mut delivery = Delivery::default();
        let sent = self
            .post_batch(
                env,
                &boundary,
                &body,
                Some("odata.continue-on-error"),
                budget,
                &mut delivery,
            )
            .await;
        // A 5xx may come from a gateway after Dataverse ran the batch (a 504 above all).
        let response = match success(sent.map_err(|error| delivery.settle(error))?).await {
            Err(DataverseError::Api { status, code, .. }) if status >= 500 => {
                return Err(DataverseError::OutcomeUnknown {
                    reason: format!("Dataverse answered the $batch {status} {code}"),
                })
            }
            answer => answer?,
        };
        let content_type = content_type_of(&response);
        // From here on Dataverse has answered 200: it ran the batch, and an answer that cannot
        // be read leaves each operation's outcome unknown, not failed.
        let unknown = |reason: String| DataverseError::OutcomeUnknown { reason };
        let text = response.text().await.map_err(|error| {
            unknown(format!("the $batch answer broke off: {}", describe(&error)))
        })?;
        let answers = batch::decode(&content_type, &text)
            .map_err(|reason| unknown(format!("the $batch answer cannot be read: {reason}")))?;
        let sizes: Vec<usize> = change_sets.iter().map(Vec::len).collect();
        Ok(batch::match_change_sets(&sizes, answers))
    }

    /// POSTs `body`, a multipart of `boundary`, to the environment's `$batch`, with `prefer`
    /// when given.
    async fn post_batch(
        &self,
        env: &Environment,
        boundary: &str,
        body: &str,
        prefer: Option<&str>,
        budget: &Budget,
        delivery: &mut Delivery,
    ) -> Result<Response, DataverseError> {
        let url = env
            .root()
            .join("$batch")
            .map_err(|error| DataverseError::internal("$batch URL", error))?;
        self.send_authorized(
            || {
                let request = odata(self.http.post(url.clone())).header(
                    "Content-Type",
                    format!("multipart/mixed; boundary={boundary}"),
                );
                match prefer {
                    Some(preference) => request.header("Prefer", preference),
                    None => request,
                }
                .body(body.to_owned())
            },
            env,
            budget,
            delivery,
        )
        .await
    }

    /// Sends to `env` with a bearer token. A 401 first renews the token, then re-reads the
    /// secret (it may have been rotated), then gives up; a secret that no longer names `env`
    /// stops before its token is fetched.
    async fn send_authorized(
        &self,
        build: impl Fn() -> RequestBuilder,
        env: &Environment,
        budget: &Budget,
        delivery: &mut Delivery,
    ) -> Result<Response, DataverseError> {
        for round in 0..3 {
            let token = self.token(env, budget).await?;
            let response = self
                .send_tracked(
                    || build().bearer_auth(token.expose_secret()),
                    budget,
                    delivery,
                )
                .await?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            tracing::warn!(round, "Dataverse refused the token; renewing it");
            self.tokens.invalidate();
            if round == 1 {
                self.secrets.refresh(budget).await?;
            }
        }
        Err(DataverseError::Unauthorized)
    }
}

/// The headers every Web API request carries, set here only.
fn odata(request: RequestBuilder) -> RequestBuilder {
    request
        .header("Accept", "application/json")
        .header("OData-MaxVersion", "4.0")
        .header("OData-Version", "4.0")
}

/// Passes a success through; turns anything else into Dataverse's error.
async fn success(response: Response) -> Result<Response, DataverseError> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status().as_u16();
    let body = response.text().await.unwrap_or_default();
    Err(api_error(status, &body))
}

/// A `$batch` boundary, different for every request.
fn new_boundary() -> String {
    format!("batch_{:016x}", RandomState::new().build_hasher().finish())
}

/// The response's `Content-Type`, empty when it has none.
fn content_type_of(response: &Response) -> String {
    response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The pages of a `$batch` of `sent` reads answered `status` with `text`. Without
/// continue-on-error Dataverse stops at the first read that fails, puts its error in the last
/// part and answers the batch with that read's status ("Execute batch operations using the Web
/// API"): that read's error is returned, not the multipart text.
fn read_pages(
    status: u16,
    content_type: &str,
    text: &str,
    sent: usize,
) -> Result<Vec<Page>, DataverseError> {
    let bad = |reason: String| DataverseError::BadResponse(format!("a $batch of reads: {reason}"));
    let answers = match batch::decode_reads(content_type, text) {
        Ok(answers) => answers,
        Err(_) if !(200..300).contains(&status) => return Err(api_error(status, text)),
        Err(reason) => return Err(bad(reason)),
    };
    let mut pages = Vec::with_capacity(sent);
    for answer in answers {
        if !(200..300).contains(&answer.status) {
            return Err(api_error(answer.status, &answer.body));
        }
        pages.push(
            serde_json::from_str::<Page>(&answer.body).map_err(|error| bad(error.to_string()))?,
        );
    }
    if !(200..300).contains(&status) {
        return Err(api_error(status, text));
    }
    if pages.len() != sent {
        return Err(bad(format!(
            "Dataverse answered {} of the {sent} reads",
            pages.len()
        )));
    }
    Ok(pages)
}

/// Dataverse's error for an answer with `status` and `body` (its error JSON, or the start of
/// whatever else it sent).
fn api_error(status: u16, body: &str) -> DataverseError {
    let (code, message) = match serde_json::from_str::<ErrorBody>(body) {
        Ok(error) => (error.error.code, error.error.message),
        Err(_) => (String::new(), body.chars().take(300).collect()),
    };
    DataverseError::Api {
        status,
        code,
        message,
    }
}

#[cfg(test)]
mod tests;
