//! The token request: a bearer token for the current credentials, from the cache or from
//! Entra ID, sent through the client's own retries. The cache and the form are in `auth.rs`,
//! which knows nothing of the client.

use super::{Dataverse, Environment};
use crate::budget::Budget;
use crate::credentials::DataverseCredentials;
use crate::dataverse::auth::{token_form, token_url, without_userinfo, AuthError};
use crate::dataverse::wire::{EntraError, TokenResponse};
use crate::dataverse::DataverseError;
use secrecy::SecretString;

impl Dataverse {
    /// A bearer token for the current credentials: cached, or requested from Entra ID; only
    /// while they still name `env`, so that no token for another environment is fetched or
    /// sent to this one.
    pub(in crate::dataverse) async fn token(
        &self,
        env: &Environment,
        budget: &Budget,
    ) -> Result<SecretString, DataverseError> {
        let credentials = self.secrets.get(budget).await?;
        env.still_named_by(&credentials)?;
        if let Some(token) = self.tokens.current(&credentials) {
            return Ok(token);
        }
        match self.request_token(&credentials, budget).await {
            Err(DataverseError::Auth(error)) if error.may_be_rotation() => {
                tracing::warn!(
                    "Entra ID refused the cached client secret; reading the secret again"
                );
                let fresh = self.secrets.refresh(budget).await?;
                env.still_named_by(&fresh)?;
                self.request_token(&fresh, budget).await
            }
            other => other,
        }
    }

    async fn request_token(
        &self,
        credentials: &DataverseCredentials,
        budget: &Budget,
    ) -> Result<SecretString, DataverseError> {
        let url = token_url(credentials);
        let form = token_form(credentials);
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
            description: without_userinfo(
                error.error_description.lines().next().unwrap_or_default(),
            ),
            client_id: credentials.client_id.clone(),
            tenant_id: credentials.tenant_id.clone(),
        }
        .into())
    }
}
