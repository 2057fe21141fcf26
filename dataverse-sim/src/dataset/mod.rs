//! Seed data: what the simulator's tables hold when it starts. A [`Dataset`] is plain data
//! (tables by entity-set name); the server copies it into its store. Three sources: a JSON
//! seed file, the small demo org behind `make demo`, and generated orgs for load tests.

mod action;
mod demo;
mod generated;
mod schema;
mod table;

pub use action::SendsMessage;
pub use demo::{SEND_SESSION_MESSAGE, SEND_WHATSAPP_MESSAGE};
pub use schema::{
    CONFIGURATIONS, CUSTOM_APIS, CUSTOM_API_PARAMETERS, INCOMING, MESSAGES, OUTGOING, SESSIONS,
    WORKFLOWS,
};
pub(crate) use table::stamp;
pub use table::{Dataset, Table};

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};
    use serde_json::Value;

    use super::*;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    #[test]
    fn generated_orgs_have_exactly_the_requested_number_of_overdue_sessions() {
        let data = Dataset::generated(1000, 0.2, now());
        let cutoff = stamp(now() - Duration::days(1));
        let rows = &data.table(SESSIONS).unwrap().rows;
        let overdue = rows
            .iter()
            .filter(|r| r["w4d_lastcustomermessageon"].as_str().unwrap() < cutoff.as_str())
            .count();
        assert_eq!((rows.len(), overdue), (1000, 200));
    }

    #[test]
    fn generated_orgs_are_deterministic() {
        let a = Dataset::generated(50, 0.5, now());
        let b = Dataset::generated(50, 0.5, now());
        assert_eq!(
            a.table(SESSIONS).unwrap().rows,
            b.table(SESSIONS).unwrap().rows
        );
    }

    #[test]
    fn seeds_with_a_row_missing_its_primary_key_are_rejected() {
        let seed = r#"{"things": {"entity_name": "thing", "primary_key": "thingid", "rows": [{"name": "x"}]}}"#;
        assert!(Dataset::from_json(seed).is_err());
    }

    #[test]
    fn the_demo_org_assigns_every_session_to_a_configuration() {
        let data = Dataset::demo(now());
        let rows = &data.table(SESSIONS).unwrap().rows;
        assert!(rows
            .iter()
            .all(|r| r["_w4d_configurationid_value"].is_string()));
    }

    #[test]
    fn the_demo_org_has_sessions_in_a_warning_window_that_no_sweep_closes_now() {
        let data = Dataset::demo(now());
        let timeout = |configuration: &Value| match configuration.as_str() {
            Some("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21") => Duration::minutes(1440),
            _ => Duration::minutes(30),
        };
        let warned: Vec<&str> = data
            .table(SESSIONS)
            .unwrap()
            .rows
            .iter()
            .filter(|r| r["w4d_name"].as_str().unwrap().ends_with(": keep, warn)"))
            .map(|r| {
                let last: DateTime<Utc> = r["w4d_lastcustomermessageon"]
                    .as_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                let eligible_in = last + timeout(&r["_w4d_configurationid_value"]) - now();
                assert!(
                    eligible_in >= Duration::minutes(10) && eligible_in <= Duration::minutes(30),
                    "{r}"
                );
                r["w4d_name"].as_str().unwrap()
            })
            .collect();
        assert_eq!(warned.len(), 2, "{warned:?}");
    }

    #[test]
    fn the_demo_org_declares_its_two_messaging_apis_and_what_they_do() {
        let data = Dataset::demo(now());
        let names: Vec<&str> = data
            .table(CUSTOM_APIS)
            .unwrap()
            .rows
            .iter()
            .map(|r| r["uniquename"].as_str().unwrap())
            .collect();
        assert_eq!(names, [SEND_SESSION_MESSAGE, SEND_WHATSAPP_MESSAGE]);
        let effects: Vec<&str> = data.actions().map(|(name, _)| name).collect();
        assert_eq!(effects, [SEND_SESSION_MESSAGE, SEND_WHATSAPP_MESSAGE]);
    }
}
