//! One sweep: read the active configurations and their timeouts, page through the sessions the
//! server says are past the cutoff, judge each one again with `policy`, and close the eligible
//! ones in `$batch` requests while the next page is read. Every path that is unsure closes
//! nothing: a bad timeout skips its configuration, an unknown table or column stops the sweep
//! before the first close, and a session that changed since it was read is left alone.

use crate::dataverse::wire;
use crate::dataverse::{Budget, CloseOutcome, CloseRequest, Dataverse, DataverseError};
use crate::policy::{decide, SessionTimeout};
use crate::settings::{Schema, Settings};
use crate::summary::{ConfigurationReport, Failed, SessionReport, Skipped, Summary};
use chrono::{DateTime, SecondsFormat, Utc};
use reqwest::Url;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Instant;
use tokio::task::JoinSet;
use tracing::{error, info, warn};

/// The text written to the optional close-reason column.
pub const CLOSE_REASON: &str = "Closed by session timeout";

/// What one sweep is asked to do.
#[derive(Debug, Clone, Copy)]
pub struct SweepOptions {
    /// The instant every decision uses.
    pub now: DateTime<Utc>,
    /// Report, close nothing.
    pub dry_run: bool,
    /// When to stop starting new work.
    pub budget: Budget,
}

/// Why a sweep stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    /// A table or column setting names something the environment does not have.
    #[error("{setting} is set to {name:?}, which this Dataverse environment does not have; correct {setting} (Dataverse said: {source}). No session was closed")]
    UnknownName {
        setting: &'static str,
        name: String,
        source: Box<DataverseError>,
    },
    /// No configuration is active, so no timeout is known.
    #[error("no active WhatsApp configuration was found in {table}; no session was closed")]
    NoActiveConfiguration { table: String },
    /// Every active configuration has an unusable timeout.
    #[error("no active WhatsApp configuration has a usable Session Timeout ({column}), so no session was closed: {problems}")]
    NoUsableConfiguration { column: String, problems: String },
    /// Dataverse or Entra ID failed.
    #[error("{0}")]
    Dataverse(DataverseError),
    /// The sweep failed part-way; what it did before is in `summary`.
    #[error("the sweep stopped after closing {} sessions: {source}", summary.closed)]
    Interrupted {
        summary: Box<Summary>,
        source: Box<SweepError>,
    },
}

impl SweepError {
    fn from_dataverse(schema: &Schema, error: DataverseError) -> Self {
        match error
            .unknown_name()
            .and_then(|name| Some((schema.setting_named(name)?, name.to_owned())))
        {
            Some((setting, name)) => SweepError::UnknownName {
                setting,
                name,
                source: Box::new(error),
            },
            None => SweepError::Dataverse(error),
        }
    }
}

/// Runs one sweep.
pub async fn run(
    dataverse: &Arc<Dataverse>,
    settings: &Settings,
    options: SweepOptions,
) -> Result<Summary, SweepError> {
    let started = Instant::now();
    let requests_at_start = dataverse.requests_sent();
    let schema = Arc::new(settings.schema.clone());
    let fail = |error| SweepError::from_dataverse(&schema, error);
    let finish = |mut summary: Summary| {
        summary.requests = dataverse.requests_sent() - requests_at_start;
        summary.duration_ms = started.elapsed().as_millis() as u64;
        summary
    };
    let mut summary = Summary::new(options.now, options.dry_run);

    let root = dataverse.api_root().await.map_err(fail)?;
    let configurations = match dataverse
        .active_configurations(&root, &schema, &options.budget)
        .await
    {
        Ok(configurations) => configurations,
        Err(DataverseError::DeadlineReached) => {
            warn!("no time left to start the sweep; the next sweep does the work");
            summary.complete = false;
            return Ok(finish(summary));
        }
        Err(error) => return Err(fail(error)),
    };
    let queries = plan(&schema, options.now, &configurations, &mut summary)?;

    let mut pass = Pass {
        options,
        max_closures: settings.max_closures,
        scheduled: 0,
        cap_reached: false,
        summary,
        closer: Closer {
            dataverse: dataverse.clone(),
            root: root.clone(),
            schema: schema.clone(),
            patch_body: Arc::from(patch_body(&schema)),
            batch_size: settings.close_batch_size,
            concurrency: settings.close_concurrency,
            budget: options.budget,
            pending: Vec::new(),
            in_flight: JoinSet::new(),
            error: None,
        },
    };
    let interrupted = pass.read(dataverse, &root, &schema, &queries).await;
    // Every batch in flight is awaited, even after an error, so that no close goes unreported.
    pass.closer.finish(&mut pass.summary).await;
    let mut summary = finish(pass.summary);
    if let Some(error) = pass.closer.error.take().or(interrupted).map(fail) {
        summary.complete = false;
        if summary.closed == 0 && summary.failed.is_empty() {
            return Err(error);
        }
        return Err(SweepError::Interrupted {
            summary: Box::new(summary),
            source: Box::new(error),
        });
    }
    Ok(summary)
}

/// The reading and judging part of a sweep, with what it has decided so far.
struct Pass {
    options: SweepOptions,
    max_closures: usize,
    scheduled: usize,
    cap_reached: bool,
    summary: Summary,
    closer: Closer,
}

impl Pass {
    /// Pages through every query, judging each row as its page arrives. Stops early, with
    /// `complete: false`, at the deadline, at the cap or after a failed batch; returns the
    /// error that interrupted it, if any.
    async fn read(
        &mut self,
        dataverse: &Dataverse,
        root: &Url,
        schema: &Schema,
        queries: &[Query],
    ) -> Option<DataverseError> {
        let budget = self.options.budget;
        for query in queries {
            let mut next = match dataverse.sessions_url(root, schema, &query.filter) {
                Ok(url) => Some(url),
                Err(error) => return Some(error),
            };
            while let Some(url) = next.take() {
                if budget.exhausted() || self.closer.error.is_some() {
                    self.summary.complete = false;
                    return None;
                }
                let page = match dataverse.page(&url, &budget).await {
                    Ok(page) => page,
                    Err(DataverseError::DeadlineReached) => {
                        self.summary.complete = false;
                        return None;
                    }
                    Err(error) => return Some(error),
                };
                for raw in &page.value {
                    self.judge(schema, query, raw).await;
                }
                if self.cap_reached {
                    warn!(
                        cap = self.max_closures,
                        "MAX_CLOSURES_PER_SWEEP reached; the rest waits for the next sweep"
                    );
                    self.summary.complete = false;
                    return None;
                }
                if let Some(link) = page.next_link.as_deref() {
                    match dataverse.next_url(root, link) {
                        Ok(url) => next = Some(url),
                        Err(error) => return Some(error),
                    }
                }
            }
        }
        None
    }

    /// Decides about one row and records or schedules what follows.
    async fn judge(&mut self, schema: &Schema, query: &Query, raw: &Map<String, Value>) {
        let summary = &mut self.summary;
        let row = match wire::session_row(schema, raw) {
            Ok(row) => row,
            Err(problem) => {
                let id = problem.id.unwrap_or_default();
                error!(session_id = %id, configuration_id = %query.configuration_id, reason = %problem.reason, "session cannot be judged");
                summary.eligible += 1;
                summary.failed.push(Failed {
                    id,
                    error: problem.reason,
                });
                return;
            }
        };
        // The server filter asked for active rows; a row in another state is never closed.
        if row.statecode != 0 {
            return;
        }
        let decision = decide(
            query.timeout,
            self.options.now,
            row.last_customer_message,
            row.created_on,
        );
        if !decision.close {
            warn!(session_id = %row.id, configuration_id = %query.configuration_id, "Dataverse returned a session that is not past its timeout; left alone");
            return;
        }
        summary.eligible += 1;
        if query.unassigned {
            info!(session_id = %row.id, "skipped: no configuration and several are active");
            summary.skipped.push(Skipped {
                id: row.id,
                reason: "it has no configuration and several configurations are active".into(),
            });
            return;
        }
        if self.scheduled >= self.max_closures {
            summary.deferred += 1;
            self.cap_reached = true;
            return;
        }
        self.scheduled += 1;
        let report = SessionReport {
            id: row.id,
            configuration_id: query.configuration_id.clone(),
            last_customer_message_at: row.last_customer_message,
            eligible_at: decision.eligible_at,
            overdue_seconds: decision.overdue_seconds,
        };
        if self.options.dry_run {
            info!(session_id = %report.id, configuration_id = %report.configuration_id, overdue_s = report.overdue_seconds, "would close (dry run)");
            summary.record_would_close(report);
        } else {
            self.closer.push(report, row.etag, summary).await;
        }
    }
}

/// One server-side query: the sessions of one configuration past its cutoff.
struct Query {
    configuration_id: String,
    timeout: SessionTimeout,
    filter: String,
    /// Sessions without a configuration while several are active: reported, never closed.
    unassigned: bool,
}

/// Validates the configurations and turns the usable ones into queries.
fn plan(
    schema: &Schema,
    now: DateTime<Utc>,
    configurations: &[wire::ConfigurationRow],
    summary: &mut Summary,
) -> Result<Vec<Query>, SweepError> {
    if configurations.is_empty() {
        return Err(SweepError::NoActiveConfiguration {
            table: schema.configuration_table.to_string(),
        });
    }
    let mut usable = Vec::new();
    let mut problems = Vec::new();
    for configuration in configurations {
        let checked = if wire::is_guid(&configuration.id) {
            SessionTimeout::from_column(configuration.timeout.as_ref(), schema.timeout_unit)
                .map_err(|error| error.to_string())
        } else {
            Err("its id is not a GUID".to_owned())
        };
        match checked {
            Ok(timeout) => {
                info!(configuration_id = %configuration.id, timeout_s = timeout.seconds(), "configuration");
                summary.configurations.push(ConfigurationReport {
                    id: configuration.id.clone(),
                    timeout_seconds: Some(timeout.seconds()),
                    error: None,
                });
                usable.push((configuration.id.clone(), timeout));
            }
            Err(reason) => {
                error!(configuration_id = %configuration.id, reason = %reason, "configuration skipped: none of its sessions is touched");
                problems.push(format!("configuration {}: {reason}", configuration.id));
                summary.configurations.push(ConfigurationReport {
                    id: configuration.id.clone(),
                    timeout_seconds: None,
                    error: Some(reason),
                });
            }
        }
    }
    if usable.is_empty() {
        return Err(SweepError::NoUsableConfiguration {
            column: schema.timeout_column.to_string(),
            problems: problems.join("; "),
        });
    }
    if !problems.is_empty() {
        summary.complete = false;
    }

    let lookup = &schema.configuration_lookup;
    let only_one = configurations.len() == 1;
    let mut queries: Vec<Query> = usable
        .iter()
        .map(|(id, timeout)| {
            // With a single active configuration, sessions without a lookup belong to it.
            let owner = if only_one {
                format!("({lookup} eq {id} or {lookup} eq null)")
            } else {
                format!("{lookup} eq {id}")
            };
            Query {
                configuration_id: id.clone(),
                timeout: *timeout,
                filter: format!(
                    "statecode eq 0 and {owner} and {}",
                    past(schema, timeout.cutoff(now))
                ),
                unassigned: false,
            }
        })
        .collect();
    if !only_one {
        // Past even the longest timeout, such a session would be eligible under any of them;
        // it is still not closed, because which one applies is a guess.
        if let Some((_, longest)) = usable.iter().max_by_key(|(_, timeout)| *timeout) {
            queries.push(Query {
                configuration_id: String::new(),
                timeout: *longest,
                filter: format!(
                    "statecode eq 0 and {lookup} eq null and {}",
                    past(schema, longest.cutoff(now))
                ),
                unassigned: true,
            });
        }
    }
    Ok(queries)
}

/// Last activity at or before `cutoff`: the customer's last message, or creation when the
/// customer never wrote.
fn past(schema: &Schema, cutoff: DateTime<Utc>) -> String {
    let cutoff = cutoff.to_rfc3339_opts(SecondsFormat::Secs, true);
    let last = &schema.last_customer_message;
    format!("({last} le {cutoff} or ({last} eq null and createdon le {cutoff}))")
}

fn patch_body(schema: &Schema) -> String {
    let mut body = serde_json::Map::new();
    body.insert("statecode".into(), schema.closed_statecode.into());
    body.insert("statuscode".into(), schema.closed_statuscode.into());
    if let Some(column) = &schema.close_reason {
        body.insert(column.to_string(), CLOSE_REASON.into());
    }
    serde_json::Value::Object(body).to_string()
}

type BatchResult = (
    Vec<SessionReport>,
    Result<Vec<CloseOutcome>, DataverseError>,
);

/// Groups closes into batches and keeps up to `concurrency` of them in flight while the
/// sweep reads on.
struct Closer {
    dataverse: Arc<Dataverse>,
    root: Url,
    schema: Arc<Schema>,
    patch_body: Arc<str>,
    batch_size: usize,
    concurrency: usize,
    budget: Budget,
    pending: Vec<(SessionReport, String)>,
    in_flight: JoinSet<BatchResult>,
    /// The first batch-level error: no new batch starts after it.
    error: Option<DataverseError>,
}

impl Closer {
    async fn push(&mut self, session: SessionReport, etag: String, summary: &mut Summary) {
        self.pending.push((session, etag));
        if self.pending.len() >= self.batch_size {
            self.flush(summary).await;
        }
    }

    async fn flush(&mut self, summary: &mut Summary) {
        if self.pending.is_empty() {
            return;
        }
        if self.budget.exhausted() || self.error.is_some() {
            summary.deferred += self.pending.len();
            summary.complete = false;
            self.pending.clear();
            return;
        }
        while self.in_flight.len() >= self.concurrency {
            self.settle_one(summary).await;
        }
        let (sessions, closes): (Vec<SessionReport>, Vec<CloseRequest>) = self
            .pending
            .drain(..)
            .map(|(session, etag)| {
                let close = CloseRequest {
                    id: session.id.clone(),
                    etag,
                };
                (session, close)
            })
            .unzip();
        let dataverse = self.dataverse.clone();
        let root = self.root.clone();
        let schema = self.schema.clone();
        let body = self.patch_body.clone();
        let budget = self.budget;
        self.in_flight.spawn(async move {
            let outcome = dataverse
                .close_batch(&root, &schema, &body, &closes, &budget)
                .await;
            (sessions, outcome)
        });
    }

    async fn finish(&mut self, summary: &mut Summary) {
        self.flush(summary).await;
        while !self.in_flight.is_empty() {
            self.settle_one(summary).await;
        }
    }

    /// Among the sessions a batch answered 412 for, those already closed; empty when there is
    /// none, no time, or the check itself fails (they then stay "changed since read").
    async fn closed_before(
        &self,
        sessions: &[SessionReport],
        outcomes: &[CloseOutcome],
    ) -> HashSet<String> {
        let changed: Vec<String> = sessions
            .iter()
            .zip(outcomes)
            .filter(|(_, outcome)| **outcome == CloseOutcome::Changed)
            .map(|(session, _)| session.id.clone())
            .collect();
        if changed.is_empty() || self.budget.exhausted() {
            return HashSet::new();
        }
        self.dataverse
            .closed_among(&self.root, &self.schema, &changed, &self.budget)
            .await
            .unwrap_or_else(|error| {
                warn!(error = %error, "could not check whether the changed sessions are closed");
                HashSet::new()
            })
    }

    async fn settle_one(&mut self, summary: &mut Summary) {
        let Some(joined) = self.in_flight.join_next().await else {
            return;
        };
        let (sessions, result) = match joined {
            Ok(done) => done,
            Err(panic) => {
                error!(error = %panic, "a close batch task failed");
                self.error.get_or_insert(DataverseError::Internal(format!(
                    "a close batch stopped unexpectedly: {panic}"
                )));
                summary.complete = false;
                return;
            }
        };
        match result {
            Ok(outcomes) => {
                let closed_before = self.closed_before(&sessions, &outcomes).await;
                for (session, outcome) in sessions.into_iter().zip(outcomes) {
                    let already_closed = outcome == CloseOutcome::Changed
                        && closed_before.contains(&session.id.to_ascii_lowercase());
                    record(summary, session, outcome, already_closed);
                }
            }
            Err(DataverseError::DeadlineReached) => {
                summary.deferred += sessions.len();
                summary.complete = false;
            }
            Err(failure) => {
                let message = failure.to_string();
                for session in sessions {
                    error!(session_id = %session.id, configuration_id = %session.configuration_id, error = %message, "close failed");
                    summary.failed.push(Failed {
                        id: session.id,
                        error: message.clone(),
                    });
                }
                self.error.get_or_insert(failure);
                summary.complete = false;
            }
        }
    }
}

fn record(
    summary: &mut Summary,
    session: SessionReport,
    outcome: CloseOutcome,
    already_closed: bool,
) {
    let (id, configuration_id) = (session.id.clone(), session.configuration_id.clone());
    match outcome {
        CloseOutcome::Closed => {
            info!(session_id = %id, configuration_id = %configuration_id, eligible_at = %session.eligible_at, overdue_s = session.overdue_seconds, "session closed");
            summary.record_closed(session);
        }
        CloseOutcome::Changed if already_closed => {
            info!(session_id = %id, configuration_id = %configuration_id, "skipped: already closed");
            summary.skipped.push(Skipped {
                id,
                reason: "already closed".into(),
            });
        }
        CloseOutcome::Changed => {
            info!(session_id = %id, configuration_id = %configuration_id, "skipped: changed since read");
            summary.skipped.push(Skipped {
                id,
                reason: "changed since read".into(),
            });
        }
        CloseOutcome::Gone => {
            info!(session_id = %id, configuration_id = %configuration_id, "skipped: no longer exists");
            summary.skipped.push(Skipped {
                id,
                reason: "no longer exists".into(),
            });
        }
        CloseOutcome::Failed { status, message } => {
            error!(session_id = %id, configuration_id = %configuration_id, status, error = %message, "close failed");
            summary.failed.push(Failed {
                id,
                error: format!("{status}: {message}"),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    use crate::settings::tests::default_schema as schema;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
    }

    const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
    const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

    fn configuration(id: &str, timeout: serde_json::Value) -> wire::ConfigurationRow {
        wire::ConfigurationRow {
            id: id.into(),
            timeout: Some(timeout),
        }
    }

    #[test]
    fn one_configuration_also_owns_the_sessions_without_a_lookup() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(
            &schema(),
            now(),
            &[configuration(A, json!(1440))],
            &mut summary,
        )
        .unwrap();
        assert_eq!(queries.len(), 1);
        assert_eq!(
            queries[0].filter,
            format!(
                "statecode eq 0 and (_w4d_configurationid_value eq {A} or _w4d_configurationid_value eq null) and \
                 (w4d_lastcustomermessageon le 2026-11-24T15:00:00Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-24T15:00:00Z))"
            )
        );
    }

    #[test]
    fn several_configurations_report_unassigned_sessions_past_the_longest_timeout() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(
            &schema(),
            now(),
            &[
                configuration(A, json!(30)),
                configuration(B, json!("2 days")),
            ],
            &mut summary,
        )
        .unwrap();
        assert_eq!(queries.len(), 3);
        let unassigned = &queries[2];
        assert!(unassigned.unassigned);
        assert_eq!(unassigned.timeout.seconds(), 172_800);
        assert!(unassigned
            .filter
            .contains("_w4d_configurationid_value eq null"));
        assert!(!queries[0].filter.contains("eq null and ("));
    }

    #[test]
    fn a_configuration_with_a_bad_timeout_gets_no_query_and_is_reported() {
        let mut summary = Summary::new(now(), false);
        let queries = plan(
            &schema(),
            now(),
            &[configuration(A, json!(0)), configuration(B, json!(60))],
            &mut summary,
        )
        .unwrap();
        assert!(queries.iter().all(|query| query.configuration_id != A));
        assert!(!summary.complete);
        assert!(summary.configurations[0].error.is_some());
    }

    #[test]
    fn no_usable_configuration_is_an_error_before_any_query() {
        let mut summary = Summary::new(now(), false);
        let error = plan(
            &schema(),
            now(),
            &[configuration(A, json!("soon"))],
            &mut summary,
        )
        .err()
        .unwrap();
        assert!(matches!(error, SweepError::NoUsableConfiguration { .. }));
        assert!(error.to_string().contains("w4d_sessiontimeout"));
    }

    #[test]
    fn a_configuration_id_that_is_not_a_guid_never_reaches_a_filter() {
        let mut summary = Summary::new(now(), false);
        let error = plan(
            &schema(),
            now(),
            &[configuration("x or 1 eq 1", json!(60))],
            &mut summary,
        )
        .err()
        .unwrap();
        assert!(error.to_string().contains("GUID"));
    }

    #[test]
    fn the_close_body_sets_the_closed_state_and_optionally_the_reason() {
        let mut schema = schema();
        assert_eq!(patch_body(&schema), r#"{"statecode":1,"statuscode":2}"#);
        schema.close_reason = Some(crate::settings::Name::parse("X", "w4d_closereason").unwrap());
        assert!(patch_body(&schema).contains(r#""w4d_closereason":"Closed by session timeout""#));
    }
}
