//! The sweep from start to summary: open the environment, plan, read and judge while closing,
//! await every batch in flight, and report how it ended.

use super::close::Closer;
use super::judge::Pass;
use super::plan::{build_queries, check_configurations};
use super::{upcoming, SweepError, SweepOptions};
use crate::dataverse::{Dataverse, DataverseError, Org};
use crate::settings::Settings;
use crate::summary::{Incomplete, Summary};
use std::sync::Arc;
use std::time::Instant;
use tracing::warn;

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
        summary.finish(
            dataverse.requests_sent() - requests_at_start,
            started.elapsed().as_millis() as u64,
        );
        summary
    };
    let mut summary = Summary::new(options.now, options.dry_run);

    let org = Org::open(dataverse.clone(), schema.clone(), options.budget)
        .await
        .map_err(fail)?;
    let configurations = match org.active_configurations().await {
        Ok(configurations) => configurations,
        Err(DataverseError::DeadlineReached) => {
            warn!("no time left to start the sweep; the next sweep does the work");
            summary.mark_incomplete(Incomplete::Deadline);
            return Ok(finish(summary));
        }
        Err(error) => return Err(fail(error)),
    };
    let checked = check_configurations(settings, &configurations, &mut summary)?;
    let queries = build_queries(
        options.now,
        &checked,
        settings.default_configuration.as_ref(),
    );

    let mut pass = Pass {
        options,
        max_closures: settings.max_closures,
        scheduled: 0,
        cap_reached: false,
        agent_rule: schema.last_agent_message.is_some(),
        summary,
        closer: Closer::new(
            org.clone(),
            settings.close_batch_size,
            settings.close_concurrency,
        ),
    };
    let interrupted = pass.read(&org, &queries).await;
    // Every batch in flight is awaited, even after an error, so that no close goes unreported.
    pass.closer.finish(&mut pass.summary).await;
    let error = pass.closer.take_error().or(interrupted).map(fail);
    if error.is_none() && options.plan_wake && !options.dry_run {
        let min_interval = chrono::Duration::seconds(settings.min_wake_interval.as_secs() as i64);
        upcoming::plan_wake(&org, &queries, options.now, min_interval, &mut pass.summary).await;
    }
    let summary = finish(pass.summary);
    conclude(summary, error)
}

/// The end of a run: the summary, or the error that interrupted it, carrying the summary when
/// something was already changed (or failed) so that no change goes unreported.
pub(super) fn conclude(
    mut summary: Summary,
    error: Option<SweepError>,
) -> Result<Summary, SweepError> {
    let Some(error) = error else {
        return Ok(summary);
    };
    summary.mark_incomplete(Incomplete::Error);
    let changed = summary.closed()
        + summary.reopened().unwrap_or(0)
        + summary.failed_count()
        + summary.outcome_unknown();
    if changed == 0 {
        return Err(error);
    }
    Err(SweepError::Interrupted {
        summary: Box::new(summary),
        source: Box::new(error),
    })
}
