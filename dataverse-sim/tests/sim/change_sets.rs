//! Change sets as "Execute batch operations using the Web API" describes them: in order, all
//! or nothing, one answer for a failed set; a conditional PATCH followed by a create is the
//! sweeper's warning.

use reqwest::StatusCode;
use serde_json::json;

use crate::support::*;

/// A PATCH of session `id` that sets its warned-at, with `If-Match: etag`.
fn warn_part(id: &str, etag: &str) -> String {
    let url = format!("{SESSIONS}({id})");
    let body = json!({"w4d_warnedon": "2026-11-24T15:00:00Z"});
    request_part("PATCH", &url, &[("If-Match", etag)], &body)
}

#[tokio::test]
async fn a_change_set_whose_patch_answers_412_runs_nothing_after_it_and_answers_once() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let stale = etag_of(&sim, &guid(0));
    sim.update(
        SESSIONS,
        &guid(0),
        json!({"w4d_lastcustomermessageon": "2026-11-24T14:59:00Z"}),
    );
    let part = change_set(&[
        warn_part(&guid(0), &stale),
        message_part(&guid(0), "bye soon"),
    ]);
    let (status, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(statuses(&text), vec![412]);
    assert!(!text.contains("changesetresponse_"), "{text}");
    assert!(messages_of(&sim, &guid(0)).is_empty());
    assert!(column_of(&sim, &guid(0), "w4d_warnedon").is_null());
}

#[tokio::test]
async fn a_change_set_whose_create_fails_rolls_back_the_patch_before_it() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let before = sim.row(SESSIONS, &guid(0)).unwrap();
    let too_long = message_part(&guid(0), &"x".repeat(4001));
    let part = change_set(&[warn_part(&guid(0), &etag_of(&sim, &guid(0))), too_long]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![400]);
    assert_eq!(sim.row(SESSIONS, &guid(0)).unwrap(), before);
    assert!(messages_of(&sim, &guid(0)).is_empty());
}

#[tokio::test]
async fn a_change_set_that_fails_after_a_create_removes_the_created_row() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let part = change_set(&[
        message_part(&guid(0), "created, then undone"),
        warn_part(&guid(0), "W/\"1\""),
    ]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![412]);
    assert!(sim.rows(MESSAGES).is_empty());
}

#[tokio::test]
async fn a_change_set_that_succeeds_applies_its_patch_and_create_and_changes_the_etag() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let etag = etag_of(&sim, &guid(0));
    let part = change_set(&[
        warn_part(&guid(0), &etag),
        message_part(&guid(0), "warning"),
    ]);
    let (_, text) = post_batch(&client, &sim, &token, &[part], true).await;
    assert_eq!(statuses(&text), vec![204, 204]);
    assert_eq!(
        column_of(&sim, &guid(0), "w4d_warnedon"),
        "2026-11-24T15:00:00Z"
    );
    assert_ne!(etag_of(&sim, &guid(0)), etag);
    assert_eq!(messages_of(&sim, &guid(0)).len(), 1);
}

#[tokio::test]
async fn a_failed_change_set_leaves_the_next_change_set_to_run_under_continue_on_error() {
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let failing = change_set(&[warn_part(&guid(0), "W/\"1\""), message_part(&guid(0), "no")]);
    let passing = change_set(&[
        warn_part(&guid(1), &etag_of(&sim, &guid(1))),
        message_part(&guid(1), "yes"),
    ]);
    let (_, text) = post_batch(&client, &sim, &token, &[failing, passing], true).await;
    assert_eq!(statuses(&text), vec![412, 204, 204]);
    assert!(messages_of(&sim, &guid(0)).is_empty());
    assert_eq!(messages_of(&sim, &guid(1)).len(), 1);
}

#[tokio::test]
async fn a_batch_without_continue_on_error_answers_with_the_status_of_its_first_failure() {
    // "The batch error represents the error of the first failing request": the documented
    // answer is `HTTP/1.1 400 BadRequest` around a 400 part.
    let (sim, client, token) = start_connected(overdue_sessions(2)).await;
    let parts = [
        change_set(&[warn_part(&guid(0), "W/\"1\"")]),
        close_part(&sim, 1, None),
    ];
    let (status, text) = post_batch(&client, &sim, &token, &parts, false).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED);
    assert_eq!(statuses(&text), vec![412]);
    assert_eq!(column_of(&sim, &guid(1), "statecode"), 0);
}
