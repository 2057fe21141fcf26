//! One sweep's view of the Dataverse environment: the client, the Web API root, the schema and
//! the budget, held together so that callers ask for typed things ("the active
//! configurations", "the sessions matching this query", "close these") and never see a URL, a
//! filter or a JSON body.

use super::client::{Dataverse, Environment};
use super::query::{self, ReopenQuery, SessionChange, SessionQuery, UpcomingQuery, WarningQuery};
use super::wire::{self, ConfigurationRow, Page, RowError, SessionRow, WhoAmI};
use super::DataverseError;
use crate::budget::Budget;
use crate::ids::Guid;
use crate::settings::{NotifySettings, Schema};

mod write;

use chrono::{DateTime, Utc};
use reqwest::Url;
use std::collections::HashSet;
use std::sync::Arc;
pub use write::{SessionWrite, Write};

/// The environment as one sweep sees it; cheap to clone into a task.
#[derive(Clone)]
pub struct Org {
    dataverse: Arc<Dataverse>,
    env: Environment,
    schema: Arc<Schema>,
    close_body: Arc<str>,
    reopen_body: Arc<str>,
    /// The warned-at PATCH, when `SESSION_WARNED_AT_COLUMN` is set.
    warn_body: Option<Arc<str>>,
    notify: Arc<NotifySettings>,
    budget: Budget,
}

/// A session row as read, or why it cannot be judged.
pub type ReadRow = Result<SessionRow, RowError>;

/// Where a paged session query stands.
pub struct SessionPages {
    /// The next page, or the error met reading the last page's `@odata.nextLink`; reported
    /// after that page's rows, so they are judged first.
    next: Option<Result<Url, DataverseError>>,
}

impl Org {
    /// Resolves the Web API root from the secret and holds what every request needs; every
    /// close through this handle records `closed_at` (the sweep's instant) as the end time.
    pub async fn open(
        dataverse: Arc<Dataverse>,
        schema: Arc<Schema>,
        budget: Budget,
        closed_at: DateTime<Utc>,
    ) -> Result<Self, DataverseError> {
        let env = dataverse.environment(&budget).await?;
        let close_body = Arc::from(query::change_body(&schema, SessionChange::Close, closed_at));
        let reopen_body = Arc::from(query::change_body(
            &schema,
            SessionChange::Reopen,
            closed_at,
        ));
        let warn_body = schema
            .warned_at
            .as_ref()
            .map(|column| Arc::from(query::warned_body(column, closed_at)));
        Ok(Org {
            dataverse,
            env,
            schema,
            close_body,
            reopen_body,
            warn_body,
            notify: Arc::new(NotifySettings::default()),
            budget,
        })
    }

    /// The same handle sending the messages `notify` configures with its warnings and closes.
    pub fn notifying(mut self, notify: &NotifySettings) -> Self {
        self.notify = Arc::new(notify.clone());
        self
    }

    /// The schema the queries use.
    pub fn schema(&self) -> &Schema {
        &self.schema
    }

    /// The budget every request of this sweep respects.
    pub fn budget(&self) -> &Budget {
        &self.budget
    }

    /// HTTP requests sent so far by the underlying client, retries included.
    pub fn requests_sent(&self) -> u64 {
        self.dataverse.requests_sent()
    }

    /// The last `x-ms-dop-hint` Dataverse sent, if any.
    pub fn dop_hint(&self) -> Option<usize> {
        self.dataverse.dop_hint()
    }

    /// Responses answered 429 so far by the underlying client, retried ones included.
    pub fn throttled_responses(&self) -> u64 {
        self.dataverse.throttled_responses()
    }

    /// The moment Dataverse named in its last 429's `Retry-After`, while it is still ahead.
    pub fn throttled_until(&self) -> Option<DateTime<Utc>> {
        self.dataverse.throttled_until()
    }

    /// The Web API root.
    pub(super) fn root(&self) -> &Url {
        self.env.root()
    }

    /// `relative` (a path and query under the Web API root) as a URL.
    pub(super) fn url(&self, relative: &str) -> Result<Url, DataverseError> {
        self.env
            .root()
            .join(relative)
            .map_err(|error| DataverseError::internal(format!("URL {relative}"), error))
    }

    /// One JSON answer of a GET (a function or a definition).
    pub(super) async fn get_json(&self, url: &Url) -> Result<serde_json::Value, DataverseError> {
        self.dataverse
            .get_json(&self.env, url, &self.budget, "a JSON answer")
            .await
    }

    /// One page of a collection, and the URL of the next one.
    pub(super) async fn page(&self, url: &Url) -> Result<(Page, Option<Url>), DataverseError> {
        let page = self.dataverse.page(&self.env, url, &self.budget).await?;
        let next = page
            .next_link
            .as_deref()
            .map(|link| self.next_url(link))
            .transpose()?;
        Ok((page, next))
    }

    /// The active configurations, all pages.
    pub async fn active_configurations(&self) -> Result<Vec<ConfigurationRow>, DataverseError> {
        let schema = &self.schema;
        let mut url = query::query_url(
            self.env.root(),
            schema.configuration_table.as_str(),
            &wire::configuration_columns(schema),
            query::active_configurations_filter(),
        )?;
        let mut rows = Vec::new();
        loop {
            let page = self.dataverse.page(&self.env, &url, &self.budget).await?;
            for row in &page.value {
                // The filter asked for active rows only; the answer is checked, not trusted.
                if !wire::configuration_is_active(row) {
                    let id = row.get(schema.configuration_id.as_str());
                    tracing::warn!(configuration_id = ?id, "Dataverse returned a configuration that is not active; its timeout is not applied");
                    continue;
                }
                rows.push(wire::configuration_row(schema, row)?);
            }
            match page.next_link {
                Some(next) => url = self.next_url(&next)?,
                None => return Ok(rows),
            }
        }
    }

    /// The first position of a paged read of the sessions `query` asks for.
    pub fn sessions(&self, query: &SessionQuery) -> SessionPages {
        let columns = wire::session_columns(&self.schema);
        self.session_pages(&columns, &query.filter(&self.schema))
    }

    /// The first position of a paged read of the sessions `query` asks for, the ones that
    /// may be due a warning, with the warned-at column when it is configured.
    pub fn warning_candidates(&self, query: &WarningQuery) -> SessionPages {
        let columns = wire::session_columns(&self.schema);
        self.session_pages(&columns, &query.filter(&self.schema))
    }

    /// The first position of a paged read of the closed sessions `query` asks for, with each
    /// row's last change (who, when, why) so that the filter can be checked.
    pub fn reopen_candidates(&self, query: &ReopenQuery) -> SessionPages {
        let columns = wire::reopen_columns(&self.schema);
        self.session_pages(&columns, &query.filter(&self.schema))
    }

    /// The first position of a paged read of the `columns` of the sessions `filter` selects.
    pub(super) fn session_pages(&self, columns: &str, filter: &str) -> SessionPages {
        let url = query::query_url(
            self.env.root(),
            self.schema.session_table.as_str(),
            columns,
            filter,
        );
        SessionPages { next: Some(url) }
    }

    /// The application user this function runs as, from the `WhoAmI` function: the cheapest
    /// request that proves the secret, the token and the user together, and the id Dataverse
    /// records as the last modifier of every session this function changes.
    pub async fn who_am_i(&self) -> Result<WhoAmI, DataverseError> {
        let url = self
            .root()
            .join("WhoAmI")
            .map_err(|error| DataverseError::internal("WhoAmI URL", error))?;
        self.dataverse
            .get_json(&self.env, &url, &self.budget, "the WhoAmI answer")
            .await
    }

    /// The application user's id, checked to be a GUID so that it can stand in a filter.
    pub async fn application_user(&self) -> Result<Guid, DataverseError> {
        let who = self.who_am_i().await?;
        Guid::parse(&who.user_id).ok_or_else(|| {
            DataverseError::BadResponse(format!(
                "WhoAmI answered a UserId that is not a GUID ({:?})",
                who.user_id
            ))
        })
    }

    /// The next page of `pages`, decoded row by row; `None` after the last page.
    pub async fn next_page(
        &self,
        pages: &mut SessionPages,
    ) -> Result<Option<Vec<ReadRow>>, DataverseError> {
        let Some(url) = pages.next.take() else {
            return Ok(None);
        };
        let page = self.dataverse.page(&self.env, &url?, &self.budget).await?;
        pages.next = page.next_link.as_deref().map(|link| self.next_url(link));
        let rows = page
            .value
            .iter()
            .map(|raw| wire::session_row(&self.schema, raw))
            .collect();
        Ok(Some(rows))
    }

    /// For each of `queries`, the time it orders by of the first session it finds (`None`
    /// when it finds none), all read in `$batch` requests of at most 1,000 (Dataverse's
    /// limit): one HTTP request a sweep instead of one per query.
    pub async fn earliest_upcoming_each(
        &self,
        queries: &[UpcomingQuery],
    ) -> Result<Vec<Option<DateTime<Utc>>>, DataverseError> {
        const READS_PER_BATCH: usize = 1000;
        let mut earliest = Vec::with_capacity(queries.len());
        for chunk in queries.chunks(READS_PER_BATCH) {
            let urls = chunk
                .iter()
                .map(|query| query.url(self.env.root(), &self.schema))
                .collect::<Result<Vec<_>, _>>()?;
            let pages = self
                .dataverse
                .top_rows_batched(&self.env, &urls, &self.budget)
                .await?;
            for (query, page) in chunk.iter().zip(pages) {
                earliest.push(match page.value.first() {
                    Some(row) => wire::time_of(row, query.time_column(&self.schema))?,
                    None => None,
                });
            }
        }
        Ok(earliest)
    }

    /// Which of `ids` are in the closed state now. After a 412 this tells a session closed
    /// earlier (by a retried batch whose first answer was lost, or by an agent) from one that
    /// received a message.
    pub async fn closed_among(&self, ids: &[Guid]) -> Result<HashSet<Guid>, DataverseError> {
        // Fifty GUIDs keep the URL near 3 KB, far below the Web API's limit.
        const IDS_PER_QUERY: usize = 50;
        let schema = &self.schema;
        let key = schema.session_id.as_str();
        let mut closed = HashSet::new();
        for chunk in ids.chunks(IDS_PER_QUERY) {
            let url = query::query_url(
                self.env.root(),
                schema.session_table.as_str(),
                &format!("{key},statecode"),
                &query::any_of_filter(schema, chunk),
            )?;
            let page = self.dataverse.page(&self.env, &url, &self.budget).await?;
            closed.extend(page.value.iter().filter_map(|row| {
                let id = Guid::parse(row.get(key)?.as_str()?)?;
                (row.get("statecode")?.as_i64()? == schema.closed_statecode).then_some(id)
            }));
        }
        Ok(closed)
    }

    /// A `@odata.nextLink`, accepted only on the environment's own host.
    fn next_url(&self, next: &str) -> Result<Url, DataverseError> {
        let url = self
            .root()
            .join(next)
            .map_err(|error| DataverseError::BadResponse(format!("@odata.nextLink {error}")))?;
        if url.origin() != self.env.root().origin() {
            return Err(DataverseError::BadResponse(
                "@odata.nextLink points outside the environment".into(),
            ));
        }
        Ok(url)
    }
}
