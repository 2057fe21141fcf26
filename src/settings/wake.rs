//! The wake-up's settings: which EventBridge Scheduler schedule to write and which role it
//! runs as. They are read together, because a schedule without a role cannot invoke anything.

use super::spec::Reader;
use super::SettingsError;

/// Where the wake-up is written: one EventBridge Scheduler one-time schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeSettings {
    /// The schedule's name.
    pub schedule_name: String,
    /// Its schedule group.
    pub group: String,
    /// The role the scheduler assumes to invoke this function.
    pub role_arn: String,
}

impl WakeSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        read: &Reader<F>,
    ) -> Result<Option<Self>, SettingsError> {
        let Some(schedule_name) = read.optional_text("WAKE_SCHEDULE_NAME") else {
            return Ok(None);
        };
        let group = read.text("WAKE_SCHEDULE_GROUP")?;
        for (setting, value) in [
            ("WAKE_SCHEDULE_NAME", &schedule_name),
            ("WAKE_SCHEDULE_GROUP", &group),
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
            .optional_text("WAKE_ROLE_ARN")
            .ok_or(SettingsError::Missing("WAKE_ROLE_ARN"))?;
        if !(role_arn.starts_with("arn:") && role_arn.contains(":role/")) {
            return Err(SettingsError::BadValue {
                name: "WAKE_ROLE_ARN",
                value: role_arn,
                expected: "an IAM role ARN (arn:aws:iam::<account>:role/<name>)".into(),
            });
        }
        Ok(Some(WakeSettings {
            schedule_name,
            group,
            role_arn,
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
            })
        );
        assert_eq!(s.min_wake_interval, Duration::from_secs(300));
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
