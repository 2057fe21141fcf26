//! Virtual time's two admin endpoints, for a driver that plays a day in virtual time: set the
//! clock, and apply the customer and agent messages that arrived before it. Nothing sleeps.
//!
//! `POST /_sim/clock` with `{"now": "2026-11-24T15:00:00Z"}` fixes the clock at that moment
//! (`{"now": null}` gives it back to the system). `POST /_sim/changes` with
//! `{"entity_set": "...", "rows": [...], "active_only": true}` inserts each row whose key is
//! new and merges the others as the integration user would, skipping, with `active_only`,
//! rows that are no longer active (a message to a closed session starts a new one in
//! WhatsApp4Dynamics, and does not reopen the old one). Like every admin endpoint these are
//! not counted in the stats and see no faults, latency or limits.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::clock::SimClock;
use crate::dataset::stamp;
use crate::ids::INTEGRATION_USER_ID;
use crate::reply::{codes, dataverse_error, Reply};
use crate::state::{lock, Shared};
use crate::store::Store;

#[derive(Deserialize)]
struct ClockBody {
    now: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct ChangesBody {
    entity_set: String,
    rows: Vec<Map<String, Value>>,
    #[serde(default)]
    active_only: bool,
}

/// Answers a `POST` to an admin endpoint of virtual time.
pub(crate) fn admin_post(state: &Shared, path: &str, body: &[u8]) -> Reply {
    match path {
        "/_sim/clock" => match serde_json::from_slice::<ClockBody>(body) {
            Ok(ClockBody { now }) => {
                let clock = now.map_or(SimClock::System, SimClock::Fixed);
                lock(state).store.clock = clock;
                Reply::json(200, &json!({"now": now.map(stamp)}))
            }
            Err(error) => bad_body(error),
        },
        "/_sim/changes" => match serde_json::from_slice::<ChangesBody>(body) {
            Ok(changes) => apply(&mut lock(state).store, changes),
            Err(error) => bad_body(error),
        },
        _ => dataverse_error(
            404,
            codes::RESOURCE_NOT_FOUND,
            format!("Unknown admin endpoint '{path}'."),
        ),
    }
}

fn apply(store: &mut Store, changes: ChangesBody) -> Reply {
    let Some(primary_key) = store
        .table(&changes.entity_set)
        .map(|table| table.primary_key.clone())
    else {
        return crate::reply::resource_not_found(&changes.entity_set);
    };
    let (mut inserted, mut merged, mut skipped) = (0u64, 0u64, 0u64);
    for row in changes.rows {
        let Some(id) = row
            .get(&primary_key)
            .and_then(Value::as_str)
            .map(str::to_owned)
        else {
            skipped += 1;
            continue;
        };
        match store.get(&changes.entity_set, &id).map(is_active) {
            None => {
                store.insert(&changes.entity_set, Value::Object(row));
                inserted += 1;
            }
            Some(false) if changes.active_only => skipped += 1,
            Some(_) => {
                store.merge(&changes.entity_set, &id, &row, INTEGRATION_USER_ID);
                merged += 1;
            }
        }
    }
    Reply::json(
        200,
        &json!({"inserted": inserted, "merged": merged, "skipped": skipped}),
    )
}

fn is_active(row: &Map<String, Value>) -> bool {
    row.get("statecode").and_then(Value::as_i64) == Some(0)
}

fn bad_body(error: serde_json::Error) -> Reply {
    dataverse_error(
        400,
        codes::QUERY_SYNTAX,
        format!("The admin request body is not valid: {error}."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{Dataset, SESSIONS};
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
    }

    fn store() -> Store {
        let mut store = Store::from_dataset(Dataset::whatsapp_empty());
        store.clock = SimClock::Fixed(at());
        store
    }

    fn changes(rows: Value, active_only: bool) -> ChangesBody {
        serde_json::from_value(
            json!({"entity_set": SESSIONS, "rows": rows, "active_only": active_only}),
        )
        .unwrap()
    }

    #[test]
    fn a_fixed_clock_stamps_the_rows_it_inserts_and_the_changes_it_merges() {
        let mut store = store();
        apply(
            &mut store,
            changes(json!([{"w4d_chatsessionid": "a"}]), false),
        );
        store.clock = SimClock::Fixed(at() + chrono::Duration::minutes(5));
        apply(
            &mut store,
            changes(json!([{"w4d_chatsessionid": "a", "w4d_name": "x"}]), false),
        );
        let row = store.get(SESSIONS, "a").unwrap();
        assert_eq!(row["createdon"], "2026-11-24T15:00:00Z");
        assert_eq!(row["modifiedon"], "2026-11-24T15:05:00Z");
    }

    #[test]
    fn changes_for_a_closed_row_are_skipped_when_only_active_rows_may_change() {
        let mut store = store();
        let closed = json!([{"w4d_chatsessionid": "a", "statecode": 1, "statuscode": 2}]);
        apply(&mut store, changes(closed, false));
        let message = json!([{"w4d_chatsessionid": "a", "w4d_lastcustomermessageon": "2026-11-24T15:01:00Z"}]);
        apply(&mut store, changes(message, true));
        let row = store.get(SESSIONS, "a").unwrap();
        assert!(row.get("w4d_lastcustomermessageon").is_none(), "{row:?}");
    }
}
