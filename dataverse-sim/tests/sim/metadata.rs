//! The metadata endpoints and denied privileges.

use dataverse_sim::Dataset;
use reqwest::StatusCode;

use crate::support::*;

#[tokio::test]
async fn entity_definitions_filtered_by_entity_set_name_give_the_logical_name_and_primary_key() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions?$select=LogicalName,EntitySetName,PrimaryIdAttribute&$filter=EntitySetName%20eq%20'w4d_chatsessions'",
    );
    let body = get_json(&client, &token, &url, None).await;
    let tables = body["value"].as_array().unwrap();
    assert_eq!(tables.len(), 1);
    assert_eq!(tables[0]["LogicalName"], "w4d_chatsession");
    assert_eq!(tables[0]["PrimaryIdAttribute"], "w4d_chatsessionid");
}

#[tokio::test]
async fn a_date_time_column_reports_the_behaviour_it_was_given() {
    let data = Dataset::whatsapp_empty().with_datetime_behavior(
        "w4d_chatsessions",
        "w4d_lastcustomermessageon",
        "TimeZoneIndependent",
    );
    let (sim, client, token) = start_connected(data).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='w4d_lastcustomermessageon')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=DateTimeBehavior",
    );
    let body = get_json(&client, &token, &url, None).await;
    assert_eq!(body["DateTimeBehavior"]["Value"], "TimeZoneIndependent");
}

#[tokio::test]
async fn status_options_name_the_state_each_belongs_to() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='statuscode')/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    let body = get_json(&client, &token, &url, None).await;
    let pairs: Vec<(i64, i64)> = body["OptionSet"]["Options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| (o["Value"].as_i64().unwrap(), o["State"].as_i64().unwrap()))
        .collect();
    assert_eq!(pairs, [(1, 0), (2, 1), (3, 1)]);
}

#[tokio::test]
async fn a_denied_privilege_answers_403_naming_it() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.deny_privilege("workflows", "prvReadWorkflow");
    let response = get(&client, &token, &api(&sim, "workflows"), None).await;
    let body = expect_json(response, StatusCode::FORBIDDEN).await;
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("missing prvReadWorkflow privilege"));
}

#[tokio::test]
async fn a_table_that_enforces_state_transitions_says_so_and_lists_each_statuss_transitions() {
    // Active (1) may move only to Expired (3); Closed (2) only back to Active.
    let data = Dataset::whatsapp_empty().with_state_transitions(SESSIONS, &[(1, 3), (2, 1)]);
    let (sim, client, token) = start_connected(data).await;

    let entity = get_json(
        &client,
        &token,
        &api(&sim, "EntityDefinitions(LogicalName='w4d_chatsession')"),
        None,
    )
    .await;
    let status = get_json(
        &client,
        &token,
        &api(
            &sim,
            "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='statuscode')/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet",
        ),
        None,
    )
    .await;

    assert_eq!(entity["EnforceStateTransitions"], true);
    let options = status["OptionSet"]["Options"].as_array().unwrap();
    let active = options.iter().find(|o| o["Value"] == 1).unwrap();
    assert_eq!(
        active["TransitionData"],
        "<allowedtransitions xmlns=\"http://schemas.microsoft.com/crm/2009/WebServices\"><allowedtransition sourcestatusid=\"1\" tostatusid=\"3\" /></allowedtransitions>"
    );
}

#[tokio::test]
async fn a_table_that_does_not_enforce_state_transitions_says_so() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;

    let entity = get_json(
        &client,
        &token,
        &api(&sim, "EntityDefinitions(LogicalName='w4d_chatsession')"),
        None,
    )
    .await;

    assert_eq!(entity["EnforceStateTransitions"], false);
}

#[tokio::test]
async fn a_patch_to_a_status_the_transitions_forbid_is_refused_and_changes_nothing() {
    let data = overdue_sessions(1).with_state_transitions(SESSIONS, &[(1, 3), (2, 1)]);
    let (sim, client, token) = start_connected(data).await;
    let id = guid(0);

    let etag = etag_of(&sim, &id);

    let response = patch_session(
        &client,
        &sim,
        &token,
        &id,
        &etag,
        serde_json::json!({"statecode": 1, "statuscode": 2}),
    )
    .await;

    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(column_of(&sim, &id, "statuscode"), 1);
}

#[tokio::test]
async fn the_message_lookup_is_a_many_to_one_relationship_to_the_session_table() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_whatsappmessage')/ManyToOneRelationships?$select=ReferencingEntityNavigationPropertyName,ReferencedEntity,ReferencingAttribute&$filter=ReferencingEntityNavigationPropertyName%20eq%20'w4d_ChatSession'",
    );
    let body = get_json(&client, &token, &url, None).await;
    let relationships = body["value"].as_array().unwrap();
    assert_eq!(relationships.len(), 1, "{body}");
    let found = &relationships[0];
    assert_eq!(found["ReferencedEntity"], "w4d_chatsession");
    assert_eq!(found["ReferencedAttribute"], "w4d_chatsessionid");
    assert_eq!(found["ReferencingAttribute"], "w4d_chatsession");
    assert_eq!(found["ReferencingEntity"], "w4d_whatsappmessage");
}

#[tokio::test]
async fn a_text_column_reports_its_max_length() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_whatsappmessage')/Attributes(LogicalName='w4d_body')/Microsoft.Dynamics.CRM.MemoAttributeMetadata?$select=MaxLength",
    );
    let body = get_json(&client, &token, &url, None).await;
    assert_eq!(body["MaxLength"], 4000);
    let wrong_cast = url.replace("MemoAttributeMetadata", "StringAttributeMetadata");
    let response = get(&client, &token, &wrong_cast, None).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn a_choice_column_lists_its_options() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_whatsappmessage')/Attributes(LogicalName='w4d_direction')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet",
    );
    let body = get_json(&client, &token, &url, None).await;
    let options: Vec<(i64, String)> = body["OptionSet"]["Options"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let label = o["Label"]["UserLocalizedLabel"]["Label"].as_str().unwrap();
            (o["Value"].as_i64().unwrap(), label.to_string())
        })
        .collect();
    assert_eq!(
        options,
        [
            (100_000_000, "Incoming".to_string()),
            (100_000_001, "Outgoing".to_string())
        ]
    );
}

#[tokio::test]
async fn the_session_table_has_a_user_local_warned_at_column() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let url = api(
        &sim,
        "EntityDefinitions(LogicalName='w4d_chatsession')/Attributes(LogicalName='w4d_warnedon')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=DateTimeBehavior",
    );
    let body = get_json(&client, &token, &url, None).await;
    assert_eq!(body["DateTimeBehavior"]["Value"], "UserLocal");
}
