//! The secret and the token go only where the secret says: a secret whose `environment_url`
//! carries userinfo never gets its password echoed (wiremock stands in for Entra ID and answers
//! AADSTS500011 echoing the scope it was sent, as Entra does), and a secret rotated to another
//! environment mid-sweep sends nothing more to either environment.

use crate::support::*;
use chrono::Utc;
use dataverse_sim::{Dataset, Sim, SimOptions};
use lambda_runtime::Diagnostic;
use reqwest::Url;
use serde_json::json;
use wiremock::matchers::method;
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PASSWORD: &str = "pw-that-must-not-leak";

/// Entra ID's answer to a scope naming no resource in the tenant, with the scope echoed.
struct EchoScope;

impl Respond for EchoScope {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let form = String::from_utf8_lossy(&request.body);
        let scope = Url::parse(&format!("http://form/?{form}"))
            .ok()
            .and_then(|url| {
                url.query_pairs()
                    .find(|(name, _)| name == "scope")
                    .map(|(_, value)| value.into_owned())
            })
            .unwrap_or_default();
        ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "error": "invalid_resource",
            "error_description": format!("AADSTS500011: The resource principal named {scope} was not found in the tenant named t. Trace ID: 1"),
        }))
    }
}

/// A harness whose secret names an environment with a password and no user name, and an
/// authority that echoes the scope.
async fn harness_with_password_in_the_url() -> (MockServer, Harness) {
    let entra = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(EchoScope)
        .mount(&entra)
        .await;
    let secret = serde_json::json!({
        "tenant_id": "t", "client_id": "sim-client", "client_secret": SIM_SECRET,
        "environment_url": format!("http://:{PASSWORD}@127.0.0.1:9"),
        "authority_url": entra.uri(),
    });
    let harness = Setup::new(Dataset::demo(Utc::now()))
        .secret(secret.to_string())
        .start()
        .await;
    (entra, harness)
}

#[tokio::test(flavor = "current_thread")]
async fn a_sweep_refuses_an_environment_url_with_a_password_naming_the_field_and_never_the_password(
) {
    let logs = LogCapture::start();
    let (entra, harness) = harness_with_password_in_the_url().await;

    let error = harness.sweep().await.unwrap_err();

    let diagnostic = Diagnostic::from(error);
    assert_eq!(diagnostic.error_type, "Credentials", "{diagnostic:?}");
    assert!(
        diagnostic.error_message.contains("environment_url"),
        "{}",
        diagnostic.error_message
    );
    assert!(!diagnostic.error_message.contains(PASSWORD));
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
    assert!(entra
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn the_check_reports_an_environment_url_with_a_password_without_echoing_it() {
    let logs = LogCapture::start();
    let (_entra, harness) = harness_with_password_in_the_url().await;

    let report = harness.check().await;

    let text = serde_json::to_string(&report).unwrap();
    assert!(text.contains("environment_url"), "{text}");
    assert!(!text.contains(PASSWORD), "{text}");
    assert!(!logs.text().contains(PASSWORD), "{}", logs.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_rotated_to_another_environment_stops_the_sweep_and_the_next_sweep_uses_it() {
    let data = || {
        org(
            vec![configuration(SUPPORT, json!(1440))],
            vec![session(1, Some(SUPPORT), Some(hours(30)), hours(40))],
        )
    };
    let harness = Harness::start(data()).await;
    let other = Sim::start(SimOptions::default(), data())
        .await
        .expect("start the other dataverse-sim");
    // A warm function holds the old secret and token; the old environment then refuses both,
    // and the secret now names the other environment.
    harness.sweep().await.unwrap();
    harness.sim.rotate_client_secret("rotated-secret");
    put_secret(&harness.secret_id, &secret_json(&other, SIM_SECRET)).await;
    harness.sim.reset_stats();

    let error = harness.sweep().await.unwrap_err();

    let message = error.to_string();
    assert!(message.contains("another environment"), "{message}");
    assert_eq!(
        Diagnostic::from(error).error_type,
        "SecretChanged",
        "{message}"
    );
    // The old token (refused) and the old client secret (refused), and nothing after the
    // secret was read again: no token request to the new authority, no request with it.
    assert_eq!(other.stats().requests, 0, "{:?}", other.request_log());
    assert_eq!(harness.sim.stats().token_requests, 1);
    assert_eq!(
        harness.sim.stats().requests,
        2,
        "{:?}",
        harness.sim.request_log()
    );

    let next = harness.sweep().await.unwrap();
    assert_eq!(summary_closed(&next), [sid(1)].into_iter().collect());
    assert_eq!(harness.sim.stats().requests, 2);
    assert!(other.stats().requests > 0);
}
