//! The changes one sweep writes: each session's change set, its PATCH (a close, a reopen or
//! a warning's warned-at, conditional on the ETag read with the row) and the message that must
//! go with it, built from the notify settings and sent in one `$batch`.

use super::Org;
use crate::dataverse::batch::{CloseOutcome, CloseRequest, Operation};
use crate::dataverse::query::SessionChange;
use crate::dataverse::DataverseError;
use crate::ids::Guid;

/// One session's change set: what is written, conditional on the ETag read with the row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionWrite {
    /// The session's primary key.
    pub id: Guid,
    /// The ETag the session had when it was judged.
    pub etag: String,
    /// The configuration that judged it, for an action's `{configuration_id}`.
    pub configuration_id: Guid,
    /// What is written.
    pub write: Write,
}

/// What a change set writes to one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Write {
    /// A close or a reopen; a close with `message` carries the closing message after it.
    Change {
        /// The state change.
        change: SessionChange,
        /// Whether the closing message goes with the close.
        message: bool,
    },
    /// The warned-at PATCH, and the warning message after it when one is configured.
    Warn,
}

impl Org {
    /// Closes `closes` in one `$batch`; one outcome per close, in order.
    pub async fn close(
        &self,
        closes: &[CloseRequest],
    ) -> Result<Vec<CloseOutcome>, DataverseError> {
        self.change(SessionChange::Close, closes).await
    }

    /// Makes `change` to each session of `requests` in one `$batch`, each conditional on its
    /// ETag; one outcome per request, in order (`Closed` meaning the change was made).
    pub async fn change(
        &self,
        change: SessionChange,
        requests: &[CloseRequest],
    ) -> Result<Vec<CloseOutcome>, DataverseError> {
        let body = self.change_body(change);
        let change_sets: Vec<Vec<Operation>> = requests
            .iter()
            .map(|request| vec![self.patch(&request.id, &request.etag, body)])
            .collect();
        self.dataverse
            .batch(&self.env, &change_sets, &self.budget)
            .await
    }

    /// Writes each of `writes` in one `$batch`, each in a change set of its own: the
    /// session's PATCH, conditional on its ETag, then the message that goes with it; one
    /// outcome per write, in order (`Closed` meaning the whole change set was carried out).
    pub async fn write(
        &self,
        writes: &[SessionWrite],
    ) -> Result<Vec<CloseOutcome>, DataverseError> {
        let change_sets = writes
            .iter()
            .map(|write| self.change_set(write))
            .collect::<Result<Vec<_>, _>>()?;
        self.dataverse
            .batch(&self.env, &change_sets, &self.budget)
            .await
    }

    fn change_body(&self, change: SessionChange) -> &str {
        match change {
            SessionChange::Close => &self.close_body,
            SessionChange::Reopen => &self.reopen_body,
        }
    }

    fn patch(&self, id: &Guid, etag: &str, body: &str) -> Operation {
        Operation {
            method: "PATCH",
            path: format!("{}({id})", self.schema.session_table),
            if_match: Some(etag.to_owned()),
            body: body.to_owned(),
        }
    }

    /// The PATCH of `write`, then its message: a message row, an action call, or both when
    /// both are configured.
    fn change_set(&self, write: &SessionWrite) -> Result<Vec<Operation>, DataverseError> {
        let notify = &self.notify;
        let (body, text) = match write.write {
            Write::Change { change, message } => (
                self.change_body(change),
                notify.closing_text.as_deref().filter(|_| message),
            ),
            Write::Warn => {
                let body = self.warn_body.as_deref().ok_or_else(|| {
                    // Settings refuse WARNING_LEAD without the column, so this is a fault here.
                    DataverseError::internal(
                        "building a warning",
                        std::io::Error::other("SESSION_WARNED_AT_COLUMN is not set"),
                    )
                })?;
                let text = notify.warning.as_ref().and_then(|w| w.text.as_deref());
                (body, text)
            }
        };
        let mut operations = vec![self.patch(&write.id, &write.etag, body)];
        let Some(text) = text else {
            return Ok(operations);
        };
        let session_table = &self.schema.session_table;
        if let Some(table) = &notify.message_table {
            let row = table.row(session_table, &write.id, text);
            operations.push(Operation {
                method: "POST",
                path: table.table.to_string(),
                if_match: None,
                body: serde_json::Value::Object(row).to_string(),
            });
        }
        if let Some(action) = &notify.action {
            let path = if action.bound {
                format!(
                    "{session_table}({})/Microsoft.Dynamics.CRM.{}",
                    write.id, action.name
                )
            } else {
                action.name.to_string()
            };
            let parameters = action.body(&write.id, &write.configuration_id, text);
            operations.push(Operation {
                method: "POST",
                path,
                if_match: None,
                body: serde_json::Value::Object(parameters).to_string(),
            });
        }
        Ok(operations)
    }
}
