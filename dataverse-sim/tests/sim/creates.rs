//! POST to an entity set ("Create a table row using the Web API"), `@odata.bind` to a
//! single-valued navigation property, and the documented 400s for what the payload gets wrong.

use dataverse_sim::dataset::OUTGOING;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

fn message(session: &str, text: &str) -> Value {
    json!({
        "w4d_body": text,
        "w4d_direction": OUTGOING,
        "w4d_ChatSession@odata.bind": format!("/{SESSIONS}({session})"),
    })
}

#[tokio::test]
async fn a_post_creates_a_row_and_answers_204_with_its_odata_entity_id() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let response = post_row(
        &client,
        &sim,
        &token,
        MESSAGES,
        message(&guid(0), "hi"),
        false,
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let entity_id = response.headers()["odata-entityid"]
        .to_str()
        .unwrap()
        .to_string();
    let created = messages_of(&sim, &guid(0));
    assert_eq!(created.len(), 1);
    let id = created[0]["w4d_whatsappmessageid"].as_str().unwrap();
    assert_eq!(entity_id, api(&sim, &format!("{MESSAGES}({id})")));
    assert_eq!(created[0]["w4d_body"], "hi");
    assert_eq!(
        created[0]["_modifiedby_value"],
        dataverse_sim::APPLICATION_USER_ID
    );
    assert!(created[0]["createdon"].is_string());
}

#[tokio::test]
async fn a_post_with_return_representation_answers_201_with_the_row_and_no_entity_id() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let url = format!("{MESSAGES}?$select=w4d_body,_w4d_chatsession_value");
    let response = client
        .post(api(&sim, &url))
        .bearer_auth(&token)
        .header("Prefer", "return=representation")
        .json(&message(&guid(0), "hello"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert!(response.headers().get("odata-entityid").is_none());
    assert_eq!(
        response.headers()["preference-applied"],
        "return=representation"
    );
    let row: Value = response.json().await.unwrap();
    assert_eq!(row["w4d_body"], "hello");
    assert_eq!(row["_w4d_chatsession_value"], guid(0));
    assert!(row["@odata.etag"].as_str().unwrap().starts_with("W/\""));
    assert!(row["w4d_whatsappmessageid"].is_string());
    assert!(row["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#w4d_whatsappmessages(w4d_body,_w4d_chatsession_value)/$entity"));
}

#[tokio::test]
async fn a_post_naming_an_unknown_column_answers_the_documented_invalid_property_400() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let mut body = message(&guid(0), "hi");
    body["W4d_Body"] = json!("x");
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x0");
    assert!(error["error"]["message"].as_str().unwrap().contains(
        "Invalid property 'W4d_Body' was found in entity 'Microsoft.Dynamics.CRM.w4d_whatsappmessage'"
    ));
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_post_with_a_value_of_the_wrong_type_answers_400_and_creates_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let mut body = message(&guid(0), "hi");
    body["w4d_direction"] = json!("Outgoing");
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x80048d19");
    assert!(error["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Cannot convert the literal 'Outgoing' to the expected type 'Edm.Int32'."));
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_text_longer_than_its_column_answers_the_documented_length_error() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let body = message(&guid(0), &"x".repeat(4001));
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x80044331");
    assert_eq!(
        error["error"]["message"],
        "A validation error occurred.  The length of the 'w4d_body' attribute of the 'w4d_whatsappmessage' entity exceeded the maximum allowed length of '4000'."
    );
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_choice_value_outside_its_options_answers_picklist_value_out_of_range() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let mut body = message(&guid(0), "hi");
    body["w4d_direction"] = json!(2);
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x8004431A");
    assert_eq!(
        error["error"]["message"],
        "The picklist value is out of the range."
    );
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_bind_to_a_single_valued_navigation_property_sets_the_lookup() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let absolute = api(&sim, &format!("{SESSIONS}({})", guid(1)));
    let mut body = message(&guid(0), "hi");
    body["w4d_ChatSession@odata.bind"] = json!(absolute);
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert_eq!(messages_of(&sim, &guid(1)).len(), 1);
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_bind_whose_navigation_property_differs_in_case_answers_the_undeclared_property_error() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let body = json!({
        "w4d_body": "hi",
        "w4d_chatsession@odata.bind": format!("/{SESSIONS}({})", guid(0)),
    });
    let response = post_row(&client, &sim, &token, MESSAGES, body, false).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x80048d19");
    let text = error["error"]["message"].as_str().unwrap();
    assert!(
        text.starts_with(
            "Error identified in Payload provided by the user for Entity :'w4d_whatsappmessages'"
        ),
        "{text}"
    );
    assert!(text.contains("An undeclared property 'w4d_chatsession' which only has property annotations in the payload but no property value was found in the payload."), "{text}");
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn a_bind_to_a_row_that_does_not_exist_answers_404_does_not_exist() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let response = post_row(
        &client,
        &sim,
        &token,
        MESSAGES,
        message(&guid(9), "hi"),
        false,
    )
    .await;
    let error = expect_json(response, StatusCode::NOT_FOUND).await;
    assert_eq!(error["error"]["code"], "0x80040217");
    assert_eq!(
        error["error"]["message"],
        format!("w4d_chatsession With Id = {} Does Not Exist", guid(9))
    );
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn a_patch_binding_a_navigation_property_of_another_case_is_refused_too() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let before = etag_of(&sim, &guid(0));
    let body = json!({"W4d_configurationid@odata.bind": "/w4d_whatsappconfigurations(6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21)"});
    let response = patch_session(&client, &sim, &token, &guid(0), &before, body).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(error["error"]["code"], "0x80048d19");
    assert_eq!(etag_of(&sim, &guid(0)), before);
}

#[tokio::test]
async fn a_post_inside_a_change_set_answers_204_with_location_and_entity_id() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let part = change_set(&[message_part(&guid(0), "in a change set")]);
    let (status, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&text), vec![204]);
    let id = messages_of(&sim, &guid(0))[0]["w4d_whatsappmessageid"]
        .as_str()
        .unwrap()
        .to_string();
    let entity_id = api(&sim, &format!("{MESSAGES}({id})"));
    assert!(
        text.contains(&format!("Location: {entity_id}\r\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("OData-EntityId: {entity_id}\r\n")),
        "{text}"
    );
}
