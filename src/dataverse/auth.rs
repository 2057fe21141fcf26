//! The Entra ID client-credentials token for Dataverse, cached until shortly before it expires
//! so that a warm function does not ask for a token on every sweep, and the request's URL and
//! form. The request itself is sent by the client (`client/token.rs`), like any request.

use crate::credentials::DataverseCredentials;
use secrecy::{ExposeSecret, SecretString};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A token is renewed this long before Entra ID says it expires, so that no request carries a
/// token that expires in flight.
const EXPIRY_MARGIN: Duration = Duration::from_secs(120);

/// The longest a token is kept, whatever Entra ID says (it issues tokens of one to two hours):
/// a bound that also keeps `Instant` arithmetic far from overflow.
const MAX_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// Why Entra ID gave no token.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// Entra ID answered with its error JSON.
    #[error("Entra ID refused the token request for client {client_id} in tenant {tenant_id} ({status} {error}): {description}")]
    Refused {
        status: u16,
        error: String,
        description: String,
        client_id: String,
        tenant_id: String,
    },
    /// A success status with a body that is not a token.
    #[error("Entra ID answered {status} with a body that is not a token response")]
    BadResponse { status: u16 },
}

impl AuthError {
    /// Whether a freshly read secret might cure this (a rotated or wrong client secret).
    pub fn may_be_rotation(&self) -> bool {
        matches!(self, AuthError::Refused { error, .. } if error == "invalid_client" || error == "unauthorized_client")
    }
}

struct Cached {
    token: SecretString,
    // The credentials the token was issued for: a rotated secret naming another app or
    // environment must not reuse it.
    issued_for: String,
    renew_at: Instant,
}

/// The cached bearer token.
#[derive(Default)]
pub struct TokenCache {
    // std Mutex: nothing awaits while it is held.
    cached: Mutex<Option<Cached>>,
}

impl TokenCache {
    /// A cache holding no token yet.
    pub fn new() -> Self {
        TokenCache::default()
    }

    /// The cached token for `credentials`, when it is still fresh.
    pub fn current(&self, credentials: &DataverseCredentials) -> Option<SecretString> {
        let cached = self.cached.lock().ok()?;
        let cached = cached.as_ref()?;
        (cached.issued_for == identity(credentials) && Instant::now() < cached.renew_at)
            .then(|| cached.token.clone())
    }

    /// Stores a token that Entra ID says lives `expires_in` seconds.
    pub fn store(&self, credentials: &DataverseCredentials, token: SecretString, expires_in: u64) {
        let lifetime = Duration::from_secs(expires_in)
            .min(MAX_LIFETIME)
            .saturating_sub(EXPIRY_MARGIN);
        let now = Instant::now();
        let renew_at = now.checked_add(lifetime).unwrap_or(now);
        if let Ok(mut cached) = self.cached.lock() {
            *cached = Some(Cached {
                token,
                issued_for: identity(credentials),
                renew_at,
            });
        }
    }

    /// Forgets the token, after Dataverse refused it.
    pub fn invalidate(&self) {
        if let Ok(mut cached) = self.cached.lock() {
            *cached = None;
        }
    }
}

fn identity(credentials: &DataverseCredentials) -> String {
    format!(
        "{}|{}|{}|{}",
        credentials.authority_url,
        credentials.tenant_id,
        credentials.client_id,
        credentials.environment_url
    )
}

/// The token endpoint: `{authority}/{tenant}/oauth2/v2.0/token`.
pub fn token_url(credentials: &DataverseCredentials) -> String {
    format!(
        "{}/{}/oauth2/v2.0/token",
        credentials.authority_url.as_str().trim_end_matches('/'),
        credentials.tenant_id
    )
}

/// The client-credentials form; the only place the client secret is exposed.
pub fn token_form(credentials: &DataverseCredentials) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "client_credentials".to_owned()),
        ("client_id", credentials.client_id.clone()),
        (
            "client_secret",
            credentials.client_secret.expose_secret().to_owned(),
        ),
        (
            "scope",
            format!(
                "{}/.default",
                credentials.environment_url.as_str().trim_end_matches('/')
            ),
        ),
    ]
}

/// `text` with the user name and password removed from every URL in it. Entra ID echoes the
/// token scope (the environment URL) in some errors, AADSTS500011 among them, and these
/// reach the Lambda error, the log and the check's report; the secret's parser refuses
/// userinfo, and this keeps it out even if a URL carrying it were ever sent.
pub(crate) fn without_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("://") {
        let (before, after) = rest.split_at(start + 3);
        out.push_str(before);
        let authority_end = after
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || "'\"<>".contains(c)
            })
            .unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@') {
            Some(at) => out.push_str(&authority[at + 1..]),
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn credentials() -> DataverseCredentials {
        let json = serde_json::json!({
            "tenant_id": "tenant", "client_id": "client", "client_secret": "secret",
            "environment_url": "https://contoso.crm.dynamics.com",
        });
        DataverseCredentials::from_secret_json("id", &json.to_string()).unwrap()
    }

    #[test]
    fn an_entra_description_that_echoes_a_scope_with_userinfo_is_redacted() {
        let echoed = [
            "AADSTS500011: The resource principal named https://:pw-must-not-leak@contoso.crm.dynamics.com was not found in the tenant named t.",
            "AADSTS500011: scope 'https://user:pw-must-not-leak@contoso.crm.dynamics.com/.default' is not valid.",
            "see http://u@x and https://a:pw-must-not-leak@b.example/c?d",
        ];
        for description in echoed {
            let redacted = without_userinfo(description);

            assert!(!redacted.contains("pw-must-not-leak"), "{redacted}");
            assert!(!redacted.contains('@'), "{redacted}");
            assert!(
                redacted.contains("contoso.crm.dynamics.com") || redacted.contains("b.example/c?d"),
                "{redacted}"
            );
        }
    }

    #[test]
    fn an_entra_description_without_userinfo_is_kept_as_it_is() {
        let description = "AADSTS500011: The resource principal named https://contoso.crm.dynamics.com was not found in the tenant named user@contoso.com.";

        assert_eq!(without_userinfo(description), description);
    }

    #[test]
    fn a_token_with_the_largest_lifetime_is_cached_without_panicking() {
        let cache = TokenCache::new();
        let credentials = credentials();

        cache.store(&credentials, SecretString::from("token"), u64::MAX);

        let token = cache.current(&credentials).expect("the token is cached");
        assert_eq!(token.expose_secret(), "token");
    }

    #[test]
    fn a_token_is_renewed_after_a_day_whatever_lifetime_entra_id_claims() {
        let cache = TokenCache::new();
        cache.store(&credentials(), SecretString::from("token"), u64::MAX);

        let renew_at = cache.cached.lock().unwrap().as_ref().unwrap().renew_at;

        assert!(renew_at <= Instant::now() + MAX_LIFETIME);
    }

    #[test]
    fn a_token_that_expires_within_the_margin_is_not_reused() {
        let cache = TokenCache::new();
        let credentials = credentials();

        cache.store(&credentials, SecretString::from("token"), 60);

        assert!(cache.current(&credentials).is_none());
    }
}
