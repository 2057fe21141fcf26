//! PATCH with ETags and `$batch` with change sets, and who a write records as its author.

use std::time::{Duration, Instant};

use chrono::Utc;
use dataverse_sim::Dataset;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_patch_with_a_stale_etag_gets_412_and_changes_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let id = guid(0);
    let stale = etag_of(&sim, &id);
    sim.update(
        SESSIONS,
        &id,
        json!({"w4d_lastcustomermessageon": "2026-11-24T14:59:00Z"}),
    );
    let close = json!({"statecode": 1, "statuscode": 2});
    let response = patch_session(&client, &sim, &token, &id, &stale, close).await;
    let body = expect_json(response, StatusCode::PRECONDITION_FAILED).await;
    assert_eq!(body["error"]["code"], "0x80060882");
    assert_eq!(column_of(&sim, &id, "statecode"), 0);
}

#[tokio::test]
async fn a_patch_with_the_current_etag_gets_204_and_bumps_the_version() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let id = guid(0);
    let current = etag_of(&sim, &id);
    let close = json!({"statecode": 1, "statuscode": 2});
    let response = patch_session(&client, &sim, &token, &id, &current, close).await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    assert!(response.headers()["odata-entityid"]
        .to_str()
        .unwrap()
        .ends_with(&format!("{SESSIONS}({id})")));
    assert_ne!(etag_of(&sim, &id), current);
    assert_eq!(column_of(&sim, &id, "statuscode"), 2);
}

#[tokio::test]
async fn a_batch_with_continue_on_error_reports_each_operation_status() {
    let (sim, client, token) = start_connected(overdue_sessions(3)).await;
    let parts = vec![
        close_part(&sim, 0, None),
        patch_part(&guid(1), "W/\"1\"", None),
        close_part(&sim, 2, None),
    ];
    let (status, text) = post_batch(&client, &sim, &token, &parts, true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&text), vec![204, 412, 204]);
    assert_eq!(column_of(&sim, &guid(2), "statecode"), 1);
}

#[tokio::test]
async fn a_batch_without_continue_on_error_stops_at_the_first_failure() {
    let (sim, client, token) = start_connected(overdue_sessions(3)).await;
    let parts = vec![
        close_part(&sim, 0, None),
        patch_part(&guid(1), "W/\"1\"", None),
        close_part(&sim, 2, None),
    ];
    let (_, text) = post_batch(&client, &sim, &token, &parts, false).await;
    assert_eq!(statuses(&text), vec![204, 412]);
    assert_eq!(column_of(&sim, &guid(2), "statecode"), 0);
}

#[tokio::test]
async fn a_failing_change_set_rolls_back_its_earlier_operations() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let part = change_set(&[
        close_part(&sim, 0, Some(1)),
        patch_part(&guid(1), "W/\"1\"", Some(2)),
    ]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![412]);
    assert_eq!(column_of(&sim, &guid(0), "statecode"), 0);
}

#[tokio::test]
async fn a_batch_counts_as_one_request_and_its_operations_as_patches() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    sim.reset_stats();
    let parts = vec![close_part(&sim, 0, None), close_part(&sim, 1, None)];
    post_batch(&client, &sim, &token, &parts, true).await;
    let stats = sim.stats();
    assert_eq!(
        (
            stats.requests,
            stats.batches,
            stats.batch_operations,
            stats.patches
        ),
        (1, 1, 2, 2)
    );
}

#[tokio::test]
async fn a_generated_org_of_100k_sessions_closes_20k_through_batches_quickly() {
    let (sim, client, token) = start_connected(Dataset::generated(100_000, 0.2, Utc::now())).await;
    let cutoff = (Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut url = format!("{}?$select=w4d_lastcustomermessageon&$filter=statecode%20eq%200%20and%20w4d_lastcustomermessageon%20le%20{cutoff}", api(&sim, SESSIONS));
    let started = Instant::now();
    let mut closed = 0;
    loop {
        let body = get_json(&client, &token, &url, Some(5000)).await;
        let rows = body["value"].as_array().unwrap();
        for chunk in rows.chunks(1000) {
            let parts: Vec<String> = chunk
                .iter()
                .map(|r| {
                    patch_part(
                        r["w4d_chatsessionid"].as_str().unwrap(),
                        r["@odata.etag"].as_str().unwrap(),
                        None,
                    )
                })
                .collect();
            let (_, text) = post_batch(&client, &sim, &token, &parts, true).await;
            closed += statuses(&text).iter().filter(|s| **s == 204).count();
        }
        let Some(next) = next_link(&body) else { break };
        url = next;
    }
    assert_eq!(closed, 20_000);
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn a_patch_naming_an_unknown_column_is_a_400_and_changes_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let before = etag_of(&sim, &guid(0));
    let change = json!({"statecode": 1, "w4d_nope": "x"});
    let response = patch_session(&client, &sim, &token, &guid(0), &before, change).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(etag_of(&sim, &guid(0)), before);
}

#[tokio::test]
async fn a_successful_change_set_answers_in_a_nested_change_set_response() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let part = change_set(&[close_part(&sim, 0, Some(1)), close_part(&sim, 1, Some(2))]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], false).await;
    assert!(text.contains("Content-Type: multipart/mixed; boundary=changesetresponse_"));
    assert_eq!(statuses(&text), vec![204, 204]);
    assert!(text.contains("Content-ID: 2"));
}

#[tokio::test]
async fn a_content_id_is_echoed_inside_a_change_set_and_not_on_a_part_outside_one() {
    // Microsoft's batch page shows Content-ID only in change sets, request and response alike.
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let parts = [
        close_part(&sim, 0, Some(7)),
        change_set(&[close_part(&sim, 1, Some(8))]),
    ];
    let (_, text) = post_batch(&client, &sim, &token, &parts, true).await;
    assert_eq!(statuses(&text), vec![204, 204]);
    assert!(!text.contains("Content-ID: 7"), "{text}");
    assert!(text.contains("Content-ID: 8"), "{text}");
}

#[tokio::test]
async fn a_failed_change_set_answers_with_its_failing_operations_content_id() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let stale = patch_part(&guid(0), "W/\"0\"", Some(5));
    let (_, text) = post_batch(&client, &sim, &token, &[change_set(&[stale])], true).await;
    assert_eq!(statuses(&text), vec![412]);
    assert!(text.contains("Content-ID: 5"), "{text}");
}

#[tokio::test]
async fn batch_parts_may_use_absolute_urls() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let part = close_part(&sim, 0, None).replace(
        "PATCH w4d_chatsessions(",
        &format!("PATCH {}(", api(&sim, SESSIONS)),
    );
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![204]);
}

#[tokio::test]
async fn a_batch_of_more_than_1000_operations_is_rejected() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let parts: Vec<String> = (0..1001)
        .map(|_| patch_part(&guid(0), "W/\"1\"", None))
        .collect();
    let (status, _) = post_batch(&client, &sim, &token, &parts, true).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(column_of(&sim, &guid(0), "statecode"), 0);
}

#[tokio::test]
async fn a_write_through_the_api_records_the_application_user_and_the_time_and_an_update_another_user(
) {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let seeded = sim.row(SESSIONS, &guid(0)).unwrap();
    assert_eq!(
        seeded["_modifiedby_value"],
        dataverse_sim::INTEGRATION_USER_ID
    );
    let before = Utc::now() - chrono::Duration::seconds(1);

    let etag = format!("W/\"{}\"", seeded["versionnumber"]);
    let response = patch_session(
        &client,
        &sim,
        &token,
        &guid(0),
        &etag,
        json!({"statecode": 1, "statuscode": 2}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    sim.update(SESSIONS, &guid(1), json!({"w4d_name": "edited"}));

    let patched = sim.row(SESSIONS, &guid(0)).unwrap();
    assert_eq!(
        patched["_modifiedby_value"],
        dataverse_sim::APPLICATION_USER_ID
    );
    let modified: chrono::DateTime<Utc> = patched["modifiedon"].as_str().unwrap().parse().unwrap();
    assert!(modified >= before, "{modified}");
    let edited = sim.row(SESSIONS, &guid(1)).unwrap();
    assert_eq!(
        edited["_modifiedby_value"],
        dataverse_sim::INTEGRATION_USER_ID
    );
}
