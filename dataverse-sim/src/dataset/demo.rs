//! The small sample org behind `make demo`: three configurations, two cloud flows, fourteen
//! sessions whose names say what a correct sweep does with each, and two custom APIs that send
//! a WhatsApp message (one bound to the session table, one unbound), each creating an outgoing
//! message row.

use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};

use super::action::SendsMessage;
use super::schema::{
    CONFIGURATIONS, CUSTOM_APIS, CUSTOM_API_PARAMETERS, MESSAGES, OUTGOING, SESSIONS, WORKFLOWS,
};
use super::table::{stamp, Dataset};

/// The demo org's custom API bound to the session table: `POST
/// w4d_chatsessions(<id>)/Microsoft.Dynamics.CRM.w4d_SendSessionMessage` with `Text`.
pub const SEND_SESSION_MESSAGE: &str = "w4d_SendSessionMessage";
/// The demo org's unbound custom API: `POST w4d_SendWhatsAppMessage` with `SessionId` and `Text`.
pub const SEND_WHATSAPP_MESSAGE: &str = "w4d_SendWhatsAppMessage";

/// (id, unique name, binding type, bound table).
const API_ROWS: [(&str, &str, i64, Option<&str>); 2] = [
    (
        "c0a91000-0000-4000-8000-000000000001",
        SEND_SESSION_MESSAGE,
        1,
        Some("w4d_chatsession"),
    ),
    (
        "c0a91000-0000-4000-8000-000000000002",
        SEND_WHATSAPP_MESSAGE,
        0,
        None,
    ),
];

/// (id, API id, unique name, type: 10 String, 12 Guid).
const PARAMETER_ROWS: [(&str, &str, &str, i64); 3] = [
    (
        "c0a92000-0000-4000-8000-000000000001",
        "c0a91000-0000-4000-8000-000000000001",
        "Text",
        10,
    ),
    (
        "c0a92000-0000-4000-8000-000000000002",
        "c0a91000-0000-4000-8000-000000000002",
        "SessionId",
        12,
    ),
    (
        "c0a92000-0000-4000-8000-000000000003",
        "c0a91000-0000-4000-8000-000000000002",
        "Text",
        10,
    ),
];

const SUPPORT: &str = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
const SALES: &str = "0b9e8d7c-6a5f-4e3d-9c2b-1a0f9e8d7c61";
const LEGACY: &str = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e61";

/// (id, name, timeout in minutes, statecode, statuscode).
const CONFIGURATION_ROWS: [(&str, &str, i64, i64, i64); 3] = [
    (SUPPORT, "Contoso Support", 1440, 0, 1),
    (SALES, "Contoso Sales", 30, 0, 1),
    (LEGACY, "Legacy number (retired)", 60, 1, 2),
];

/// A cloud flow (category 5) that has nothing to do with sessions is on; the vendor's own
/// timeout flow is off, as it should be once this function closes sessions.
/// (id, name, statecode, statuscode).
const FLOW_ROWS: [(&str, &str, i64, i64); 2] = [
    (
        "f10e0000-0000-4000-8000-000000000001",
        "Daily agent report",
        1,
        2,
    ),
    (
        "f10e0000-0000-4000-8000-000000000002",
        "WhatsApp session timeout (vendor)",
        0,
        1,
    ),
];

const H: i64 = 60;
const D: i64 = 24 * H;

/// (name, configuration, minutes since the last customer message, minutes since creation,
/// already closed); the name says what a correct sweep does.
const SESSION_ROWS: [(&str, &str, Option<i64>, i64, bool); 14] = [
    (
        "Support 0101 (2 days quiet: close)",
        SUPPORT,
        Some(2 * D),
        3 * D,
        false,
    ),
    (
        "Support 0102 (25 h quiet: close)",
        SUPPORT,
        Some(25 * H),
        2 * D,
        false,
    ),
    (
        "Support 0103 (3 h quiet: keep)",
        SUPPORT,
        Some(3 * H),
        D,
        false,
    ),
    (
        "Support 0104 (23 h 59 m quiet: keep)",
        SUPPORT,
        Some(D - 1),
        2 * D,
        false,
    ),
    (
        "Support 0105 (no message, created 3 days ago: close)",
        SUPPORT,
        None,
        3 * D,
        false,
    ),
    (
        "Support 0106 (already closed)",
        SUPPORT,
        Some(5 * D),
        6 * D,
        true,
    ),
    (
        "Support 0107 (a week quiet: close)",
        SUPPORT,
        Some(7 * D),
        8 * D,
        false,
    ),
    (
        "Sales 0108 (45 m quiet: close)",
        SALES,
        Some(45),
        2 * H,
        false,
    ),
    ("Sales 0109 (10 m quiet: keep)", SALES, Some(10), H, false),
    (
        "Sales 0110 (2 h quiet: close)",
        SALES,
        Some(2 * H),
        3 * H,
        false,
    ),
    (
        "Sales 0111 (message 5 m in the future: keep)",
        SALES,
        Some(-5),
        H,
        false,
    ),
    (
        "Legacy 0112 (inactive configuration: keep)",
        LEGACY,
        Some(10 * D),
        11 * D,
        false,
    ),
    // Inside a warning window: eligible 20 and 15 minutes after `now`.
    (
        "Support 0113 (23 h 40 m quiet: keep, warn)",
        SUPPORT,
        Some(D - 20),
        2 * D,
        false,
    ),
    (
        "Sales 0114 (15 m quiet: keep, warn)",
        SALES,
        Some(15),
        H,
        false,
    ),
];

impl Dataset {
    /// The small sample org behind `make demo`; deterministic for a given `now`.
    ///
    /// Configurations: "Contoso Support" (1440 minutes, active), "Contoso Sales" (30 minutes,
    /// active), "Legacy number" (60 minutes, inactive). Fourteen sessions, all assigned; the
    /// names say what a correct sweep at `now` does with each ("warn": eligible 10 to 30
    /// minutes after `now`). The custom APIs [`SEND_SESSION_MESSAGE`] and
    /// [`SEND_WHATSAPP_MESSAGE`] each create an outgoing `w4d_whatsappmessages` row.
    pub fn demo(now: DateTime<Utc>) -> Self {
        let mut data = Dataset::whatsapp_empty()
            .with_message_action(SEND_SESSION_MESSAGE, sends_message(None))
            .with_message_action(SEND_WHATSAPP_MESSAGE, sends_message(Some("SessionId")));
        if let Some(table) = data.table_mut(CUSTOM_APIS) {
            table.rows.extend(api_rows());
        }
        if let Some(table) = data.table_mut(CUSTOM_API_PARAMETERS) {
            table.rows.extend(parameter_rows());
        }
        if let Some(table) = data.table_mut(CONFIGURATIONS) {
            table.rows.extend(configuration_rows(now));
        }
        if let Some(table) = data.table_mut(WORKFLOWS) {
            table.rows.extend(flow_rows());
        }
        if let Some(table) = data.table_mut(SESSIONS) {
            table.rows.extend(session_rows(now));
        }
        data
    }
}

/// The messaging plug-in: an outgoing message with the `Text` parameter for the session.
fn sends_message(session_parameter: Option<&str>) -> SendsMessage {
    let mut fixed = serde_json::Map::new();
    fixed.insert("w4d_direction".into(), Value::from(OUTGOING));
    SendsMessage {
        message_set: MESSAGES.into(),
        session_set: SESSIONS.into(),
        session_navigation: "w4d_ChatSession".into(),
        text_column: "w4d_body".into(),
        text_parameter: "Text".into(),
        session_parameter: session_parameter.map(str::to_string),
        fixed,
    }
}

fn api_rows() -> impl Iterator<Item = Value> {
    API_ROWS.into_iter().map(|(id, name, binding, bound)| {
        json!({
            "customapiid": id, "uniquename": name, "name": name, "displayname": name,
            "description": "Sends a WhatsApp text message to the session's customer.",
            "bindingtype": binding, "boundentitylogicalname": bound,
            "isfunction": false, "isprivate": false,
            "allowedcustomprocessingsteptype": 0, "workflowsdkstepenabled": false,
            "statecode": 0, "statuscode": 1,
        })
    })
}

fn parameter_rows() -> impl Iterator<Item = Value> {
    PARAMETER_ROWS.into_iter().map(|(id, api, name, kind)| {
        let api_name = API_ROWS
            .iter()
            .find(|(api_id, ..)| *api_id == api)
            .map_or("", |(_, name, ..)| name);
        json!({
            "customapirequestparameterid": id, "_customapiid_value": api,
            "uniquename": name, "name": format!("{api_name}.{name}"), "displayname": name,
            "description": "", "type": kind, "logicalentityname": null, "isoptional": false,
            "statecode": 0, "statuscode": 1,
        })
    })
}

fn configuration_rows(now: DateTime<Utc>) -> impl Iterator<Item = Value> {
    let days_ago = move |d: i64| stamp(now - Duration::days(d));
    CONFIGURATION_ROWS
        .into_iter()
        .map(move |(id, name, timeout, state, status)| {
            json!({
                "w4d_whatsappconfigurationid": id,
                "w4d_name": name,
                "w4d_sessiontimeout": timeout,
                "statecode": state,
                "statuscode": status,
                "createdon": days_ago(400),
                "modifiedon": days_ago(30),
            })
        })
}

fn flow_rows() -> impl Iterator<Item = Value> {
    FLOW_ROWS.into_iter().map(|(id, name, state, status)| {
        json!({
            "workflowid": id, "name": name, "category": 5, "type": 1,
            "statecode": state, "statuscode": status,
        })
    })
}

fn session_rows(now: DateTime<Utc>) -> impl Iterator<Item = Value> {
    SESSION_ROWS.into_iter().enumerate().map(
        move |(index, (name, configuration, quiet, age, closed))| {
            let last = quiet.map(|q| now - Duration::minutes(q));
            let created = now - Duration::minutes(age);
            json!({
                "w4d_chatsessionid": format!("5e551000-0000-4000-8000-{:012}", index + 1),
                "w4d_name": name,
                "w4d_lastcustomermessageon": last.map(stamp),
                "_w4d_configurationid_value": configuration,
                "w4d_closereason": if closed { Value::from("Closed by agent") } else { Value::Null },
                "statecode": if closed { 1 } else { 0 },
                "statuscode": if closed { 2 } else { 1 },
                "createdon": stamp(created),
                "modifiedon": stamp(last.unwrap_or(created).min(now)),
            })
        },
    )
}
