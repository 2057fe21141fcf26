//! The check counts what the sweep would do: the sweep's verdict and warning rule over every
//! planned query and the check's counting, run over the same rows, agree per configuration.
//!
//! Compiled only under `#[cfg(test)]`, from the `mod agreement_tests;` line of its parent module.

use super::sessions::count;
use crate::dataverse::{ConfigurationRow, ReadRow, SessionRow};
use crate::ids::Guid;
use crate::settings::Settings;
use crate::sweep::plan::{plan, tests::configuration};
use crate::sweep::warn::{self, Warning};
use crate::sweep::{verdict, Verdict};
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::json;
use std::collections::BTreeMap;

const A: &str = "6f1c2a3b-0000-4000-8000-00000000000a";
const B: &str = "6f1c2a3b-0000-4000-8000-00000000000b";
const INACTIVE: &str = "6f1c2a3b-0000-4000-8000-00000000000c";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 25, 15, 0, 0).unwrap()
}

fn settings(default: Option<&str>, agent_rule: bool) -> Settings {
    let mut pairs = vec![("DATAVERSE_SECRET_ID", "s")];
    pairs.extend(default.map(|id| ("DEFAULT_CONFIGURATION_ID", id)));
    if agent_rule {
        pairs.push((
            "SESSION_LAST_AGENT_MESSAGE_COLUMN",
            "w4d_lastagentmessageon",
        ));
    }
    crate::settings::tests::settings(&pairs).unwrap()
}

/// Every combination of lookup, quiet time and agent reply, each with its own id.
fn rows() -> Vec<ReadRow> {
    let lookups = [None, Some(A), Some(B), Some(INACTIVE)];
    let mut rows = Vec::new();
    for lookup in lookups {
        for quiet_minutes in [10, 45, 90, 9_000] {
            for agent_answered in [false, true] {
                let n = rows.len();
                let customer = now() - Duration::minutes(quiet_minutes);
                rows.push(Ok(SessionRow {
                    id: Guid::parse(&format!("5e551000-0000-4000-8000-{n:012}")).unwrap(),
                    etag: "W/\"1\"".into(),
                    configuration_id: lookup.map(|id| Guid::parse(id).unwrap()),
                    last_customer_message: Some(customer),
                    last_agent_message: agent_answered.then(|| customer + Duration::minutes(1)),
                    warned_at: None,
                    created_on: now() - Duration::days(10),
                    statecode: 0,
                    last_change: None,
                }));
            }
        }
    }
    rows
}

/// What a sweep decides: every query's rows through the sweep's verdict; the closes per
/// configuration and the sessions awaiting an agent.
fn sweep_decisions(
    settings: &Settings,
    configurations: &[ConfigurationRow],
    rows: &[ReadRow],
) -> (BTreeMap<Guid, usize>, usize) {
    let agent_rule = settings.schema.last_agent_message.is_some();
    let (mut closes, mut awaiting) = (BTreeMap::new(), 0);
    for planned in plan(now(), settings, configurations).queries {
        for row in rows.iter().flatten() {
            match verdict(&planned, row, now(), agent_rule) {
                Verdict::Close {
                    configuration_id, ..
                } => *closes.entry(configuration_id).or_insert(0) += 1,
                Verdict::AwaitingAgent => awaiting += 1,
                _ => {}
            }
        }
    }
    (closes, awaiting)
}

#[test]
fn the_check_counts_exactly_the_closes_and_agent_waits_the_sweep_decides() {
    let one = vec![configuration(A, json!(60))];
    let two = vec![configuration(A, json!(60)), configuration(B, json!(30))];
    let unusable = vec![configuration(A, json!(60)), configuration(B, json!("soon"))];
    let cases = [
        (one.clone(), None),
        (two.clone(), None),
        (two.clone(), Some(B)),
        (two, Some(A)),
        (unusable.clone(), None),
        (unusable, Some(B)),
    ];
    let rows = rows();
    let (mut closes_seen, mut awaiting_seen) = (0, 0);
    for (configurations, default) in cases {
        for agent_rule in [false, true] {
            let settings = settings(default, agent_rule);
            let (closes, awaiting) = sweep_decisions(&settings, &configurations, &rows);
            let (counts, _) = count(&settings, &configurations, &rows, now());
            let counted: BTreeMap<Guid, usize> = counts
                .configurations
                .iter()
                .filter(|count| count.would_close > 0)
                .map(|count| (count.id.clone(), count.would_close))
                .collect();
            let case = format!("{default:?}, agent rule {agent_rule}, {configurations:?}");
            assert_eq!(closes, counted, "{case}");
            assert_eq!(awaiting, counts.awaiting_agent, "{case}");
            closes_seen += counts.would_close;
            awaiting_seen += counts.awaiting_agent;
        }
    }
    // The cases are not vacuous: some sessions close and some await an agent.
    assert!(closes_seen > 0 && awaiting_seen > 0);
}

/// The rows of [`rows`], each also warned a minute after its customer's last message (warned
/// already this silence), and warned before it (a customer who wrote after a warning).
fn rows_with_warnings() -> Vec<ReadRow> {
    let mut all = Vec::new();
    for (variant, minutes) in [(0, None), (1, Some(1)), (2, Some(-1))] {
        for row in rows().into_iter().flatten() {
            let n = all.len();
            let wrote = row.last_customer_message.unwrap();
            all.push(Ok(SessionRow {
                id: Guid::parse(&format!("5e552000-0000-4000-800{variant}-{n:012}")).unwrap(),
                warned_at: minutes.map(|m| wrote + Duration::minutes(m)),
                ..row
            }));
        }
    }
    all
}

#[test]
fn the_check_counts_exactly_the_warnings_the_sweep_decides() {
    let two = vec![configuration(A, json!(60)), configuration(B, json!(30))];
    let rows = rows_with_warnings();
    let mut warned_seen = 0;
    for default in [None, Some(A), Some(B)] {
        for agent_rule in [false, true] {
            let mut pairs = vec![
                ("DATAVERSE_SECRET_ID", "s"),
                ("WARNING_LEAD", "20"),
                ("EVENT_BUS_NAME", "default"),
                ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
            ];
            pairs.extend(default.map(|id| ("DEFAULT_CONFIGURATION_ID", id)));
            if agent_rule {
                pairs.push((
                    "SESSION_LAST_AGENT_MESSAGE_COLUMN",
                    "w4d_lastagentmessageon",
                ));
            }
            let settings = crate::settings::tests::settings(&pairs).unwrap();
            let lead = settings.notify.warning.as_ref().unwrap().lead;
            let mut warned: BTreeMap<Guid, usize> = BTreeMap::new();
            for planned in plan(now(), &settings, &two).queries {
                if warn::warning_query(&planned, lead).is_none() {
                    continue;
                }
                for row in rows.iter().flatten() {
                    if let Warning::Warn {
                        configuration_id, ..
                    } = warn::warning(&planned, row, now(), agent_rule, lead)
                    {
                        *warned.entry(configuration_id).or_insert(0) += 1;
                    }
                }
            }
            let (counts, _) = count(&settings, &two, &rows, now());
            let counted: BTreeMap<Guid, usize> = counts
                .configurations
                .iter()
                .filter(|count| count.would_warn > 0)
                .map(|count| (count.id.clone(), count.would_warn))
                .collect();
            assert_eq!(warned, counted, "{default:?}, agent rule {agent_rule}");
            warned_seen += counts.would_warn;
        }
    }
    // Not vacuous: some are warned, and the sessions warned already this silence are not.
    assert!(warned_seen > 0);
    let settings = crate::settings::tests::settings(&[
        ("DATAVERSE_SECRET_ID", "s"),
        ("WARNING_LEAD", "20"),
        ("EVENT_BUS_NAME", "default"),
        ("SESSION_WARNED_AT_COLUMN", "w4d_warnedon"),
    ])
    .unwrap();
    let (counts, _) = count(&settings, &two, &rows, now());
    let (once, _) = count(&settings, &two, &rows[..rows.len() / 3], now());
    assert_eq!(
        counts.would_warn,
        2 * once.would_warn,
        "warned already: not again"
    );
}
