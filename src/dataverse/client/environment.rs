//! The environment a sweep was opened on, pinned for the whole sweep: every token is fetched,
//! and every request sent, only while the secret still names it. A secret rotated to another
//! environment (or tenant, or authority) mid-sweep would otherwise have its new token sent to
//! the Web API root read at the start.

use crate::credentials::DataverseCredentials;
use crate::dataverse::DataverseError;
use reqwest::Url;

use super::API_PATH;

/// The Web API root and the identity it was read with.
#[derive(Debug, Clone)]
pub struct Environment {
    root: Url,
    environment_url: Url,
    tenant_id: String,
    authority_url: Url,
}

impl Environment {
    /// The environment `credentials` name, with its Web API root.
    pub(super) fn of(credentials: &DataverseCredentials) -> Result<Self, DataverseError> {
        let mut base = credentials.environment_url.clone();
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let root = base
            .join(API_PATH)
            .map_err(|error| DataverseError::internal("environment URL", error))?;
        Ok(Environment {
            root,
            environment_url: credentials.environment_url.clone(),
            tenant_id: credentials.tenant_id.clone(),
            authority_url: credentials.authority_url.clone(),
        })
    }

    /// The Web API root, ending in `/`.
    pub fn root(&self) -> &Url {
        &self.root
    }

    /// Passes when `credentials` still name this environment; otherwise the error that stops
    /// the sweep before anything is sent with them.
    pub(super) fn still_named_by(
        &self,
        credentials: &DataverseCredentials,
    ) -> Result<(), DataverseError> {
        let changed = if credentials.environment_url != self.environment_url {
            "environment_url"
        } else if credentials.tenant_id != self.tenant_id {
            "tenant_id"
        } else if credentials.authority_url != self.authority_url {
            "authority_url"
        } else {
            return Ok(());
        };
        tracing::warn!(
            field = changed,
            "the secret now names another environment; stopping the sweep"
        );
        Err(DataverseError::EnvironmentChanged { field: changed })
    }
}
