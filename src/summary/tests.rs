//! The summary keeps its counts exact, its lists capped and its JSON in the documented shape.

use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn session(id: &str, overdue_seconds: i64) -> SessionReport {
    SessionReport {
        id: id.into(),
        configuration_id: "c".into(),
        last_customer_message_at: None,
        eligible_at: now(),
        overdue_seconds,
    }
}

/// The JSON example under "Read the summary and metrics" in the README.
fn readme_example() -> serde_json::Value {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find("## Read the summary and metrics").unwrap()..];
    let start = section.find("```json\n").unwrap() + "```json\n".len();
    let end = start + section[start..].find("```").unwrap();
    serde_json::from_str(&section[start..end]).expect("the README example is JSON")
}

fn keys(value: &serde_json::Value) -> std::collections::BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_summary_serialises_to_the_shape_of_the_readme_example() {
    let mut summary = Summary::new(now(), false);
    summary.record_configuration(ConfigurationReport {
        id: "c".into(),
        timeout_seconds: Some(86_400),
        error: None,
    });
    summary.record_closed(session("a", 5));
    summary.record_skipped("b".into(), SkipReason::ChangedSinceRead);
    let json = serde_json::to_value(&summary).unwrap();
    let example = readme_example();

    assert_eq!(keys(&json), keys(&example));
    for list in ["closed_sessions", "skipped", "configurations"] {
        assert_eq!(keys(&json[list][0]), keys(&example[list][0]), "{list}");
    }
    assert_eq!(json["evaluated_at"], "2026-11-24T15:00:00Z");
    assert_eq!(
        json["closed_sessions"][0]["eligible_at"],
        "2026-11-24T15:00:00Z"
    );
    assert_eq!(
        json["closed_sessions"][0]["last_customer_message_at"],
        serde_json::Value::Null
    );
    assert_eq!(json["eligible"], 2);
    assert!(json.get("would_close").is_none());
}

#[test]
fn every_key_a_summary_can_hold_is_named_in_the_readme() {
    let readme = include_str!("../../README.md");
    let mut full = Summary::new(now(), false);
    let mut dry = Summary::new(now(), true);
    for i in 0..REASON_LIST_LIMIT + 1 {
        full.record_skipped(i.to_string(), SkipReason::ChangedSinceRead);
        full.record_failed(i.to_string(), "e".into(), 0);
        full.record_outcome_unknown(i.to_string(), "e".into(), 0);
        full.record_unreadable(i.to_string(), "e".into());
    }
    for i in 0..SESSION_LIST_LIMIT + 1 {
        full.record_closed(session(&i.to_string(), 0));
        dry.record_would_close(session(&i.to_string(), 0));
    }
    full.mark_incomplete(Incomplete::Cap);

    for summary in [full, dry] {
        for key in keys(&serde_json::to_value(&summary).unwrap()) {
            assert!(
                readme.contains(&format!("`{key}`")) || readme.contains(&format!("\"{key}\"")),
                "{key} is not in the README"
            );
        }
    }
}

#[test]
fn the_session_list_is_cut_at_the_limit_but_the_count_stays_exact() {
    let mut summary = Summary::new(now(), false);
    for i in 0..SESSION_LIST_LIMIT + 3 {
        summary.record_closed(session(&i.to_string(), 0));
    }
    assert_eq!(summary.closed, SESSION_LIST_LIMIT + 3);
    assert_eq!(summary.closed_sessions.len(), SESSION_LIST_LIMIT);
    assert!(summary.sessions_truncated);
}

#[test]
fn the_counts_add_up_after_every_kind_of_record() {
    let mut summary = Summary::new(now(), true);
    summary.record_closed(session("a", 1));
    summary.record_would_close(session("b", 2));
    summary.record_skipped("c".into(), SkipReason::ChangedSinceRead);
    summary.record_failed("d".into(), "500: boom".into(), 3);
    summary.record_deferred(4);
    summary.record_outcome_unknown("f".into(), "timed out".into(), 5);
    summary.record_unreadable("e".into(), "no ETag".into());
    assert_eq!(summary.eligible(), 6);
    assert!(summary.adds_up());
    assert_eq!(summary.unreadable(), 1);
}

#[test]
fn an_unreadable_row_is_counted_apart_not_as_eligible() {
    let mut summary = Summary::new(now(), false);
    summary.record_unreadable("e".into(), "no ETag".into());
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["eligible"], 0);
    assert_eq!(json["failed_count"], 0);
    assert_eq!(json["unreadable"], 1);
    assert_eq!(json["unreadable_rows"][0]["error"], "no ETag");
}

#[test]
fn skip_reasons_serialise_to_their_stable_text() {
    let mut summary = Summary::new(now(), false);
    for reason in [
        SkipReason::ChangedSinceRead,
        SkipReason::AlreadyClosed,
        SkipReason::NoLongerExists,
        SkipReason::NoConfigurationSeveralActive,
    ] {
        summary.record_skipped("x".into(), reason);
    }
    let json = serde_json::to_value(&summary).unwrap();
    let reasons: Vec<&str> = json["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|skipped| skipped["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "changed since read",
            "already closed",
            "no longer exists",
            "it has no configuration and several configurations are active"
        ]
    );
}

#[test]
fn every_list_is_cut_at_the_limit_with_exact_counts_and_a_flag() {
    let mut summary = Summary::new(now(), false);
    for i in 0..REASON_LIST_LIMIT + 2 {
        summary.record_skipped(i.to_string(), SkipReason::NoConfigurationSeveralActive);
        summary.record_failed(i.to_string(), "e".into(), 0);
        summary.record_unreadable(i.to_string(), "e".into());
        summary.record_outcome_unknown(i.to_string(), "e".into(), 0);
    }
    let json = serde_json::to_value(&summary).unwrap();
    for (list, count, flag) in [
        (
            "outcome_unknown_sessions",
            "outcome_unknown",
            "outcome_unknown_truncated",
        ),
        ("skipped", "skipped_count", "skipped_truncated"),
        ("failed", "failed_count", "failed_truncated"),
        ("unreadable_rows", "unreadable", "unreadable_truncated"),
    ] {
        assert_eq!(json[list].as_array().unwrap().len(), REASON_LIST_LIMIT);
        assert_eq!(json[count], REASON_LIST_LIMIT + 2, "{count}");
        assert_eq!(json[flag], true, "{flag}");
    }
    assert!(json.get("sessions_truncated").is_none());
    assert!(summary.adds_up());
}

#[test]
fn max_overdue_counts_deferred_sessions_and_those_beyond_the_list_cap() {
    let mut summary = Summary::new(now(), false);
    for i in 0..SESSION_LIST_LIMIT {
        summary.record_closed(session(&i.to_string(), 10));
    }
    summary.record_closed(session("unlisted", 500));
    assert_eq!(summary.max_overdue_seconds(), 500);
    summary.record_deferred(9_000);
    assert_eq!(summary.max_overdue_seconds(), 9_000);
    assert_eq!(summary.metrics_line()["MaxOverdueSeconds"], 9_000);
}

#[test]
fn a_skipped_session_does_not_raise_max_overdue_but_marks_nothing_incomplete() {
    let mut summary = Summary::new(now(), false);
    summary.record_closed(session("a", 10));
    summary.record_skipped("b".into(), SkipReason::NoConfigurationSeveralActive);
    assert_eq!(summary.max_overdue_seconds(), 10);
    assert!(summary.complete());
}

#[test]
fn marking_incomplete_records_each_reason_once() {
    let mut summary = Summary::new(now(), false);
    summary.mark_incomplete(Incomplete::Cap);
    summary.mark_incomplete(Incomplete::Cap);
    summary.mark_incomplete(Incomplete::Deadline);
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["complete"], false);
    assert_eq!(
        json["incomplete_because"],
        serde_json::json!(["cap", "deadline"])
    );
}

#[test]
fn the_metrics_line_is_embedded_metric_format_with_each_readme_metric_and_its_value() {
    let readme = include_str!("../../README.md");
    let mut summary = Summary::new(now(), false);
    summary.record_closed(session("a", 7));
    summary.record_closed(session("b", 70));
    summary.record_failed("c".into(), "e".into(), 1);
    summary.record_outcome_unknown("d".into(), "e".into(), 1);
    for _ in 0..3 {
        summary.record_deferred(1);
    }
    summary.record_unreadable("f".into(), "e".into());
    summary.finish(9, 1_234);
    let line = summary.metrics_line();
    let names: Vec<&str> = line["_aws"]["CloudWatchMetrics"][0]["Metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|metric| metric["Name"].as_str().unwrap())
        .collect();

    for name in &names {
        assert!(
            readme.contains(&format!("`{name}`")),
            "{name} is not in the README"
        );
    }
    let values: Vec<(&str, i64)> = names
        .iter()
        .map(|name| (*name, line[*name].as_i64().unwrap()))
        .collect();
    assert_eq!(
        values,
        [
            ("SessionsClosed", 2),
            ("SessionsEligible", 7),
            ("SessionsFailed", 1),
            ("SessionsDeferred", 3),
            ("SessionsOutcomeUnknown", 1),
            ("SessionsUnreadable", 1),
            ("MaxOverdueSeconds", 70),
            ("SweepDurationMs", 1_234),
        ]
    );
    assert_eq!(line["_aws"]["Timestamp"], now().timestamp_millis());
}
