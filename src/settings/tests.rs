//! Settings are read, defaulted and refused as the README documents; helpers for other modules' tests.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use std::collections::HashMap;

/// The schema of the default settings, for other modules' tests.
pub(crate) fn default_schema() -> Schema {
    settings(&[("DATAVERSE_SECRET_ID", "s")]).unwrap().schema
}

pub(crate) fn settings(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
    let env: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|name| env.get(name).cloned())
}

#[test]
fn only_the_secret_id_is_required_and_the_rest_have_defaults() {
    let s = settings(&[("DATAVERSE_SECRET_ID", "sweeper/dataverse")]).unwrap();
    assert_eq!(s.secret_id, "sweeper/dataverse");
    assert!(!s.dry_run);
    assert_eq!(s.max_closures, 5000);
    assert_eq!(s.secret_cache, Duration::from_secs(300));
    assert_eq!(s.close_batch_size, 100);
    assert_eq!(s.close_concurrency, 4);
    assert_eq!(s.schema.session_table.as_str(), "w4d_chatsessions");
    assert_eq!(
        s.schema.configuration_lookup.as_str(),
        "_w4d_configurationid_value"
    );
    assert_eq!(
        (s.schema.closed_statecode, s.schema.closed_statuscode),
        (1, 2)
    );
    assert_eq!(s.schema.timeout_unit, TimeoutUnit::Minutes);
    assert_eq!(s.schema.close_reason, None);
    assert_eq!(s.schema.last_agent_message, None);
    assert_eq!(s.schema.session_end, None);
    assert_eq!(s.wake, None);
    assert_eq!(s.min_wake_interval, Duration::from_secs(60));
}

#[test]
fn a_minimum_wake_interval_under_a_minute_is_refused() {
    let error =
        settings(&[("DATAVERSE_SECRET_ID", "s"), ("MIN_WAKE_INTERVAL", "PT30S")]).unwrap_err();
    assert!(error.to_string().contains("MIN_WAKE_INTERVAL"), "{error}");
}

#[test]
fn a_missing_secret_id_is_named() {
    let error = settings(&[]).unwrap_err();
    assert_eq!(error, SettingsError::Missing("DATAVERSE_SECRET_ID"));
    assert!(error.to_string().contains("DATAVERSE_SECRET_ID"));
}

#[test]
fn a_table_name_with_odata_syntax_is_refused_and_the_setting_named() {
    let error = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("SESSION_TABLE", "w4d_chatsessions?$filter=true"),
    ])
    .unwrap_err();
    assert!(matches!(
        error,
        SettingsError::BadName {
            name: "SESSION_TABLE",
            ..
        }
    ));
}

#[test]
fn a_batch_size_above_dataverse_limit_is_refused() {
    let error =
        settings(&[("DATAVERSE_SECRET_ID", "s"), ("CLOSE_BATCH_SIZE", "1001")]).unwrap_err();
    assert!(error.to_string().contains("CLOSE_BATCH_SIZE"));
}

#[test]
fn a_zero_closure_cap_is_refused() {
    let error = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("MAX_CLOSURES_PER_SWEEP", "0"),
    ])
    .unwrap_err();
    assert!(matches!(
        error,
        SettingsError::BadValue {
            name: "MAX_CLOSURES_PER_SWEEP",
            ..
        }
    ));
}

#[test]
fn dry_run_accepts_true_and_refuses_anything_unclear() {
    let on = settings(&[("DATAVERSE_SECRET_ID", "s"), ("DRY_RUN", "TRUE")]).unwrap();
    assert!(on.dry_run);
    let unclear = settings(&[("DATAVERSE_SECRET_ID", "s"), ("DRY_RUN", "maybe")]);
    assert!(matches!(
        unclear,
        Err(SettingsError::BadValue {
            name: "DRY_RUN",
            ..
        })
    ));
}

#[test]
fn closing_into_the_active_state_is_refused() {
    let error = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("SESSION_CLOSED_STATECODE", "0"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("SESSION_CLOSED_STATECODE"));
}

#[test]
fn reopening_into_the_closed_state_is_refused() {
    let error = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("SESSION_ACTIVE_STATECODE", "1"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("SESSION_ACTIVE_STATECODE"));
}

#[test]
fn a_reopen_sets_state_zero_and_status_one_by_default() {
    let schema = default_schema();
    assert_eq!((schema.active_statecode, schema.active_statuscode), (0, 1));
}

#[test]
fn an_unknown_timeout_unit_is_refused() {
    let error = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("CONFIGURATION_TIMEOUT_UNIT", "fortnights"),
    ])
    .unwrap_err();
    assert!(error.to_string().contains("CONFIGURATION_TIMEOUT_UNIT"));
}

#[test]
fn every_setting_is_read_under_its_own_name() {
    for spec in SPECS {
        let bad = match spec.form {
            Form::Name | Form::OptionalName => "not a name!",
            Form::Number { .. } | Form::Flag | Form::OneOf(_) | Form::Timeout => "999999999999x",
            Form::OptionalTimeout => "999999999999x",
            Form::JsonObject => "[not an object]",
            Form::Duration { .. } => "999999999999x",
            Form::OptionalGuid => "not-a-guid",
            Form::Text | Form::OptionalText | Form::LogFilter => continue,
        };
        let error =
            settings(&[("DATAVERSE_SECRET_ID", "s"), (spec.name, bad)]).expect_err(spec.name);
        assert!(error.to_string().contains(spec.name), "{error}");
    }
}

#[test]
fn a_number_out_of_range_names_the_allowed_range() {
    let error = settings(&[("DATAVERSE_SECRET_ID", "s"), ("CLOSE_CONCURRENCY", "17")]).unwrap_err();
    assert!(error.to_string().contains("from 1 to 16"), "{error}");
}

#[test]
fn the_minimum_timeout_defaults_to_five_minutes_and_reads_the_timeout_forms() {
    let default = settings(&[("DATAVERSE_SECRET_ID", "s")]).unwrap();
    assert_eq!(default.min_timeout.seconds(), 300);
    let hours = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("CONFIGURATION_TIMEOUT_UNIT", "hours"),
        ("MIN_SESSION_TIMEOUT", "2"),
    ])
    .unwrap();
    assert_eq!(hours.min_timeout.seconds(), 7_200);
    let zero = settings(&[("DATAVERSE_SECRET_ID", "s"), ("MIN_SESSION_TIMEOUT", "0")]);
    assert!(zero
        .unwrap_err()
        .to_string()
        .contains("MIN_SESSION_TIMEOUT"));
}

#[test]
fn the_default_configuration_is_unset_by_default_and_read_as_a_lowercase_guid() {
    let unset = settings(&[("DATAVERSE_SECRET_ID", "s")]).unwrap();
    assert_eq!(unset.default_configuration, None);
    let set = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        (
            "DEFAULT_CONFIGURATION_ID",
            "6F1C2B7A-3D4E-4F50-8A61-7B8C9D0E1F21",
        ),
    ])
    .unwrap();
    assert_eq!(
        set.default_configuration.map(|id| id.to_string()),
        Some("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21".into())
    );
}

#[test]
fn an_optional_close_reason_column_is_read_when_set() {
    let s = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("SESSION_CLOSE_REASON_COLUMN", "w4d_closereason"),
    ])
    .unwrap();
    assert_eq!(
        s.schema.close_reason.map(|n| n.0),
        Some("w4d_closereason".into())
    );
}

#[test]
fn an_optional_session_end_column_is_read_when_set() {
    let s = settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("SESSION_END_COLUMN", "w4d_enddatetime"),
    ])
    .unwrap();
    assert_eq!(
        s.schema.session_end.map(|n| n.0),
        Some("w4d_enddatetime".into())
    );
}
