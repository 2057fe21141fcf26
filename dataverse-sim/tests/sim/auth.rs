//! The token endpoint, bearer checks, and `WhoAmI`.

use dataverse_sim::Dataset;
use reqwest::{Client, StatusCode};
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn a_token_request_with_the_right_secret_returns_a_bearer_token() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "sim-client", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(
        (body["token_type"].as_str(), body["expires_in"].as_u64()),
        (Some("Bearer"), Some(3599))
    );
    assert!(body["access_token"].as_str().unwrap().len() > 20);
}

#[tokio::test]
async fn a_token_request_with_a_wrong_secret_gets_401_invalid_client_aadsts7000215() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "sim-client", "wrong", None).await;
    let body = expect_json(response, StatusCode::UNAUTHORIZED).await;
    assert_eq!(body["error"], "invalid_client");
    assert_eq!(body["error_codes"], json!([7000215]));
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .starts_with("AADSTS7000215:"));
    assert!(body["trace_id"].is_string() && body["correlation_id"].is_string());
}

#[tokio::test]
async fn a_token_request_for_another_resource_gets_invalid_resource() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(
        &sim,
        "sim-client",
        "sim-secret",
        Some("https://contoso.crm.dynamics.com/.default"),
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error_codes"], json!([500011]));
}

#[tokio::test]
async fn a_web_api_request_without_a_token_gets_401_with_a_challenge() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = Client::new().get(api(&sim, SESSIONS)).send().await.unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer authorization_uri="));
    let body: Value = response.json().await.unwrap();
    assert!(body["error"]["code"].is_string());
}

#[tokio::test]
async fn rotating_the_client_secret_revokes_issued_tokens() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    sim.rotate_client_secret("new-secret");
    let response = get(&client, &token, &api(&sim, SESSIONS), None).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_token_request_from_an_unknown_client_gets_400_unauthorized_client() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(&sim, "someone-else", "sim-secret", None).await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(
        (body["error"].as_str(), body["error_codes"][0].as_u64()),
        (Some("unauthorized_client"), Some(700016))
    );
}

#[tokio::test]
async fn a_token_request_with_a_scope_lacking_default_gets_invalid_scope() {
    let sim = start(Dataset::whatsapp_empty()).await;
    let response = request_token(
        &sim,
        "sim-client",
        "sim-secret",
        Some(&format!("{}/user_impersonation", sim.url())),
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"], "invalid_scope");
}

#[tokio::test]
async fn who_am_i_answers_the_application_user_as_a_who_am_i_response() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let body = expect_json(
        get(&client, &token, &api(&sim, "WhoAmI"), None).await,
        StatusCode::OK,
    )
    .await;
    assert_eq!(body["UserId"], dataverse_sim::APPLICATION_USER_ID);
    assert_eq!(body["BusinessUnitId"], dataverse_sim::BUSINESS_UNIT_ID);
    assert_eq!(body["OrganizationId"], dataverse_sim::ORGANIZATION_ID);
    assert!(body["@odata.context"]
        .as_str()
        .unwrap()
        .ends_with("$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse"));
}

#[tokio::test]
async fn who_am_i_answers_with_the_three_documented_ids() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let body = get_json(&client, &token, &api(&sim, "WhoAmI"), None).await;
    for field in ["BusinessUnitId", "UserId", "OrganizationId"] {
        assert_eq!(body[field].as_str().map(str::len), Some(36), "{field}");
    }
}
