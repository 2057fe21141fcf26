//! GET of collections and rows: filters, paging, `$select`, `$top` and their errors.

use dataverse_sim::Dataset;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::support::*;

#[tokio::test]
async fn a_filter_on_datetimes_and_null_selects_only_overdue_sessions() {
    let mut data = Dataset::whatsapp_empty();
    let mut table = data.table(SESSIONS).unwrap().clone();
    table.rows = vec![
        session(
            &guid(1),
            Some("2026-11-23T14:00:00Z"),
            "2026-11-20T00:00:00Z",
        ),
        session(
            &guid(2),
            Some("2026-11-24T14:00:00Z"),
            "2026-11-20T00:00:00Z",
        ),
        session(&guid(3), None, "2026-11-20T00:00:00Z"),
        session(&guid(4), None, "2026-11-24T12:00:00Z"),
    ];
    data = data.with_table(SESSIONS, table);
    let (sim, client, token) = start_connected(data).await;
    let filter = "statecode eq 0 and (w4d_lastcustomermessageon le 2026-11-23T15:00:00Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-23T15:00:00Z))";
    let url = format!(
        "{}?$select=w4d_name&$filter={}",
        api(&sim, SESSIONS),
        filter.replace(' ', "%20")
    );
    let body = get_json(&client, &token, &url, None).await;
    let ids: Vec<&str> = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["w4d_chatsessionid"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![guid(1), guid(3)]);
    assert!(body["value"][0]["@odata.etag"]
        .as_str()
        .unwrap()
        .starts_with("W/\""));
}

#[tokio::test]
async fn paging_is_key_based_so_closing_rows_between_pages_skips_nothing() {
    let (sim, client, token) = start_connected(overdue_sessions(25)).await;
    let mut url = format!(
        "{}?$select=statecode&$filter=statecode%20eq%200",
        api(&sim, SESSIONS)
    );
    let mut seen = Vec::new();
    loop {
        let response = get(&client, &token, &url, Some(10)).await;
        assert_eq!(
            response.headers()["preference-applied"],
            "odata.maxpagesize=10"
        );
        let body: Value = response.json().await.unwrap();
        for row in body["value"].as_array().unwrap() {
            let id = row["w4d_chatsessionid"].as_str().unwrap().to_string();
            // Close what was read, as the sweeper does while fetching the next page.
            sim.update(SESSIONS, &id, json!({"statecode": 1, "statuscode": 2}));
            seen.push(id);
        }
        let Some(next) = next_link(&body) else { break };
        assert!(next.contains("$filter=statecode%20eq%200"));
        url = next;
    }
    assert_eq!(seen.len(), 25);
}

#[tokio::test]
async fn an_unknown_column_in_select_is_a_400_naming_the_property() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(
        &client,
        &token,
        &format!("{}?$select=w4d_nope", api(&sim, SESSIONS)),
        None,
    )
    .await;
    let body = expect_json(response, StatusCode::BAD_REQUEST).await;
    assert_eq!(body["error"]["message"], "Could not find a property named 'w4d_nope' on type 'Microsoft.Dynamics.CRM.w4d_chatsession'.");
}

#[tokio::test]
async fn an_unknown_entity_set_is_a_404_resource_not_found() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(&client, &token, &api(&sim, "w4d_nothings"), None).await;
    let body = expect_json(response, StatusCode::NOT_FOUND).await;
    assert_eq!(body["error"]["code"], "0x8006088a");
    assert_eq!(
        body["error"]["message"],
        "Resource not found for the segment 'w4d_nothings'."
    );
}

#[tokio::test]
async fn a_malformed_filter_is_a_400_syntax_error() {
    let (sim, client, token) = start_connected(Dataset::whatsapp_empty()).await;
    let response = get(
        &client,
        &token,
        &format!("{}?$filter=statecode%20eq", api(&sim, SESSIONS)),
        None,
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn ordered_paging_follows_the_order_and_returns_every_row_once() {
    let (sim, client, token) = start_connected(overdue_sessions(7)).await;
    let mut url = format!(
        "{}?$select=w4d_name&$orderby=w4d_name%20desc",
        api(&sim, SESSIONS)
    );
    let mut names = Vec::new();
    loop {
        let body = get_json(&client, &token, &url, Some(3)).await;
        names.extend(
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["w4d_name"].as_str().unwrap().to_string()),
        );
        let Some(next) = next_link(&body) else { break };
        url = next;
    }
    let expected: Vec<String> = (0..7).rev().map(guid).collect();
    assert_eq!(names, expected);
}

#[tokio::test]
async fn top_limits_the_rows_and_disables_paging() {
    let (sim, client, token) = start_connected(overdue_sessions(5)).await;
    let body = get_json(
        &client,
        &token,
        &format!("{}?$top=2", api(&sim, SESSIONS)),
        None,
    )
    .await;
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    assert!(body.get("@odata.nextLink").is_none());
}

#[tokio::test]
async fn top_beside_a_max_page_size_is_ignored_and_the_query_is_paged() {
    let (sim, client, token) = start_connected(overdue_sessions(5)).await;
    let response = get(
        &client,
        &token,
        &format!("{}?$top=1", api(&sim, SESSIONS)),
        Some(3),
    )
    .await;
    assert_eq!(
        response.headers()["preference-applied"],
        "odata.maxpagesize=3"
    );
    let body = expect_json(response, StatusCode::OK).await;
    assert_eq!(body["value"].as_array().unwrap().len(), 3);
    assert!(body.get("@odata.nextLink").is_some());
}

#[tokio::test]
async fn the_log_and_the_stats_count_the_rows_each_request_was_served() {
    let (sim, client, token) = start_connected(overdue_sessions(5)).await;
    get_json(
        &client,
        &token,
        &format!("{}?$top=1", api(&sim, SESSIONS)),
        None,
    )
    .await;
    get_json(&client, &token, &api(&sim, SESSIONS), Some(4)).await;
    let rows: Vec<u64> = sim.requests().iter().map(|request| request.rows).collect();
    assert_eq!(rows, vec![1, 4]);
    assert_eq!(sim.stats().rows_served, 5);
}

#[tokio::test]
async fn a_single_row_is_returned_with_its_etag_and_a_missing_one_is_404() {
    let (sim, client, token) = start_connected(overdue_sessions(1)).await;
    let found = get(
        &client,
        &token,
        &api(&sim, &format!("{SESSIONS}({})", guid(0))),
        None,
    )
    .await;
    assert_eq!(
        found.headers()["etag"].to_str().unwrap(),
        etag_of(&sim, &guid(0))
    );
    let missing = get(
        &client,
        &token,
        &api(&sim, &format!("{SESSIONS}({})", guid(9))),
        None,
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}

/// The ids a filter selects, all pages read, in the order served.
async fn ids_of(
    client: &reqwest::Client,
    sim: &dataverse_sim::Sim,
    token: &str,
    filter: &str,
) -> Vec<String> {
    let mut url = Some(format!(
        "{}?$select=w4d_name&$filter={}",
        api(sim, SESSIONS),
        filter.replace(' ', "%20")
    ));
    let mut ids = Vec::new();
    while let Some(next) = url {
        let page = get_json(client, token, &next, Some(2)).await;
        let rows = page["value"].as_array().unwrap();
        ids.extend(
            rows.iter()
                .map(|r| r["w4d_chatsessionid"].as_str().unwrap().to_owned()),
        );
        url = next_link(&page);
    }
    ids
}

#[tokio::test]
async fn an_indexed_filter_answers_as_a_scan_after_patches_and_a_rolled_back_change_set() {
    let (sim, client, token) = start_connected(overdue_sessions(8)).await;
    let other = "A0000000-0000-4000-8000-000000000001";
    // Closed by PATCH, moved to another configuration, and a change set whose second close
    // fails, so its first is rolled back.
    for n in [0, 3] {
        let response = patch_session(
            &client,
            &sim,
            &token,
            &guid(n),
            &etag_of(&sim, &guid(n)),
            json!({"statecode": 1, "statuscode": 2}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
    }
    sim.update(
        SESSIONS,
        &guid(5),
        json!({"_w4d_configurationid_value": other.to_lowercase()}),
    );
    let failing = change_set(&[
        close_part(&sim, 6, Some(1)),
        patch_part(&guid(7), "W/\"1\"", Some(2)),
    ]);
    post_batch(&client, &sim, &token, &[failing], false).await;
    let configuration = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";

    // Each pair: a filter the index serves, and the same filter behind an `or` it cannot use.
    let pairs = [
        ("statecode eq 0".to_owned(), "(statecode eq 0 or 1 eq 2)".to_owned()),
        ("statecode eq 1".to_owned(), "(statecode eq 1 or 1 eq 2)".to_owned()),
        (format!("statecode eq 0 and _w4d_configurationid_value eq {other}"),
         format!("(statecode eq 0 or 1 eq 2) and (_w4d_configurationid_value eq {other} or 1 eq 2)")),
        (format!("_w4d_configurationid_value eq {configuration} and statecode eq 0"),
         format!("(_w4d_configurationid_value eq {configuration} or 1 eq 2) and statecode eq 0 or 1 eq 2")),
    ];
    let mut answers = Vec::new();
    for (indexed, scanned) in &pairs {
        let (indexed, scanned) = (
            ids_of(&client, &sim, &token, indexed).await,
            ids_of(&client, &sim, &token, scanned).await,
        );
        assert_eq!(indexed, scanned);
        answers.push(indexed);
    }
    let all: Vec<String> = (0..8).map(guid).collect();
    let pick = |ns: &[usize]| ns.iter().map(|n| all[*n].clone()).collect::<Vec<_>>();
    assert_eq!(answers[0], pick(&[1, 2, 4, 5, 6, 7]));
    assert_eq!(answers[1], pick(&[0, 3]));
    assert_eq!(answers[2], pick(&[5]));
    assert_eq!(answers[3], pick(&[1, 2, 4, 6, 7]));
}

/// A sweep's filters of one state and a time bound (a configuration's candidates, the
/// sessions of no active configuration, a warning's window) against the same filters behind an
/// `or` that keeps the index out: the same ids, page by page, after closes, a move to another
/// configuration, messages that move a row past the bound and back, a cleared message, and a
/// rolled-back change set.
#[tokio::test]
async fn a_state_and_time_bounded_filter_answers_as_a_scan_after_changes() {
    let (sim, client, token) = start_connected(overdue_sessions(10)).await;
    let configuration = "6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21";
    let other = "a0000000-0000-4000-8000-000000000001";
    let last = |n: usize, at: Option<&str>| {
        sim.update(
            SESSIONS,
            &guid(n),
            json!({ "w4d_lastcustomermessageon": at }),
        )
    };
    last(1, Some("2026-11-24T15:00:00Z"));
    last(2, Some("2026-11-24T15:00:01Z"));
    last(3, None);
    sim.update(
        SESSIONS,
        &guid(4),
        json!({"w4d_lastcustomermessageon": null, "createdon": "2026-11-24T16:00:00Z"}),
    );
    last(5, Some("2026-11-25T00:00:00Z"));
    last(5, Some("2026-11-24T14:00:00Z"));
    sim.update(
        SESSIONS,
        &guid(6),
        json!({ "_w4d_configurationid_value": other }),
    );
    let response = patch_session(
        &client,
        &sim,
        &token,
        &guid(0),
        &etag_of(&sim, &guid(0)),
        json!({"statecode": 1, "statuscode": 2}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::NO_CONTENT);
    let failing = change_set(&[
        close_part(&sim, 7, Some(1)),
        patch_part(&guid(8), "W/\"1\"", Some(2)),
    ]);
    post_batch(&client, &sim, &token, &[failing], false).await;

    let past = "(w4d_lastcustomermessageon le 2026-11-24T15:00:00.900Z or (w4d_lastcustomermessageon eq null and createdon le 2026-11-24T15:00:00.900Z))";
    let pairs = [
        (
            format!("statecode eq 0 and _w4d_configurationid_value eq {configuration} and {past}"),
            format!("(statecode eq 0 or 1 eq 2) and (_w4d_configurationid_value eq {configuration} or 1 eq 2) and ({past} or 1 eq 2)"),
        ),
        (
            format!("statecode eq 0 and (_w4d_configurationid_value eq null or _w4d_configurationid_value ne {configuration}) and {past}"),
            format!("(statecode eq 0 or 1 eq 2) and (_w4d_configurationid_value eq null or _w4d_configurationid_value ne {configuration}) and ({past} or 1 eq 2)"),
        ),
        (
            "statecode eq 1 and w4d_lastcustomermessageon lt 2026-11-24T15:00:01Z".to_owned(),
            "(statecode eq 1 or 1 eq 2) and (w4d_lastcustomermessageon lt 2026-11-24T15:00:01Z or 1 eq 2)".to_owned(),
        ),
        (
            "statecode eq 0 and w4d_lastcustomermessageon gt 2026-11-24T14:00:00Z and w4d_lastcustomermessageon le 2026-11-24T15:00:01Z".to_owned(),
            "(statecode eq 0 or 1 eq 2) and (w4d_lastcustomermessageon gt 2026-11-24T14:00:00Z and w4d_lastcustomermessageon le 2026-11-24T15:00:01Z or 1 eq 2)".to_owned(),
        ),
    ];
    let mut answers = Vec::new();
    for (indexed, scanned) in &pairs {
        let served = ids_of(&client, &sim, &token, indexed).await;
        assert_eq!(
            served,
            ids_of(&client, &sim, &token, scanned).await,
            "{indexed}"
        );
        answers.push(served);
    }
    let pick = |ns: &[usize]| ns.iter().map(|n| guid(*n)).collect::<Vec<_>>();
    assert_eq!(answers[0], pick(&[1, 3, 5, 7, 8, 9]));
    assert_eq!(answers[1], pick(&[6]));
    assert_eq!(answers[2], pick(&[0]));
    assert_eq!(answers[3], pick(&[1, 2]));

    // A text in another format keeps the index out: the scan answers, and finds it.
    last(9, Some("2026-11-24T17:00:00+02:00"));
    let (indexed, scanned) = &pairs[0];
    let served = ids_of(&client, &sim, &token, indexed).await;
    assert_eq!(served, ids_of(&client, &sim, &token, scanned).await);
    assert_eq!(served, pick(&[1, 3, 5, 7, 8, 9]));
}

/// The ids of the first page of sessions by last customer message, after `filter`.
async fn first_by_last_message(
    client: &reqwest::Client,
    sim: &dataverse_sim::Sim,
    token: &str,
    filter: &str,
    top: &str,
) -> Vec<String> {
    let url = format!(
        "{}?$select=w4d_lastcustomermessageon&$filter={}&$orderby=w4d_lastcustomermessageon%20asc{top}",
        api(sim, SESSIONS),
        filter.replace(' ', "%20").replace('+', "%2B")
    );
    let page = get_json(client, token, &url, None).await;
    page["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["w4d_chatsessionid"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_time_ordered_first_page_answers_as_the_sort_after_changes_and_with_text_in_another_format(
) {
    let (sim, client, token) = start_connected(overdue_sessions(6)).await;
    let moments = [
        "2026-11-24T15:00:09Z",
        "2026-11-24T15:00:03Z",
        "2026-11-24T15:00:03Z",
        "2026-11-24T14:59:00Z",
        "2026-11-24T15:00:05Z",
        "2026-11-24T15:01:00Z",
    ];
    for (n, at) in moments.iter().enumerate() {
        sim.update(SESSIONS, &guid(n), json!({"w4d_lastcustomermessageon": at}));
    }
    // Moved later, and closed: both must leave the index's old place.
    sim.update(
        SESSIONS,
        &guid(1),
        json!({"w4d_lastcustomermessageon": "2026-11-24T15:00:30Z"}),
    );
    sim.update(SESSIONS, &guid(4), json!({"statecode": 1}));
    let indexed = "statecode eq 0 and w4d_lastcustomermessageon gt 2026-11-24T15:00:00.500Z";
    let scanned = "(statecode eq 0 or 1 eq 2) and (w4d_lastcustomermessageon gt 2026-11-24T15:00:00.500Z or 1 eq 2)";

    for top in ["&$top=1", "&$top=3", ""] {
        let served = first_by_last_message(&client, &sim, &token, indexed, top).await;
        assert_eq!(
            served,
            first_by_last_message(&client, &sim, &token, scanned, top).await,
            "{top}"
        );
    }
    assert_eq!(
        first_by_last_message(&client, &sim, &token, indexed, "&$top=3").await,
        [guid(2), guid(0), guid(1)]
    );

    // A text with an offset sorts by its text, not its time: the index is not used for it.
    sim.update(
        SESSIONS,
        &guid(3),
        json!({"w4d_lastcustomermessageon": "2026-11-24T17:00:01+02:00"}),
    );
    let served = first_by_last_message(&client, &sim, &token, indexed, "&$top=3").await;
    assert_eq!(
        served,
        first_by_last_message(&client, &sim, &token, scanned, "&$top=3").await
    );
    assert_eq!(served, [guid(2), guid(0), guid(1)]);
}

#[tokio::test]
async fn a_filter_for_an_empty_date_answers_as_a_scan_whether_or_not_every_row_holds_one() {
    let (sim, client, token) = start_connected(overdue_sessions(3)).await;
    let indexed = "statecode eq 0 and w4d_lastcustomermessageon eq null";
    let scanned = "(statecode eq 0 or 1 eq 2) and (w4d_lastcustomermessageon eq null or 1 eq 2)";
    assert!(ids_of(&client, &sim, &token, indexed).await.is_empty());
    assert!(ids_of(&client, &sim, &token, scanned).await.is_empty());

    sim.update(
        SESSIONS,
        &guid(1),
        json!({"w4d_lastcustomermessageon": null}),
    );

    assert_eq!(ids_of(&client, &sim, &token, indexed).await, [guid(1)]);
    assert_eq!(ids_of(&client, &sim, &token, scanned).await, [guid(1)]);
}
