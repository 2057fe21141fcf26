#!/usr/bin/env python3
"""One local sweep, wired the way AWS wires it, with nothing in AWS.

    dataverse-sim (Dataverse + Entra ID)   moto (Secrets Manager, EventBridge Scheduler,
                                                 EventBridge and SQS)
                 ^                              ^
                 |                              |
    target/debug/session-sweeper  <-- cargo lambda's Runtime API emulator <-- invoke(event)

Steps: start dataverse-sim, start moto and store the Dataverse secret in it, start the Runtime
API emulator, start the built function against it, invoke it with the event file, print the
summary, the sessions before and after, and the wake-up schedule the function wrote to moto
(the wake-up is on, as deployed by default; --env WAKE_SCHEDULE_NAME= turns it off), and the
lifecycle events a local bus's rule sent to a local queue (--env EVENT_BUS_NAME= turns them
off). Every
process started here is stopped on the way out, also on an error or Ctrl-C. Exits non-zero when
the invocation fails, and with --check-demo (make demo) also when the sweep did not close
exactly the sessions that the demo org's names mark "close", or the queue did not receive one
Session Closed for each of them and one Sweep Finished.

Used by `make demo` and `make invoke EVENT=...`; needs only the standard library and boto3
(installed in .venv with moto). The processes, dataverse-sim and the secret in moto are set up
with scripts/localstack.py, shared with scripts/bench.py; the deadline proxy is
scripts/deadline_proxy.py, shared with the emulator tests; the cargo lambda wiring is this
script's own.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import demo_notify
import localstack
from deadline_proxy import DeadlineProxy
from localstack import ANSI, ROOT, VENV_BIN, Processes, StepError

SECRET_ID = "session-sweeper/dataverse"
# The wake-up as the template sets it with CloseOnTime=true, written to moto's scheduler.
WAKE_SCHEDULE = "session-sweeper-local-wake"
WAKE_ROLE_ARN = "arn:aws:iam::123456789012:role/session-sweeper-local-wake"
# The lifecycle events go to this bus in moto; its one rule sends all of them to the queue.
EVENT_BUS = "session-sweeper-local-events"
EVENT_QUEUE = "session-sweeper-local-events"
# The emulator's default function name; with --only-lambda-apis every invoke goes to it.
FUNCTION_NAME = "_"
STARTUP_SECONDS = 30
TAIL_LINES = 30
INVOKE_SECONDS = 900
# Each demo session's name ends with what a correct sweep does with it: "(…: close)" or "(…: keep)".
DEMO_NAME_COLUMN = "w4d_name"
DEMO_CLOSE_MARK = ": close)"
# The function Timeout in template.yaml; the deadline the function sees is this far away.
FUNCTION_TIMEOUT_SECONDS = 300
ENV_LINE = re.compile(r"\b(AWS_LAMBDA_[A-Z_]+)=(\S+)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def http_answers(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True  # any HTTP answer means the server is up
    except (urllib.error.URLError, OSError):
        return False


def require_file(path: Path, remedy: str) -> None:
    if not path.is_file():
        raise StepError(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path} not found: {remedy}")


# ---------------------------------------------------------------- the steps


def start_sim(processes: Processes, sim: Path, demo: bool, extra: list[str]) -> str:
    _process, url = localstack.start_sim(processes, sim, (["--demo"] if demo else []) + extra)
    return url


def start_moto(processes: Processes) -> str:
    moto = VENV_BIN / "moto_server"
    port = free_port()
    process, log = processes.start("moto", [str(moto), "-H", "127.0.0.1", "-p", str(port)])
    url = f"http://127.0.0.1:{port}"
    processes.wait_for("moto_server", lambda: http_answers(url + "/moto-api/"), process, log)
    return url


def start_emulator(processes: Processes) -> tuple[int, dict[str, str]]:
    """Starts cargo lambda's Runtime API without building anything; returns its port and the
    variables it says a function needs (AWS_LAMBDA_RUNTIME_API and friends)."""
    port = free_port()
    argv = [
        str(VENV_BIN / "cargo-lambda"),
        "lambda",
        "watch",
        "--only-lambda-apis",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        str(port),
    ]
    process, log = processes.start("runtime-emulator", argv, env={**os.environ, "NO_COLOR": "1"})
    processes.wait_for("cargo lambda watch", lambda: port_open(port), process, log)
    variables = dict(ENV_LINE.findall(ANSI.sub("", log.read_text(errors="replace"))))
    variables.setdefault("AWS_LAMBDA_RUNTIME_API", f"http://127.0.0.1:{port}/.rt")
    variables.setdefault("AWS_LAMBDA_FUNCTION_NAME", FUNCTION_NAME)
    variables.setdefault("AWS_LAMBDA_FUNCTION_VERSION", "1")
    return port, variables


def function_environment(runtime: dict[str, str], moto_url: str, overrides: dict[str, str]) -> dict[str, str]:
    env = localstack.function_environment(runtime, moto_url, SECRET_ID, rust_log="info")
    # What the template deploys, so the local run behaves like the deployed one.
    env["AWS_LAMBDA_LOG_GROUP_NAME"] = "/aws/lambda/session-sweeper-local"
    env["AWS_LAMBDA_LOG_STREAM_NAME"] = "local"
    env["WAKE_SCHEDULE_NAME"] = WAKE_SCHEDULE
    env["WAKE_ROLE_ARN"] = WAKE_ROLE_ARN
    env["EVENT_BUS_NAME"] = EVENT_BUS
    env.update(overrides)
    return env


def invoke(port: int, event: Path, function: subprocess.Popen, function_log: Path, processes: Processes) -> dict:
    argv = [
        str(VENV_BIN / "cargo-lambda"),
        "lambda",
        "invoke",
        "--invoke-address",
        "127.0.0.1",
        "--invoke-port",
        str(port),
        "--data-file",
        str(event),
        "--output-format",
        "json",
        FUNCTION_NAME,
    ]
    # Files, not pipes: a summary listing thousands of closed sessions would fill a pipe.
    answer, problems = processes.log_dir / "invoke.out", processes.log_dir / "invoke.err"
    with open(answer, "wb") as out, open(problems, "wb") as err:
        caller = subprocess.Popen(
            argv, cwd=ROOT, env={**os.environ, "NO_COLOR": "1"}, stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
    # Poll rather than wait: a function that dies mid-invocation never answers, and the
    # emulator would keep the caller waiting.
    deadline = time.monotonic() + INVOKE_SECONDS
    try:
        while caller.poll() is None:
            if function.poll() is not None:
                raise StepError(
                    f"the function exited with code {function.returncode} during the invocation:\n{processes.tail(function_log)}"
                )
            if time.monotonic() > deadline:
                raise StepError(f"the invocation did not answer within {INVOKE_SECONDS} s:\n{processes.tail(function_log)}")
            time.sleep(0.1)
    finally:
        if caller.poll() is None:
            caller.kill()
            caller.wait()
    stdout = answer.read_text(errors="replace")
    if caller.returncode != 0:
        text = ANSI.sub("", stdout + problems.read_text(errors="replace"))
        # cargo lambda appends an invitation to report its own bugs; this error is the function's.
        message = "\n    ".join(
            line
            for line in text.strip().splitlines()
            if line.strip() and "behavior unexpected" not in line and "Start a thread in" not in line
        )
        raise StepError(f"the invocation failed:\n    {message}\n  function log:\n{processes.tail(function_log)}")
    try:
        return json.loads(stdout)
    except ValueError as error:
        raise StepError(f"the function answered something other than JSON:\n    {stdout.strip()[:2000]}") from error


def check_demo(
    before: list[dict] | None, after: list[dict] | None, summary: dict, env: dict[str, str], sim_url: str
) -> None:
    """The sweep closed exactly the demo org's sessions whose names say "close", reported each
    one, and touched no other, and created exactly the warnings and closing messages the
    sample data calls for: the expectation comes from the sample data, not from a count."""
    if before is None or after is None:
        raise StepError("--check-demo: the simulator's admin endpoint did not list the sessions")
    id_column = env.get("SESSION_ID_COLUMN", "w4d_chatsessionid")

    def active(row: dict) -> bool:
        return row.get("statecode") == 0

    expected = {
        row[id_column] for row in before if active(row) and DEMO_CLOSE_MARK in str(row.get(DEMO_NAME_COLUMN, ""))
    }
    still_active = {row[id_column] for row in after if active(row)}
    became_closed = {row[id_column] for row in before if active(row)} - still_active
    reported = {session["id"] for session in summary.get("closed_sessions", [])}
    problems = []
    if not expected:
        problems.append(f"no active demo session is named '…{DEMO_CLOSE_MARK}': is this the demo org?")
    if became_closed != expected:
        problems.append(
            f"closed in Dataverse: {len(became_closed)}, expected {len(expected)}; "
            f"not closed: {sorted(expected - became_closed)}; closed wrongly: {sorted(became_closed - expected)}"
        )
    if reported != expected or summary.get("closed") != len(expected):
        problems.append(
            f"the summary reports closed={summary.get('closed')} and these ids: {sorted(reported)}; expected {sorted(expected)}"
        )
    if summary.get("failed") or summary.get("complete") is not True:
        problems.append(f"the sweep reported failed={summary.get('failed')} complete={summary.get('complete')}")
    if problems:
        raise StepError("the demo sweep did not do what the sample org expects:\n    " + "\n    ".join(problems))
    print(f"\ncheck: exactly the {len(expected)} sessions the sample org marks 'close' were closed and reported")
    if env.get("WARNING_LEAD") == demo_notify.ENVIRONMENT["WARNING_LEAD"]:
        configurations = sessions(sim_url, env.get("CONFIGURATION_TABLE", "w4d_whatsappconfigurations"))
        messages = sessions(sim_url, demo_notify.MESSAGE_TABLE)
        if configurations is None or messages is None:
            raise StepError("--check-demo: the simulator's admin endpoint did not list the configurations and messages")
        print(demo_notify.check(before, configurations, messages, became_closed, summary))


def moto_client(service: str, moto_url: str):
    import boto3  # installed with moto

    return boto3.client(
        service,
        endpoint_url=moto_url,
        region_name=localstack.REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def event_queue(moto_url: str) -> str:
    """The local bus and the queue its one rule sends every session-sweeper event to, as the
    operating docs' rule does for Session Closed; the queue's URL."""
    events, sqs = moto_client("events", moto_url), moto_client("sqs", moto_url)
    events.create_event_bus(Name=EVENT_BUS)
    queue_url = sqs.create_queue(QueueName=EVENT_QUEUE)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="to-queue", EventBusName=EVENT_BUS, EventPattern=json.dumps({"source": ["session-sweeper"]}))
    events.put_targets(Rule="to-queue", EventBusName=EVENT_BUS, Targets=[{"Id": "queue", "Arn": arn}])
    return queue_url


def received_events(moto_url: str, queue_url: str) -> list[dict]:
    sqs = moto_client("sqs", moto_url)
    events = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return events
        for message in messages:
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def check_events(events: list[dict], summary: dict) -> None:
    """One Session Closed per close and one Session Warned per warning the summary reports,
    and one Sweep Finished."""

    def told(detail_type: str) -> list[str]:
        return sorted(e["detail"]["session_id"] for e in events if e["detail-type"] == detail_type)

    closed, warned = told("Session Closed"), told("Session Warned")
    reported_closed = sorted(session["id"] for session in summary.get("closed_sessions", []))
    reported_warned = sorted(session["id"] for session in summary.get("warned_sessions", []))
    finished = [e for e in events if e["detail-type"] == "Sweep Finished"]
    if (
        closed != reported_closed
        or warned != reported_warned
        or len(finished) != 1
        or summary.get("events_failed") != 0
    ):
        raise StepError(
            f"the demo sweep's events are not its changes: Session Closed for {closed}, closed {reported_closed}, "
            f"Session Warned for {warned}, warned {reported_warned}, "
            f"{len(finished)} Sweep Finished, events_failed {summary.get('events_failed')}"
        )
    print(
        f"check: the queue received one Session Closed for each of the {len(closed)} closes, "
        f"one Session Warned for each of the {len(warned)} warnings, and one Sweep Finished"
    )


# ---------------------------------------------------------------- reporting


def sessions(sim_url: str, table: str) -> list[dict] | None:
    """The session rows from the simulator's admin endpoint, or None if it cannot say."""
    try:
        with urllib.request.urlopen(f"{sim_url}/_sim/tables/{table}", timeout=5) as answer:
            body = json.load(answer)
    except (urllib.error.URLError, OSError, ValueError):
        return None
    rows = body.get("value", body.get("rows")) if isinstance(body, dict) else body
    return rows if isinstance(rows, list) else None


def short(value: object, width: int) -> str:
    text = "" if value is None else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def print_sessions(before: list[dict] | None, after: list[dict] | None, env: dict[str, str], limit: int) -> None:
    if before is None or after is None:
        print("\n(sessions table not shown: the simulator's admin endpoint did not answer)")
        return
    id_column = env.get("SESSION_ID_COLUMN", "w4d_chatsessionid")
    last_column = env.get("SESSION_LAST_CUSTOMER_MESSAGE_COLUMN", "w4d_lastcustomermessageon")
    lookup = env.get("SESSION_CONFIGURATION_LOOKUP", "_w4d_configurationid_value")
    lookup_column = lookup[1:-6] if lookup.startswith("_") and lookup.endswith("_value") else lookup
    after_by_id = {row.get(id_column): row for row in after}

    def state(row: dict | None) -> str:
        if row is None:
            return "gone"
        return "active" if row.get("statecode") == 0 else f"closed ({row.get('statecode')}/{row.get('statuscode')})"

    changed = 0
    lines = []
    for row in before:
        now = after_by_id.get(row.get(id_column))
        was, became = state(row), state(now)
        changed += was != became
        lines.append(
            (
                short(row.get(id_column), 36),
                short(row.get(lookup, row.get(lookup_column)), 14),
                short(row.get(last_column) or f"(created {row.get('createdon')})", 32),
                was,
                became + ("  <" if was != became else ""),
            )
        )
    header = ("session", "configuration", "last customer message", "before", "after")
    widths = [max(len(h), *(len(line[i]) for line in lines)) if lines else len(h) for i, h in enumerate(header)]
    print(f"\nSessions ({len(before)} rows, {changed} changed):")
    print("  " + "  ".join(h.ljust(w) for h, w in zip(header, widths)))
    print("  " + "  ".join("-" * w for w in widths))
    for line in lines[:limit]:
        print("  " + "  ".join(cell.ljust(w) for cell, w in zip(line, widths)))
    if len(lines) > limit:
        print(f"  … {len(lines) - limit} more rows (--rows N shows more)")


def print_messages(messages: list[dict] | None, env: dict[str, str]) -> None:
    """The message rows the sweep created: each warning and closing message, and its session."""
    if messages is None:
        print("\n(messages not shown: the simulator's admin endpoint did not answer)")
        return
    navigation = env.get("MESSAGE_SESSION_NAVIGATION", "")
    lookup = f"_{navigation.lower()}_value"
    text = env.get("MESSAGE_TEXT_COLUMN", "")
    print(f"\nMessages created ({len(messages)} rows in {env.get('MESSAGE_TABLE')}):")
    for row in messages:
        print(f"  {short(row.get(lookup), 36):36}  {short(row.get(text), 70)}")


def print_check(report: dict) -> None:
    """The check's report: one line per finding, then the verdict."""
    print("\nCheck report returned by the function:")
    print(json.dumps(report, indent=2))
    print()
    for finding in report.get("findings", []):
        line = f"{finding['severity'].upper():8} {finding['subject']}: {finding['message']}"
        if finding.get("fix"):
            line += f"\n         fix: {finding['fix']}"
        if finding.get("suggestions"):
            line += f"\n         closest real names: {', '.join(finding['suggestions'])}"
        print(line)
    print("\nok: the settings can be used" if report.get("ok") else "\nNOT ok: fix the errors above, then run the check again")


def print_summary(summary: dict) -> None:
    if isinstance(summary, dict) and "findings" in summary:
        print_check(summary)
        return
    print("\nSummary returned by the function:")
    print(json.dumps(summary, indent=2))
    counts = ", ".join(
        f"{key} {len(summary[key]) if isinstance(summary.get(key), list) else summary.get(key)}"
        for key in ("eligible", "closed", "would_close", "warned", "would_warn", "deferred", "skipped", "failed", "requests")
        if key in summary
    )
    if counts:
        complete = "complete" if summary.get("complete", True) else "INCOMPLETE (the next sweep continues)"
        dry = " [dry run: nothing closed]" if summary.get("dry_run") else ""
        print(f"\n{counts}; {summary.get('duration_ms', '?')} ms; {complete}{dry}")


def print_wake(summary: dict, moto_url: str, env: dict[str, str]) -> None:
    """The next wake-up: as the summary reports it, and the schedule as moto holds it."""
    name = env.get("WAKE_SCHEDULE_NAME", "")
    if not name:
        print("\nWake-up: off (WAKE_SCHEDULE_NAME is empty); only the rate rule would run the next sweep")
        return
    if "wake_error" in summary:
        print(f"\nWake-up: not written: {summary['wake_error']}")
        return
    if "findings" in summary:
        return  # the check's report: a check never sets a wake-up
    if "next_wake_at" not in summary:
        print("\nWake-up: none (only a sweep that closes sets one, not a dry run or a reopen run)")
        return
    import boto3  # installed with moto

    scheduler = boto3.client(
        "scheduler",
        endpoint_url=moto_url,
        region_name=localstack.REGION,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    group = env.get("WAKE_SCHEDULE_GROUP", "default")
    try:
        schedule = scheduler.get_schedule(Name=name, GroupName=group)
    except Exception as error:  # botocore's errors share no useful base class
        print(f"\nWake-up: next_wake_at {summary['next_wake_at']}, but moto has no schedule {group}/{name}: {error}")
        return
    print(f"\nNext wake-up: {summary['next_wake_at']} (the schedule {group}/{name} in moto's EventBridge Scheduler says "
          f"{schedule['ScheduleExpression']} {schedule.get('ScheduleExpressionTimezone', '')}, target {schedule['Target']['Arn']})")


def print_events(events: list[dict], env: dict[str, str]) -> None:
    if not env.get("EVENT_BUS_NAME"):
        print("\nLifecycle events: off (EVENT_BUS_NAME is empty)")
        return
    print(f"\nLifecycle events the bus {env['EVENT_BUS_NAME']} sent to the local queue {EVENT_QUEUE}: {len(events)}")
    for event in events:
        detail = event.get("detail", {})
        about = detail.get("session_id") or f"closed {detail.get('closed')}, dry_run {json.dumps(detail.get('dry_run'))}"
        print(f"  {event.get('detail-type')}: {about}")


# ---------------------------------------------------------------- main


def parse_args(argv: list[str]) -> argparse.Namespace:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "debug"
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--event", type=Path, default=ROOT / "events" / "scheduled.json", help="event file to invoke with (default: events/scheduled.json)")
    parser.add_argument("--demo", action="store_true", help="seed the simulator with its demo org")
    parser.add_argument("--keep-logs", action="store_true", help="keep every process's log and print where")
    parser.add_argument("--check-demo", action="store_true", help="with --demo and a scheduled event: fail unless exactly the demo sessions named 'close' were closed")
    parser.add_argument("--expect-ok", action="store_true", help="with a check event: fail unless the check's report answers \"ok\": true")
    parser.add_argument("--show-log", action="store_true", help="print the function's log after the invocation")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="extra or overriding function environment, e.g. --env DRY_RUN=true (repeatable)")
    parser.add_argument("--sim-arg", action="append", default=[], metavar="ARG", help="extra argument for dataverse-sim, repeatable; write it with =, e.g. --sim-arg=--latency-ms --sim-arg=50")
    parser.add_argument("--function", type=Path, default=target / "session-sweeper", help="the function binary (default: target/debug/session-sweeper)")
    parser.add_argument("--sim", type=Path, default=target / "dataverse-sim", help="the simulator binary (default: target/debug/dataverse-sim)")
    parser.add_argument("--timeout", type=int, default=FUNCTION_TIMEOUT_SECONDS, help=f"seconds until the deadline the function is given (default {FUNCTION_TIMEOUT_SECONDS}, as deployed)")
    parser.add_argument("--rows", type=int, default=40, help="session rows to show (default 40)")
    args = parser.parse_args(argv)
    if args.check_demo and not args.demo:
        parser.error("--check-demo needs --demo")
    args.function = args.function.resolve()
    args.sim = args.sim.resolve()
    for pair in args.env:
        if "=" not in pair:
            parser.error(f"--env {pair!r}: expected KEY=VALUE")
    return args


def run(args: argparse.Namespace, processes: Processes) -> int:
    event = args.event if args.event.is_absolute() else Path.cwd() / args.event
    require_file(event, "give an event file, e.g. --event events/scheduled.json")
    try:
        json.loads(event.read_text())
    except ValueError as error:
        raise StepError(f"{args.event} is not JSON: {error}") from error
    require_file(args.function, "run cargo build")
    require_file(args.sim, "run cargo build")
    require_file(VENV_BIN / "moto_server", "run make venv")
    require_file(VENV_BIN / "cargo-lambda", "run make venv")
    overrides = dict(pair.split("=", 1) for pair in args.env)
    if args.demo:
        # The sample org warns before the close and says goodbye; --env overrides either.
        overrides = {**demo_notify.ENVIRONMENT, **overrides}

    print("1/5 dataverse-sim", "(demo org)" if args.demo else "", end=" ", flush=True)
    sim_url = start_sim(processes, args.sim, args.demo, args.sim_arg)
    print(sim_url)

    print("2/5 moto (Secrets Manager, EventBridge Scheduler, EventBridge, SQS)", end=" ", flush=True)
    moto_url = start_moto(processes)
    localstack.store_secret(moto_url, SECRET_ID, sim_url)
    queue_url = event_queue(moto_url)
    print(f"{moto_url}, secret {SECRET_ID}, event bus {EVENT_BUS}")

    print("3/5 Runtime API emulator", end=" ", flush=True)
    port, runtime = start_emulator(processes)
    proxy = DeadlineProxy(runtime["AWS_LAMBDA_RUNTIME_API"], args.timeout)
    proxy.start()
    processes.cleanups.append(proxy.stop)
    runtime["AWS_LAMBDA_RUNTIME_API"] = proxy.runtime_api
    print(f"invoke port {port}, runtime API {proxy.runtime_api} (deadline {args.timeout} s)")

    print(f"4/5 function {args.function.name}", flush=True)
    env = function_environment(runtime, moto_url, overrides)
    table = env.get("SESSION_TABLE", "w4d_chatsessions")
    before = sessions(sim_url, table)
    function, function_log = processes.start("function", [str(args.function)], env=env)
    time.sleep(0.2)
    if function.poll() is not None:
        raise StepError(f"the function exited with code {function.returncode} before it was invoked:\n{processes.tail(function_log)}")

    print(f"5/5 invoke with {args.event}", flush=True)
    try:
        summary = invoke(port, event, function, function_log, processes)
    finally:
        if args.show_log:
            print("\nFunction log:\n" + processes.tail(function_log, 200))
    after = sessions(sim_url, table)

    print_summary(summary)
    print_sessions(before, after, env, args.rows)
    if env.get("MESSAGE_TABLE"):
        print_messages(sessions(sim_url, env["MESSAGE_TABLE"]), env)
    print_wake(summary, moto_url, env)
    events = received_events(moto_url, queue_url)
    if "findings" not in summary:
        print_events(events, env)
    if args.check_demo:
        check_demo(before, after, summary, env, sim_url)
        if env.get("EVENT_BUS_NAME") == EVENT_BUS:
            check_events(events, summary)
    if args.expect_ok:
        expect_ok(summary)
    return 0


def expect_ok(report: dict) -> None:
    """--expect-ok (make check): the invocation must have been a check, and its verdict ok."""
    if not isinstance(report, dict) or "findings" not in report:
        raise StepError("--expect-ok: the function did not return a check report (was the event {\"check\": true}?)")
    if report.get("ok") is not True:
        raise StepError("--expect-ok: the check did not answer \"ok\": true (its errors are listed above)")
    print("\ncheck: the sample org's check answered \"ok\": true")


def interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    log_dir = Path(tempfile.mkdtemp(prefix="session-sweeper-local-"))
    processes = Processes(log_dir, STARTUP_SECONDS, TAIL_LINES)
    # Ctrl-C and SIGTERM (e.g. from make or CI) both unwind, so the finally below runs; SIGINT
    # is set explicitly because a shell starts background jobs with it ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)
    status = 1
    try:
        status = run(args, processes)
    except StepError as error:
        print(f"\nerror: {error}", file=sys.stderr)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        status = 130
    finally:
        processes.stop_all()
        if args.keep_logs:
            print(f"\nlogs kept in {log_dir}", file=sys.stderr)
        else:
            shutil.rmtree(log_dir, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
