//! The Dataverse credentials, read from AWS Secrets Manager and kept for a while in a warm
//! function. The client secret is a `SecretString`: it is exposed only where the token request
//! is built, and neither `Debug` nor any error ever shows it.

use crate::budget::Budget;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::operation::get_secret_value::GetSecretValueError;
use reqwest::Url;
use secrecy::SecretString;
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Entra ID's public-cloud authority, used when the secret names none.
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";

/// Why the credentials could not be read. Never carries the secret's value.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// Secrets Manager has no such secret.
    #[error("the secret {secret_id:?} does not exist in Secrets Manager (check DATAVERSE_SECRET_ID and the region)")]
    NotFound { secret_id: String },
    /// Secrets Manager answered with an error.
    #[error("Secrets Manager refused to read the secret {secret_id:?}: {code}: {message}")]
    Refused {
        secret_id: String,
        code: String,
        message: String,
    },
    /// Secrets Manager did not answer within the invocation's time left.
    #[error("Secrets Manager did not answer within the {} s left in this invocation to read the secret {secret_id:?}; nothing was sent to Dataverse (check the function's network path to Secrets Manager: a VPC endpoint or NAT gateway)", waited.as_secs())]
    TimedOut { secret_id: String, waited: Duration },
    /// Secrets Manager could not be reached.
    #[error(
        "could not reach Secrets Manager to read the secret {secret_id:?}: {}",
        DisplayErrorContext(source)
    )]
    Unreachable {
        secret_id: String,
        #[source]
        source: Box<SdkError<GetSecretValueError, HttpResponse>>,
    },
    /// The secret has a binary value instead of a string.
    #[error("the secret {secret_id:?} has no SecretString; store the credentials as JSON text")]
    NoSecretString { secret_id: String },
    /// The secret's text is not a JSON object.
    #[error("the secret {secret_id:?} is not a JSON object with tenant_id, client_id, client_secret and environment_url")]
    NotJson { secret_id: String },
    /// A required field is absent, empty or not text.
    #[error(
        "the secret {secret_id:?} has no usable field {field:?} (it must be a non-empty string)"
    )]
    MissingField {
        secret_id: String,
        field: &'static str,
    },
    /// A URL field that cannot be used safely.
    #[error("the secret {secret_id:?} field {field:?} is not usable: {reason}")]
    BadUrl {
        secret_id: String,
        field: &'static str,
        reason: String,
    },
}

/// What is needed to reach one Dataverse environment as its application user.
#[derive(Debug, Clone)]
pub struct DataverseCredentials {
    /// The Entra ID tenant (directory) id.
    pub tenant_id: String,
    /// The app registration's client id.
    pub client_id: String,
    /// The app registration's client secret.
    pub client_secret: SecretString,
    /// The environment, e.g. `https://contoso.crm.dynamics.com`, without a trailing slash.
    pub environment_url: Url,
    /// The Entra ID authority, without a trailing slash.
    pub authority_url: Url,
}

impl DataverseCredentials {
    /// Parses the secret's JSON text; errors name `secret_id` and the field, never a value.
    pub fn from_secret_json(secret_id: &str, text: &str) -> Result<Self, CredentialsError> {
        let fields: Map<String, Value> = match serde_json::from_str(text) {
            Ok(Value::Object(fields)) => fields,
            _ => {
                return Err(CredentialsError::NotJson {
                    secret_id: secret_id.to_owned(),
                })
            }
        };
        let field = |name: &'static str| -> Result<Option<String>, CredentialsError> {
            match fields.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(text)) if !text.trim().is_empty() => {
                    Ok(Some(text.trim().to_owned()))
                }
                Some(_) => Err(CredentialsError::MissingField {
                    secret_id: secret_id.to_owned(),
                    field: name,
                }),
            }
        };
        let required = |name: &'static str| {
            field(name)?.ok_or_else(|| CredentialsError::MissingField {
                secret_id: secret_id.to_owned(),
                field: name,
            })
        };
        let tenant_id = required("tenant_id")?;
        let client_id = required("client_id")?;
        let client_secret = SecretString::from(required("client_secret")?);
        let environment_url = parse_environment_url(secret_id, &required("environment_url")?)?;
        let authority_url = parse_url(
            secret_id,
            "authority_url",
            &field("authority_url")?.unwrap_or_else(|| DEFAULT_AUTHORITY.to_owned()),
        )?;
        if tenant_id.contains(['/', '?', '#']) {
            return Err(CredentialsError::BadUrl {
                secret_id: secret_id.to_owned(),
                field: "tenant_id",
                reason: "it must be a tenant id or domain, not a URL".into(),
            });
        }
        Ok(DataverseCredentials {
            tenant_id,
            client_id,
            client_secret,
            environment_url,
            authority_url,
        })
    }
}

/// The environment's address: a URL as [`parse_url`] accepts it, with no path, because this
/// function adds the Web API path itself and a pasted API URL would double it.
fn parse_environment_url(secret_id: &str, text: &str) -> Result<Url, CredentialsError> {
    let url = parse_url(secret_id, "environment_url", text)?;
    if url.path() != "/" {
        return Err(CredentialsError::BadUrl {
            secret_id: secret_id.to_owned(),
            field: "environment_url",
            reason: format!(
                "it must be the environment's address without a path: write {}, without {:?} (this function adds the Web API path itself)",
                url.origin().ascii_serialization(),
                url.path()
            ),
        });
    }
    Ok(url)
}

/// Accepts `https://` anywhere and `http://` only on a loopback host (the simulator), because
/// the client secret and the bearer token travel to these addresses.
fn parse_url(secret_id: &str, field: &'static str, text: &str) -> Result<Url, CredentialsError> {
    let bad = |reason: String| CredentialsError::BadUrl {
        secret_id: secret_id.to_owned(),
        field,
        reason,
    };
    let url = Url::parse(text.trim_end_matches('/'))
        .map_err(|error| bad(format!("not a URL ({error})")))?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&url) => {}
        "http" => {
            return Err(bad(
                "it must use https:// (http:// is allowed only on localhost)".into(),
            ))
        }
        other => return Err(bad(format!("unsupported scheme {other:?}; use https://"))),
    }
    // Any userinfo, a password alone included: the whole URL becomes the token scope, and
    // Entra ID echoes the scope in its errors. The reason never repeats the value.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "it must not contain a user name or password (remove everything between :// and @; the value is not shown here)".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "it must be a plain address without query or fragment".into()
        ));
    }
    Ok(url)
}

/// Whether `url` names this machine: the only place plain `http://` may carry credentials.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

/// Reads the credentials secret and keeps it for `ttl`, so a warm function does not pay a
/// Secrets Manager call on every sweep, yet notices a rotation within `ttl`.
pub struct SecretSource {
    client: aws_sdk_secretsmanager::Client,
    secret_id: String,
    ttl: Duration,
    // std Mutex: nothing awaits while it is held.
    cached: Mutex<Option<(Instant, Arc<DataverseCredentials>)>>,
}

impl SecretSource {
    /// A source reading `secret_id` through `client`, caching it for `ttl`.
    pub fn new(client: aws_sdk_secretsmanager::Client, secret_id: String, ttl: Duration) -> Self {
        SecretSource {
            client,
            secret_id,
            ttl,
            cached: Mutex::new(None),
        }
    }

    /// The secret's name or ARN.
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }

    /// The credentials, from the cache while it is fresh; a read ends within `budget`.
    pub async fn get(
        &self,
        budget: &Budget,
    ) -> Result<Arc<DataverseCredentials>, CredentialsError> {
        if let Ok(cached) = self.cached.lock() {
            if let Some((read_at, credentials)) = cached.as_ref() {
                if read_at.elapsed() < self.ttl {
                    return Ok(credentials.clone());
                }
            }
        }
        self.refresh(budget).await
    }

    /// Reads the secret again, ignoring the cache (after a rotation made the old one fail);
    /// the read ends within `budget`.
    pub async fn refresh(
        &self,
        budget: &Budget,
    ) -> Result<Arc<DataverseCredentials>, CredentialsError> {
        let secret_id = self.secret_id.clone();
        let request = self.client.get_secret_value().secret_id(&secret_id);
        let timeouts = budget.aws_timeouts();
        let sent = match timeouts.clone() {
            Some(timeouts) => {
                let bounded =
                    aws_sdk_secretsmanager::config::Builder::default().timeout_config(timeouts);
                request.customize().config_override(bounded).send().await
            }
            None => request.send().await,
        };
        let output = sent.map_err(|error| {
            let service = error.as_service_error();
            if matches!(error, SdkError::TimeoutError(_)) {
                return CredentialsError::TimedOut {
                    secret_id: secret_id.clone(),
                    waited: timeouts
                        .as_ref()
                        .and_then(|t| t.operation_timeout())
                        .unwrap_or_default(),
                };
            }
            match (service.and_then(|e| e.code()), service) {
                (Some("ResourceNotFoundException"), _) => CredentialsError::NotFound {
                    secret_id: secret_id.clone(),
                },
                (Some(code), Some(service)) => CredentialsError::Refused {
                    secret_id: secret_id.clone(),
                    code: code.to_owned(),
                    message: service.message().unwrap_or_default().to_owned(),
                },
                _ => CredentialsError::Unreachable {
                    secret_id: secret_id.clone(),
                    source: Box::new(error),
                },
            }
        })?;
        let text = output
            .secret_string()
            .ok_or_else(|| CredentialsError::NoSecretString {
                secret_id: secret_id.clone(),
            })?;
        let credentials = Arc::new(DataverseCredentials::from_secret_json(&secret_id, text)?);
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some((Instant::now(), credentials.clone()));
        }
        Ok(credentials)
    }
}

#[cfg(test)]
mod tests;
