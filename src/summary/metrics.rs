//! The summary as one CloudWatch Embedded Metric Format line, so dashboards and alarms need
//! no code.

use super::{Summary, METRICS_NAMESPACE};
use serde_json::json;

impl Summary {
    /// The summary as a CloudWatch Embedded Metric Format object (one log line).
    pub fn metrics_line(&self) -> serde_json::Value {
        let mut metrics = vec![
            json!({"Name": "SessionsClosed", "Unit": "Count"}),
            json!({"Name": "SessionsEligible", "Unit": "Count"}),
            json!({"Name": "SessionsFailed", "Unit": "Count"}),
            json!({"Name": "SessionsDeferred", "Unit": "Count"}),
            json!({"Name": "SessionsOutcomeUnknown", "Unit": "Count"}),
            json!({"Name": "SessionsUnreadable", "Unit": "Count"}),
            json!({"Name": "SessionsAwaitingAgent", "Unit": "Count"}),
            json!({"Name": "SessionsReopened", "Unit": "Count"}),
            json!({"Name": "SessionsWarned", "Unit": "Count"}),
            json!({"Name": "MaxOverdueSeconds", "Unit": "Seconds"}),
            json!({"Name": "SweepDurationMs", "Unit": "Milliseconds"}),
            json!({"Name": "SweepIncomplete", "Unit": "Count"}),
            json!({"Name": "WakeScheduleFailures", "Unit": "Count"}),
        ];
        let mut line = json!({
            "Service": "session-sweeper",
            "SessionsClosed": self.closed(),
            "SessionsEligible": self.eligible,
            "SessionsFailed": self.failed.total(),
            "SessionsDeferred": self.deferred,
            "SessionsOutcomeUnknown": self.outcome_unknown.total(),
            "SessionsUnreadable": self.unreadable.total(),
            "SessionsAwaitingAgent": self.awaiting_agent,
            "SessionsReopened": self.reopened().unwrap_or(0),
            "SessionsWarned": self.warned().map_or(0, |warned| warned.total()),
            "MaxOverdueSeconds": self.max_overdue_seconds,
            "SweepDurationMs": self.duration_ms,
            // 1 when the sweep stopped early: an alarm watches for sweeps that keep stopping.
            "SweepIncomplete": u8::from(!self.complete),
            "WakeScheduleFailures": u8::from(self.wake_error.is_some()),
            "DryRun": self.dry_run,
            "Complete": self.complete,
        });
        // Only with lifecycle events on is there a count of those not published.
        if let Some(failed) = self.events_failed {
            metrics.push(json!({"Name": "EventsFailed", "Unit": "Count"}));
            line["EventsFailed"] = json!(failed);
        }
        // Only a sweep that set a wake-up has a value; a missing value is no data point.
        if let Some(at) = self.next_wake_at {
            metrics.push(json!({"Name": "NextWakeSeconds", "Unit": "Seconds"}));
            line["NextWakeSeconds"] = json!((at - self.evaluated_at).num_seconds());
        }
        line["_aws"] = json!({
            "Timestamp": self.evaluated_at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": METRICS_NAMESPACE,
                "Dimensions": [["Service"]],
                "Metrics": metrics,
            }],
        });
        line
    }

    /// The metrics line for a wake-up whose write failed after the summary's own line was
    /// logged: `WakeScheduleFailures` 1, alone, so a sum over time counts each failure once.
    pub fn wake_failure_metrics_line(&self) -> serde_json::Value {
        json!({
            "Service": "session-sweeper",
            "WakeScheduleFailures": 1,
            "_aws": {
                "Timestamp": self.evaluated_at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["Service"]],
                    "Metrics": [{"Name": "WakeScheduleFailures", "Unit": "Count"}],
                }],
            },
        })
    }
}
