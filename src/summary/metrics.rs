//! The summary as one CloudWatch Embedded Metric Format line, so dashboards and alarms need
//! no code.

use super::{Summary, METRICS_NAMESPACE};
use serde_json::json;

impl Summary {
    /// The summary as a CloudWatch Embedded Metric Format object (one log line).
    pub fn metrics_line(&self) -> serde_json::Value {
        json!({
            "_aws": {
                "Timestamp": self.evaluated_at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": METRICS_NAMESPACE,
                    "Dimensions": [["Service"]],
                    "Metrics": [
                        {"Name": "SessionsClosed", "Unit": "Count"},
                        {"Name": "SessionsEligible", "Unit": "Count"},
                        {"Name": "SessionsFailed", "Unit": "Count"},
                        {"Name": "SessionsDeferred", "Unit": "Count"},
                        {"Name": "SessionsOutcomeUnknown", "Unit": "Count"},
                        {"Name": "SessionsUnreadable", "Unit": "Count"},
                        {"Name": "SessionsAwaitingAgent", "Unit": "Count"},
                        {"Name": "SessionsReopened", "Unit": "Count"},
                        {"Name": "MaxOverdueSeconds", "Unit": "Seconds"},
                        {"Name": "SweepDurationMs", "Unit": "Milliseconds"},
                        {"Name": "SweepIncomplete", "Unit": "Count"},
                    ],
                }],
            },
            "Service": "session-sweeper",
            "SessionsClosed": self.closed,
            "SessionsEligible": self.eligible,
            "SessionsFailed": self.failed_count,
            "SessionsDeferred": self.deferred,
            "SessionsOutcomeUnknown": self.outcome_unknown,
            "SessionsUnreadable": self.unreadable,
            "SessionsAwaitingAgent": self.awaiting_agent,
            "SessionsReopened": self.reopened.unwrap_or(0),
            "MaxOverdueSeconds": self.max_overdue_seconds,
            "SweepDurationMs": self.duration_ms,
            // 1 when the sweep stopped early: an alarm watches for sweeps that keep stopping.
            "SweepIncomplete": u8::from(!self.complete),
            "DryRun": self.dry_run,
            "Complete": self.complete,
        })
    }
}
