//! Publishing against exact `PutEvents` answers (wiremock, through the real EventBridge
//! client): at most ten entries a call, a failed entry retried once and then counted, a
//! refused call ending the invocation's publishing, nothing sent after the budget's stop.
//! moto's EventBridge never fails a single entry of a valid call, so these answers are
//! written here; the end-to-end tests use moto.

use super::*;
use crate::ids::Guid;
use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
use chrono::TimeZone;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use wiremock::matchers::{header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const BUS: &str = "session-events";

fn client(server: &MockServer) -> aws_sdk_eventbridge::Client {
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(server.uri())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

fn bus(server: &MockServer) -> EventBus {
    EventBus::new(client(server), EventSettings { bus: BUS.into() })
}

fn session(n: u32) -> SessionReport {
    let at = Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap();
    SessionReport {
        id: Guid::parse(&format!("5e551000-0000-4000-8000-{n:012}")).unwrap(),
        configuration_id: Guid::parse("6f1c2b7a-3d4e-4f50-8a61-7b8c9d0e1f21").unwrap(),
        no_active_configuration: false,
        last_customer_message_at: Some(at - chrono::Duration::hours(2)),
        eligible_at: at - chrono::Duration::hours(1),
        overdue_seconds: 3600,
    }
}

fn closed_at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 24, 15, 0, 0).unwrap()
}

/// The entries of one `PutEvents` request.
fn entries(request: &Request) -> Vec<Value> {
    let body: Value = serde_json::from_slice(&request.body).expect("a JSON body");
    body["Entries"].as_array().cloned().unwrap_or_default()
}

/// An answer that accepts every entry except those at `failing`, which fail with `code`.
fn answer(request: &Request, failing: &[usize], code: &str) -> ResponseTemplate {
    let results: Vec<Value> = (0..entries(request).len())
        .map(|i| match failing.contains(&i) {
            true => json!({"ErrorCode": code, "ErrorMessage": "try again"}),
            false => json!({"EventId": format!("event-{i}")}),
        })
        .collect();
    let failed = results
        .iter()
        .filter(|r| r.get("ErrorCode").is_some())
        .count();
    ResponseTemplate::new(200)
        .insert_header("content-type", "application/x-amz-json-1.1")
        .set_body_string(json!({"FailedEntryCount": failed, "Entries": results}).to_string())
}

async fn put_events_requests(server: &MockServer) -> Vec<Vec<Value>> {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .map(entries)
        .collect()
}

fn mock_put_events() -> wiremock::MockBuilder {
    Mock::given(method("POST")).and(header("x-amz-target", "AWSEvents.PutEvents"))
}

// The tests run on one thread: the publishing task runs only when `finish` awaits it, so
// every event is queued before the first call, and the batches are exact.

#[tokio::test]
async fn events_are_put_at_most_ten_a_call() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[], ""))
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    for n in 0..23 {
        publisher.sink().session_closed(&session(n), closed_at());
    }
    let delivery = publisher.finish(None).await;

    let sizes: Vec<usize> = put_events_requests(&server)
        .await
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(sizes, [10, 10, 3]);
    assert_eq!((delivery.published, delivery.failed()), (23, 0));
}

#[tokio::test]
async fn each_entry_names_the_bus_the_source_and_its_detail_type() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[], ""))
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    publisher.sink().session_closed(&session(1), closed_at());
    publisher.finish(None).await;

    let requests = put_events_requests(&server).await;
    let entry = &requests[0][0];
    assert_eq!(
        (
            &entry["EventBusName"],
            &entry["Source"],
            &entry["DetailType"]
        ),
        (
            &json!(BUS),
            &json!("session-sweeper"),
            &json!("Session Closed")
        )
    );
    let detail: Value = serde_json::from_str(entry["Detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["session_id"], session(1).id.as_str());
    assert_eq!(detail["request_id"], "req-1");
}

#[tokio::test]
async fn an_entry_eventbridge_failed_is_retried_once_alone_and_then_counts_as_published() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[1], "ThrottlingException"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[], ""))
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    for n in 0..3 {
        publisher.sink().session_closed(&session(n), closed_at());
    }
    let delivery = publisher.finish(None).await;

    let requests = put_events_requests(&server).await;
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[1], vec![requests[0][1].clone()]);
    assert_eq!((delivery.published, delivery.failed()), (3, 0));
}

#[tokio::test]
async fn an_entry_that_fails_twice_is_counted_and_never_tried_a_third_time() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[0], "InternalFailure"))
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    publisher.sink().session_closed(&session(1), closed_at());
    publisher.sink().session_closed(&session(2), closed_at());
    let delivery = publisher.finish(None).await;

    let sizes: Vec<usize> = put_events_requests(&server)
        .await
        .iter()
        .map(Vec::len)
        .collect();
    assert_eq!(sizes, [2, 1]);
    assert_eq!((delivery.published, delivery.failed()), (1, 1));
}

#[tokio::test]
async fn a_call_eventbridge_refuses_ends_the_publishing_and_every_event_counts_as_failed() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(
                    json!({"__type": "ResourceNotFoundException", "message": "Event bus session-events does not exist."})
                        .to_string(),
                ),
        )
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    for n in 0..15 {
        publisher.sink().session_closed(&session(n), closed_at());
    }
    let delivery = publisher
        .finish(Some(&Summary::new(closed_at(), false)))
        .await;

    assert_eq!(put_events_requests(&server).await.len(), 1);
    assert_eq!((delivery.published, delivery.failed()), (0, 16));
}

#[tokio::test]
async fn after_the_budget_stop_nothing_is_put_and_every_event_counts_as_failed() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[], ""))
        .mount(&server)
        .await;
    let stopped = Budget::until(Instant::now(), Duration::ZERO);
    let publisher = bus(&server).start("req-1", stopped);

    publisher.sink().session_closed(&session(1), closed_at());
    let delivery = publisher
        .finish(Some(&Summary::new(closed_at(), false)))
        .await;

    assert!(put_events_requests(&server).await.is_empty());
    assert_eq!((delivery.published, delivery.failed()), (0, 2));
}

#[tokio::test]
async fn sweep_finished_is_the_last_event_published() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[], ""))
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    publisher.sink().session_closed(&session(1), closed_at());
    publisher
        .finish(Some(&Summary::new(closed_at(), true)))
        .await;

    let requests = put_events_requests(&server).await;
    let types: Vec<&Value> = requests[0].iter().map(|e| &e["DetailType"]).collect();
    assert_eq!(types, [&json!("Session Closed"), &json!("Sweep Finished")]);
}

#[tokio::test]
async fn entries_accepted_before_a_refused_retry_still_count_as_published() {
    let server = MockServer::start().await;
    mock_put_events()
        .respond_with(|request: &Request| answer(request, &[1], "ThrottlingException"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mock_put_events()
        .respond_with(
            ResponseTemplate::new(400)
                .insert_header("content-type", "application/x-amz-json-1.1")
                .set_body_string(
                    json!({"__type": "AccessDeniedException", "message": "not authorized"})
                        .to_string(),
                ),
        )
        .mount(&server)
        .await;
    let publisher = bus(&server).start("req-1", Budget::unlimited());

    for n in 0..3 {
        publisher.sink().session_closed(&session(n), closed_at());
    }
    let delivery = publisher.finish(None).await;

    assert_eq!(put_events_requests(&server).await.len(), 2);
    assert_eq!((delivery.published, delivery.failed()), (2, 1));
}
