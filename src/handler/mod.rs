//! The Lambda boundary: the EventBridge Scheduled Event in, one sweep (or, when its detail asks
//! for it, one reopen run or the read-only check), the summary or the check's report (or a
//! `Diagnostic` with a stable `error_type`) out. Anything but a scheduled event is refused
//! before any request is sent.

use crate::budget::Budget;
use crate::check::{self, CheckReport};
use crate::credentials::SecretSource;
use crate::dataverse::{Dataverse, DataverseError, RetryPolicy};
use crate::events::{EventBus, EventSink, Publisher};
use crate::settings::{Settings, SettingsError};
use crate::summary::Summary;
use crate::sweep::{self, SweepError, SweepOptions};
use crate::wake::{self, Wait, WakeSchedule};
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use tracing::{error, info, warn};

mod clock;
mod event;

pub use clock::{Clock, VirtualClock};
use event::check_not_future;
pub use event::{parse_event, Trigger};

/// What the function holds across warm invocations: settings and clients, built once.
pub struct App {
    /// The validated settings.
    pub settings: Settings,
    /// The Dataverse client, with its secret and token caches.
    pub dataverse: Arc<Dataverse>,
    /// Where the sweep's `now` comes from; a test fixes it to judge exact boundaries.
    pub clock: Clock,
    /// The wake-up schedule, when `WAKE_SCHEDULE_NAME` is set.
    pub wake: Option<WakeSchedule>,
    /// The lifecycle events' bus, when `EVENT_BUS_NAME` is set.
    pub events: Option<EventBus>,
}

/// Why the function could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// A setting is wrong.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] DataverseError),
}

impl App {
    /// Settings from the environment; Secrets Manager, EventBridge Scheduler and EventBridge
    /// through the default AWS configuration (which honours `AWS_ENDPOINT_URL_SECRETS_MANAGER`,
    /// `AWS_ENDPOINT_URL_SCHEDULER` and `AWS_ENDPOINT_URL_EVENTBRIDGE`, as the local runs use).
    pub async fn from_env() -> Result<Self, StartupError> {
        let settings = Settings::from_env()?;
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let secrets = aws_sdk_secretsmanager::Client::new(&aws);
        let scheduler = aws_sdk_scheduler::Client::new(&aws);
        let eventbridge = aws_sdk_eventbridge::Client::new(&aws);
        Ok(App::new(settings, secrets, RetryPolicy::default())?
            .with_scheduler(scheduler)
            .with_events(eventbridge))
    }

    /// An app over an explicit Secrets Manager client and retry policy.
    pub fn new(
        settings: Settings,
        secrets: aws_sdk_secretsmanager::Client,
        retry: RetryPolicy,
    ) -> Result<Self, StartupError> {
        let source = SecretSource::new(secrets, settings.secret_id.clone(), settings.secret_cache);
        let dataverse = Arc::new(Dataverse::new(source, retry)?);
        Ok(App {
            settings,
            dataverse,
            clock: Clock::System,
            wake: None,
            events: None,
        })
    }

    /// Writes the wake-up through `scheduler` when the settings turn it on.
    pub fn with_scheduler(mut self, scheduler: aws_sdk_scheduler::Client) -> Self {
        let min_interval = self.settings.min_wake_interval;
        self.wake = self
            .settings
            .wake
            .clone()
            .map(|settings| WakeSchedule::new(scheduler, settings, min_interval));
        self
    }

    /// Publishes the lifecycle events through `eventbridge` when the settings turn them on.
    pub fn with_events(mut self, eventbridge: aws_sdk_eventbridge::Client) -> Self {
        self.events = self
            .settings
            .events
            .clone()
            .map(|settings| EventBus::new(eventbridge, settings));
        self
    }
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is not an EventBridge Scheduled Event.
    #[error("the event is not an EventBridge Scheduled Event: {0}; nothing was closed")]
    InvalidEvent(String),
    /// `detail.reopen_closed_since` is not an RFC 3339 instant, or is in the future.
    #[error("detail.reopen_closed_since {0}; nothing was reopened")]
    InvalidReopenInstant(String),
    /// `detail.sweep_at` (the moment a wake-up was written for) is not an RFC 3339 instant.
    #[error("detail.sweep_at {0}; nothing was closed (was the wake-up schedule's input edited by hand? the next sweep of the rate rule writes it again)")]
    InvalidSweepMoment(String),
    /// The sweep failed.
    #[error(transparent)]
    Sweep(#[from] SweepError),
    /// Closes were attempted and every one Dataverse answered failed: something in the setup
    /// is wrong, and a success would hide it from the alarm on Lambda errors.
    #[error("none of the {failed} closes attempted succeeded; Dataverse's first answer: {first_error}{}", close_hint(*first_status))]
    NoCloseSucceeded {
        failed: usize,
        first_error: String,
        /// The status Dataverse answered the first failed close with, when it answered one.
        first_status: Option<u16>,
    },
}

/// The likely cause behind a close failure that every close met, from the status Dataverse
/// answered the first of them with.
fn close_hint(first_status: Option<u16>) -> &'static str {
    match first_status {
        Some(400) => " (check SESSION_CLOSED_STATECODE and SESSION_CLOSED_STATUSCODE: the statuscode must be a status reason of the closed state in this environment)",
        Some(403) => " (give the application user a security role with write access to the session table)",
        _ => "",
    }
}

impl HandlerError {
    /// The error for a sweep that attempted closes and closed none because each failed;
    /// `None` when anything was closed, nothing failed, or it was a dry run.
    pub fn no_close_succeeded(summary: &Summary) -> Option<Self> {
        let changed = summary.closed() + summary.reopened().unwrap_or(0);
        if summary.dry_run() || changed > 0 || summary.failed().total() == 0 {
            return None;
        }
        let first = summary.failed().first();
        Some(HandlerError::NoCloseSucceeded {
            failed: summary.failed().total(),
            first_error: first.map(|failed| failed.error.clone()).unwrap_or_default(),
            first_status: first.and_then(|failed| failed.status),
        })
    }
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = match &error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::InvalidReopenInstant(_) => "InvalidReopenInstant",
            HandlerError::InvalidSweepMoment(_) => "InvalidSweepMoment",
            HandlerError::Sweep(SweepError::UnknownName { .. }) => "UnknownTableOrColumn",
            HandlerError::Sweep(SweepError::DateOnlyColumn { .. }) => "DateOnlyColumn",
            HandlerError::Sweep(SweepError::NoActiveConfiguration { .. }) => {
                "NoActiveConfiguration"
            }
            HandlerError::Sweep(SweepError::NoUsableConfiguration { .. }) => {
                "InvalidSessionTimeout"
            }
            HandlerError::Sweep(SweepError::DefaultConfigurationNotActive { .. }) => "Settings",
            HandlerError::Sweep(SweepError::Dataverse(DataverseError::Credentials(_))) => {
                "Credentials"
            }
            HandlerError::Sweep(SweepError::Dataverse(DataverseError::Auth(_))) => "Authentication",
            HandlerError::Sweep(SweepError::Dataverse(DataverseError::EnvironmentChanged {
                ..
            })) => "SecretChanged",
            HandlerError::Sweep(SweepError::Dataverse(_)) => "Dataverse",
            HandlerError::Sweep(SweepError::Interrupted { .. }) => "SweepInterrupted",
            HandlerError::NoCloseSucceeded { .. } => "NoCloseSucceeded",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// What an invocation returns: a sweep's (or reopen run's) summary or the check's report.
// One response is built per invocation, so the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The sweep's summary.
    Sweep(Summary),
    /// The check's report.
    Check(CheckReport),
}

/// One invocation: one sweep, or the check.
pub async fn handle(app: &App, event: LambdaEvent<Value>) -> Result<Response, HandlerError> {
    let (payload, context) = event.into_parts();
    let trigger =
        parse_event(payload).inspect_err(|error| error!(error = %error, "event refused"))?;
    let wall = Utc::now();
    let now = app.clock.now(wall);
    let budget = Budget::for_invocation(
        context.deadline,
        wall.timestamp_millis(),
        app.settings.deadline_margin,
    );
    let (dry_run, reopen, now) = match trigger {
        Trigger::Check => {
            info!(request_id = %context.request_id, "check started");
            // Boxed: the check's future is deep, and the sweep's must not grow by its size.
            let report = Box::pin(check::run(&app.dataverse, &app.settings, now, budget)).await;
            return Ok(Response::Check(report));
        }
        Trigger::Sweep { dry_run, sweep_at } => {
            let now = match sweep_at {
                Some(at) => wait_for(app, at, now, &budget).await,
                None => now,
            };
            (dry_run, None, now)
        }
        Trigger::Reopen { since, dry_run } => {
            check_not_future(since, now)
                .inspect_err(|error| error!(error = %error, "event refused"))?;
            (dry_run, Some(since), now)
        }
    };
    info!(
        request_id = %context.request_id,
        deadline_ms = context.deadline,
        now_ms = now.timestamp_millis(),
        dry_run,
        reopen_closed_since = reopen.map(|at| at.to_rfc3339()),
        "sweep started"
    );
    let options = SweepOptions {
        now,
        dry_run: app.settings.dry_run || dry_run,
        budget,
        plan_wake: app.wake.is_some(),
    };
    let publisher = app
        .events
        .as_ref()
        .map(|bus| bus.start(&context.request_id, budget));
    let events = publisher
        .as_ref()
        .map_or_else(EventSink::off, |publisher| publisher.sink().clone());
    let outcome = match reopen {
        Some(since) => sweep::reopen(&app.dataverse, &app.settings, options, since, &events).await,
        None => sweep::run(&app.dataverse, &app.settings, options, &events).await,
    };
    let wake = reopen
        .is_none()
        .then_some(&context.invoked_function_arn[..]);
    conclude(app, wake, budget, outcome, publisher).await
}

/// Waits inside the invocation until `sweep_at`, the moment its wake-up was written for (the
/// scheduler fires somewhere in the minute before it), when that is ahead of `now` and the wait
/// leaves the sweep enough of the invocation's time; otherwise sweeps at once. Returns the
/// clock's instant after the wait, the one the sweep decides with, so that no session is
/// judged before its moment.
async fn wait_for(
    app: &App,
    sweep_at: DateTime<Utc>,
    now: DateTime<Utc>,
    budget: &Budget,
) -> DateTime<Utc> {
    let reason = match wake::wait_before(sweep_at, now, budget.remaining()) {
        Wait::For(wait) => {
            info!(sweep_at = %sweep_at, wait_ms = wait.as_millis() as u64, "waiting for the wake-up's moment");
            return app.clock.wait_until(sweep_at).await;
        }
        Wait::Due => return now,
        Wait::TooFarAhead => "the moment is further ahead than any wake-up this function writes",
        Wait::OverBudget => "waiting would leave the sweep less than half of the invocation's time",
    };
    warn!(sweep_at = %sweep_at, now = %now, reason, "sweeping at once instead of waiting for the wake-up's moment");
    now
}

/// Ends the lifecycle events (`Sweep Finished`, then what is queued), logs the summary, then
/// writes the wake-up for `wake` (the function's ARN; `None` after a reopen run: the next
/// sweep after it does), and turns the outcome into the answer. The summary comes before the
/// wake-up so that a scheduler that stalls cannot lose it.
async fn conclude(
    app: &App,
    wake: Option<&str>,
    budget: Budget,
    mut outcome: Result<Summary, SweepError>,
    publisher: Option<Publisher>,
) -> Result<Response, HandlerError> {
    if let Some(publisher) = publisher {
        let summary = match &mut outcome {
            Ok(summary) => Some(summary),
            Err(SweepError::Interrupted { summary, .. }) => Some(summary.as_mut()),
            // Failed before anything changed: the Lambda error is the signal.
            Err(_) => None,
        };
        let delivery = publisher.finish(summary.as_deref()).await;
        if let Some(summary) = summary {
            summary.record_events_failed(delivery.failed());
        }
    }
    match outcome {
        Ok(mut summary) => {
            report(&summary);
            if let Some(function_arn) = wake {
                write_wake(app, function_arn, &budget, &mut summary).await;
            }
            if let Some(error) = HandlerError::no_close_succeeded(&summary) {
                error!(error = %error, "sweep failed");
                return Err(error);
            }
            Ok(Response::Sweep(summary))
        }
        Err(error) => {
            if let SweepError::Interrupted { summary, .. } = &error {
                report(summary);
            }
            error!(error = %error, "sweep failed");
            Err(error.into())
        }
    }
}

/// Writes the wake-up the sweep worked out, no earlier than the minimum interval from the
/// clock's now at write time. The returned summary carries the moment written. A failure is
/// logged, counted in its own metrics line (`WakeScheduleFailures`) and recorded in the
/// summary, never returned: the sweep's result stands and the rate rule remains the backstop.
async fn write_wake(app: &App, function_arn: &str, budget: &Budget, summary: &mut Summary) {
    let (Some(schedule), Some(planned)) = (&app.wake, summary.next_wake_at()) else {
        return;
    };
    let now = || app.clock.now(Utc::now());
    match schedule.write(planned, function_arn, budget, now).await {
        Ok(written) => {
            summary.record_next_wake(written.at);
            info!(next_wake_at = %written.at, planned = %planned, schedule = ?written.write, "wake-up set");
        }
        Err(failure) => {
            error!(next_wake_at = %planned, error = %failure, "wake-up not written; the rate rule stays the only schedule");
            summary.record_wake_failure(failure.to_string());
            crate::logging::emit_metrics(&summary.wake_failure_metrics_line());
        }
    }
}

/// One log line for the summary, and one Embedded Metric Format line for CloudWatch.
fn report(summary: &Summary) {
    info!(
        eligible = summary.eligible(),
        closed = summary.closed(),
        would_close = summary.would_close(),
        reopened = summary.reopened(),
        would_reopen = summary.would_reopen(),
        warned = summary.warned().map(|warned| warned.total()),
        skipped = summary.skipped().total(),
        failed = summary.failed().total(),
        outcome_unknown = summary.outcome_unknown().total(),
        deferred = summary.deferred(),
        unreadable = summary.unreadable().total(),
        complete = summary.complete(),
        dry_run = summary.dry_run(),
        requests = summary.requests(),
        duration_ms = summary.duration_ms(),
        next_wake_at = summary.next_wake_at().map(|at| at.to_rfc3339()),
        events_failed = summary.events_failed(),
        "sweep finished"
    );
    // EMF must be a log line of its own, not a field inside the tracing JSON.
    crate::logging::emit_metrics(&summary.metrics_line());
}

#[cfg(test)]
mod tests;
