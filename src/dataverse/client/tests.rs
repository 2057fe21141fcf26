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

const READS: &str = "multipart/mixed; boundary=batchresponse_r";

fn read_part(status: &str, body: &str) -> String {
    format!(
        "--batchresponse_r\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n\
         HTTP/1.1 {status}\r\nContent-Type: application/json; odata.metadata=minimal\r\n\r\n{body}\r\n"
    )
}

#[test]
fn a_batch_of_reads_gives_one_page_per_read_in_order() {
    let text = format!(
        "{}{}--batchresponse_r--\r\n",
        read_part(
            "200 OK",
            r#"{"value":[{"createdon":"2026-11-24T15:00:00Z"}]}"#
        ),
        read_part("200 OK", r#"{"value":[]}"#)
    );
    let pages = read_pages(200, READS, &text, 2).unwrap();
    assert_eq!(pages.len(), 2);
    assert_eq!(pages[0].value.len(), 1);
    assert!(pages[1].value.is_empty());
}

#[test]
fn a_refused_read_is_its_own_error_even_when_the_batch_answers_with_its_status() {
    let error =
        r#"{"error":{"code":"0x80060888","message":"Could not find a property named 'w4d_x'."}}"#;
    let text = format!(
        "{}{}--batchresponse_r--\r\n",
        read_part("200 OK", r#"{"value":[]}"#),
        read_part("400 Bad Request", error)
    );
    for status in [200, 400] {
        match read_pages(status, READS, &text, 2) {
            Err(DataverseError::Api {
                status,
                code,
                message,
            }) => {
                assert_eq!((status, code.as_str()), (400, "0x80060888"));
                assert!(message.contains("w4d_x"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn a_batch_of_reads_answered_short_or_not_as_multipart_is_a_bad_response() {
    let text = format!(
        "{}--batchresponse_r--\r\n",
        read_part("200 OK", r#"{"value":[]}"#)
    );
    assert!(matches!(
        read_pages(200, READS, &text, 2),
        Err(DataverseError::BadResponse(reason)) if reason.contains("1 of the 2")
    ));
    assert!(matches!(
        read_pages(200, "application/json", r#"{"value":[]}"#, 1),
        Err(DataverseError::BadResponse(_))
    ));
    assert!(matches!(
        read_pages(503, "text/plain", "Service Unavailable", 1),
        Err(DataverseError::Api { status: 503, .. })
    ));
}
