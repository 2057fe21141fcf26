//! The sample WhatsApp schema every built-in org starts from: configurations, chat sessions
//! and workflows, with the column definitions the metadata endpoints report.

use serde_json::json;

use super::table::{Dataset, Table};

/// Entity set of WhatsApp configurations in the sample schema.
pub const CONFIGURATIONS: &str = "w4d_whatsappconfigurations";
/// Entity set of chat sessions in the sample schema.
pub const SESSIONS: &str = "w4d_chatsessions";

/// Entity set of processes (classic workflows and cloud flows).
pub const WORKFLOWS: &str = "workflows";

impl Dataset {
    /// The sample WhatsApp schema (configurations and chat sessions) with no rows.
    pub fn whatsapp_empty() -> Self {
        Dataset::new()
            .with_table(CONFIGURATIONS, configurations())
            .with_table(SESSIONS, sessions())
            .with_table(WORKFLOWS, workflows())
    }
}

fn configurations() -> Table {
    Table::new(
        "w4d_whatsappconfiguration",
        "w4d_whatsappconfigurationid",
        &[
            "w4d_whatsappconfigurationid",
            "w4d_name",
            "w4d_sessiontimeout",
            "statecode",
            "statuscode",
            "createdon",
            "modifiedon",
        ],
    )
    .with_attribute("w4d_sessiontimeout", json!({"AttributeType": "Integer"}))
}

fn sessions() -> Table {
    Table::new(
        "w4d_chatsession",
        "w4d_chatsessionid",
        &[
            "w4d_chatsessionid",
            "w4d_name",
            "w4d_lastcustomermessageon",
            "w4d_lastagentmessageon",
            "_w4d_configurationid_value",
            "w4d_closereason",
            "w4d_enddatetime",
            "statecode",
            "statuscode",
            "createdon",
            "modifiedon",
        ],
    )
    .with_attribute(
        "w4d_lastcustomermessageon",
        json!({"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}),
    )
    .with_attribute(
        "w4d_lastagentmessageon",
        json!({"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}),
    )
    .with_attribute(
        "w4d_enddatetime",
        json!({"AttributeType": "DateTime", "DateTimeBehavior": "UserLocal"}),
    )
    .with_attribute(
        "_w4d_configurationid_value",
        json!({"AttributeType": "Lookup", "Targets": ["w4d_whatsappconfiguration"]}),
    )
    .with_attribute(
        "statuscode",
        json!({"AttributeType": "Status", "Options": [
            {"Value": 1, "State": 0, "Label": "Active"},
            {"Value": 2, "State": 1, "Label": "Closed"},
            {"Value": 3, "State": 1, "Label": "Expired"}
        ]}),
    )
}

fn workflows() -> Table {
    Table::new(
        "workflow",
        "workflowid",
        &[
            "workflowid",
            "name",
            "category",
            "type",
            "statecode",
            "statuscode",
        ],
    )
    .with_attribute("category", json!({"AttributeType": "Picklist"}))
    .with_attribute("type", json!({"AttributeType": "Picklist"}))
}
