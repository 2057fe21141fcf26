//! The demo org's custom APIs ("Use Web API actions", "CustomAPI tables"): declared as rows,
//! called bound or unbound, each creating an outgoing message row; and the documented errors.

use chrono::Utc;
use dataverse_sim::dataset::{OUTGOING, SEND_SESSION_MESSAGE, SEND_WHATSAPP_MESSAGE};
use dataverse_sim::{Dataset, Sim};
use reqwest::{Client, Response, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

/// Support 0103 of the demo org: active, three hours quiet.
const SESSION: &str = "5e551000-0000-4000-8000-000000000003";

async fn call(client: &Client, sim: &Sim, token: &str, path: &str, body: Value) -> Response {
    client
        .post(api(sim, path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

fn bound(session: &str) -> String {
    format!("{SESSIONS}({session})/Microsoft.Dynamics.CRM.{SEND_SESSION_MESSAGE}")
}

#[tokio::test]
async fn a_bound_action_creates_an_outgoing_message_for_its_session() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let response = call(
        &client,
        &sim,
        &token,
        &bound(SESSION),
        json!({"Text": "Still there?"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let sent = messages_of(&sim, SESSION);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["w4d_body"], "Still there?");
    assert_eq!(sent[0]["w4d_direction"], OUTGOING);
    assert_eq!(sim.stats().actions, 1);
}

#[tokio::test]
async fn an_unbound_action_creates_an_outgoing_message_for_the_session_it_names() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let body = json!({"SessionId": SESSION, "Text": "We are closing this chat."});
    let response = call(&client, &sim, &token, SEND_WHATSAPP_MESSAGE, body).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let sent = messages_of(&sim, SESSION);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["w4d_body"], "We are closing this chat.");
}

#[tokio::test]
async fn an_action_named_in_another_case_answers_404_resource_not_found_for_its_segment() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let body = json!({"SessionId": SESSION, "Text": "hi"});
    let response = call(&client, &sim, &token, "w4d_sendwhatsappmessage", body).await;
    let error = expect_json(response, StatusCode::NOT_FOUND).await;
    assert_eq!(error["error"]["code"], "0x8006088a");
    assert_eq!(
        error["error"]["message"],
        "Resource not found for the segment 'w4d_sendwhatsappmessage'."
    );
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn an_unbound_action_called_bound_answers_404() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let path = format!("{SESSIONS}({SESSION})/Microsoft.Dynamics.CRM.{SEND_WHATSAPP_MESSAGE}");
    let response = call(&client, &sim, &token, &path, json!({"Text": "hi"})).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn a_bound_action_without_its_namespace_answers_unresolved_parameters() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let path = format!("{SESSIONS}({SESSION})/{SEND_SESSION_MESSAGE}");
    let response = call(&client, &sim, &token, &path, json!({"Text": "hi"})).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error["error"]["message"],
        "Request message has unresolved parameters."
    );
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn an_action_without_a_required_parameter_answers_400_and_sends_nothing() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let body = json!({"SessionId": SESSION});
    let response = call(&client, &sim, &token, SEND_WHATSAPP_MESSAGE, body).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error["error"]["message"],
        "Request message has unresolved parameters."
    );
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn an_action_given_a_parameter_it_does_not_declare_answers_400() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let body = json!({"Text": "hi", "SessionId": SESSION});
    let response = call(&client, &sim, &token, &bound(SESSION), body).await;
    let error = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        error["error"]["message"],
        "The parameter 'SessionId' in the request payload is not a valid parameter for the operation 'w4d_SendSessionMessage'."
    );
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn an_action_naming_a_session_that_does_not_exist_answers_404_and_sends_nothing() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let missing = "5e551000-0000-4000-8000-000000009999";
    let response = call(
        &client,
        &sim,
        &token,
        &bound(missing),
        json!({"Text": "hi"}),
    )
    .await;
    let error = expect_json(response, StatusCode::NOT_FOUND).await;
    assert_eq!(error["error"]["code"], "0x80040217");
    let body = json!({"SessionId": missing, "Text": "hi"});
    let response = call(&client, &sim, &token, SEND_WHATSAPP_MESSAGE, body).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn an_action_after_a_stale_patch_in_the_same_change_set_sends_nothing() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let warn = request_part(
        "PATCH",
        &format!("{SESSIONS}({SESSION})"),
        &[("If-Match", "W/\"1\"")],
        &json!({"w4d_warnedon": "2026-11-24T15:00:00Z"}),
    );
    let send = request_part("POST", &bound(SESSION), &[], &json!({"Text": "hi"}));
    let (_, text) = post_batch(&client, &sim, &token, &[change_set(&[warn, send])], true).await;
    assert_eq!(statuses(&text), vec![412]);
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn the_custom_apis_are_rows_of_customapis_with_their_parameters() {
    let (sim, client, token) = start_connected(Dataset::demo(Utc::now())).await;
    let url = api(
        &sim,
        "customapis?$select=uniquename,bindingtype,boundentitylogicalname,isfunction&$filter=uniquename%20eq%20'w4d_SendSessionMessage'",
    );
    let apis = get_json(&client, &token, &url, None).await;
    let api_row = &apis["value"][0];
    assert_eq!(
        (
            api_row["bindingtype"].clone(),
            api_row["boundentitylogicalname"].clone()
        ),
        (json!(1), json!("w4d_chatsession"))
    );
    let id = api_row["customapiid"].as_str().unwrap();
    let url = api(
        &sim,
        &format!("customapirequestparameters?$select=uniquename,type,isoptional&$filter=_customapiid_value%20eq%20{id}"),
    );
    let parameters = get_json(&client, &token, &url, None).await;
    let names: Vec<(Value, Value, Value)> = parameters["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["uniquename"].clone(),
                p["type"].clone(),
                p["isoptional"].clone(),
            )
        })
        .collect();
    assert_eq!(names, [(json!("Text"), json!(10), json!(false))]);
}
