//! Bad input of every kind ends in an error that names the problem, and nothing is closed.

use crate::support::*;
use dataverse_sim::Dataset;
use serde_json::{json, Value};
use session_sweeper::handler::HandlerError;
use session_sweeper::sweep::SweepError;

fn eligible_org(timeout: Value) -> Dataset {
    org(
        vec![configuration(SUPPORT, timeout)],
        vec![
            session(1, Some(SUPPORT), Some(hours(48)), hours(50)),
            session(2, Some(SUPPORT), None, hours(50)),
        ],
    )
}

async fn assert_refused(
    harness: &Harness,
    result: Result<session_sweeper::summary::Summary, HandlerError>,
    expected: &str,
) {
    let error = match result {
        Ok(summary) => panic!("expected an error mentioning {expected:?}, got {summary:?}"),
        Err(error) => error,
    };
    assert!(error.to_string().contains(expected), "{error}");
    assert!(harness.closed_ids().is_empty(), "a session was closed");
    assert_eq!(harness.sim.stats().patches, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_secret_is_named_and_nothing_is_closed() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .secret("")
        .start()
        .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, &harness.secret_id.clone()).await;
    assert_eq!(harness.sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_that_is_not_json_is_refused_without_showing_it() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .secret("client_secret=hunter2-very-secret")
        .start()
        .await;
    let result = harness.sweep().await;
    let message = format!("{:?}", result.as_ref().err());
    assert!(!message.contains("hunter2"), "{message}");
    assert_refused(&harness, result, "not a JSON object").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_secret_without_a_field_names_the_field() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .secret(r#"{"tenant_id":"t","client_secret":"s","environment_url":"{sim}","authority_url":"{sim}"}"#)
        .start()
        .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, "client_id").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_environment_on_a_remote_host_is_refused() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .secret(r#"{"tenant_id":"t","client_id":"sim-client","client_secret":"sim-secret","environment_url":"http://contoso.crm.dynamics.com","authority_url":"{sim}"}"#)
        .start()
        .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, "https://").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_client_secret_surfaces_entra_ids_error() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .secret(r#"{"tenant_id":"t","client_id":"sim-client","client_secret":"wrong-one","environment_url":"{sim}","authority_url":"{sim}"}"#)
        .start()
        .await;
    let result = harness.sweep().await;
    assert!(!format!("{:?}", result.as_ref().err()).contains("wrong-one"));
    assert_refused(&harness, result, "AADSTS7000215").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_negative_and_unparseable_timeouts_close_nothing() {
    for (timeout, expected) in [
        (json!(0), "greater than zero"),
        (json!(-1440), "greater than zero"),
        (json!("soon"), "not a duration"),
        (json!(null), "empty"),
    ] {
        let harness = Harness::start(eligible_org(timeout.clone())).await;
        let result = harness.sweep().await;
        assert!(
            matches!(
                &result,
                Err(HandlerError::Sweep(
                    SweepError::NoUsableConfiguration { .. }
                ))
            ),
            "{timeout}: {result:?}"
        );
        assert_refused(&harness, result, expected).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_timeout_on_one_configuration_spares_its_sessions_only() {
    let harness = Harness::start(org(
        vec![
            configuration(SUPPORT, json!(0)),
            configuration(SALES, json!(60)),
        ],
        vec![
            session(1, Some(SUPPORT), Some(hours(48)), hours(50)),
            session(2, Some(SALES), Some(hours(2)), hours(50)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), [sid(2)].into_iter().collect());
    assert!(!summary.complete());
    let support = summary
        .configurations()
        .iter()
        .find(|c| c.id == SUPPORT)
        .unwrap();
    assert!(support
        .error
        .as_deref()
        .unwrap()
        .contains("greater than zero"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_session_table_names_the_setting() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .env("SESSION_TABLE", "w4d_chatsesions")
        .start()
        .await;
    let result = harness.sweep().await;
    assert!(
        matches!(
            &result,
            Err(HandlerError::Sweep(SweepError::UnknownName {
                setting: "SESSION_TABLE",
                ..
            }))
        ),
        "{result:?}"
    );
    assert_refused(&harness, result, "SESSION_TABLE").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_column_names_the_setting() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .env("SESSION_LAST_CUSTOMER_MESSAGE_COLUMN", "w4d_lastmessageon")
        .start()
        .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, "SESSION_LAST_CUSTOMER_MESSAGE_COLUMN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_timeout_column_names_the_setting() {
    let harness = Setup::new(eligible_org(json!(1440)))
        .env("CONFIGURATION_TIMEOUT_COLUMN", "w4d_timeout")
        .start()
        .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, "CONFIGURATION_TIMEOUT_COLUMN").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_event_is_refused_before_any_request() {
    let harness = Harness::start(eligible_org(json!(1440))).await;
    let malformed: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("events/malformed.json")).unwrap(),
    )
    .unwrap();
    let result = harness.invoke(malformed).await;
    assert!(
        matches!(&result, Err(HandlerError::InvalidEvent(_))),
        "{result:?}"
    );
    assert_refused(&harness, result, "Scheduled Event").await;
    assert_eq!(harness.sim.stats().requests, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_active_configuration_is_an_error_not_an_empty_success() {
    let mut inactive = configuration(SUPPORT, json!(1440));
    inactive["statecode"] = json!(1);
    let harness = Harness::start(org(
        vec![inactive],
        vec![session(1, Some(SUPPORT), Some(hours(48)), hours(50))],
    ))
    .await;
    let result = harness.sweep().await;
    assert_refused(&harness, result, "no active WhatsApp configuration").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_without_a_configuration_are_reported_when_several_are_active() {
    let harness = Harness::start(org(
        vec![
            configuration(SUPPORT, json!(1440)),
            configuration(SALES, json!(30)),
        ],
        vec![
            session(1, None, Some(hours(72)), hours(80)),
            session(2, Some(SALES), Some(hours(2)), hours(3)),
        ],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(harness.closed_ids(), [sid(2)].into_iter().collect());
    assert_eq!(summary.skipped().len(), 1);
    assert_eq!(summary.skipped()[0].id, sid(1));
    assert!(summary.adds_up());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_single_configuration_owns_sessions_without_one() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(1440))],
        vec![session(1, None, Some(hours(25)), hours(30))],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.closed_sessions()[0].configuration_id, SUPPORT);
    assert_eq!(harness.closed_ids(), [sid(1)].into_iter().collect());
}
