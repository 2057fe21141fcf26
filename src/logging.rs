//! Log lines as Lambda and CloudWatch Logs Insights read them: one JSON object per line with
//! `timestamp`, `level` and `message`, the event's fields at the top level, and the fields of
//! every span the event happens in. lambda_runtime runs each invocation inside a span that
//! holds `requestId`, so every line of one sweep carries that sweep's request id.
//!
//! The level comes from `RUST_LOG` (local runs), else from `AWS_LAMBDA_LOG_LEVEL` (the
//! template's `ApplicationLogLevel`, which Lambda passes in), else `info`. The Embedded Metric
//! Format line goes through here too, so it carries the request id and no filter drops it.

use crate::settings::setting;
use serde_json::{Map, Value};
use std::fmt;
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormattedFields};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The level when neither `RUST_LOG` nor `AWS_LAMBDA_LOG_LEVEL` says otherwise.
const DEFAULT_FILTER: &str = "info";
/// The target of the Embedded Metric Format event; always enabled, whatever the level.
const METRICS_TARGET: &str = "session_sweeper::metrics";
/// The field of the metrics event that holds the EMF object as JSON text.
const METRICS_FIELD: &str = "emf";

/// The filter directive: `RUST_LOG` wins, then `AWS_LAMBDA_LOG_LEVEL` (Lambda's names, where
/// FATAL is tracing's ERROR), then `info`. `lookup` reads a variable, so tests pass a map.
pub fn filter_directive(lookup: impl Fn(&str) -> Option<String>) -> String {
    let set = |name: &str| {
        lookup(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    if let Some(rust_log) = set("RUST_LOG") {
        return rust_log;
    }
    let lambda_level =
        set(setting::AWS_LAMBDA_LOG_LEVEL.name).map(|level| level.to_ascii_lowercase());
    match lambda_level.as_deref() {
        Some("fatal") => "error".to_owned(),
        Some(level @ ("trace" | "debug" | "info" | "warn" | "error")) => level.to_owned(),
        _ => DEFAULT_FILTER.to_owned(),
    }
}

/// Installs the JSON subscriber on standard output, filtered as [`filter_directive`] says.
pub fn init() {
    let directive = filter_directive(|name| std::env::var(name).ok());
    let with_metrics = |directive: &str| format!("{directive},{METRICS_TARGET}=info");
    let (filter, refused) = match EnvFilter::try_new(with_metrics(&directive)) {
        Ok(filter) => (filter, None),
        Err(_) => (
            EnvFilter::new(with_metrics(DEFAULT_FILTER)),
            Some(directive),
        ),
    };
    tracing_subscriber::fmt()
        .fmt_fields(JsonFields::new())
        .event_format(LambdaJson)
        .with_env_filter(filter)
        .init();
    if let Some(directive) = refused {
        tracing::warn!(
            filter = %directive,
            "RUST_LOG is not a valid log filter; logging at info"
        );
    }
}

/// Writes one Embedded Metric Format object as its own log line, with the request id.
pub fn emit_metrics(line: &Value) {
    tracing::info!(target: METRICS_TARGET, emf = %line);
}

/// The line format described in the module documentation.
pub struct LambdaJson;

impl<S> FormatEvent<S, JsonFields> for LambdaJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, JsonFields>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let mut fields = Map::new();
        event.record(&mut JsonVisitor(&mut fields));
        let mut line = match fields.remove(METRICS_FIELD) {
            Some(Value::String(emf)) if event.metadata().target() == METRICS_TARGET => {
                match serde_json::from_str::<Value>(&emf) {
                    Ok(Value::Object(emf)) => emf,
                    _ => return Err(fmt::Error),
                }
            }
            other => {
                let mut line = Map::new();
                line.insert(
                    "timestamp".into(),
                    chrono::Utc::now()
                        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
                        .into(),
                );
                line.insert("level".into(), event.metadata().level().as_str().into());
                if let Some(value) = other {
                    fields.insert(METRICS_FIELD.into(), value);
                }
                line
            }
        };
        // Root span first, so an inner span's field of the same name wins, and the event's
        // own fields win over all of them.
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(stored) = extensions.get::<FormattedFields<JsonFields>>() else {
                    continue;
                };
                if let Ok(Value::Object(span_fields)) = serde_json::from_str(stored.as_str()) {
                    line.extend(span_fields);
                }
            }
        }
        line.extend(fields);
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields as JSON values; `message` holds the formatted message.
struct JsonVisitor<'a>(&'a mut Map<String, Value>);

impl Visit for JsonVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = serde_json::Number::from_f64(value)
            .map_or_else(|| Value::String(value.to_string()), Value::Number);
        self.0.insert(field.name().into(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io;
    use std::sync::{Arc, Mutex};

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn the_level_comes_from_aws_lambda_log_level_when_rust_log_is_unset() {
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")])),
            "debug"
        );
    }

    #[test]
    fn rust_log_wins_over_aws_lambda_log_level() {
        let env = lookup(&[
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("RUST_LOG", "session_sweeper=trace"),
        ]);

        assert_eq!(filter_directive(env), "session_sweeper=trace");
    }

    #[test]
    fn lambdas_fatal_level_logs_errors() {
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "FATAL")])),
            "error"
        );
    }

    #[test]
    fn the_level_is_info_when_nothing_is_set_or_the_lambda_level_is_unknown() {
        assert_eq!(filter_directive(lookup(&[])), "info");
        assert_eq!(
            filter_directive(lookup(&[
                ("AWS_LAMBDA_LOG_LEVEL", "LOUD"),
                ("RUST_LOG", " ")
            ])),
            "info"
        );
    }

    /// A writer that keeps what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn lines_of(run: impl FnOnce()) -> Vec<Value> {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .fmt_fields(JsonFields::new())
            .event_format(LambdaJson)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, run);
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .collect()
    }

    #[test]
    fn a_line_inside_an_invocation_span_carries_its_request_id_and_its_own_fields() {
        let lines = lines_of(|| {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-1");
            let _entered = span.enter();
            tracing::info!(session_id = "s-1", overdue_s = 5, "session closed");
        });

        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["requestId"], "req-1");
        assert_eq!(lines[0]["message"], "session closed");
        assert_eq!(lines[0]["session_id"], "s-1");
        assert_eq!(lines[0]["overdue_s"], 5);
        assert_eq!(lines[0]["level"], "INFO");
        assert!(lines[0]["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn the_metrics_line_is_the_emf_object_itself_with_the_request_id() {
        let lines = lines_of(|| {
            let span = tracing::info_span!("Lambda runtime invoke", requestId = "req-2");
            let _entered = span.enter();
            emit_metrics(&serde_json::json!({"_aws": {"Timestamp": 1}, "SessionsClosed": 3}));
        });

        assert_eq!(lines.len(), 1);
        assert_eq!(lines[0]["_aws"]["Timestamp"], 1);
        assert_eq!(lines[0]["SessionsClosed"], 3);
        assert_eq!(lines[0]["requestId"], "req-2");
        assert!(lines[0].get(METRICS_FIELD).is_none());
    }
}
