//! Lifecycle events: what the function tells EventBridge, so that a survey, an analytics table
//! or an agent's tool can react to a session it closed. Events are published only for changes
//! Dataverse confirmed (`Session Closed`, `Session Reopened`, `Session Warned`) and once at the
//! end of every sweep and reopen run (`Sweep Finished`), on the bus `EVENT_BUS_NAME` names,
//! under the source `session-sweeper`.
//!
//! Publishing never delays a close and never fails a sweep: an [`EventSink`] only queues, and
//! one background task per invocation ([`publish`]) puts what is queued on the bus, ten
//! entries a call, retrying once the entries EventBridge failed. What could not be published
//! by the budget's stop is counted (`events_failed`), never an error of the sweep.
//!
//! - `detail`: each event's detail-type and detail (pure).
//! - `publish`: the task that calls `PutEvents`.

mod detail;
mod publish;

pub use detail::{LifecycleEvent, SessionEventKind, SWEEP_FINISHED};
pub use publish::MAX_ENTRIES;

use crate::budget::Budget;
use crate::settings::EventSettings;
use crate::summary::{SessionReport, Summary, WarningReport};
use chrono::{DateTime, Utc};
use publish::{Message, Task};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::sync::mpsc::{self, UnboundedSender};
use tokio::task::JoinHandle;
use tracing::{error, info, warn};

/// The `source` of every event the function publishes.
pub const SOURCE: &str = "session-sweeper";

/// The bus the lifecycle events go to and the client that reaches it, built once.
#[derive(Debug, Clone)]
pub struct EventBus {
    client: aws_sdk_eventbridge::Client,
    settings: EventSettings,
}

impl EventBus {
    /// The bus `settings` names, reached through `client`.
    pub fn new(client: aws_sdk_eventbridge::Client, settings: EventSettings) -> Self {
        EventBus { client, settings }
    }

    /// Starts publishing for the invocation `request_id`, until `budget`'s stop. Needs a
    /// running Tokio runtime.
    pub fn start(&self, request_id: &str, budget: Budget) -> Publisher {
        let (queue, received) = mpsc::unbounded_channel();
        let counts = Counts::default();
        let task = Task {
            client: self.client.clone(),
            bus: self.settings.bus.clone(),
            budget,
            published: counts.published.clone(),
        };
        let sink = EventSink {
            to: Some(Arc::new(To {
                queue,
                request_id: request_id.to_owned(),
                emitted: counts.emitted.clone(),
            })),
        };
        Publisher {
            sink,
            task: tokio::spawn(task.run(received)),
            counts,
            bus: self.settings.bus.clone(),
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    /// Events handed to the sink.
    emitted: Arc<AtomicUsize>,
    /// Events EventBridge accepted.
    published: Arc<AtomicUsize>,
}

/// Where a sink's events go. The queue is unbounded so that queuing never waits; the closes
/// of one run (at most `MAX_CLOSURES_PER_SWEEP`, a few hundred bytes each) bound it, and the
/// task drains it while the sweep runs.
#[derive(Debug)]
struct To {
    queue: UnboundedSender<Message>,
    request_id: String,
    emitted: Arc<AtomicUsize>,
}

/// A cheap handle that queues lifecycle events for one invocation; with events off it drops
/// them. Queuing never waits, so a close is never held up by its event.
#[derive(Debug, Clone, Default)]
pub struct EventSink {
    to: Option<Arc<To>>,
}

impl EventSink {
    /// A sink that publishes nothing: lifecycle events are off.
    pub fn off() -> Self {
        EventSink { to: None }
    }

    /// `Session Closed` for `session`, whose close Dataverse confirmed; `closed_at` is the
    /// instant the close recorded (the sweep's `evaluated_at`).
    pub fn session_closed(&self, session: &SessionReport, closed_at: DateTime<Utc>) {
        self.session(SessionEventKind::Closed, session, closed_at);
    }

    /// `Session Reopened` for `session`, whose reopen Dataverse confirmed; its `eligible_at`
    /// is when the current timeout makes it eligible again.
    pub fn session_reopened(&self, session: &SessionReport, reopened_at: DateTime<Utc>) {
        self.session(SessionEventKind::Reopened, session, reopened_at);
    }

    /// `Session Warned` for `warning`, whose change set (the warned-at and its message)
    /// Dataverse confirmed; `warned_at` is the instant written. Its `overdue_seconds` is
    /// negative: how long before its eligibility the customer was warned.
    pub fn session_warned(&self, warning: &WarningReport, warned_at: DateTime<Utc>) {
        let session = SessionReport {
            id: warning.id.clone(),
            configuration_id: warning.configuration_id.clone(),
            last_customer_message_at: warning.last_customer_message_at,
            eligible_at: warning.eligible_at,
            overdue_seconds: (warned_at - warning.eligible_at).num_seconds(),
            no_active_configuration: false,
        };
        self.session(SessionEventKind::Warned, &session, warned_at);
    }

    fn session(&self, kind: SessionEventKind, session: &SessionReport, at: DateTime<Utc>) {
        if let Some(to) = &self.to {
            to.send(LifecycleEvent::session(kind, session, at, &to.request_id));
        }
    }

    fn sweep_finished(&self, summary: &Summary) {
        if let Some(to) = &self.to {
            to.send(LifecycleEvent::sweep_finished(summary, &to.request_id));
        }
    }

    fn finish(&self) {
        if let Some(to) = &self.to {
            // The task may have stopped already (deadline, refusal): then there is no one
            // left to tell.
            let _ = to.queue.send(Message::Finish);
        }
    }
}

impl To {
    fn send(&self, event: LifecycleEvent) {
        // Counted before it is sent, so an event the task never took counts as failed.
        self.emitted.fetch_add(1, Ordering::Relaxed);
        if self.queue.send(Message::Event(event)).is_err() {
            warn!("lifecycle event not queued: publishing has stopped; counted in events_failed");
        }
    }
}

/// One invocation's publishing: the sink that queues its events and the task that puts them
/// on the bus.
#[derive(Debug)]
pub struct Publisher {
    sink: EventSink,
    task: JoinHandle<()>,
    counts: Counts,
    bus: String,
}

/// How one invocation's publishing ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    /// Events queued.
    pub emitted: usize,
    /// Events EventBridge accepted.
    pub published: usize,
}

impl Delivery {
    /// Events queued that EventBridge did not accept by the end: rejected twice, refused,
    /// or left at the deadline.
    pub fn failed(&self) -> usize {
        self.emitted.saturating_sub(self.published)
    }
}

impl Publisher {
    /// The sink the sweep queues its events with.
    pub fn sink(&self) -> &EventSink {
        &self.sink
    }

    /// Queues `Sweep Finished` for `summary` (none when the run ended without one), waits for
    /// the task to publish what is queued (it stops at the budget's stop) and says how it went.
    pub async fn finish(self, summary: Option<&Summary>) -> Delivery {
        if let Some(summary) = summary {
            self.sink.sweep_finished(summary);
        }
        self.sink.finish();
        if let Err(failure) = self.task.await {
            error!(bus = %self.bus, error = %failure, "the lifecycle events task stopped unexpectedly; what it did not publish is counted in events_failed");
        }
        let delivery = Delivery {
            emitted: self.counts.emitted.load(Ordering::Relaxed),
            published: self.counts.published.load(Ordering::Relaxed),
        };
        let (published, failed) = (delivery.published, delivery.failed());
        if failed > 0 {
            warn!(bus = %self.bus, published, failed, "lifecycle events published, some not");
        } else {
            info!(bus = %self.bus, published, "lifecycle events published");
        }
        delivery
    }
}

#[cfg(test)]
mod tests;
