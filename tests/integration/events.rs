//! Lifecycle events end to end: the real handler against dataverse-sim publishes to an event
//! bus in moto's EventBridge, whose rule sends every event of the source `session-sweeper` to
//! an SQS queue; the tests read the queue back with the real SQS client.

use crate::notify::{hourly, warned_at, warned_ids, MESSAGES, WARNED_AT};
use crate::support::*;
use chrono::{DateTime, Utc};
use dataverse_sim::{Faults, APPLICATION_USER_ID};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::{json, Value};
use session_sweeper::budget::Budget;
use session_sweeper::events::EventBus;
use session_sweeper::handler::{handle, HandlerError};
use session_sweeper::ids::Guid;
use session_sweeper::settings::EventSettings;
use session_sweeper::summary::{Summary, WarningReport};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A bus or queue name no other test uses.
fn unique(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{label}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new event bus whose one rule sends every event of the source `session-sweeper` to a
/// new queue: the bus's name and the queue's URL.
async fn bus_to_queue(label: &str) -> (String, String) {
    let (events, sqs) = (events_client(), sqs_client());
    let bus = unique(label);
    events
        .create_event_bus()
        .name(&bus)
        .send()
        .await
        .expect("create the bus");
    let queue = sqs
        .create_queue()
        .queue_name(unique(label))
        .send()
        .await
        .expect("create the queue");
    let queue_url = queue.queue_url().expect("a queue URL").to_owned();
    let attributes = sqs
        .get_queue_attributes()
        .queue_url(&queue_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .expect("the queue's attributes");
    let queue_arn = attributes
        .attributes()
        .and_then(|a| a.get(&aws_sdk_sqs::types::QueueAttributeName::QueueArn))
        .expect("the queue's ARN")
        .clone();
    events
        .put_rule()
        .name("lifecycle-to-queue")
        .event_bus_name(&bus)
        .event_pattern(json!({"source": ["session-sweeper"]}).to_string())
        .send()
        .await
        .expect("put the rule");
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id("queue")
        .arn(queue_arn)
        .build()
        .expect("a target");
    events
        .put_targets()
        .rule("lifecycle-to-queue")
        .event_bus_name(&bus)
        .targets(target)
        .send()
        .await
        .expect("put the target");
    (bus, queue_url)
}

/// Every event in the queue, in the order received.
async fn received(queue_url: &str) -> Vec<Value> {
    let mut events = Vec::new();
    loop {
        let answer = sqs_client()
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive from the queue");
        let messages = answer.messages();
        if messages.is_empty() {
            return events;
        }
        for message in messages {
            let body = message.body().expect("a message body");
            events.push(serde_json::from_str(body).expect("an event as JSON"));
            let handle = message.receipt_handle().expect("a receipt handle");
            sqs_client()
                .delete_message()
                .queue_url(queue_url)
                .receipt_handle(handle)
                .send()
                .await
                .expect("delete the message");
        }
    }
}

/// The events of `detail_type`.
fn of_type<'a>(events: &'a [Value], detail_type: &str) -> Vec<&'a Value> {
    events
        .iter()
        .filter(|event| event["detail-type"] == detail_type)
        .collect()
}

fn session_ids(events: &[&Value]) -> BTreeSet<String> {
    events
        .iter()
        .filter_map(|event| event["detail"]["session_id"].as_str().map(str::to_owned))
        .collect()
}

/// One invocation with `detail` under the Lambda request id `request_id`.
async fn invoke(
    harness: &Harness,
    detail: Value,
    request_id: &str,
) -> Result<Summary, HandlerError> {
    let mut context = Context::default();
    context.invoked_function_arn = FUNCTION_ARN.into();
    context.request_id = request_id.into();
    handle(
        &harness.app,
        LambdaEvent::new(scheduled_event(detail), context),
    )
    .await
    .map(sweep_summary)
}

fn utc(at: DateTime<Utc>) -> String {
    stamp(at)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_the_closes_dataverse_confirmed_and_one_sweep_finished_arrive_in_the_queue() {
    let (bus, queue) = bus_to_queue("confirmed").await;
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![
            session(1, Some(SUPPORT), Some(hours(2)), hours(3)),
            session(2, Some(SUPPORT), Some(hours(2)), hours(3)),
            session(3, Some(SUPPORT), Some(minutes(10)), hours(3)),
            session(4, Some(SUPPORT), Some(hours(30)), hours(31)),
        ],
    ))
    .env("EVENT_BUS_NAME", bus.as_str())
    .start()
    .await;
    // Session 2's customer writes between the read and the close: Dataverse answers 412.
    harness.sim.set_faults(Faults {
        touch_after_read: vec![sid(2)],
        touch_column: Some("w4d_lastcustomermessageon".into()),
        ..Faults::default()
    });

    let summary = invoke(&harness, json!({}), "request-confirmed")
        .await
        .unwrap();

    let events = received(&queue).await;
    let closed = of_type(&events, "Session Closed");
    assert_eq!(harness.closed_ids(), [sid(1), sid(4)].into());
    assert_eq!(session_ids(&closed), harness.closed_ids());
    assert_eq!(closed.len(), 2, "one event per close: {events:?}");
    for event in &closed {
        let detail = &event["detail"];
        let report = summary
            .closed_sessions()
            .iter()
            .find(|s| s.id.as_str() == detail["session_id"])
            .expect("a closed session");
        assert_eq!(event["source"], "session-sweeper");
        assert_eq!(detail["configuration_id"], SUPPORT);
        assert_eq!(detail["closed_at"], utc(summary.evaluated_at()));
        assert_eq!(detail["eligible_at"], utc(report.eligible_at));
        assert_eq!(detail["overdue_seconds"], report.overdue_seconds);
        assert_eq!(detail["request_id"], "request-confirmed");
    }
    // Two hours after the customer's message is inside WhatsApp's window; thirty is not.
    let window = |n: u32| {
        closed
            .iter()
            .find(|event| event["detail"]["session_id"] == sid(n))
            .map(|event| event["detail"]["within_customer_service_window"].clone())
    };
    assert_eq!(
        (window(1), window(4)),
        (Some(json!(true)), Some(json!(false)))
    );
    let finished = of_type(&events, "Sweep Finished");
    assert_eq!(finished.len(), 1, "{events:?}");
    let detail = &finished[0]["detail"];
    assert_eq!(
        (
            &detail["closed"],
            &detail["skipped_count"],
            &detail["dry_run"]
        ),
        (&json!(2), &json!(1), &json!(false))
    );
    assert_eq!(detail["request_id"], "request-confirmed");
    assert!(detail.get("closed_sessions").is_none());
    assert_eq!(events.len(), 3, "{events:?}");
    assert_eq!(summary.events_failed(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_warning_the_event_delivers_is_the_warned_at_alone_and_one_session_warned_per_confirmed_warning(
) {
    let (bus, queue) = bus_to_queue("warned-sweep").await;
    let harness = Setup::new(hourly(vec![
        session(1, Some(SUPPORT), Some(minutes(50)), hours(2)),
        session(2, Some(SUPPORT), Some(minutes(50)), hours(2)),
    ]))
    .env("WARNING_LEAD", "15 minutes")
    .env("SESSION_WARNED_AT_COLUMN", WARNED_AT)
    .env("EVENT_BUS_NAME", bus.as_str())
    .start()
    .await;
    // Session 2's customer writes between the read and the warning: Dataverse answers 412.
    harness.sim.set_faults(Faults {
        touch_after_read: vec![sid(2)],
        touch_column: Some("w4d_lastcustomermessageon".into()),
        ..Faults::default()
    });

    let summary = invoke(&harness, json!({}), "request-warned").await.unwrap();

    let events = received(&queue).await;
    let warned = of_type(&events, "Session Warned");
    assert_eq!(warned_ids(&summary), [sid(1)]);
    assert!(warned_at(&harness, 1).is_some());
    assert!(warned_at(&harness, 2).is_none());
    assert!(harness.sim.rows(MESSAGES).is_empty());
    assert_eq!(harness.sim.stats().creates, 0);
    assert_eq!(warned.len(), 1, "{events:?}");
    let detail = &warned[0]["detail"];
    assert_eq!(detail["session_id"], sid(1));
    assert_eq!(detail["warned_at"], utc(summary.evaluated_at()));
    let report = &summary.warned().expect("warnings on")[0];
    assert_eq!(detail["eligible_at"], utc(report.eligible_at));
    // Negative for a warning: how long before its eligibility the customer was told.
    assert_eq!(
        detail["overdue_seconds"],
        (summary.evaluated_at() - report.eligible_at).num_seconds()
    );
    assert!(detail["overdue_seconds"].as_i64() < Some(0));
    assert_eq!(detail["within_customer_service_window"], true);
    assert_eq!(detail["request_id"], "request-warned");
    assert!(of_type(&events, "Session Closed").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_publishes_only_sweep_finished_marked_as_a_dry_run() {
    let (bus, queue) = bus_to_queue("dry").await;
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![session(1, Some(SUPPORT), Some(hours(2)), hours(3))],
    ))
    .env("EVENT_BUS_NAME", bus.as_str())
    .start()
    .await;

    let summary = invoke(&harness, json!({"dry_run": true}), "request-dry")
        .await
        .unwrap();

    let events = received(&queue).await;
    assert_eq!(summary.would_close(), Some(1));
    assert!(harness.closed_ids().is_empty());
    assert_eq!(of_type(&events, "Session Closed").len(), 0, "{events:?}");
    let finished = of_type(&events, "Sweep Finished");
    assert_eq!(finished.len(), 1, "{events:?}");
    assert_eq!(finished[0]["detail"]["dry_run"], true);
    assert_eq!(finished[0]["detail"]["would_close"], 1);
}

#[tokio::test(flavor = "current_thread")]
async fn a_bus_that_does_not_exist_counts_every_event_as_failed_and_the_sweep_still_closes() {
    let logs = LogCapture::start();
    let harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![
            session(1, Some(SUPPORT), Some(hours(2)), hours(3)),
            session(2, Some(SUPPORT), Some(hours(2)), hours(3)),
        ],
    ))
    .env("EVENT_BUS_NAME", unique("no-such-bus"))
    .start()
    .await;

    let summary = invoke(&harness, json!({}), "request-no-bus").await.unwrap();

    assert_eq!(harness.closed_ids(), [sid(1), sid(2)].into());
    assert_eq!(summary.closed(), 2);
    // Two closes and the Sweep Finished.
    assert_eq!(summary.events_failed(), Some(3));
    assert_eq!(serde_json::to_value(&summary).unwrap()["events_failed"], 3);
    assert_eq!(summary.metrics_line()["EventsFailed"], 3);
    let text = logs.text();
    assert!(
        text.contains("EventBridge refused the lifecycle events")
            && text.contains("ResourceNotFoundException")
            && text.contains("EVENT_BUS_NAME"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reopen_run_publishes_session_reopened_for_what_it_reopened() {
    let (bus, queue) = bus_to_queue("reopen").await;
    let mut row = session(1, Some(SUPPORT), Some(hours(3)), hours(4));
    row["statecode"] = json!(1);
    row["statuscode"] = json!(2);
    row["modifiedon"] = json!(stamp(Utc::now() - hours(1)));
    row["_modifiedby_value"] = json!(APPLICATION_USER_ID);
    let harness = Setup::new(org(vec![configuration(SUPPORT, json!(1440))], vec![row]))
        .env("EVENT_BUS_NAME", bus.as_str())
        .start()
        .await;

    let since = stamp(Utc::now() - hours(2));
    let summary = invoke(
        &harness,
        json!({"reopen_closed_since": since}),
        "request-undo",
    )
    .await
    .unwrap();

    let events = received(&queue).await;
    assert_eq!(summary.reopened(), Some(1));
    let reopened = of_type(&events, "Session Reopened");
    assert_eq!(session_ids(&reopened), [sid(1)].into());
    assert_eq!(
        reopened[0]["detail"]["reopened_at"],
        utc(summary.evaluated_at())
    );
    let finished = of_type(&events, "Sweep Finished");
    assert_eq!(finished.len(), 1, "{events:?}");
    assert_eq!(finished[0]["detail"]["reopened"], 1);
    assert_eq!(finished[0]["detail"]["reopen_closed_since"], since);
    assert_eq!(of_type(&events, "Session Closed").len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_event_bus_the_summary_counts_no_events() {
    let harness = Harness::start(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![session(1, Some(SUPPORT), Some(hours(2)), hours(3))],
    ))
    .await;

    let summary = harness.sweep().await.unwrap();

    assert_eq!(summary.closed(), 1);
    assert_eq!(summary.events_failed(), None);
    assert!(serde_json::to_value(&summary)
        .unwrap()
        .get("events_failed")
        .is_none());
    assert!(summary.metrics_line().get("EventsFailed").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirmed_warning_told_to_the_sink_arrives_as_session_warned() {
    let (bus, queue) = bus_to_queue("warned").await;
    let publisher = EventBus::new(events_client(), EventSettings { bus })
        .start("request-warn", Budget::unlimited());
    let warned_at = Utc::now();
    let warning = WarningReport {
        id: Guid::parse(&sid(7)).unwrap(),
        configuration_id: Guid::parse(SUPPORT).unwrap(),
        last_customer_message_at: Some(warned_at - hours(23)),
        eligible_at: warned_at + minutes(55),
    };

    publisher.sink().session_warned(&warning, warned_at);
    let delivery = publisher.finish(None).await;

    let events = received(&queue).await;
    assert_eq!(delivery.failed(), 0);
    let warned = of_type(&events, "Session Warned");
    assert_eq!(warned.len(), 1, "{events:?}");
    let detail = &warned[0]["detail"];
    assert_eq!(detail["session_id"], sid(7));
    assert_eq!(detail["warned_at"], utc(warned_at));
    assert_eq!(detail["eligible_at"], utc(warning.eligible_at));
    assert_eq!(detail["within_customer_service_window"], true);
    assert_eq!(detail["overdue_seconds"], -55 * 60);
    assert_eq!(detail["request_id"], "request-warn");
}

/// An EventBridge client whose endpoint accepts connections and never answers.
fn stalled_events_client() -> aws_sdk_eventbridge::Client {
    use aws_sdk_eventbridge::config::{BehaviorVersion, Credentials, Region};
    let config = aws_sdk_eventbridge::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(stalled_endpoint())
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .build();
    aws_sdk_eventbridge::Client::from_conf(config)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_eventbridge_that_never_answers_delays_no_close_and_the_run_ends_before_its_deadline() {
    const DEADLINE_MS: i64 = 4_000;
    let mut harness = Setup::new(org(
        vec![configuration(SUPPORT, json!(60))],
        vec![
            session(1, Some(SUPPORT), Some(hours(2)), hours(3)),
            session(2, Some(SUPPORT), Some(hours(2)), hours(3)),
        ],
    ))
    .env("EVENT_BUS_NAME", "stalled-bus")
    .start()
    .await;
    harness.app = harness.app.with_events(stalled_events_client());
    let started = Instant::now();

    let outcome = tokio::time::timeout(
        Duration::from_secs(15),
        harness.sweep_with_deadline(DEADLINE_MS),
    )
    .await;

    let elapsed = started.elapsed();
    let summary = outcome
        .expect("the invocation returns instead of waiting on EventBridge")
        .expect("the sweep itself succeeds");
    assert!(
        elapsed < Duration::from_millis(DEADLINE_MS as u64),
        "{elapsed:?}"
    );
    assert_eq!(harness.closed_ids(), [sid(1), sid(2)].into());
    assert!(summary.complete(), "{:?}", summary.incomplete_because());
    // The sweep itself (measured before the events are awaited) ends long before the stop,
    // 3 s in, where the stalled PutEvents call gives up.
    assert!(summary.duration_ms() < 2_000, "{}", summary.duration_ms());
    assert_eq!(summary.events_failed(), Some(3));
}
