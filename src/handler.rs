//! The Lambda boundary: the EventBridge Scheduled Event in, one sweep, the summary (or a
//! `Diagnostic` with a stable `error_type`) out; a `detail` of `{"check": true}` runs the
//! read-only check instead and returns its report. Anything but a scheduled event is refused
//! before any request is sent.

use crate::budget::Budget;
use crate::check::{self, CheckReport};
use crate::credentials::SecretSource;
use crate::dataverse::{Dataverse, DataverseError, RetryPolicy};
use crate::settings::{Settings, SettingsError};
use crate::summary::Summary;
use crate::sweep::{self, SweepError, SweepOptions};
use aws_lambda_events::eventbridge::EventBridgeEvent;
use chrono::{DateTime, Utc};
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::Value;
use std::sync::Arc;
use tracing::{error, info};

/// What the function holds across warm invocations: settings and clients, built once.
pub struct App {
    /// The validated settings.
    pub settings: Settings,
    /// The Dataverse client, with its secret and token caches.
    pub dataverse: Arc<Dataverse>,
    /// Where the sweep's `now` comes from; a test fixes it to judge exact boundaries.
    pub clock: Clock,
}

/// The source of the instant every decision of a sweep uses.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock.
    #[default]
    System,
    /// Always this instant. The Lambda deadline is still measured on the system clock.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The instant to decide with, given the system time `wall`.
    pub fn now(self, wall: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Clock::System => wall,
            Clock::Fixed(at) => at,
        }
    }
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
    /// Settings from the environment; Secrets Manager through the default AWS configuration
    /// (which honours `AWS_ENDPOINT_URL_SECRETS_MANAGER`, as the local runs use).
    pub async fn from_env() -> Result<Self, StartupError> {
        let settings = Settings::from_env()?;
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let secrets = aws_sdk_secretsmanager::Client::new(&aws);
        App::new(settings, secrets, RetryPolicy::default())
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
        })
    }
}

/// Why an invocation failed.
#[derive(Debug, thiserror::Error)]
pub enum HandlerError {
    /// The event is not an EventBridge Scheduled Event.
    #[error("the event is not an EventBridge Scheduled Event: {0}; nothing was closed")]
    InvalidEvent(String),
    /// The sweep failed.
    #[error(transparent)]
    Sweep(#[from] SweepError),
}

impl From<HandlerError> for Diagnostic {
    fn from(error: HandlerError) -> Diagnostic {
        let error_type = match &error {
            HandlerError::InvalidEvent(_) => "InvalidEvent",
            HandlerError::Sweep(SweepError::UnknownName { .. }) => "UnknownTableOrColumn",
            HandlerError::Sweep(SweepError::NoActiveConfiguration { .. }) => {
                "NoActiveConfiguration"
            }
            HandlerError::Sweep(SweepError::NoUsableConfiguration { .. }) => {
                "InvalidSessionTimeout"
            }
            HandlerError::Sweep(SweepError::Dataverse(DataverseError::Credentials(_))) => {
                "Credentials"
            }
            HandlerError::Sweep(SweepError::Dataverse(DataverseError::Auth(_))) => "Authentication",
            HandlerError::Sweep(SweepError::Dataverse(_)) => "Dataverse",
            HandlerError::Sweep(SweepError::Interrupted { .. }) => "SweepInterrupted",
        };
        Diagnostic {
            error_type: error_type.into(),
            error_message: error.to_string(),
        }
    }
}

/// What a scheduled event asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// A sweep; `detail.dry_run` closes nothing.
    Sweep { dry_run: bool },
    /// The read-only check of the settings (`detail.check` is `true`).
    Check,
}

/// What an invocation returns: a sweep's summary or the check's report.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(untagged)]
pub enum Response {
    /// The sweep's summary.
    Sweep(Summary),
    /// The check's report.
    Check(CheckReport),
}

/// Accepts an EventBridge Scheduled Event whose `detail` is `{}`, `{"dry_run": bool}` or
/// `{"check": true}`.
pub fn parse_event(event: Value) -> Result<Trigger, HandlerError> {
    let invalid = |reason: &str| HandlerError::InvalidEvent(reason.to_owned());
    if !event.is_object() {
        return Err(invalid("it is not a JSON object"));
    }
    let event: EventBridgeEvent<Value> = serde_json::from_value(event)
        .map_err(|_| invalid("it lacks detail-type, source or detail"))?;
    if event.source != "aws.events" {
        return Err(invalid("source is not \"aws.events\""));
    }
    if event.detail_type != "Scheduled Event" {
        return Err(invalid("detail-type is not \"Scheduled Event\""));
    }
    let detail = event
        .detail
        .as_object()
        .ok_or_else(|| invalid("detail is not an object"))?;
    if let Some(key) = detail
        .keys()
        .find(|key| !matches!(key.as_str(), "dry_run" | "check"))
    {
        return Err(HandlerError::InvalidEvent(format!(
            "detail has the unknown field {key:?} (only \"dry_run\" or \"check\" is accepted)"
        )));
    }
    match (detail.get("check"), detail.get("dry_run")) {
        (None, None) => Ok(Trigger::Sweep { dry_run: false }),
        (None, Some(Value::Bool(dry_run))) => Ok(Trigger::Sweep { dry_run: *dry_run }),
        (None, Some(_)) => Err(invalid("detail.dry_run is not true or false")),
        (Some(Value::Bool(true)), None) => Ok(Trigger::Check),
        (Some(Value::Bool(true)), Some(_)) => Err(invalid(
            "detail has both check and dry_run; a check never closes anything, send {\"check\": true} alone",
        )),
        (Some(_), _) => Err(invalid("detail.check is not true")),
    }
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
    let dry_run = match trigger {
        Trigger::Check => {
            info!(request_id = %context.request_id, "check started");
            // Boxed: the check's future is deep, and the sweep's must not grow by its size.
            let report = Box::pin(check::run(&app.dataverse, &app.settings, now, budget)).await;
            return Ok(Response::Check(report));
        }
        Trigger::Sweep { dry_run } => dry_run,
    };
    info!(
        request_id = %context.request_id,
        deadline_ms = context.deadline,
        now_ms = now.timestamp_millis(),
        dry_run,
        "sweep started"
    );
    let options = SweepOptions {
        now,
        dry_run: app.settings.dry_run || dry_run,
        budget,
    };
    match sweep::run(&app.dataverse, &app.settings, options).await {
        Ok(summary) => {
            report(&summary);
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

/// One log line for the summary, and one Embedded Metric Format line for CloudWatch.
fn report(summary: &Summary) {
    info!(
        eligible = summary.eligible(),
        closed = summary.closed(),
        would_close = summary.would_close(),
        skipped = summary.skipped_count(),
        failed = summary.failed_count(),
        deferred = summary.deferred(),
        unreadable = summary.unreadable(),
        complete = summary.complete(),
        dry_run = summary.dry_run(),
        requests = summary.requests(),
        duration_ms = summary.duration_ms(),
        "sweep finished"
    );
    // EMF must be a log line of its own, not a field inside the tracing JSON.
    println!("{}", summary.metrics_line());
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scheduled(detail: Value) -> Value {
        json!({
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": "123456789012",
            "time": "2026-11-24T15:00:00Z",
            "region": "eu-west-1",
            "resources": ["arn:aws:events:eu-west-1:123456789012:rule/session-sweeper"],
            "detail": detail
        })
    }

    #[test]
    fn a_scheduled_event_is_accepted() {
        assert_eq!(
            parse_event(scheduled(json!({}))).unwrap(),
            Trigger::Sweep { dry_run: false }
        );
    }

    #[test]
    fn a_manual_dry_run_is_read_from_the_detail() {
        let trigger = parse_event(scheduled(json!({"dry_run": true}))).unwrap();
        assert_eq!(trigger, Trigger::Sweep { dry_run: true });
    }

    #[test]
    fn a_detail_of_check_true_asks_for_the_check() {
        let trigger = parse_event(scheduled(json!({"check": true}))).unwrap();
        assert_eq!(trigger, Trigger::Check);
    }

    #[test]
    fn other_events_are_refused_with_the_reason() {
        let mut wrong_type = scheduled(json!({}));
        wrong_type["detail-type"] = json!("EC2 Instance State-change Notification");
        let mut wrong_source = scheduled(json!({}));
        wrong_source["source"] = json!("aws.ec2");
        let cases = [
            (json!("sweep"), "not a JSON object"),
            (json!({"Records": []}), "lacks"),
            (wrong_type, "detail-type"),
            (wrong_source, "source"),
            (scheduled(json!("x")), "detail is not an object"),
            (scheduled(json!({"dry_run": "yes"})), "dry_run"),
            (scheduled(json!({"dryrun": true})), "dryrun"),
            (scheduled(json!({"check": "yes"})), "detail.check"),
            (scheduled(json!({"check": false})), "detail.check"),
            (scheduled(json!({"check": true, "dry_run": true})), "both"),
        ];
        for (event, expected) in cases {
            let error = parse_event(event).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
            assert_eq!(Diagnostic::from(error).error_type, "InvalidEvent");
        }
    }

    #[test]
    fn a_fixed_clock_decides_with_its_instant_and_the_system_clock_with_the_wall() {
        let wall = Utc::now();
        let fixed = "2026-11-24T15:00:00Z".parse().unwrap();
        assert_eq!(Clock::Fixed(fixed).now(wall), fixed);
        assert_eq!(Clock::System.now(wall), wall);
    }
}
