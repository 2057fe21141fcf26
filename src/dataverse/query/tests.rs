use super::*;
use chrono::TimeZone;

use crate::settings::tests::default_schema as schema;

const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";

fn cutoff() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

fn query(owner: Owner) -> SessionQuery {
    SessionQuery {
        owner,
        cutoff: cutoff(),
    }
}

fn a() -> Guid {
    Guid::parse(A).unwrap()
}

const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";

#[test]
fn the_warning_query_asks_for_the_last_activity_between_the_cutoff_and_the_lead() {
    let query = WarningQuery {
        owner: Owner::Configuration(a()),
        after: cutoff(),
        until: cutoff() + chrono::Duration::minutes(15),
    };
    assert_eq!(
        query.filter(&schema()),
        format!(
            "statecode eq 0 and _w4d_configurationid_value eq {A} and \
             ((w4d_lastcustomermessageon gt 2026-11-24T15:00:00Z and w4d_lastcustomermessageon le 2026-11-24T15:15:00Z) or \
             (w4d_lastcustomermessageon eq null and createdon gt 2026-11-24T15:00:00Z and createdon le 2026-11-24T15:15:00Z))"
        )
    );
}

#[test]
fn the_only_configuration_asks_for_every_active_session_past_the_cutoff() {
    assert_eq!(
        query(Owner::NoneOf(Vec::new())).filter(&schema()),
        "statecode eq 0 and \
         (w4d_lastcustomermessageon le 2026-11-24T15:00:00Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-24T15:00:00Z))"
    );
}

#[test]
fn sessions_without_an_active_configuration_are_those_with_an_empty_or_other_lookup() {
    let b = Guid::parse(B).unwrap();
    let filter = query(Owner::NoneOf(vec![a(), b])).filter(&schema());
    assert!(filter.starts_with(&format!(
        "statecode eq 0 and (_w4d_configurationid_value eq null or \
         (_w4d_configurationid_value ne {A} and _w4d_configurationid_value ne {B})) and ("
    )));
}

#[test]
fn one_of_several_configurations_asks_only_for_its_own_sessions() {
    let filter = query(Owner::Configuration(a())).filter(&schema());
    assert!(filter.starts_with(&format!(
        "statecode eq 0 and _w4d_configurationid_value eq {A} and ("
    )));
    assert!(!filter.contains("eq null and ("));
}

#[test]
fn the_upcoming_query_asks_for_the_first_session_not_yet_past_the_cutoff() {
    let upcoming = UpcomingQuery {
        owner: Owner::Configuration(a()),
        cutoff: cutoff(),
        basis: Basis::LastCustomerMessage,
    };
    let root = Url::parse("https://org.example/api/data/v9.2/").unwrap();
    assert_eq!(
        upcoming.url(&root, &schema()).unwrap().as_str(),
        format!(
            "https://org.example/api/data/v9.2/w4d_chatsessions?$select=w4d_lastcustomermessageon\
             &$filter=statecode%20eq%200%20and%20_w4d_configurationid_value%20eq%20{A}\
             %20and%20w4d_lastcustomermessageon%20gt%202026-11-24T15:00:00Z\
             &$orderby=w4d_lastcustomermessageon%20asc&$top=1"
        )
    );
}

#[test]
fn the_upcoming_query_from_creation_asks_only_for_sessions_the_customer_never_wrote_in() {
    let upcoming = UpcomingQuery {
        owner: Owner::NoneOf(vec![]),
        cutoff: cutoff(),
        basis: Basis::Created,
    };
    assert_eq!(upcoming.time_column(&schema()), "createdon");
    assert!(upcoming.filter(&schema()).ends_with(
        "statecode eq 0 and w4d_lastcustomermessageon eq null and createdon gt 2026-11-24T15:00:00Z"
    ));
}

#[test]
fn a_filter_is_encoded_with_percent_twenty_for_spaces() {
    assert_eq!(
        encode_query("statecode eq 0 and x le 2026-11-24T15:00:00Z"),
        "statecode%20eq%200%20and%20x%20le%202026-11-24T15:00:00Z"
    );
    assert_eq!(encode_query("a+b&c=d"), "a%2Bb%26c%3Dd");
}

#[test]
fn the_close_body_sets_the_closed_state_and_optionally_the_reason() {
    let mut schema = schema();
    assert_eq!(
        change_body(&schema, SessionChange::Close, cutoff()),
        r#"{"statecode":1,"statuscode":2}"#
    );
    schema.close_reason = Some(crate::settings::Name::parse("X", "w4d_closereason").unwrap());
    assert!(change_body(&schema, SessionChange::Close, cutoff())
        .contains(r#""w4d_closereason":"Closed by session timeout""#));
}

#[test]
fn the_reopen_body_sets_the_active_state_and_clears_a_configured_reason() {
    let mut schema = schema();
    assert_eq!(
        change_body(&schema, SessionChange::Reopen, cutoff()),
        r#"{"statecode":0,"statuscode":1}"#
    );
    schema.close_reason = Some(crate::settings::Name::parse("X", "w4d_closereason").unwrap());
    assert!(
        change_body(&schema, SessionChange::Reopen, cutoff()).contains(r#""w4d_closereason":null"#)
    );
}

#[test]
fn the_close_body_sets_a_configured_end_column_to_the_instant_of_the_close() {
    let mut schema = schema();
    schema.session_end = Some(crate::settings::Name::parse("X", "w4d_enddatetime").unwrap());

    let body = change_body(&schema, SessionChange::Close, cutoff());

    assert!(
        body.contains(r#""w4d_enddatetime":"2026-11-24T15:00:00Z""#),
        "{body}"
    );
}

#[test]
fn the_reopen_body_empties_a_configured_end_column() {
    let mut schema = schema();
    schema.session_end = Some(crate::settings::Name::parse("X", "w4d_enddatetime").unwrap());

    let body = change_body(&schema, SessionChange::Reopen, cutoff());

    assert!(body.contains(r#""w4d_enddatetime":null"#), "{body}");
}

#[test]
fn the_reopen_query_asks_for_closed_sessions_last_changed_by_the_user_since_the_instant() {
    let query = ReopenQuery {
        user: a(),
        since: cutoff(),
    };
    assert_eq!(
        query.filter(&schema()),
        format!(
            "statecode eq 1 and _modifiedby_value eq {A} and modifiedon ge 2026-11-24T15:00:00Z"
        )
    );
}
