//! Who is due a warning, to the second, and the warning query that finds them agrees with it.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod tests;` line of its parent module.

use super::*;
use crate::dataverse::{Owner, SessionQuery};
use chrono::{Duration, TimeZone};

const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
const S: &str = "00000000-0000-4000-8000-0000000000a1";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
}

fn timeout(seconds: i64) -> SessionTimeout {
    SessionTimeout::from_seconds(seconds).unwrap()
}

fn a() -> Guid {
    Guid::parse(A).unwrap()
}

/// Configuration A's query with this timeout, at `now()`.
fn planned(timeout_s: i64) -> Planned {
    Planned {
        configuration_id: Some(a()),
        timeout: timeout(timeout_s),
        query: SessionQuery {
            owner: Owner::Configuration(a()),
            cutoff: timeout(timeout_s).cutoff(now()),
        },
    }
}

fn row(last: Option<DateTime<Utc>>, warned_at: Option<DateTime<Utc>>) -> SessionRow {
    SessionRow {
        id: Guid::parse(S).unwrap(),
        etag: "W/\"1\"".into(),
        configuration_id: Some(a()),
        last_customer_message: last,
        last_agent_message: None,
        warned_at,
        created_on: now() - Duration::days(30),
        statecode: 0,
        last_change: None,
    }
}

const HOUR: i64 = 3_600;
const LEAD: i64 = 900;

fn judge(timeout_s: i64, row: &SessionRow) -> Warning {
    warning(&planned(timeout_s), row, now(), false, timeout(LEAD))
}

fn warn_at(eligible_at: DateTime<Utc>) -> Warning {
    Warning::Warn {
        configuration_id: a(),
        eligible_at,
    }
}

#[test]
fn a_session_is_due_a_warning_exactly_its_lead_before_its_eligibility() {
    let last = now() - Duration::seconds(HOUR - LEAD);
    assert_eq!(
        judge(HOUR, &row(Some(last), None)),
        warn_at(now() + Duration::seconds(LEAD))
    );
}

#[test]
fn a_session_one_second_before_its_lead_is_not_due_a_warning() {
    let last = now() - Duration::seconds(HOUR - LEAD - 1);
    assert_eq!(judge(HOUR, &row(Some(last), None)), Warning::NotDue);
}

#[test]
fn a_session_at_its_eligibility_is_closed_not_warned() {
    let last = now() - Duration::seconds(HOUR);
    assert_eq!(judge(HOUR, &row(Some(last), None)), Warning::NotDue);
    let one_second_before = last + Duration::seconds(1);
    assert_eq!(
        judge(HOUR, &row(Some(one_second_before), None)),
        warn_at(now() + Duration::seconds(1))
    );
}

#[test]
fn a_session_warned_since_its_customer_wrote_is_not_warned_again() {
    let last = now() - Duration::minutes(50);
    assert_eq!(
        judge(HOUR, &row(Some(last), Some(last))),
        Warning::AlreadyWarned
    );
    assert_eq!(
        judge(HOUR, &row(Some(last), Some(now()))),
        Warning::AlreadyWarned
    );
}

#[test]
fn a_customer_who_wrote_after_the_warning_is_warned_again() {
    let last = now() - Duration::minutes(50);
    let warned = last - Duration::seconds(1);
    assert!(matches!(
        judge(HOUR, &row(Some(last), Some(warned))),
        Warning::Warn { .. }
    ));
}

#[test]
fn a_timeout_not_longer_than_the_lead_gets_no_warning_and_no_query() {
    let last = now() - Duration::seconds(LEAD / 2);
    assert_eq!(judge(LEAD, &row(Some(last), None)), Warning::NoLead);
    assert_eq!(warning_query(&planned(LEAD), timeout(LEAD)), None);
    assert!(warning_query(&planned(LEAD + 1), timeout(LEAD)).is_some());
}

#[test]
fn a_warning_past_24_hours_after_the_customer_wrote_is_outside_the_window() {
    let day_and_hour = 25 * HOUR;
    let lead = 2 * HOUR;
    let inside = now() - Duration::seconds(24 * HOUR - 1);
    let outside = now() - Duration::seconds(24 * HOUR);
    let judged = |last| {
        warning(
            &planned(day_and_hour),
            &row(Some(last), None),
            now(),
            false,
            timeout(lead),
        )
    };
    assert!(matches!(judged(inside), Warning::Warn { .. }));
    assert!(matches!(judged(outside), Warning::OutsideWindow { .. }));
}

#[test]
fn a_session_whose_customer_never_wrote_is_outside_the_window() {
    let mut silent = row(None, None);
    silent.created_on = now() - Duration::minutes(50);
    assert!(matches!(
        judge(HOUR, &silent),
        Warning::OutsideWindow { .. }
    ));
}

#[test]
fn a_session_awaiting_an_agent_is_not_warned_when_that_rule_is_on() {
    let session = row(Some(now() - Duration::minutes(50)), None);
    let planned = planned(HOUR);
    assert_eq!(
        warning(&planned, &session, now(), true, timeout(LEAD)),
        Warning::AwaitingAgent
    );
    assert!(matches!(
        warning(&planned, &session, now(), false, timeout(LEAD)),
        Warning::Warn { .. }
    ));
}

#[test]
fn a_session_only_reported_or_not_asked_for_is_not_warned() {
    let session = row(Some(now() - Duration::minutes(50)), None);
    let mut report_only = planned(HOUR);
    report_only.configuration_id = None;
    report_only.query.owner = Owner::NoneOf(vec![]);
    let mut orphan = session.clone();
    orphan.configuration_id = None;
    assert_eq!(
        warning(&report_only, &orphan, now(), false, timeout(LEAD)),
        Warning::ReportOnly
    );
    assert_eq!(warning_query(&report_only, timeout(LEAD)), None);
    let mut closed = session;
    closed.statecode = 1;
    assert_eq!(judge(HOUR, &closed), Warning::NotAskedFor);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 2_000, ..Default::default() })]

    /// The warning query's bounds hold exactly the last activities the rule finds in the
    /// lead window, to the second, whatever the fraction of a second `now` carries.
    #[test]
    fn the_warning_query_and_the_rule_agree_to_the_second(
        offset_s in -3 * HOUR..3 * HOUR,
        now_ms in 0i64..1_000,
        timeout_s in (LEAD + 1)..(4 * HOUR),
    ) {
        let now = now() + Duration::milliseconds(now_ms);
        let last = Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap() + Duration::seconds(offset_s) - Duration::seconds(timeout_s);
        let planned = Planned {
            configuration_id: Some(a()),
            timeout: timeout(timeout_s),
            query: SessionQuery { owner: Owner::Configuration(a()), cutoff: timeout(timeout_s).cutoff(now) },
        };
        let query = warning_query(&planned, timeout(LEAD)).unwrap();
        let in_query = last > query.after && last <= query.until;
        let judged = warning(&planned, &row(Some(last), None), now, false, timeout(LEAD));
        proptest::prop_assert_eq!(in_query, matches!(judged, Warning::Warn { .. }), "{:?}", judged);
    }
}
