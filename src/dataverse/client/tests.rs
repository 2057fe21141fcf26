//! A change sent without an answer has an unknown outcome, and the backoff grows within its cap.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use std::time::Duration;

#[test]
fn a_change_sent_without_an_answer_has_an_unknown_outcome_and_one_never_sent_does_not() {
    let sent = || Delivery {
        unanswered: Some("timed out".into()),
    };
    let unreachable = || DataverseError::Unreachable {
        host: "h".into(),
        attempts: 6,
        reason: "timed out".into(),
    };

    assert!(matches!(
        sent().settle(DataverseError::DeadlineReached),
        DataverseError::OutcomeUnknown { .. }
    ));
    assert!(matches!(
        sent().settle(unreachable()),
        DataverseError::OutcomeUnknown { .. }
    ));
    assert!(matches!(
        Delivery::default().settle(DataverseError::DeadlineReached),
        DataverseError::DeadlineReached
    ));
    assert!(matches!(
        sent().settle(DataverseError::Unauthorized),
        DataverseError::Unauthorized
    ));
}

#[test]
fn backoff_grows_and_stays_within_the_cap() {
    let policy = RetryPolicy {
        base_backoff: Duration::from_millis(100),
        max_wait: Duration::from_secs(1),
        ..RetryPolicy::default()
    };
    let first = policy.backoff(1);
    assert!(first >= Duration::from_millis(50) && first <= Duration::from_millis(100));
    let fourth = policy.backoff(4);
    assert!(fourth >= Duration::from_millis(400) && fourth <= Duration::from_millis(800));
    assert!(policy.backoff(30) <= Duration::from_secs(1));
}

#[test]
fn a_fault_of_this_function_keeps_the_error_behind_it_and_names_it_in_its_message() {
    let cause = Url::parse("no scheme").unwrap_err();
    let error = DataverseError::internal("query URL", cause);
    assert_eq!(
        error.to_string(),
        format!("internal error: query URL: {cause}")
    );
    let source = std::error::Error::source(&error).map(ToString::to_string);
    assert_eq!(source, Some(cause.to_string()));
}
