//! The handler accepts only the events it documents and maps each failure to a stable error type.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

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
        Trigger::Sweep {
            dry_run: false,
            sweep_at: None
        }
    );
}

#[test]
fn a_manual_dry_run_is_read_from_the_detail() {
    let trigger = parse_event(scheduled(json!({"dry_run": true}))).unwrap();
    assert_eq!(
        trigger,
        Trigger::Sweep {
            dry_run: true,
            sweep_at: None
        }
    );
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
        (scheduled(json!({"check": true, "dry_run": true})), "alone"),
        (
            scheduled(json!({"check": true, "reopen_closed_since": "2026-11-24T09:00:00Z"})),
            "alone",
        ),
    ];
    for (event, expected) in cases {
        let error = parse_event(event).unwrap_err();
        assert!(error.to_string().contains(expected), "{error}");
        assert_eq!(Diagnostic::from(error).error_type, "InvalidEvent");
    }
}

#[test]
fn a_reopen_instant_is_read_from_the_detail_with_its_offset() {
    let trigger = parse_event(scheduled(json!({
        "reopen_closed_since": "2026-11-24T10:00:00+01:00",
        "dry_run": true
    })))
    .unwrap();
    assert_eq!(
        trigger,
        Trigger::Reopen {
            since: "2026-11-24T09:00:00Z".parse().unwrap(),
            dry_run: true
        }
    );
}

#[test]
fn a_reopen_instant_that_is_not_rfc_3339_is_refused_with_its_own_error_type() {
    for bad in [
        json!("yesterday"),
        json!("2026-11-24"),
        json!("2026-11-24T09:00:00"),
        json!(1_764_000_000),
    ] {
        let error = parse_event(scheduled(json!({"reopen_closed_since": bad}))).unwrap_err();
        assert!(error.to_string().contains("RFC 3339"), "{error}");
        assert_eq!(Diagnostic::from(error).error_type, "InvalidReopenInstant");
    }
}

#[test]
fn a_reopen_instant_in_the_future_is_refused_and_now_itself_is_accepted() {
    let now: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().unwrap();
    let error = check_not_future(now + chrono::Duration::seconds(1), now).unwrap_err();
    assert!(error.to_string().contains("future"), "{error}");
    assert_eq!(Diagnostic::from(error).error_type, "InvalidReopenInstant");
    assert!(check_not_future(now, now).is_ok());
}

#[test]
fn only_a_sweep_that_closed_nothing_and_had_failures_is_a_no_close_error() {
    let now = "2026-11-24T15:00:00Z".parse().unwrap();
    let mut all_failed = Summary::new(now, false);
    all_failed.record_failed(
        "a".into(),
        "400: 0x80040203: Invalid status".into(),
        Some(400),
        1,
    );
    let mut dry = Summary::new(now, true);
    dry.record_failed("a".into(), "400: x".into(), Some(400), 1);

    let error = HandlerError::no_close_succeeded(&all_failed).unwrap();

    assert!(
        error.to_string().contains("SESSION_CLOSED_STATECODE"),
        "{error}"
    );
    assert_eq!(Diagnostic::from(error).error_type, "NoCloseSucceeded");
    assert!(HandlerError::no_close_succeeded(&dry).is_none());
    assert!(HandlerError::no_close_succeeded(&Summary::new(now, false)).is_none());
}

#[test]
fn a_fixed_clock_decides_with_its_instant_and_the_system_clock_with_the_wall() {
    let wall = Utc::now();
    let fixed = "2026-11-24T15:00:00Z".parse().unwrap();
    assert_eq!(Clock::Fixed(fixed).now(wall), fixed);
    assert_eq!(Clock::System.now(wall), wall);
}

#[test]
fn a_running_clock_starts_at_its_instant_and_runs_speed_times_faster_than_the_wall() {
    let from: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().unwrap();
    let clock = Clock::running(from, 600);
    let first = clock.now(Utc::now());

    std::thread::sleep(std::time::Duration::from_millis(100));

    let later = clock.now(Utc::now());
    assert!(first >= from && first < from + chrono::Duration::seconds(30));
    assert!(
        later - first >= chrono::Duration::seconds(60),
        "{first} {later}"
    );
}

#[test]
fn the_close_hint_follows_the_status_dataverse_answered_not_the_text_of_the_error() {
    let now = "2026-11-24T15:00:00Z".parse().unwrap();
    let mut forbidden = Summary::new(now, false);
    forbidden.record_failed("a".into(), "Forbidden".into(), Some(403), 1);
    let mut no_status = Summary::new(now, false);
    no_status.record_failed("a".into(), "400: looks like a status".into(), None, 1);

    let forbidden = HandlerError::no_close_succeeded(&forbidden).unwrap();
    let no_status = HandlerError::no_close_succeeded(&no_status).unwrap();

    assert!(
        forbidden.to_string().contains("security role"),
        "{forbidden}"
    );
    assert!(
        !no_status.to_string().contains("SESSION_CLOSED_STATECODE"),
        "{no_status}"
    );
}

#[test]
fn a_wake_up_moment_is_read_from_the_detail() {
    let trigger = parse_event(scheduled(json!({"sweep_at": "2026-11-24T15:37:12Z"}))).unwrap();
    assert_eq!(
        trigger,
        Trigger::Sweep {
            dry_run: false,
            sweep_at: Some("2026-11-24T15:37:12Z".parse().unwrap())
        }
    );
}

#[test]
fn a_wake_up_moment_that_is_not_rfc_3339_is_refused_naming_the_field_never_guessed() {
    for bad in [
        json!("soon"),
        json!("2026-11-24 15:37"),
        json!(1_764_000_000),
    ] {
        let error = parse_event(scheduled(json!({"sweep_at": bad}))).unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("detail.sweep_at") && text.contains("RFC 3339"),
            "{text}"
        );
        assert_eq!(Diagnostic::from(error).error_type, "InvalidSweepMoment");
    }
    let both = scheduled(
        json!({"sweep_at": "2026-11-24T15:37:12Z", "reopen_closed_since": "2026-11-24T09:00:00Z"}),
    );
    assert_eq!(
        Diagnostic::from(parse_event(both).unwrap_err()).error_type,
        "InvalidEvent"
    );
}

#[tokio::test]
async fn a_fixed_clock_returns_from_a_wait_at_once_with_its_own_instant() {
    let fixed: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().unwrap();
    let after = Clock::Fixed(fixed)
        .wait_until(fixed + chrono::Duration::seconds(40))
        .await;
    assert_eq!(after, fixed);
}

#[tokio::test]
async fn a_running_clock_waits_until_its_instant_reaches_the_target() {
    let from: DateTime<Utc> = "2026-11-24T15:00:00Z".parse().unwrap();
    let target = from + chrono::Duration::seconds(30);
    let started = std::time::Instant::now();

    let after = Clock::running(from, 600).wait_until(target).await;

    assert!(after >= target, "{after} < {target}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}
