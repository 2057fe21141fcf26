//! The publishing task: it takes what is queued, at most [`MAX_ENTRIES`] at a time, puts it on
//! the bus, retries the entries EventBridge failed once, and counts what it published. It
//! stops at the budget's stop, and after a refusal of the whole call (a bus that does not
//! exist, a role without `events:PutEvents`): what it did not publish is counted by the
//! caller as failed, never retried into the next invocation.

use super::detail::LifecycleEvent;
use super::SOURCE;
use crate::budget::Budget;
use aws_sdk_eventbridge::config::http::HttpResponse;
use aws_sdk_eventbridge::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::UnboundedReceiver;
use tracing::{error, warn};

/// `PutEvents` takes at most this many entries per call.
pub const MAX_ENTRIES: usize = 10;

/// A throttled entry retried at once would meet the same throttle.
const RETRY_PAUSE: Duration = Duration::from_millis(100);

/// What the task is sent.
#[derive(Debug)]
pub(super) enum Message {
    /// An event to publish.
    Event(LifecycleEvent),
    /// Nothing more comes: publish what is queued and stop.
    Finish,
}

/// An entry EventBridge did not accept, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rejected {
    index: usize,
    code: String,
    message: String,
}

/// Why a whole `PutEvents` call failed.
enum CallFailure {
    /// EventBridge answered with an error: every later call would meet it too.
    Refused(String),
    /// No answer within the time left, or none at all.
    Lost(String),
}

/// Puts events on one bus for one invocation.
pub(super) struct Task {
    pub client: aws_sdk_eventbridge::Client,
    pub bus: String,
    pub budget: Budget,
    /// Events EventBridge accepted so far, read by the caller even if this task dies.
    pub published: Arc<AtomicUsize>,
}

impl Task {
    /// Publishes what `queue` brings until [`Message::Finish`], the budget's stop, or a
    /// refusal.
    pub async fn run(self, mut queue: UnboundedReceiver<Message>) {
        while let Some((batch, finish)) = next_batch(&mut queue).await {
            if !batch.is_empty() {
                if self.budget.exhausted() {
                    warn!(bus = %self.bus, "no time left to publish lifecycle events; the rest are counted in events_failed");
                    return;
                }
                match self.deliver(&batch).await {
                    Ok(()) => {}
                    Err(CallFailure::Refused(reason)) => {
                        error!(bus = %self.bus, error = %reason, "EventBridge refused the lifecycle events: check that EVENT_BUS_NAME names an event bus of this account and region and that the function's role may events:PutEvents on it with source session-sweeper; this invocation's events are counted in events_failed");
                        return;
                    }
                    Err(CallFailure::Lost(reason)) => {
                        warn!(bus = %self.bus, error = %reason, entries = batch.len(), "lifecycle events not published; counted in events_failed");
                    }
                }
            }
            if finish {
                return;
            }
        }
    }

    /// Puts `batch` (at most [`MAX_ENTRIES`]), retries once the entries EventBridge failed,
    /// and counts what it accepted.
    async fn deliver(&self, batch: &[LifecycleEvent]) -> Result<(), CallFailure> {
        let rejected = self.put(batch).await?;
        self.count(batch.len() - rejected.len());
        if rejected.is_empty() {
            return Ok(());
        }
        if !self.budget.allows(RETRY_PAUSE) {
            self.give_up(batch, &rejected);
            return Ok(());
        }
        tokio::time::sleep(RETRY_PAUSE).await;
        let again: Vec<LifecycleEvent> = rejected.iter().map(|r| batch[r.index].clone()).collect();
        match self.put(&again).await {
            Ok(still) => {
                self.count(again.len() - still.len());
                self.give_up(&again, &still);
                Ok(())
            }
            Err(CallFailure::Lost(reason)) => {
                warn!(bus = %self.bus, error = %reason, entries = again.len(), "lifecycle events not published on retry; counted in events_failed");
                Ok(())
            }
            Err(refused) => Err(refused),
        }
    }

    fn count(&self, published: usize) {
        self.published.fetch_add(published, Ordering::Relaxed);
    }

    /// Logs each entry that stays unpublished.
    fn give_up(&self, batch: &[LifecycleEvent], rejected: &[Rejected]) {
        for entry in rejected {
            let event = &batch[entry.index];
            warn!(
                bus = %self.bus,
                detail_type = event.detail_type,
                session_id = event.session_id.as_ref().map(tracing::field::display),
                configuration_id = event.configuration_id.as_ref().map(tracing::field::display),
                error_code = %entry.code,
                error = %entry.message,
                "lifecycle event not published; counted in events_failed"
            );
        }
    }

    /// One `PutEvents` call: the entries EventBridge rejected, by index in `batch`.
    async fn put(&self, batch: &[LifecycleEvent]) -> Result<Vec<Rejected>, CallFailure> {
        let entries = batch
            .iter()
            .map(|event| {
                PutEventsRequestEntry::builder()
                    .event_bus_name(&self.bus)
                    .source(SOURCE)
                    .detail_type(event.detail_type)
                    .detail(&event.detail)
                    .build()
            })
            .collect();
        let request = self.client.put_events().set_entries(Some(entries));
        let answer = match self.budget.aws_timeouts() {
            Some(timeouts) => {
                let bounded =
                    aws_sdk_eventbridge::config::Builder::default().timeout_config(timeouts);
                request.customize().config_override(bounded).send().await
            }
            None => request.send().await,
        };
        let output = answer.map_err(classify)?;
        let results = output.entries();
        Ok((0..batch.len())
            .filter_map(|index| match results.get(index) {
                Some(result) => result.error_code().map(|code| Rejected {
                    index,
                    code: code.to_owned(),
                    message: result.error_message().unwrap_or_default().to_owned(),
                }),
                // An answer without this entry's result did not confirm it.
                None => Some(Rejected {
                    index,
                    code: "NoResult".into(),
                    message: "EventBridge's answer has no result for this entry".into(),
                }),
            })
            .collect())
    }
}

/// The next batch: the first message waited for, then what is already queued, up to
/// [`MAX_ENTRIES`] events; and whether [`Message::Finish`] came. `None` once every sender is
/// gone and nothing is left.
async fn next_batch(queue: &mut UnboundedReceiver<Message>) -> Option<(Vec<LifecycleEvent>, bool)> {
    let mut batch = Vec::with_capacity(MAX_ENTRIES);
    let mut message = queue.recv().await?;
    loop {
        match message {
            Message::Event(event) => batch.push(event),
            Message::Finish => return Some((batch, true)),
        }
        if batch.len() == MAX_ENTRIES {
            return Some((batch, false));
        }
        match queue.try_recv() {
            Ok(next) => message = next,
            Err(_) => return Some((batch, false)),
        }
    }
}

fn classify<E>(error: SdkError<E, HttpResponse>) -> CallFailure
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let status = error.raw_response().map(|raw| raw.status().as_u16());
    match (&error, status) {
        // A 4xx other than throttling says the call itself is wrong here (no such bus, no
        // permission): the next one would be refused alike. A 5xx is EventBridge's own trouble.
        (SdkError::ServiceError(service), Some(400..=499))
            if service.err().code() != Some("ThrottlingException") =>
        {
            let service = service.err();
            CallFailure::Refused(format!(
                "{}: {}",
                service.code().unwrap_or("an error without a code"),
                service.message().unwrap_or_default()
            ))
        }
        (SdkError::TimeoutError(_), _) => CallFailure::Lost(
            "EventBridge did not answer before this invocation's time ran out".into(),
        ),
        _ => CallFailure::Lost(DisplayErrorContext(&error).to_string()),
    }
}
