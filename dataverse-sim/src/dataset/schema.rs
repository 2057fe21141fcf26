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
/// Entity set of WhatsApp messages in the sample schema.
pub const MESSAGES: &str = "w4d_whatsappmessages";
/// Entity set of custom API definitions ("CustomAPI tables").
pub const CUSTOM_APIS: &str = "customapis";
/// Entity set of custom API request parameters.
pub const CUSTOM_API_PARAMETERS: &str = "customapirequestparameters";

/// `w4d_direction` of a message the customer sent.
pub const INCOMING: i64 = 100_000_000;
/// `w4d_direction` of a message sent to the customer.
pub const OUTGOING: i64 = 100_000_001;

impl Dataset {
    /// The sample WhatsApp schema (configurations, chat sessions, their messages, processes
    /// and the custom API tables) with no rows.
    pub fn whatsapp_empty() -> Self {
        Dataset::new()
            .with_table(CONFIGURATIONS, configurations())
            .with_table(SESSIONS, sessions())
            .with_table(MESSAGES, messages())
            .with_table(WORKFLOWS, workflows())
            .with_table(CUSTOM_APIS, custom_apis())
            .with_table(CUSTOM_API_PARAMETERS, custom_api_parameters())
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
            "w4d_warnedon",
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
        "w4d_warnedon",
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

/// Messages of a session, in and out; the lookup's navigation property is the column's schema
/// name, `w4d_ChatSession`, as Dataverse names a custom lookup's.
fn messages() -> Table {
    Table::new(
        "w4d_whatsappmessage",
        "w4d_whatsappmessageid",
        &[
            "w4d_whatsappmessageid",
            "w4d_name",
            "_w4d_chatsession_value",
            "w4d_body",
            "w4d_direction",
            "statecode",
            "statuscode",
            "createdon",
            "modifiedon",
        ],
    )
    .with_attribute(
        "w4d_name",
        json!({"AttributeType": "String", "MaxLength": 100}),
    )
    .with_attribute(
        "_w4d_chatsession_value",
        json!({"AttributeType": "Lookup", "Targets": ["w4d_chatsession"],
               "NavigationProperty": "w4d_ChatSession",
               "RelationshipSchemaName": "w4d_w4d_chatsession_w4d_whatsappmessage_ChatSession"}),
    )
    .with_attribute(
        "w4d_body",
        json!({"AttributeType": "Memo", "MaxLength": 4000}),
    )
    .with_attribute(
        "w4d_direction",
        json!({"AttributeType": "Picklist", "Options": [
            {"Value": INCOMING, "Label": "Incoming"},
            {"Value": OUTGOING, "Label": "Outgoing"}
        ]}),
    )
}

/// The `customapi` table's columns that "CustomAPI tables" describes.
fn custom_apis() -> Table {
    Table::new(
        "customapi",
        "customapiid",
        &[
            "customapiid",
            "uniquename",
            "name",
            "displayname",
            "description",
            "bindingtype",
            "boundentitylogicalname",
            "isfunction",
            "isprivate",
            "allowedcustomprocessingsteptype",
            "workflowsdkstepenabled",
            "statecode",
            "statuscode",
        ],
    )
    .with_attribute(
        "bindingtype",
        json!({"AttributeType": "Picklist", "Options": [
            {"Value": 0, "Label": "Global"},
            {"Value": 1, "Label": "Entity"},
            {"Value": 2, "Label": "EntityCollection"}
        ]}),
    )
    .with_attribute("isfunction", json!({"AttributeType": "Boolean"}))
    .with_attribute("isprivate", json!({"AttributeType": "Boolean"}))
    .with_attribute(
        "workflowsdkstepenabled",
        json!({"AttributeType": "Boolean"}),
    )
    .with_attribute(
        "allowedcustomprocessingsteptype",
        json!({"AttributeType": "Picklist", "Options": [
            {"Value": 0, "Label": "None"},
            {"Value": 1, "Label": "Async Only"},
            {"Value": 2, "Label": "Sync and Async"}
        ]}),
    )
}

/// The `customapirequestparameter` table: one row per parameter, linked to its API.
fn custom_api_parameters() -> Table {
    let types = [
        "Boolean",
        "DateTime",
        "Decimal",
        "Entity",
        "EntityCollection",
        "EntityReference",
        "Float",
        "Integer",
        "Money",
        "Picklist",
        "String",
        "StringArray",
        "Guid",
    ];
    let options: Vec<_> = types
        .iter()
        .enumerate()
        .map(|(value, label)| json!({"Value": value, "Label": label}))
        .collect();
    Table::new(
        "customapirequestparameter",
        "customapirequestparameterid",
        &[
            "customapirequestparameterid",
            "_customapiid_value",
            "uniquename",
            "name",
            "displayname",
            "description",
            "type",
            "logicalentityname",
            "isoptional",
            "statecode",
            "statuscode",
        ],
    )
    .with_attribute(
        "_customapiid_value",
        json!({"AttributeType": "Lookup", "Targets": ["customapi"],
               "NavigationProperty": "CustomAPIId",
               "RelationshipSchemaName": "customapi_customapirequestparameter"}),
    )
    .with_attribute(
        "type",
        json!({"AttributeType": "Picklist", "Options": options}),
    )
    .with_attribute("isoptional", json!({"AttributeType": "Boolean"}))
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
