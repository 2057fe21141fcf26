//! The property test's oracle for warnings: whatever the timeout, the lead, the customer's
//! last message and the last warning, the set of sessions warned (and given a message row and
//! a warned-at) is exactly the set an independent reading of the rules says is due.

use crate::support::*;
use chrono::{DateTime, Duration as Span, Timelike, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const MESSAGES: &str = "w4d_whatsappmessages";
const WARNED_AT: &str = "w4d_warnedon";

/// Seconds before the sweep: mostly within three seconds of the lead window's two edges
/// (`timeout - lead` and `timeout`) and of the 24-hour window, sometimes anywhere.
fn seconds_ago(timeout_s: i64, lead_s: i64) -> impl Strategy<Value = i64> {
    let edge = prop_oneof![Just(timeout_s - lead_s), Just(timeout_s), Just(86_400),];
    prop_oneof![
        3 => (edge, -3i64..=3).prop_map(|(edge, offset)| edge + offset),
        1 => -600i64..200_000,
    ]
}

/// The last warning relative to the customer's last message, in seconds (None: never).
fn warned_offset() -> impl Strategy<Value = Option<i64>> {
    proptest::option::of(prop_oneof![Just(-1i64), Just(0), Just(1), -5_000i64..5_000])
}

/// Timeout and lead in minutes (the lead sometimes not shorter than the timeout) and
/// sessions: a last message (None: never wrote), a creation, and the last warning. Timeouts
/// start at `MIN_SESSION_TIMEOUT`'s default of 5 minutes: a shorter one is refused before any
/// session is judged (a test of its own), so it has no warned set to compare.
#[allow(clippy::type_complexity)]
fn case() -> impl Strategy<Value = (i64, i64, Vec<(Option<i64>, i64, Option<i64>)>)> {
    (5i64..2_000, 1i64..120).prop_flat_map(|(timeout_m, lead_m)| {
        let (timeout_s, lead_s) = (timeout_m * 60, lead_m * 60);
        let one = (
            proptest::option::of(seconds_ago(timeout_s, lead_s)),
            seconds_ago(timeout_s, lead_s),
            warned_offset(),
        );
        (
            Just(timeout_m),
            Just(lead_m),
            proptest::collection::vec(one, 1..30),
        )
    })
}

fn time(row: &Value, column: &str) -> Option<DateTime<Utc>> {
    row[column].as_str().map(|text| {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    })
}

/// The README's rule, written again: due when the timeout is longer than the lead,
/// `eligible - lead <= now < eligible`, not warned since the customer's last message, and
/// inside 24 hours of it.
fn due(row: &Value, now: DateTime<Utc>, timeout: Span, lead: Span) -> bool {
    let customer = time(row, "w4d_lastcustomermessageon");
    let last = customer.or_else(|| time(row, "createdon")).unwrap();
    let warned = time(row, WARNED_AT);
    let not_warned = match (warned, customer) {
        (None, _) => true,
        (Some(warned), Some(customer)) => warned < customer,
        (Some(_), None) => false,
    };
    timeout > lead
        && last + timeout - lead <= now
        && now < last + timeout
        && not_warned
        && customer.is_some_and(|customer| now < customer + Span::hours(24))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, .. ProptestConfig::default() })]

    #[test]
    fn the_warned_set_is_exactly_the_set_due_a_warning_to_the_second(
        (timeout_m, lead_m, sessions) in case(),
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let harness = Setup::new(org(vec![configuration(SUPPORT, json!(timeout_m))], Vec::new()))
                .env("WARNING_LEAD", format!("{lead_m} minutes"))
                .env("SESSION_WARNED_AT_COLUMN", WARNED_AT)
                .env("WARNING_MESSAGE_TEXT", "Still there?")
                .env("MESSAGE_TABLE", MESSAGES)
                .env("MESSAGE_SESSION_NAVIGATION", "w4d_ChatSession")
                .env("MESSAGE_TEXT_COLUMN", "w4d_body")
                .env("MESSAGE_FIXED_VALUES", r#"{"w4d_direction": 100000001}"#)
                .start()
                .await;
            // Whole seconds, as Dataverse stores them, just before the sweep reads its clock.
            let reference = Utc::now().with_nanosecond(0).unwrap();
            let rows: Vec<Value> = sessions.iter().enumerate().map(|(n, (quiet, age, warned))| {
                let mut row = session(n as u32 + 1, Some(SUPPORT), None, Span::zero());
                let customer = quiet.map(|q| reference - Span::seconds(q));
                row["w4d_lastcustomermessageon"] = customer.map(|c| json!(stamp(c))).unwrap_or(Value::Null);
                row["createdon"] = json!(stamp(reference - Span::seconds(*age)));
                let anchor = customer.unwrap_or(reference - Span::seconds(*age));
                row[WARNED_AT] = warned.map(|w| json!(stamp(anchor + Span::seconds(w)))).unwrap_or(Value::Null);
                row
            }).collect();
            for row in &rows {
                harness.sim.insert(SESSIONS, row.clone());
            }

            let summary = harness.sweep().await.unwrap();

            let now = summary.evaluated_at();
            let (timeout, lead) = (Span::minutes(timeout_m), Span::minutes(lead_m));
            let expected: BTreeSet<String> = rows.iter()
                .filter(|row| due(row, now, timeout, lead))
                .map(|row| row["w4d_chatsessionid"].as_str().unwrap().to_owned())
                .collect();
            let warned: BTreeSet<String> = summary.warned().unwrap().iter().map(|w| w.id.to_string()).collect();
            let messaged: BTreeSet<String> = harness.sim.rows(MESSAGES).iter()
                .map(|row| row["_w4d_chatsession_value"].as_str().unwrap().to_owned())
                .collect();
            prop_assert_eq!(&warned, &expected);
            prop_assert_eq!(&messaged, &expected);
            prop_assert_eq!(harness.sim.rows(MESSAGES).len(), expected.len(), "one message each");
            Ok(())
        })?;
    }
}
