//! The findings the session counts give: one per active configuration (its timeout, its
//! sessions, and a warning when a bare timeout reads more naturally in another unit), those
//! about sessions no configuration judges or that cannot be judged, and how many sessions
//! have an empty last-customer-message column. Pure.

use super::finding::Finding;
use super::sessions::ConfigurationCount;
use crate::ids::Guid;
use crate::policy::UnitDoubt;
use crate::settings::{setting, Settings};

pub(super) fn count_findings(
    settings: &Settings,
    counts: &[ConfigurationCount],
    unit_doubts: &[(Guid, UnitDoubt)],
    without: usize,
    unreadable: usize,
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if counts.is_empty() {
        findings.push(Finding::error(
            "configurations",
            "no WhatsApp configuration is active, so a sweep knows no timeout and closes nothing",
            "activate the WhatsApp configuration whose Session Timeout should apply",
        ));
    }
    let timeout_column = settings.schema.timeout_column.as_str();
    for count in counts {
        let subject = format!("configuration {}", count.id);
        findings.push(match (&count.timeout_seconds, &count.error) {
            (Some(seconds), _) => match unit_doubts.iter().find(|(id, _)| *id == count.id) {
                Some((_, doubt)) => Finding::warning(
                    subject,
                    format!("{doubt}; timeout {seconds} s; {}", judged(count)),
                    format!("if {} is meant, correct the value or set CONFIGURATION_TIMEOUT_UNIT to {}; a text timeout column can hold its unit (\"{}\"), which is never in doubt", doubt.other_reading(), doubt.other, doubt.other_reading()),
                ),
                None => Finding::ok(subject, format!("timeout {seconds} s; {}", judged(count))),
            },
            (None, error) => Finding::error(
                subject,
                format!("{}; none of its {} would be closed", error.as_deref().unwrap_or("unusable timeout"), sessions(count.active_sessions)),
                format!("give this configuration a usable Session Timeout ({timeout_column}), or correct CONFIGURATION_TIMEOUT_UNIT or MIN_SESSION_TIMEOUT"),
            ),
        });
    }
    if without > 0 {
        findings.push(Finding::warning(
            "sessions",
            format!("{} without an active configuration (theirs is empty or not active) and no configuration to judge them (several are active and DEFAULT_CONFIGURATION_ID is not set, or the one that would judge them has an unusable timeout); a sweep never closes them", sessions(without)),
            "set DEFAULT_CONFIGURATION_ID to the configuration whose timeout should apply to them, or assign them to an active configuration",
        ));
    }
    if unreadable > 0 {
        findings.push(Finding::warning(
            "sessions",
            format!(
                "{} cannot be judged (no id, no ETag or a time that is not a date)",
                sessions(unreadable)
            ),
            "look at the rows the sweep summary lists as unreadable and correct them",
        ));
    }
    findings
}

/// The last-customer-message column empty on more than this share of the readable active
/// sessions (in percent) is an error: it is most likely the wrong column, or one the
/// integration does not fill, and every session would be judged by its creation instead.
pub const EMPTY_LAST_MESSAGE_ERROR_PERCENT: usize = 50;
/// Empty on more than this share is a warning: more than business-started sessions the
/// customer never answered usually explain.
pub const EMPTY_LAST_MESSAGE_WARNING_PERCENT: usize = 20;

/// The finding when the last-customer-message column is empty on a large share of the
/// `readable` active sessions, with the counts.
pub(super) fn empty_column_finding(column: &str, empty: usize, readable: usize) -> Option<Finding> {
    const SETTING: &str = setting::SESSION_LAST_CUSTOMER_MESSAGE_COLUMN.name;
    let over = |percent: usize| empty * 100 > readable * percent;
    let message = format!(
        "{column} is empty on {empty} of {}: a sweep judges those by when they were created (createdon), not by the customer's last message",
        sessions(readable)
    );
    let fix = format!("check that {SETTING} names the column the WhatsApp integration fills with each incoming message (look at a few sessions in Power Apps); sessions the business started and the customer never answered are the only ones that should have it empty");
    if over(EMPTY_LAST_MESSAGE_ERROR_PERCENT) {
        Some(Finding::error(SETTING, message, fix))
    } else if over(EMPTY_LAST_MESSAGE_WARNING_PERCENT) {
        Some(Finding::warning(SETTING, message, fix))
    } else {
        None
    }
}

/// "6 active sessions (1 without an active configuration), 4 would close now (1 awaits an
/// agent's reply)".
fn judged(count: &ConfigurationCount) -> String {
    let mut text = sessions(count.active_sessions);
    if count.without_active_configuration > 0 {
        text += &format!(
            " ({} without an active configuration)",
            count.without_active_configuration
        );
    }
    text += &format!(", {} would close now", count.would_close);
    if count.awaiting_agent > 0 {
        text += &format!(
            " ({} past the timeout await an agent's reply and stay open)",
            count.awaiting_agent
        );
    }
    if count.would_warn > 0 || count.warnings_outside_window > 0 {
        text += &format!(", {} would be warned now", count.would_warn);
    }
    if count.warnings_outside_window > 0 {
        text += &format!(
            " ({} more outside WhatsApp's 24-hour window, not sent)",
            count.warnings_outside_window
        );
    }
    text
}

/// "1 active session", "2 active sessions".
pub(super) fn sessions(count: usize) -> String {
    match count {
        1 => "1 active session".to_owned(),
        n => format!("{n} active sessions"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_last_message_column_is_an_error_above_half_and_a_warning_above_a_fifth() {
        let severity = |empty, readable| {
            empty_column_finding("w4d_lastcustomermessageon", empty, readable).map(|f| f.severity)
        };
        use super::super::finding::Severity::{Error, Warning};
        assert_eq!(severity(6, 10), Some(Error));
        assert_eq!(severity(5, 10), Some(Warning), "exactly half is not most");
        assert_eq!(severity(3, 10), Some(Warning));
        assert_eq!(
            severity(2, 10),
            None,
            "exactly a fifth is not a large share"
        );
        assert_eq!(severity(0, 0), None, "no sessions, nothing to say");
    }
}
