//! The lifecycle events' setting: the EventBridge event bus the function publishes to. A name,
//! an ARN or `default` is accepted, as `PutEvents` takes them; a value EventBridge would refuse
//! stops the function at start, so no sweep runs believing its events go somewhere.

use super::spec::Reader;
use super::{setting, SettingsError};

/// Where the lifecycle events go: one EventBridge event bus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventSettings {
    /// The bus's name (`default` for the account's default bus) or ARN.
    pub bus: String,
}

impl EventSettings {
    pub(super) fn read<F: Fn(&str) -> Option<String>>(
        read: &Reader<F>,
    ) -> Result<Option<Self>, SettingsError> {
        let Some(bus) = read.optional_text(&setting::EVENT_BUS_NAME) else {
            return Ok(None);
        };
        if !is_bus(&bus) {
            return Err(SettingsError::BadValue {
                name: setting::EVENT_BUS_NAME.name,
                value: bus,
                expected: "an event bus name (letters, digits, '.', '-', '_' or '/', at most 256), default, or an event bus ARN (arn:aws:events:<region>:<account>:event-bus/<name>)".into(),
            });
        }
        Ok(Some(EventSettings { bus }))
    }
}

/// EventBridge's own rule for a `PutEvents` entry's `EventBusName`: a name, or the ARN of one.
fn is_bus(value: &str) -> bool {
    let name = match value.strip_prefix("arn:") {
        Some(arn) => match arn.split(':').collect::<Vec<_>>().as_slice() {
            [partition, "events", region, account, resource] => {
                let account_ok = account.len() == 12 && account.chars().all(|c| c.is_ascii_digit());
                if partition.is_empty() || region.is_empty() || !account_ok {
                    return false;
                }
                match resource.strip_prefix("event-bus/") {
                    Some(name) => name,
                    None => return false,
                }
            }
            _ => return false,
        },
        None => value,
    };
    !name.is_empty()
        && name.len() <= 256
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-/".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::tests::settings;

    fn bus(value: &str) -> Result<Option<EventSettings>, SettingsError> {
        settings(&[("DATAVERSE_SECRET_ID", "s"), ("EVENT_BUS_NAME", value)]).map(|s| s.events)
    }

    #[test]
    fn lifecycle_events_are_off_without_an_event_bus() {
        assert_eq!(bus("").unwrap(), None);
        assert_eq!(
            settings(&[("DATAVERSE_SECRET_ID", "s")]).unwrap().events,
            None
        );
    }

    #[test]
    fn an_event_bus_is_named_by_its_name_default_or_its_arn() {
        for value in [
            "default",
            "session-events",
            "arn:aws:events:eu-west-1:123456789012:event-bus/session-events",
        ] {
            assert_eq!(
                bus(value).unwrap(),
                Some(EventSettings { bus: value.into() })
            );
        }
    }

    #[test]
    fn an_event_bus_eventbridge_would_refuse_is_refused_at_start_and_named() {
        for value in [
            "session events",
            "arn:aws:sqs:eu-west-1:123456789012:queue",
            "arn:aws:events:eu-west-1:1234:event-bus/x",
            "arn:aws:events:eu-west-1:123456789012:rule/x",
        ] {
            let error = bus(value).unwrap_err();
            assert!(error.to_string().contains("EVENT_BUS_NAME"), "{error}");
        }
    }
}
