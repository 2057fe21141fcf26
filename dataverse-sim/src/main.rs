//! The `dataverse-sim` binary: parses arguments, builds a dataset, starts [`Sim`], prints
//! `{"url":"http://127.0.0.1:PORT"}` on one line and serves until SIGTERM or Ctrl-C.
//! Everything else lives in the library.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use dataverse_sim::{Dataset, Faults, Limits, Sim, SimOptions};
use tokio::net::TcpListener;

const USAGE: &str =
    "usage: dataverse-sim [--port P] [--seed FILE | --demo | --sessions N --eligible-ratio R]
                     [--latency-ms MS] [--throttle-every K] [--throttle-request N] [--retry-after S]
                     [--unavailable-every K] [--drop-every K] [--lose-response-every K]
                     [--client-id ID] [--client-secret SECRET] [--max-page-size N]
                     [--operation-cost-ms MS] [--dataverse-limits] [--limit-window-ms MS]
                     [--max-requests N] [--max-execution-ms MS] [--max-concurrent N]
                     [--dop-hint N (0 omits the header)]
                     [--datetime-behavior SET.COLUMN=UserLocal|TimeZoneIndependent|DateOnly]";

/// Parsed command line.
struct Args {
    port: u16,
    data: DataSource,
    options: SimOptions,
    /// `(entity set, column, behavior)` the metadata reports for date and time columns.
    behaviors: Vec<(String, String, String)>,
}

enum DataSource {
    Empty,
    Seed(String),
    Demo,
    Generated { sessions: usize, ratio: f64 },
}

fn parse_number<T: std::str::FromStr>(flag: &str, value: Option<String>) -> Result<T, String> {
    let value = value.ok_or_else(|| format!("{flag} needs a value"))?;
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a valid number"))
}

fn parse_args(mut argv: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut port = 0u16;
    let mut data = DataSource::Empty;
    let mut sessions: Option<usize> = None;
    let mut ratio: Option<f64> = None;
    let mut options = SimOptions::default();
    let mut behaviors = Vec::new();
    while let Some(flag) = argv.next() {
        if fault_flag(&flag, &mut options.faults, &mut argv)?
            || limit_flag(&flag, &mut options.limits, &mut argv)?
        {
            continue;
        }
        match flag.as_str() {
            "--port" => port = parse_number(&flag, argv.next())?,
            "--seed" => {
                data = DataSource::Seed(argv.next().ok_or("--seed needs a file path")?);
            }
            "--demo" => data = DataSource::Demo,
            "--sessions" => sessions = Some(parse_number(&flag, argv.next())?),
            "--eligible-ratio" => ratio = Some(parse_number(&flag, argv.next())?),
            "--client-id" => options.client_id = argv.next().ok_or("--client-id needs a value")?,
            "--client-secret" => {
                options.client_secret = argv.next().ok_or("--client-secret needs a value")?;
            }
            "--max-page-size" => options.max_page_size = parse_number(&flag, argv.next())?,
            "--datetime-behavior" => behaviors.push(parse_behavior(argv.next())?),
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument '{other}'\n{USAGE}")),
        }
    }
    if sessions.is_some() || ratio.is_some() {
        if !matches!(data, DataSource::Empty) {
            return Err("--sessions cannot be combined with --seed or --demo".into());
        }
        data = DataSource::Generated {
            sessions: sessions.ok_or("--eligible-ratio needs --sessions")?,
            ratio: ratio.unwrap_or(0.2),
        };
    }
    Ok(Args {
        port,
        data,
        options,
        behaviors,
    })
}

/// `SET.COLUMN=BEHAVIOR`, e.g. `w4d_chatsessions.w4d_lastcustomermessageon=TimeZoneIndependent`.
fn parse_behavior(value: Option<String>) -> Result<(String, String, String), String> {
    let value = value.ok_or("--datetime-behavior needs SET.COLUMN=BEHAVIOR")?;
    let parsed = value.split_once('=').and_then(|(target, behavior)| {
        let (set, column) = target.split_once('.')?;
        matches!(behavior, "UserLocal" | "TimeZoneIndependent" | "DateOnly")
            .then(|| (set.to_string(), column.to_string(), behavior.to_string()))
    });
    parsed.ok_or_else(|| {
        format!("--datetime-behavior: '{value}' is not SET.COLUMN=UserLocal|TimeZoneIndependent|DateOnly")
    })
}

/// Applies a fault flag; false when `flag` is not one.
fn fault_flag(
    flag: &str,
    faults: &mut Faults,
    argv: &mut impl Iterator<Item = String>,
) -> Result<bool, String> {
    match flag {
        "--latency-ms" => faults.latency = Duration::from_millis(parse_number(flag, argv.next())?),
        "--throttle-every" => faults.throttle_every = Some(parse_number(flag, argv.next())?),
        "--throttle-request" => faults.throttle_request = Some(parse_number(flag, argv.next())?),
        "--retry-after" => faults.retry_after_secs = Some(parse_number(flag, argv.next())?),
        "--unavailable-every" => faults.unavailable_every = Some(parse_number(flag, argv.next())?),
        "--drop-every" => faults.drop_every = Some(parse_number(flag, argv.next())?),
        "--lose-response-every" => {
            faults.lose_response_every = Some(parse_number(flag, argv.next())?);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// Applies a limits flag; false when `flag` is not one. `--dataverse-limits` sets the
/// documented values, so flags after it override single limits.
fn limit_flag(
    flag: &str,
    limits: &mut Limits,
    argv: &mut impl Iterator<Item = String>,
) -> Result<bool, String> {
    let millis = |value: u64| Duration::from_millis(value);
    match flag {
        "--operation-cost-ms" => limits.operation_cost = millis(parse_number(flag, argv.next())?),
        "--dataverse-limits" => {
            *limits = Limits {
                operation_cost: limits.operation_cost,
                dop_hint: limits.dop_hint,
                ..Limits::dataverse()
            }
        }
        "--limit-window-ms" => limits.window = millis(parse_number(flag, argv.next())?),
        "--max-requests" => limits.max_requests = Some(parse_number(flag, argv.next())?),
        "--max-execution-ms" => {
            limits.max_execution_time = Some(millis(parse_number(flag, argv.next())?));
        }
        "--max-concurrent" => limits.max_concurrent = Some(parse_number(flag, argv.next())?),
        "--dop-hint" => {
            let hint: u64 = parse_number(flag, argv.next())?;
            limits.dop_hint = (hint > 0).then_some(hint);
        }
        _ => return Ok(false),
    }
    Ok(true)
}

fn load(source: &DataSource) -> Result<Dataset, String> {
    Ok(match source {
        DataSource::Empty => Dataset::whatsapp_empty(),
        DataSource::Demo => Dataset::demo(Utc::now()),
        DataSource::Generated { sessions, ratio } => {
            Dataset::generated(*sessions, *ratio, Utc::now())
        }
        DataSource::Seed(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read seed file '{path}': {e}"))?;
            Dataset::from_json(&text).map_err(|e| format!("{path}: {e}"))?
        }
    })
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = terminate.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(message) => {
            eprintln!("dataverse-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let data = match load(&args.data) {
        Ok(data) => args
            .behaviors
            .iter()
            .fold(data, |data, (set, column, behavior)| {
                data.with_datetime_behavior(set, column, behavior)
            }),
        Err(message) => {
            eprintln!("dataverse-sim: {message}");
            return ExitCode::from(2);
        }
    };
    let sim = match TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(listener) => Sim::start_on(listener, args.options, data).await,
        Err(e) => Err(e),
    };
    let sim = match sim {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!(
                "dataverse-sim: cannot listen on 127.0.0.1:{}: {e}",
                args.port
            );
            return ExitCode::FAILURE;
        }
    };
    let line = serde_json::json!({ "url": sim.url() });
    let mut stdout = std::io::stdout().lock();
    if writeln!(stdout, "{line}")
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(stdout);
    shutdown_signal().await;
    ExitCode::SUCCESS
}
