//! Only usable configurations become queries, and sessions without one are judged or reported as documented.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use chrono::TimeZone;
use serde_json::json;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
}

const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

fn guid(text: &str) -> Guid {
    Guid::parse(text).unwrap()
}

/// An active configuration row with this id and raw timeout (also used by the check's tests).
pub(crate) fn configuration(id: &str, timeout: serde_json::Value) -> ConfigurationRow {
    ConfigurationRow {
        id: guid(id),
        timeout: Some(timeout),
    }
}

/// Default settings, with `DEFAULT_CONFIGURATION_ID` when given (also used by the check's tests).
pub(crate) fn settings(default: Option<&str>) -> Settings {
    let mut pairs = vec![("DATAVERSE_SECRET_ID", "s")];
    pairs.extend(default.map(|id| ("DEFAULT_CONFIGURATION_ID", id)));
    crate::settings::tests::settings(&pairs).unwrap()
}

fn plan_with(
    settings: &Settings,
    configurations: &[ConfigurationRow],
    summary: &mut Summary,
) -> Result<Vec<Planned>, SweepError> {
    Ok(super::plan(now(), settings, configurations)
        .adopt(summary)?
        .queries)
}

fn plan(
    configurations: &[ConfigurationRow],
    summary: &mut Summary,
) -> Result<Vec<Planned>, SweepError> {
    plan_with(&settings(None), configurations, summary)
}

#[test]
fn one_configuration_also_owns_the_sessions_without_an_active_configuration() {
    let mut summary = Summary::new(now(), false);
    let queries = plan(&[configuration(A, json!(1440))], &mut summary).unwrap();
    assert_eq!(queries.len(), 1);
    assert_eq!(
        queries[0].query,
        SessionQuery {
            owner: Owner::NoneOf(Vec::new()),
            cutoff: Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap(),
        }
    );
    assert!(queries[0].configuration_id.is_some());
}

#[test]
fn several_configurations_report_orphaned_sessions_past_the_longest_timeout() {
    let mut summary = Summary::new(now(), false);
    let queries = plan(
        &[
            configuration(A, json!(30)),
            configuration(B, json!("2 days")),
        ],
        &mut summary,
    )
    .unwrap();
    assert_eq!(queries.len(), 3);
    let orphans = &queries[2];
    assert!(orphans.configuration_id.is_none());
    assert_eq!(orphans.timeout.seconds(), 172_800);
    assert_eq!(orphans.query.owner, Owner::NoneOf(vec![guid(A), guid(B)]));
    assert_eq!(queries[0].query.owner, Owner::Configuration(guid(A)));
}

#[test]
fn the_default_configuration_owns_the_orphaned_sessions_and_no_query_only_reports() {
    let mut summary = Summary::new(now(), false);
    let queries = plan_with(
        &settings(Some(B)),
        &[configuration(A, json!(30)), configuration(B, json!(60))],
        &mut summary,
    )
    .unwrap();
    assert_eq!(queries.len(), 2);
    assert_eq!(queries[0].query.owner, Owner::Configuration(guid(A)));
    assert_eq!(queries[1].query.owner, Owner::NoneOf(vec![guid(A)]));
    assert!(queries.iter().all(|query| query.configuration_id.is_some()));
}

#[test]
fn a_default_that_is_not_active_is_an_error_before_any_query() {
    let mut summary = Summary::new(now(), false);
    let inactive = "6f1c2a3b-0000-4000-8000-00000000000c";
    let error = plan_with(
        &settings(Some(inactive)),
        &[configuration(A, json!(30)), configuration(B, json!(60))],
        &mut summary,
    )
    .err()
    .unwrap();
    assert!(matches!(
        error,
        SweepError::DefaultConfigurationNotActive { .. }
    ));
    assert!(error.to_string().contains("DEFAULT_CONFIGURATION_ID"));
}

#[test]
fn a_default_with_an_unusable_timeout_leaves_the_orphaned_sessions_unjudged() {
    let mut summary = Summary::new(now(), false);
    let queries = plan_with(
        &settings(Some(B)),
        &[configuration(A, json!(30)), configuration(B, json!(2))],
        &mut summary,
    )
    .unwrap();
    assert_eq!(queries.len(), 1);
    assert_eq!(queries[0].query.owner, Owner::Configuration(guid(A)));
}

#[test]
fn a_timeout_below_the_minimum_is_an_error_for_its_configuration_only() {
    let mut summary = Summary::new(now(), false);
    let queries = plan(
        &[configuration(A, json!(2)), configuration(B, json!(5))],
        &mut summary,
    )
    .unwrap();
    assert!(queries
        .iter()
        .all(|query| query.configuration_id != Some(guid(A))));
    let error = summary.configurations()[0].error.as_deref().unwrap();
    assert!(error.contains("MIN_SESSION_TIMEOUT"), "{error}");
    assert_eq!(summary.configurations()[1].timeout_seconds, Some(300));
}

#[test]
fn a_query_owns_only_the_lookups_its_filter_asks_for() {
    let mut summary = Summary::new(now(), false);
    let queries = plan_with(
        &settings(Some(B)),
        &[configuration(A, json!(30)), configuration(B, json!(60))],
        &mut summary,
    )
    .unwrap();
    let (own, with_orphans) = (&queries[0], &queries[1]);
    let (a, b) = (guid(A), guid(B));
    let c = guid("6f1c2a3b-0000-4000-8000-00000000000c");
    assert!(own.owns(Some(&a)) && !own.owns(Some(&b)) && !own.owns(None));
    assert!(with_orphans.owns(None) && with_orphans.owns(Some(&b)));
    assert!(with_orphans.owns(Some(&c)));
    assert!(!with_orphans.owns(Some(&a)));
    assert!(!with_orphans.without_active_configuration(Some(&b)));
    assert!(with_orphans.without_active_configuration(None));
}

#[test]
fn a_configuration_with_a_bad_timeout_gets_no_query_and_is_reported() {
    let mut summary = Summary::new(now(), false);
    let queries = plan(
        &[configuration(A, json!(0)), configuration(B, json!(60))],
        &mut summary,
    )
    .unwrap();
    assert!(queries
        .iter()
        .all(|query| query.configuration_id != Some(guid(A))));
    assert!(!summary.complete());
    assert!(summary.configurations()[0].error.is_some());
}

#[test]
fn no_usable_configuration_is_an_error_before_any_query() {
    let mut summary = Summary::new(now(), false);
    let error = plan(&[configuration(A, json!("soon"))], &mut summary)
        .err()
        .unwrap();
    assert!(matches!(error, SweepError::NoUsableConfiguration { .. }));
    assert!(error.to_string().contains("w4d_sessiontimeout"));
}

#[test]
fn a_bare_timeout_in_doubt_is_noted_only_on_a_usable_configuration() {
    let settings = crate::settings::tests::settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("MIN_SESSION_TIMEOUT", "30 minutes"),
    ])
    .unwrap();
    let plan = super::plan(
        now(),
        &settings,
        &[configuration(A, json!(24)), configuration(B, json!(48))],
    );
    let doubted: Vec<&Guid> = plan.unit_doubts.iter().map(|(id, _)| id).collect();
    assert_eq!(doubted, [&guid(B)], "24 minutes is below the floor already");
    assert_eq!(plan.unit_doubts[0].1.other_reading(), "48 hours");
}
