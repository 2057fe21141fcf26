//! Writing the wake-up: one EventBridge Scheduler one-time schedule (`at(...)`, UTC, no
//! flexible window) whose target is this function and whose input is a Scheduled Event the
//! handler accepts, carrying the moment to sweep at (`detail.sweep_at`); the `at()` names the
//! minute before it ([`super::schedule_at`]). The schedule is updated when it exists and
//! created when it does not, so there is never more than one.

use crate::budget::Budget;
use crate::settings::WakeSettings;
use aws_sdk_scheduler::config::http::HttpResponse;
use aws_sdk_scheduler::error::{BuildError, DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_scheduler::operation::get_schedule::GetScheduleError;
use aws_sdk_scheduler::types::{
    ActionAfterCompletion, DeadLetterConfig, FlexibleTimeWindow, FlexibleTimeWindowMode,
    RetryPolicy, Target,
};
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

/// Why the wake-up could not be written. The sweep's result stands; the rate rule remains.
#[derive(Debug, thiserror::Error)]
pub enum WakeError {
    /// The invocation carried no function ARN to target.
    #[error("the invocation context has no function ARN, so the wake-up has no target")]
    NoFunctionArn,
    /// EventBridge Scheduler answered with an error, or could not be reached.
    #[error("EventBridge Scheduler refused {operation} on the schedule {group}/{name}: {reason} (the function's role needs scheduler:GetSchedule, UpdateSchedule and CreateSchedule on this schedule and iam:PassRole on WAKE_ROLE_ARN)")]
    Refused {
        operation: &'static str,
        group: String,
        name: String,
        reason: String,
        /// The scheduler's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// EventBridge Scheduler did not answer before the invocation's time ran out.
    #[error("EventBridge Scheduler did not answer {operation} on the schedule {group}/{name} before this invocation's time ran out (check the function's network path to EventBridge Scheduler: a VPC endpoint or NAT gateway)")]
    TimedOut {
        operation: &'static str,
        group: String,
        name: String,
    },
    /// A request this function built is incomplete (a fault of this function).
    #[error("internal error building the wake-up schedule: {0}")]
    Internal(#[from] BuildError),
}

/// What writing the wake-up did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WakeWrite {
    /// The schedule existed and now says the new moment.
    Updated,
    /// There was none; it was created.
    Created,
}

/// A written wake-up: the moment the next sweep is for, when the schedule fires, and how it
/// got there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    /// The moment of the next sweep (`detail.sweep_at`), after [`super::not_before`].
    pub at: DateTime<Utc>,
    /// The schedule's `at()` moment, after [`super::schedule_at`]: the scheduler fires
    /// somewhere in its minute, and the invocation waits for [`Written::at`].
    pub fires: DateTime<Utc>,
    /// Whether the schedule was updated or created.
    pub write: WakeWrite,
}

/// The one schedule this function writes its wake-up to.
#[derive(Debug, Clone)]
pub struct WakeSchedule {
    client: aws_sdk_scheduler::Client,
    settings: WakeSettings,
    min_interval: chrono::Duration,
}

/// The same timeouts for every Scheduler operation: the time left in the invocation.
macro_rules! bounded {
    ($request:expr, $budget:expr) => {
        match $budget.aws_timeouts() {
            Some(timeouts) => {
                $request
                    .customize()
                    .config_override(
                        aws_sdk_scheduler::config::Builder::default().timeout_config(timeouts),
                    )
                    .send()
                    .await
            }
            None => $request.send().await,
        }
    };
}

impl WakeSchedule {
    /// The schedule `settings` names, written through `client`, never less than
    /// `min_interval` ahead.
    pub fn new(
        client: aws_sdk_scheduler::Client,
        settings: WakeSettings,
        min_interval: std::time::Duration,
    ) -> Self {
        let min_interval = chrono::Duration::from_std(min_interval)
            .unwrap_or_else(|_| chrono::Duration::seconds(60));
        WakeSchedule {
            client,
            settings,
            min_interval,
        }
    }

    /// Sets the schedule to invoke `function_arn` for a sweep at `planned`, or later when
    /// `now()` (read just before the write) leaves less than the minimum interval, firing in
    /// the minute before that moment when there is still time for it: UpdateSchedule when
    /// GetSchedule finds it, CreateSchedule when GetSchedule answers ResourceNotFound. Each
    /// call ends within `budget`.
    pub async fn write(
        &self,
        planned: DateTime<Utc>,
        function_arn: &str,
        budget: &Budget,
        now: impl Fn() -> DateTime<Utc>,
    ) -> Result<Written, WakeError> {
        if function_arn.is_empty() {
            return Err(WakeError::NoFunctionArn);
        }
        let WakeSettings {
            schedule_name: name,
            group,
            ..
        } = &self.settings;
        let exists = self.exists(budget).await?;
        let written_at = now();
        let at = super::not_before(planned, written_at, self.min_interval);
        let fires = super::schedule_at(at, written_at);
        let expression = format!("at({})", fires.format("%Y-%m-%dT%H:%M:%S"));
        let (window, target) = self.target(at, function_arn)?;
        let write = if exists {
            let request = self
                .client
                .update_schedule()
                .name(name)
                .group_name(group)
                .schedule_expression(expression)
                .schedule_expression_timezone("UTC")
                .flexible_time_window(window)
                .target(target)
                .action_after_completion(ActionAfterCompletion::None);
            bounded!(request, budget).map_err(|error| self.failed("UpdateSchedule", error))?;
            WakeWrite::Updated
        } else {
            let request = self
                .client
                .create_schedule()
                .name(name)
                .group_name(group)
                .schedule_expression(expression)
                .schedule_expression_timezone("UTC")
                .flexible_time_window(window)
                .target(target)
                .action_after_completion(ActionAfterCompletion::None)
                .description(
                    "session-sweeper: the next sweep, when the next session becomes eligible",
                );
            bounded!(request, budget).map_err(|error| self.failed("CreateSchedule", error))?;
            WakeWrite::Created
        };
        Ok(Written { at, fires, write })
    }

    /// Whether the schedule is there: GetSchedule answers it, or ResourceNotFound.
    async fn exists(&self, budget: &Budget) -> Result<bool, WakeError> {
        let request = self
            .client
            .get_schedule()
            .name(&self.settings.schedule_name)
            .group_name(&self.settings.group);
        match bounded!(request, budget) {
            Ok(_) => Ok(true),
            Err(error) if is_not_found(&error) => Ok(false),
            Err(error) => Err(self.failed("GetSchedule", error)),
        }
    }

    /// The exact-time window and the target: `function_arn`, invoked with the wake-up event
    /// for a sweep at `at` under the scheduler's role.
    fn target(
        &self,
        at: DateTime<Utc>,
        function_arn: &str,
    ) -> Result<(FlexibleTimeWindow, Target), WakeError> {
        let window = FlexibleTimeWindow::builder()
            .mode(FlexibleTimeWindowMode::Off)
            .build()?;
        let input = wake_event(at, function_arn, &self.settings).to_string();
        // Short retries: a wake-up is stale once the next sweep is due, and one that could
        // not be delivered goes to the dead-letter queue, where it is seen.
        let retry = RetryPolicy::builder()
            .maximum_retry_attempts(self.settings.retry_attempts as i32)
            .maximum_event_age_in_seconds(self.settings.max_event_age_seconds as i32)
            .build();
        let dead_letter = self
            .settings
            .dead_letter_arn
            .as_ref()
            .map(|arn| DeadLetterConfig::builder().arn(arn).build());
        let target = Target::builder()
            .arn(function_arn)
            .role_arn(&self.settings.role_arn)
            .input(input)
            .retry_policy(retry)
            .set_dead_letter_config(dead_letter)
            .build()?;
        Ok((window, target))
    }

    fn failed<E>(&self, operation: &'static str, error: SdkError<E, HttpResponse>) -> WakeError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        if let SdkError::TimeoutError(_) = &error {
            return WakeError::TimedOut {
                operation,
                group: self.settings.group.clone(),
                name: self.settings.schedule_name.clone(),
            };
        }
        let status = error.raw_response().map(|raw| raw.status().as_u16());
        let reason = match (error.as_service_error(), status) {
            (Some(service), Some(status)) if service.code().is_some() => format!(
                "{status} {}: {}",
                service.code().unwrap_or_default(),
                service.message().unwrap_or_default()
            ),
            // An answer this client cannot decode (moto and proxies may answer in XML).
            (_, Some(status)) => format!("HTTP {status} ({})", DisplayErrorContext(&error)),
            (_, None) => DisplayErrorContext(&error).to_string(),
        };
        WakeError::Refused {
            operation,
            group: self.settings.group.clone(),
            name: self.settings.schedule_name.clone(),
            reason,
            source: Box::new(error),
        }
    }
}

fn is_not_found(error: &SdkError<GetScheduleError, HttpResponse>) -> bool {
    error
        .as_service_error()
        .is_some_and(|service| service.is_resource_not_found_exception())
}

/// The input the scheduler sends: an EventBridge Scheduled Event whose `detail` holds only
/// `sweep_at`, so the wake-up is an ordinary sweep at that moment.
/// `<aws.scheduler.execution-id>` is replaced by the scheduler with a fresh id on each run.
pub fn wake_event(at: DateTime<Utc>, function_arn: &str, settings: &WakeSettings) -> Value {
    // arn:partition:lambda:region:account:function:name[:qualifier]
    let parts: Vec<&str> = function_arn.split(':').collect();
    let (partition, region, account) = match parts.as_slice() {
        [_, partition, _, region, account, ..] => (*partition, *region, *account),
        _ => ("aws", "", ""),
    };
    json!({
        "version": "0",
        "id": "<aws.scheduler.execution-id>",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": at.to_rfc3339_opts(SecondsFormat::Secs, true),
        "region": region,
        "resources": [format!(
            "arn:{partition}:scheduler:{region}:{account}:schedule/{}/{}",
            settings.group, settings.schedule_name
        )],
        "detail": { "sweep_at": at.to_rfc3339_opts(SecondsFormat::Secs, true) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::handler::{parse_event, Trigger};
    use chrono::TimeZone;

    fn settings() -> WakeSettings {
        WakeSettings {
            schedule_name: "sweeper-wake".into(),
            group: "default".into(),
            role_arn: "arn:aws:iam::123456789012:role/sweeper-wake".into(),
            dead_letter_arn: None,
            retry_attempts: 2,
            max_event_age_seconds: 300,
        }
    }

    #[test]
    fn the_wake_event_is_a_scheduled_event_the_handler_accepts_as_a_sweep_at_its_moment() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 37, 0).unwrap();
        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:sweeper";

        let event = wake_event(at, arn, &settings());

        assert_eq!(
            parse_event(event.clone()).unwrap(),
            Trigger::Sweep {
                dry_run: false,
                sweep_at: Some(at)
            }
        );
        assert_eq!(event["region"], "eu-west-1");
        assert_eq!(
            event["resources"][0],
            "arn:aws:scheduler:eu-west-1:123456789012:schedule/default/sweeper-wake"
        );
    }
}
