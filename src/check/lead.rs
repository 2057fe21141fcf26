//! The warning lead and the closing message against each active configuration's timeout: a
//! configuration whose timeout is not longer than `WARNING_LEAD` gets no warnings; one whose
//! warnings would go out 24 hours or more after the customer's last message gets none sent
//! (WhatsApp's customer service window has closed); and with `CLOSING_MESSAGE_TEXT`, one whose
//! timeout is 24 hours or more closes every session outside that window, without the closing
//! message. Pure.

use super::finding::Finding;
use super::sessions::ConfigurationCount;
use crate::policy::{length_in_words as span, CUSTOMER_SERVICE_WINDOW};
use crate::settings::{setting, NotifySettings};

/// WhatsApp's customer service window, in the seconds the timeouts are counted in.
const WINDOW_SECONDS: i64 = CUSTOMER_SERVICE_WINDOW.num_seconds();

/// The findings about the lead and the closing message, one per configuration they concern,
/// or one that all is well.
pub(crate) fn findings(notify: &NotifySettings, counts: &[ConfigurationCount]) -> Vec<Finding> {
    let timeouts: Vec<(String, i64)> = counts
        .iter()
        .filter_map(|c| {
            c.timeout_seconds
                .map(|t| (format!("configuration {}", c.id), t))
        })
        .collect();
    let mut found = Vec::new();
    if let Some(warning) = &notify.warning {
        found.extend(lead_findings(warning.lead.seconds(), &timeouts));
    }
    if notify.closing_text.is_some() {
        found.extend(closing_findings(&timeouts));
    }
    found
}

fn lead_findings(lead: i64, timeouts: &[(String, i64)]) -> Vec<Finding> {
    const SETTING: &str = setting::WARNING_LEAD.name;
    let mut found = Vec::new();
    for (configuration, timeout) in timeouts {
        if *timeout <= lead {
            found.push(Finding::warning(
                SETTING,
                format!("{configuration}: its timeout ({}) is not longer than WARNING_LEAD ({}), so its sessions get no warning and close as usual", span(*timeout), span(lead)),
                format!("set WARNING_LEAD shorter than {}, or lengthen this configuration's Session Timeout", span(*timeout)),
            ));
        } else if timeout - lead >= WINDOW_SECONDS {
            found.push(Finding::warning(
                SETTING,
                format!("{configuration}: a warning would go out {} after the customer's last message, when WhatsApp's 24-hour window has closed, so none is sent (each is counted as outside the window)", span(timeout - lead)),
                format!("set WARNING_LEAD to more than {} so that its warnings go out within 24 hours of the customer's last message", span(timeout - WINDOW_SECONDS)),
            ));
        }
    }
    if found.is_empty() && !timeouts.is_empty() {
        found.push(Finding::ok(
            SETTING,
            format!("WARNING_LEAD ({}) is shorter than every active configuration's timeout, and their warnings go out within 24 hours of the customer's last message", span(lead)),
        ));
    }
    found
}

fn closing_findings(timeouts: &[(String, i64)]) -> Vec<Finding> {
    const SETTING: &str = setting::CLOSING_MESSAGE_TEXT.name;
    let mut found: Vec<Finding> = timeouts
        .iter()
        .filter(|(_, timeout)| *timeout >= WINDOW_SECONDS)
        .map(|(configuration, timeout)| {
            Finding::warning(
                SETTING,
                format!("{configuration}: its timeout ({}) is 24 hours or more, so every close comes after WhatsApp's 24-hour window, when only approved templates may be sent: its sessions close without the closing message", span(*timeout)),
                "tell these customers with the warning (WARNING_LEAD), which goes out before the close and inside the window, or shorten this configuration's Session Timeout below 24 hours",
            )
        })
        .collect();
    if found.is_empty() && !timeouts.is_empty() {
        found.push(Finding::ok(
            SETTING,
            "every active configuration's timeout is under 24 hours, so a close can carry the closing message",
        ));
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::finding::Severity;

    fn timeouts(seconds: &[i64]) -> Vec<(String, i64)> {
        seconds
            .iter()
            .enumerate()
            .map(|(at, s)| (format!("configuration {at}"), *s))
            .collect()
    }

    #[test]
    fn a_timeout_not_longer_than_the_lead_is_a_warning_naming_its_configuration() {
        let found = lead_findings(3_600, &timeouts(&[1_800, 3_600, 7_200]));

        let named: Vec<&str> = found.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(found.len(), 2, "{named:?}");
        assert!(found.iter().all(|f| f.severity == Severity::Warning));
        assert!(named[0].starts_with("configuration 0:"), "{}", named[0]);
        assert!(named[1].starts_with("configuration 1:"), "{}", named[1]);
    }

    #[test]
    fn a_lead_shorter_than_every_timeout_is_ok() {
        let found = lead_findings(600, &timeouts(&[1_800, 86_400]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Ok);
    }

    #[test]
    fn warnings_that_would_go_out_after_the_window_are_a_warning() {
        let found = lead_findings(3_600, &timeouts(&[2 * 86_400]));
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].fix.as_deref().unwrap().contains("more than 1 day"));
        let just_inside = lead_findings(3_601, &timeouts(&[86_400 + 3_600]));
        assert_eq!(just_inside[0].severity, Severity::Ok);
    }

    #[test]
    fn a_closing_message_with_a_timeout_of_a_day_or_more_is_a_warning_that_points_to_the_warning() {
        let found = closing_findings(&timeouts(&[1_800, 86_400]));

        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.starts_with("configuration 1:"));
        assert!(found[0].fix.as_deref().unwrap().contains("WARNING_LEAD"));
        let under_a_day = closing_findings(&timeouts(&[86_399]));
        assert_eq!(under_a_day[0].severity, Severity::Ok);
    }

    #[test]
    fn a_span_is_given_in_its_largest_whole_unit() {
        assert_eq!(span(86_400), "1 day");
        assert_eq!(span(5_400), "90 minutes");
        assert_eq!(span(7_200), "2 hours");
        assert_eq!(span(45), "45 seconds");
    }
}
