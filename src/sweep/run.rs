//! The sweep from start to summary: open the environment, plan, read and judge while closing,
//! await every batch in flight, and report how it ended. [`Start`] is the prologue and
//! epilogue the reopen run shares.

use super::close::Closer;
use super::judge::{judge_for_sweep, judge_for_warning, Pass};
use super::plan::{plan, Planned};
use super::task::Rules;
use super::upcoming::Warnings;
use super::warn::{eligible_within_lead, warning_query};
use super::{upcoming, SweepError, SweepOptions};
use crate::dataverse::{Dataverse, DataverseError, Org, SessionChange, SessionRow};
use crate::events::EventSink;
use crate::settings::{Schema, Settings};
use crate::summary::{Incomplete, Summary};
use chrono::{DateTime, Utc};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::time::Instant;
use tracing::warn;

/// Runs one sweep, telling `events` of each close and warning Dataverse confirmed.
pub async fn run(
    dataverse: &Arc<Dataverse>,
    settings: &Settings,
    options: SweepOptions,
    events: &EventSink,
) -> Result<Summary, SweepError> {
    let (start, org) = Start::open(dataverse, settings, options).await?;
    let mut summary = Summary::new(options.now, options.dry_run);
    let configurations = match org.active_configurations().await {
        Ok(configurations) => configurations,
        Err(DataverseError::DeadlineReached) => {
            warn!("no time left to start the sweep; the next sweep does the work");
            summary.mark_incomplete(Incomplete::Deadline);
            return start.conclude(summary, None);
        }
        Err(DataverseError::ThrottledUntil { retry_at }) => {
            warn!(%retry_at, "Dataverse asked for a wait past the sweep's stop; the next sweep continues after it");
            summary.mark_incomplete(Incomplete::Throttled);
            if options.plan_wake && !options.dry_run {
                let min_interval = min_interval(settings);
                upcoming::plan_wake(&org, &[], options.now, min_interval, None, &mut summary).await;
            }
            return start.conclude(summary, None);
        }
        Err(error) => return Err(start.fail(error)),
    };
    let queries = plan(options.now, settings, &configurations)
        .adopt(&mut summary)?
        .queries;

    let rules = Rules {
        now: options.now,
        agent_rule: settings.schema.last_agent_message.is_some(),
        closing_messages: settings.notify.closing_text.is_some(),
        lead: settings.notify.warning.as_ref().map(|warning| warning.lead),
    };
    if rules.lead.is_some() {
        summary.expect_warnings();
    }
    if rules.closing_messages {
        summary.expect_closing_messages();
    }
    let mut pass = start.pass(
        &org,
        settings,
        options,
        summary,
        SessionChange::Close,
        events,
    );
    let (interrupted, earliest_in_lead) = read_all(&org, &mut pass, &queries, rules).await;
    let (mut summary, error) = pass.finish(interrupted).await;
    if error.is_none() && options.plan_wake && !options.dry_run {
        let min_interval = min_interval(settings);
        let warnings = rules.lead.map(|lead| Warnings {
            lead,
            earliest_in_lead,
        });
        upcoming::plan_wake(
            &org,
            &queries,
            options.now,
            min_interval,
            warnings,
            &mut summary,
        )
        .await;
    }
    start.conclude(summary, error)
}

/// Reads each planned query, then its warning query when warnings are on, into `pass`: the
/// error that interrupted the reading, if any, and the earliest eligibility among the
/// sessions the warning queries read (for the wake-up).
async fn read_all(
    org: &Org,
    pass: &mut Pass,
    queries: &[Planned],
    rules: Rules,
) -> (Option<DataverseError>, Option<DateTime<Utc>>) {
    let mut earliest_in_lead: Option<DateTime<Utc>> = None;
    for planned in queries {
        let id = planned.configuration_id.as_ref();
        let judge = |row, summary: &mut Summary| judge_for_sweep(planned, row, rules, summary);
        let pages = org.sessions(&planned.query);
        if let ControlFlow::Break(error) = pass.read(org, pages, id, judge).await {
            return (error, earliest_in_lead);
        }
        let Some(lead) = rules.lead else { continue };
        let Some(query) = warning_query(planned, lead) else {
            continue;
        };
        let judge = |row: SessionRow, summary: &mut Summary| {
            if let Some(eligible) = eligible_within_lead(planned, &row, rules.now, lead) {
                earliest_in_lead = Some(earliest_in_lead.map_or(eligible, |e| e.min(eligible)));
            }
            judge_for_warning(planned, row, rules, lead, summary)
        };
        let pages = org.warning_candidates(&query);
        if let ControlFlow::Break(error) = pass.read(org, pages, id, judge).await {
            return (error, earliest_in_lead);
        }
    }
    (None, earliest_in_lead)
}

fn min_interval(settings: &Settings) -> chrono::Duration {
    chrono::Duration::seconds(settings.min_wake_interval.as_secs() as i64)
}

/// What every run starts from: when it started, how many requests had been sent, and the
/// schema its Dataverse errors are read against.
pub(super) struct Start<'a> {
    dataverse: &'a Arc<Dataverse>,
    started: Instant,
    requests_at_start: u64,
    schema: Arc<Schema>,
}

impl<'a> Start<'a> {
    /// Starts the clock and opens the environment.
    pub(crate) async fn open(
        dataverse: &'a Arc<Dataverse>,
        settings: &Settings,
        options: SweepOptions,
    ) -> Result<(Start<'a>, Org), SweepError> {
        let start = Start {
            dataverse,
            started: Instant::now(),
            requests_at_start: dataverse.requests_sent(),
            schema: Arc::new(settings.schema.clone()),
        };
        let org = Org::open(
            dataverse.clone(),
            start.schema.clone(),
            options.budget,
            options.now,
        )
        .await
        .map_err(|error| start.fail(error))?
        .notifying(&settings.notify);
        Ok((start, org))
    }

    /// A Dataverse error as the sweep reports it (a setting named when it names one).
    pub(crate) fn fail(&self, error: DataverseError) -> SweepError {
        SweepError::from_dataverse(&self.schema, error)
    }

    /// A pass over `org` making `change`, within `MAX_CLOSURES_PER_SWEEP`, telling `events`
    /// of each change Dataverse confirmed.
    pub(crate) fn pass(
        &self,
        org: &Org,
        settings: &Settings,
        options: SweepOptions,
        summary: Summary,
        change: SessionChange,
        events: &EventSink,
    ) -> Pass {
        let closer = Closer::new(
            org.clone(),
            settings.close_batch_size,
            settings.close_concurrency,
        )
        .making(change)
        .telling(events.clone());
        Pass::new(options.dry_run, settings.max_closures, summary, closer)
    }

    /// The end of a run: the summary with its cost, or the error that interrupted it,
    /// carrying the summary when something was already changed (or failed) so that no
    /// change goes unreported.
    pub(crate) fn conclude(
        &self,
        mut summary: Summary,
        error: Option<DataverseError>,
    ) -> Result<Summary, SweepError> {
        summary.finish(
            self.dataverse.requests_sent() - self.requests_at_start,
            self.started.elapsed().as_millis() as u64,
        );
        let Some(error) = error.map(|error| self.fail(error)) else {
            return Ok(summary);
        };
        summary.mark_incomplete(Incomplete::Error);
        let changed = summary.closed()
            + summary.warned().map_or(0, |warned| warned.total())
            + summary.reopened().unwrap_or(0)
            + summary.failed().total()
            + summary.outcome_unknown().total();
        if changed == 0 {
            return Err(error);
        }
        Err(SweepError::Interrupted {
            summary: Box::new(summary),
            source: Box::new(error),
        })
    }
}
