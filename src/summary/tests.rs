//! The summary keeps its counts exact, its lists capped and its JSON in the documented shape.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use chrono::TimeZone;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// A GUID made from a short name, so that tests can say "a", "b", "c".
fn id(name: &str) -> Guid {
    let folded = name.bytes().fold(0u64, |hash, byte| {
        hash.wrapping_mul(131).wrapping_add(u64::from(byte))
    });
    Guid::parse(&format!(
        "00000000-0000-4000-8000-{:012x}",
        folded & 0xffff_ffff_ffff
    ))
    .unwrap()
}

fn session(name: &str, overdue_seconds: i64) -> SessionReport {
    SessionReport {
        id: id(name),
        configuration_id: id("c"),
        no_active_configuration: false,
        last_customer_message_at: None,
        eligible_at: now(),
        overdue_seconds,
    }
}

/// The JSON example under "The summary" in docs/output.md.
fn readme_example() -> serde_json::Value {
    let readme = include_str!("../../docs/output.md");
    let section = &readme[readme.find("## The summary").unwrap()..];
    let start = section.find("```json\n").unwrap() + "```json\n".len();
    let end = start + section[start..].find("```").unwrap();
    serde_json::from_str(&section[start..end]).expect("the docs/output.md example is JSON")
}

/// Whether the summary's JSON says a session list was cut.
fn sessions_truncated(summary: &Summary) -> bool {
    serde_json::to_value(summary).unwrap()["sessions_truncated"] == true
}

fn keys(value: &serde_json::Value) -> std::collections::BTreeSet<String> {
    value.as_object().unwrap().keys().cloned().collect()
}

#[test]
fn the_summary_serialises_to_the_shape_of_the_readme_example() {
    let mut summary = Summary::new(now(), false);
    summary.record_configuration(ConfigurationReport {
        id: id("c"),
        timeout_seconds: Some(86_400),
        error: None,
        warnings_off: None,
    });
    summary.record_closed(session("a", 5));
    summary.record_skipped(id("b"), SkipReason::ChangedSinceRead);
    summary.record_next_wake(now() + chrono::Duration::minutes(37));
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
    let readme = include_str!("../../docs/output.md");
    let mut full = Summary::new(now(), false);
    let mut dry = Summary::new(now(), true);
    for i in 0..REASON_LIST_LIMIT + 1 {
        full.record_skipped(id(&i.to_string()), SkipReason::ChangedSinceRead);
        full.record_failed(i.to_string(), "e".into(), None, 0);
        full.record_outcome_unknown(i.to_string(), "e".into(), 0);
        full.record_unreadable(i.to_string(), "e".into());
    }
    for i in 0..SESSION_LIST_LIMIT + 1 {
        full.record_closed(session(&i.to_string(), 0));
        dry.record_would_close(session(&i.to_string(), 0));
    }
    full.mark_incomplete(Incomplete::Cap);
    for summary in [&mut full, &mut dry] {
        summary.record_warned(warning("w"));
        summary.record_would_warn(warning("w"));
        summary.record_warning_failed("w".into(), "e".into());
        summary.record_warning_outside_window();
        summary.record_closing_message_outside_window();
    }

    for summary in [full, dry] {
        for key in keys(&serde_json::to_value(&summary).unwrap()) {
            assert!(
                readme.contains(&format!("`{key}`")) || readme.contains(&format!("\"{key}\"")),
                "{key} is not in docs/output.md"
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
    assert_eq!(summary.closed(), SESSION_LIST_LIMIT + 3);
    assert_eq!(summary.closed_sessions.len(), SESSION_LIST_LIMIT);
    assert!(sessions_truncated(&summary));
}

#[test]
fn the_counts_add_up_after_every_kind_of_record() {
    let mut summary = Summary::new(now(), true);
    summary.record_closed(session("a", 1));
    summary.record_would_close(session("b", 2));
    summary.record_skipped(id("c"), SkipReason::ChangedSinceRead);
    summary.record_failed("d".into(), "500: boom".into(), Some(500), 3);
    summary.record_deferred(4);
    summary.record_outcome_unknown("f".into(), "timed out".into(), 5);
    summary.record_unreadable("e".into(), "no ETag".into());
    summary.record_awaiting_agent(id("j"));
    let mut orphan = session("g", 5);
    orphan.no_active_configuration = true;
    summary.record_closed(orphan);
    assert_eq!(summary.eligible(), 8);
    assert!(summary.adds_up());
    assert_eq!(summary.unreadable().total(), 1);
    summary.record_reopened(session("h", 0));
    summary.record_would_reopen(session("i", 0));
    assert_eq!(summary.eligible(), 10);
    assert!(summary.adds_up());
}

fn since() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 9, 0, 0).unwrap()
}

#[test]
fn a_reopen_summary_counts_and_lists_the_reopened_sessions_and_says_since_when() {
    let mut summary = Summary::for_reopen(now(), false, since());
    summary.record_reopened(session("a", 0));
    summary.record_skipped(id("b"), SkipReason::StillPastCurrentTimeout);
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["reopen_closed_since"], "2026-11-24T09:00:00Z");
    assert_eq!(json["reopened"], 1);
    assert_eq!(json["reopened_sessions"][0]["id"], id("a").as_str());
    assert_eq!(
        json["skipped"][0]["reason"],
        "still past the current timeout"
    );
    assert_eq!(
        (json["eligible"].as_u64(), json["closed"].as_u64()),
        (Some(2), Some(0))
    );
    assert!(json.get("would_close").is_none() && json.get("would_reopen").is_none());
    assert!(summary.adds_up());
    assert_eq!(summary.metrics_line()["SessionsReopened"], 1);
}

#[test]
fn a_dry_reopen_summary_lists_what_would_be_reopened_and_reopens_nothing() {
    let mut summary = Summary::for_reopen(now(), true, since());
    summary.record_would_reopen(session("a", 0));
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["would_reopen"], 1);
    assert_eq!(json["would_reopen_sessions"][0]["id"], id("a").as_str());
    assert!(json.get("reopened").is_none() && json.get("would_close").is_none());
    assert_eq!(summary.metrics_line()["SessionsReopened"], 0);
    assert!(summary.adds_up());
}

#[test]
fn a_sweep_summary_says_nothing_about_reopening() {
    let json = serde_json::to_value(Summary::new(now(), false)).unwrap();
    for key in [
        "reopen_closed_since",
        "reopened",
        "would_reopen",
        "reopened_sessions",
    ] {
        assert!(json.get(key).is_none(), "{key}");
    }
}

#[test]
fn the_reopened_list_is_cut_at_the_session_limit_but_the_count_stays_exact() {
    let mut summary = Summary::for_reopen(now(), false, since());
    for i in 0..SESSION_LIST_LIMIT + 1 {
        summary.record_reopened(session(&i.to_string(), 0));
    }
    assert_eq!(summary.reopened(), Some(SESSION_LIST_LIMIT + 1));
    assert_eq!(summary.reopened_sessions().len(), SESSION_LIST_LIMIT);
    assert!(sessions_truncated(&summary));
}

#[test]
fn closes_are_counted_under_their_own_configuration_or_no_active_configuration() {
    let mut summary = Summary::new(now(), false);
    summary.record_configuration(ConfigurationReport {
        id: id("c"),
        timeout_seconds: Some(60),
        error: None,
        warnings_off: None,
    });
    summary.record_configuration(ConfigurationReport {
        id: id("idle"),
        timeout_seconds: Some(60),
        error: None,
        warnings_off: None,
    });
    summary.record_closed(session("a", 1));
    let mut orphan = session("b", 1);
    orphan.no_active_configuration = true;
    summary.record_closed(orphan);
    summary.record_closed(session("c", 1));
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(
        json["closed_by_configuration"],
        serde_json::json!({
            id("c").as_str(): 2,
            id("idle").as_str(): 0,
            "no active configuration": 1
        })
    );
    assert_eq!(json["closed_sessions"][1]["no_active_configuration"], true);
    assert!(json["closed_sessions"][0]
        .get("no_active_configuration")
        .is_none());
}

#[test]
fn a_session_awaiting_an_agent_is_skipped_with_its_reason_and_counted_in_the_metrics() {
    let mut summary = Summary::new(now(), false);
    summary.record_awaiting_agent(id("a"));
    assert_eq!(summary.skipped()[0].reason.as_str(), "awaiting agent reply");
    assert_eq!(summary.metrics_line()["SessionsAwaitingAgent"], 1);
    assert_eq!(serde_json::to_value(&summary).unwrap()["awaiting_agent"], 1);
    assert!(summary.adds_up());
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
        SkipReason::AwaitingAgentReply,
        SkipReason::StillPastCurrentTimeout,
    ] {
        summary.record_skipped(id("x"), reason);
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
            "its configuration is not active and several configurations are active",
            "awaiting agent reply",
            "still past the current timeout"
        ]
    );
}

#[test]
fn every_list_is_cut_at_the_limit_with_exact_counts_and_a_flag() {
    let mut summary = Summary::new(now(), false);
    for i in 0..REASON_LIST_LIMIT + 2 {
        summary.record_skipped(id(&i.to_string()), SkipReason::NoConfigurationSeveralActive);
        summary.record_failed(i.to_string(), "e".into(), None, 0);
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
    summary.record_skipped(id("b"), SkipReason::NoConfigurationSeveralActive);
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
    let readme = include_str!("../../docs/output.md");
    let mut summary = Summary::new(now(), false);
    summary.record_closed(session("a", 7));
    summary.record_closed(session("b", 70));
    summary.record_failed("c".into(), "e".into(), None, 1);
    summary.record_outcome_unknown("d".into(), "e".into(), 1);
    for _ in 0..3 {
        summary.record_deferred(1);
    }
    summary.record_unreadable("f".into(), "e".into());
    summary.record_warned(warning("g"));
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
            "{name} is not in docs/output.md"
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
            ("SessionsAwaitingAgent", 0),
            ("SessionsReopened", 0),
            ("SessionsWarned", 1),
            ("MaxOverdueSeconds", 70),
            ("SweepDurationMs", 1_234),
            ("SweepIncomplete", 0),
            ("WakeScheduleFailures", 0),
        ]
    );
    assert_eq!(line["_aws"]["Timestamp"], now().timestamp_millis());
}

#[test]
fn the_metrics_line_counts_an_incomplete_sweep_as_one_and_a_complete_one_as_zero() {
    let complete = Summary::new(now(), false);
    assert_eq!(complete.metrics_line()["SweepIncomplete"], 0);

    let mut stopped = Summary::new(now(), false);
    stopped.mark_incomplete(Incomplete::Deadline);
    let line = stopped.metrics_line();

    assert_eq!(line["SweepIncomplete"], 1);
    let names = line["_aws"]["CloudWatchMetrics"][0]["Metrics"].to_string();
    assert!(names.contains("\"SweepIncomplete\""), "{names}");
}

#[test]
fn a_dry_run_counts_every_session_it_would_close_and_lists_them_up_to_the_limit() {
    let mut summary = Summary::new(now(), true);
    for i in 0..SESSION_LIST_LIMIT + 2 {
        summary.record_would_close(session(&i.to_string(), 0));
    }
    assert_eq!(summary.would_close(), Some(SESSION_LIST_LIMIT + 2));
    assert_eq!(summary.would_close_sessions.len(), SESSION_LIST_LIMIT);
    assert!(sessions_truncated(&summary));
}

#[test]
fn the_counts_add_up_only_when_every_eligible_session_has_exactly_one_outcome() {
    let mut summary = Summary::new(now(), true);
    for n in 0..3 {
        summary
            .would_close_sessions
            .push(session(&n.to_string(), 0));
    }
    for n in 0..4 {
        summary.skipped.push(Skipped {
            id: id(&n.to_string()),
            reason: SkipReason::ChangedSinceRead,
        });
    }
    let failed = || Failed {
        id: "f".into(),
        error: "e".into(),
        status: None,
    };
    for _ in 0..5 {
        summary.failed.push(failed());
    }
    summary.outcome_unknown.push(failed());
    summary.deferred = 6;
    for (eligible, adds_up) in [(19, true), (18, false), (20, false)] {
        summary.eligible = eligible;
        assert_eq!(summary.adds_up(), adds_up, "eligible {eligible}");
    }
}

#[test]
fn every_reason_a_sweep_can_stop_early_for_is_named_in_the_docs() {
    let docs = include_str!("../../docs/output.md");
    let reasons = [
        Incomplete::Deadline,
        Incomplete::Cap,
        Incomplete::UnusableConfiguration,
        Incomplete::Error,
        Incomplete::OutcomeUnknown,
        Incomplete::Throttled,
    ];
    // A new reason does not compile here until it is added to the list above.
    let _listed = |why: Incomplete| match why {
        Incomplete::Deadline
        | Incomplete::Cap
        | Incomplete::UnusableConfiguration
        | Incomplete::Error
        | Incomplete::OutcomeUnknown
        | Incomplete::Throttled => (),
    };

    for reason in reasons {
        let text = serde_json::to_value(reason).unwrap();
        assert!(
            docs.contains(&format!("{text}")),
            "{text} is not in docs/output.md"
        );
    }
}

#[test]
fn every_text_that_can_carry_what_dataverse_said_is_capped_on_a_char_boundary_and_marked() {
    let long = "é".repeat(2_000);
    let mut summary = Summary::new(now(), false);
    summary.record_failed("id".into(), long.clone(), None, 1);
    summary.record_outcome_unknown("id".into(), long.clone(), 1);
    summary.record_unreadable(long.clone(), long.clone());
    summary.record_wake_failure(long.clone());
    summary.record_configuration(ConfigurationReport {
        id: Guid::parse("6f1c2a3b-0000-4000-8000-00000000000a").unwrap(),
        timeout_seconds: None,
        error: Some(long.clone()),
        warnings_off: None,
    });

    let texts = [
        summary.failed().first().map(|f| f.error.clone()),
        summary.outcome_unknown().first().map(|f| f.error.clone()),
        summary.unreadable().first().map(|f| f.error.clone()),
        summary.unreadable().first().map(|f| f.id.clone()),
        summary.wake_error().map(str::to_owned),
        summary.configurations()[0].error.clone(),
    ];
    for text in texts {
        let text = text.expect("the entry was recorded");
        assert!(
            text.chars().count() <= 320,
            "{} chars",
            text.chars().count()
        );
        assert!(
            text.starts_with("éé") && text.ends_with(TEXT_CUT_MARKER),
            "{text}"
        );
    }
    summary.record_failed("short".into(), "0x80040203: Invalid status".into(), None, 1);
    assert_eq!(
        summary.failed().get(1).map(|f| f.error.as_str()),
        Some("0x80040203: Invalid status")
    );
}

fn warning(name: &str) -> WarningReport {
    WarningReport {
        id: id(name),
        configuration_id: id("c"),
        last_customer_message_at: Some(now()),
        eligible_at: now(),
    }
}

#[test]
fn the_warning_keys_are_written_only_when_warnings_are_on() {
    let mut summary = Summary::new(now(), false);
    let json = serde_json::to_value(&summary).unwrap();
    for key in [
        "warned",
        "warnings_outside_window",
        "closing_messages_outside_window",
    ] {
        assert!(json.get(key).is_none(), "{key}");
    }
    summary.expect_warnings();
    summary.expect_closing_messages();
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["warned"], 0);
    assert_eq!(json["warnings_outside_window"], 0);
    assert_eq!(json["closing_messages_outside_window"], 0);
    assert!(
        json.get("would_warn").is_none(),
        "only a dry run lists would_warn"
    );
}

#[test]
fn warnings_are_counted_apart_from_the_eligible_sessions_and_in_their_metric() {
    let mut summary = Summary::new(now(), false);
    summary.record_warned(warning("a"));
    summary.record_warned(warning("b"));
    summary.record_warning_outside_window();
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["warned"], 2);
    assert_eq!(json["warned_sessions"][1]["id"], id("b").to_string());
    assert_eq!(json["warnings_outside_window"], 1);
    assert_eq!(json["eligible"], 0);
    assert!(summary.adds_up());
    assert_eq!(summary.metrics_line()["SessionsWarned"], 2);
}

#[test]
fn a_dry_run_lists_the_warnings_it_would_send() {
    let mut summary = Summary::new(now(), true);
    summary.record_would_warn(warning("a"));
    let json = serde_json::to_value(&summary).unwrap();
    assert_eq!(json["would_warn"], 1);
    assert_eq!(json["would_warn_sessions"][0]["id"], id("a").to_string());
    assert_eq!(json["warned"], 0);
}

#[test]
fn the_warned_list_is_cut_at_the_session_limit_and_says_so() {
    let mut summary = Summary::new(now(), false);
    for i in 0..SESSION_LIST_LIMIT + 1 {
        summary.record_warned(warning(&i.to_string()));
    }
    assert_eq!(
        summary.warned().map(|w| w.total()),
        Some(SESSION_LIST_LIMIT + 1)
    );
    assert!(sessions_truncated(&summary));
}
