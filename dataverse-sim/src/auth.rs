//! The Microsoft Entra ID token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client
//! credentials grant) and the bearer check every Web API request passes. Tokens are opaque
//! random strings remembered with their expiry; rotating the client secret forgets them all,
//! which is how a test makes a cached token stop working (401 on the Web API).

use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::json;

use crate::codec::{hex_encode, parse_query};
use crate::reply::Reply;
use crate::state::State;

/// Entra's error JSON: `error`, `error_description` (starting with the AADSTS code and
/// ending with trace id, correlation id and timestamp), `error_codes`, `timestamp`,
/// `trace_id`, `correlation_id`, `error_uri`.
fn entra_error(state: &mut State, status: u16, error: &str, code: u32, description: &str) -> Reply {
    let trace_id = state.rng.guid();
    let correlation_id = state.rng.guid();
    let timestamp = Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string();
    let description = format!(
        "AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: {correlation_id}\r\nTimestamp: {timestamp}"
    );
    let body = json!({
        "error": error,
        "error_description": description,
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": format!("{}/error?code={code}", state.base_url),
    });
    let mut reply = Reply::json(status, &body);
    // The identity platform answers plain JSON, not OData.
    reply.headers = vec![
        (
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("Cache-Control".into(), "no-store, no-cache".into()),
    ];
    reply
}

/// Why Entra refuses a token request: HTTP status, `error`, AADSTS code and description.
struct Refusal {
    status: u16,
    error: &'static str,
    code: u32,
    description: String,
}

impl Refusal {
    fn new(status: u16, error: &'static str, code: u32, description: impl Into<String>) -> Self {
        Refusal {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    fn missing(name: &str) -> Self {
        let text = format!("The request body must contain the following parameter: '{name}'.");
        Refusal::new(400, "invalid_request", 900144, text)
    }
}

/// Handles a token request for `tenant` with a form-encoded body.
pub(crate) fn token(state: &mut State, tenant: &str, body: &[u8]) -> Reply {
    let form = parse_query(&String::from_utf8_lossy(body));
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
    };
    let checked = check_grant(&field)
        .and_then(|()| check_client(state, tenant, &field))
        .and_then(|()| check_scope(state, tenant, &field));
    match checked {
        Ok(()) => issue(state),
        Err(r) => entra_error(state, r.status, r.error, r.code, &r.description),
    }
}

fn check_grant(field: &impl Fn(&str) -> Option<String>) -> Result<(), Refusal> {
    let grant_type = field("grant_type").ok_or_else(|| Refusal::missing("grant_type"))?;
    if grant_type != "client_credentials" {
        let text = format!("The app requested an unsupported grant type '{grant_type}'.");
        return Err(Refusal::new(400, "unsupported_grant_type", 70003, text));
    }
    Ok(())
}

fn check_client(
    state: &State,
    tenant: &str,
    field: &impl Fn(&str) -> Option<String>,
) -> Result<(), Refusal> {
    let client_id = field("client_id").ok_or_else(|| Refusal::missing("client_id"))?;
    if client_id != state.options.client_id {
        let text = format!(
            "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
        );
        return Err(Refusal::new(400, "unauthorized_client", 700016, text));
    }
    let Some(secret) = field("client_secret") else {
        let text = "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.";
        return Err(Refusal::new(401, "invalid_client", 7000218, text));
    };
    if secret != state.options.client_secret {
        let text = format!(
            "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."
        );
        return Err(Refusal::new(401, "invalid_client", 7000215, text));
    }
    Ok(())
}

fn check_scope(
    state: &State,
    tenant: &str,
    field: &impl Fn(&str) -> Option<String>,
) -> Result<(), Refusal> {
    let scope = field("scope").ok_or_else(|| Refusal::missing("scope"))?;
    let Some(resource) = scope.strip_suffix("/.default") else {
        let text = format!(
            "The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
        );
        return Err(Refusal::new(400, "invalid_scope", 1002012, text));
    };
    if !is_this_resource(&state.base_url, resource) {
        let text = format!(
            "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
        );
        return Err(Refusal::new(400, "invalid_resource", 500011, text));
    }
    Ok(())
}

/// A new opaque token, remembered with its expiry (expired ones are forgotten here).
fn issue(state: &mut State) -> Reply {
    let mut bytes = [0u8; 32];
    for chunk in bytes.chunks_mut(8) {
        chunk.copy_from_slice(&state.rng.next_u64().to_le_bytes());
    }
    let access_token = format!("sim.{}", hex_encode(&bytes));
    let lifetime = state.options.token_lifetime_secs;
    let now = Instant::now();
    state.tokens.retain(|_, expiry| *expiry > now);
    state
        .tokens
        .insert(access_token.clone(), now + Duration::from_secs(lifetime));
    let body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": access_token,
    });
    let mut reply = Reply::json(200, &body);
    reply.headers = vec![
        (
            "Content-Type".into(),
            "application/json; charset=utf-8".into(),
        ),
        ("Cache-Control".into(), "no-store, no-cache".into()),
    ];
    reply
}

/// The scope's resource must name this environment (trailing slash and `localhost` allowed).
fn is_this_resource(base_url: &str, resource: &str) -> bool {
    let resource = resource.trim_end_matches('/').to_ascii_lowercase();
    let base = base_url.trim_end_matches('/').to_ascii_lowercase();
    resource == base || resource == base.replace("127.0.0.1", "localhost")
}

/// True when the `Authorization` header carries a live token this sim issued.
pub(crate) fn is_authorized(state: &State, authorization: Option<&str>) -> bool {
    let Some(value) = authorization else {
        return false;
    };
    let Some((scheme, token)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && state
            .tokens
            .get(token.trim())
            .is_some_and(|expiry| *expiry > Instant::now())
}
