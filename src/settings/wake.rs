//! The wake-up's settings: which EventBridge Scheduler schedule to write and which role it
//! runs as. They are read together, because a schedule without a role cannot invoke anything.

use super::spec::Reader;
use super::{setting, SettingsError};

/// Where the wake-up is written: one EventBridge Scheduler one-time schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeSettings {
    /// The schedule's name.
    pub schedule_name: String,
    /// Its schedule group.
    pub group: String,
    /// The role the scheduler assumes to invoke this function.
    pub role_arn: String,
    /// The SQS queue a wake-up the scheduler could not deliver goes to, when there is one.
    pub dead_letter_arn: Option<String>,
    /// How often the scheduler retries a wake-up it could not deliver.
    pub retry_attempts: u32,
    /// How long it keeps retrying, in seconds: a wake-up is stale once the next sweep is due.
    pub max_event_age_seconds: u32,
}

impl WakeSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        read: &Reader<F>,
    ) -> Result<Option<Self>, SettingsError> {
        // Checked even with the wake-up off, so a wrong value is found before it is needed.
        // The spec bounds both numbers (185 retries, a day), so they fit the scheduler's i32.
        let retry_attempts = read.number(&setting::WAKE_RETRY_ATTEMPTS)? as u32;
        let max_event_age_seconds = read.number(&setting::WAKE_MAX_EVENT_AGE_SECONDS)? as u32;
        let Some(schedule_name) = read.optional_text(&setting::WAKE_SCHEDULE_NAME) else {
            return Ok(None);
        };
        let group = read.text(&setting::WAKE_SCHEDULE_GROUP)?;
        for (setting, value) in [
            (setting::WAKE_SCHEDULE_NAME.name, &schedule_name),
            (setting::WAKE_SCHEDULE_GROUP.name, &group),
        ] {
            // EventBridge Scheduler's own rule for schedule and group names.
            let valid = value.len() <= 64
                && value
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if !valid {
                return Err(SettingsError::BadValue {
                    name: setting,
                    value: value.clone(),
                    expected: "at most 64 letters, digits, '-', '_' or '.'".into(),
                });
            }
        }
        let role_arn = read
            .optional_text(&setting::WAKE_ROLE_ARN)
            .ok_or(SettingsError::Missing(setting::WAKE_ROLE_ARN.name))?;
        if !(role_arn.starts_with("arn:") && role_arn.contains(":role/")) {
            return Err(SettingsError::BadValue {
                name: setting::WAKE_ROLE_ARN.name,
                value: role_arn,
                expected: "an IAM role ARN (arn:aws:iam::<account>:role/<name>)".into(),
            });
        }
        let dead_letter_arn = read.optional_text(&setting::WAKE_DEAD_LETTER_ARN);
        if let Some(arn) = &dead_letter_arn {
            if !(arn.starts_with("arn:") && arn.contains(":sqs:")) {
                return Err(SettingsError::BadValue {
                    name: setting::WAKE_DEAD_LETTER_ARN.name,
                    value: arn.clone(),
                    expected: "an SQS queue ARN (arn:aws:sqs:<region>:<account>:<queue>)".into(),
                });
            }
        }
        Ok(Some(WakeSettings {
            schedule_name,
            group,
            role_arn,
            dead_letter_arn,
            retry_attempts,
            max_event_age_seconds,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::settings;
    use std::time::Duration;

    #[test]
    fn a_wake_schedule_name_turns_the_wake_up_on_in_the_default_group() {
        let s = settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WAKE_SCHEDULE_NAME", "sweeper-wake"),
            (
                "WAKE_ROLE_ARN",
                "arn:aws:iam::123456789012:role/sweeper-wake",
            ),
            ("MIN_WAKE_INTERVAL", "5 minutes"),
        ])
        .unwrap();
        assert_eq!(
            s.wake,
            Some(WakeSettings {
                schedule_name: "sweeper-wake".into(),
                group: "default".into(),
                role_arn: "arn:aws:iam::123456789012:role/sweeper-wake".into(),
                dead_letter_arn: None,
                retry_attempts: 2,
                max_event_age_seconds: 300,
            })
        );
        assert_eq!(s.min_wake_interval, Duration::from_secs(300));
    }

    #[test]
    fn a_wake_dead_letter_queue_and_retry_policy_are_read_with_the_schedule() {
        let s = settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WAKE_SCHEDULE_NAME", "sweeper-wake"),
            ("WAKE_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            (
                "WAKE_DEAD_LETTER_ARN",
                "arn:aws:sqs:eu-west-1:123456789012:failed",
            ),
            ("WAKE_RETRY_ATTEMPTS", "0"),
            ("WAKE_MAX_EVENT_AGE_SECONDS", "60"),
        ])
        .unwrap();
        let wake = s.wake.unwrap();
        assert_eq!(
            wake.dead_letter_arn.as_deref(),
            Some("arn:aws:sqs:eu-west-1:123456789012:failed")
        );
        assert_eq!((wake.retry_attempts, wake.max_event_age_seconds), (0, 60));
    }

    #[test]
    fn a_wake_dead_letter_arn_that_is_not_a_queue_is_refused_and_named() {
        let error = settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WAKE_SCHEDULE_NAME", "sweeper-wake"),
            ("WAKE_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
            (
                "WAKE_DEAD_LETTER_ARN",
                "arn:aws:sns:eu-west-1:123456789012:topic",
            ),
        ])
        .unwrap_err();
        assert!(
            error.to_string().contains("WAKE_DEAD_LETTER_ARN"),
            "{error}"
        );
    }

    #[test]
    fn a_wake_schedule_without_a_role_is_refused_and_the_role_setting_named() {
        let error = settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WAKE_SCHEDULE_NAME", "sweeper-wake"),
        ])
        .unwrap_err();
        assert_eq!(error, SettingsError::Missing("WAKE_ROLE_ARN"));
    }

    #[test]
    fn a_wake_schedule_name_the_scheduler_refuses_is_refused_at_start() {
        let error = settings(&[
            ("DATAVERSE_SECRET_ID", "s"),
            ("WAKE_SCHEDULE_NAME", "sweeper wake/1"),
            ("WAKE_ROLE_ARN", "arn:aws:iam::123456789012:role/r"),
        ])
        .unwrap_err();
        assert!(error.to_string().contains("WAKE_SCHEDULE_NAME"), "{error}");
    }
}
