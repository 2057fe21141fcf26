//! Generated orgs for load tests: one configuration and any number of sessions, a chosen
//! share of them overdue.

use chrono::{DateTime, Duration, Utc};
use serde_json::json;

use super::schema::{CONFIGURATIONS, SESSIONS};
use super::table::{stamp, Dataset};
use crate::codec::Prng;

impl Dataset {
    /// One active configuration (1440 minutes) and `sessions` active sessions, exactly
    /// `round(sessions * eligible_ratio)` of them quiet for longer than a day (spread over
    /// a week), the rest quiet for less. Deterministic for the same arguments.
    pub fn generated(sessions: usize, eligible_ratio: f64, now: DateTime<Utc>) -> Self {
        let configuration = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
        let ratio = if eligible_ratio.is_finite() {
            eligible_ratio.clamp(0.0, 1.0)
        } else {
            0.0
        };
        let eligible = ((sessions as f64) * ratio).round() as usize;
        let mut rng = Prng::new(0x5e55_10f5 ^ sessions as u64);
        let mut data = Dataset::whatsapp_empty();
        if let Some(table) = data.table_mut(CONFIGURATIONS) {
            table.rows.push(json!({
                "w4d_whatsappconfigurationid": configuration,
                "w4d_name": "Generated configuration",
                "w4d_sessiontimeout": 1440,
                "statecode": 0,
                "statuscode": 1,
                "createdon": stamp(now - Duration::days(400)),
                "modifiedon": stamp(now - Duration::days(30)),
            }));
        }
        const DAY: i64 = 86_400;
        if let Some(table) = data.table_mut(SESSIONS) {
            table.rows.reserve(sessions);
            for index in 0..sessions {
                // Eligible: quiet between one day plus a minute and eight days. Otherwise:
                // quiet between one second and one day minus a minute, safely inside.
                let quiet = if index < eligible {
                    rng.range(DAY + 60, 8 * DAY)
                } else {
                    rng.range(1, DAY - 60)
                };
                let last = now - Duration::seconds(quiet);
                let created = last - Duration::seconds(rng.range(60, DAY));
                table.rows.push(json!({
                    "w4d_chatsessionid": rng.guid(),
                    "w4d_name": format!("Generated session {index}"),
                    "w4d_lastcustomermessageon": stamp(last),
                    "_w4d_configurationid_value": configuration,
                    "w4d_closereason": null,
                    "statecode": 0,
                    "statuscode": 1,
                    "createdon": stamp(created),
                    "modifiedon": stamp(last),
                }));
            }
        }
        data
    }
}
