//! Seed data: what the simulator's tables hold when it starts. A [`Dataset`] is plain data
//! (tables by entity-set name); the server copies it into its store. Three sources: a JSON
//! seed file, the small demo org behind `make demo`, and generated orgs for load tests.

mod demo;
mod generated;
mod schema;
mod table;

pub use schema::{
    CONFIGURATIONS, CUSTOM_APIS, CUSTOM_API_PARAMETERS, INCOMING, MESSAGES, OUTGOING, SESSIONS,
    WORKFLOWS,
};
pub(crate) use table::stamp;
pub use table::{Dataset, Table};

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration, TimeZone, Utc};

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
}
