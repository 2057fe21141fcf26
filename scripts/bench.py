#!/usr/bin/env python3
"""Benchmarks one sweep of session-sweeper against dataverse-sim, beside the Power Automate
flow it replaces.

For each size (active sessions, 20% of them past their timeout) it starts a fresh
dataverse-sim with a fixed latency per request, stores the Dataverse secret in moto's
Secrets Manager, runs the built function as a process against a minimal Lambda Runtime API
served by this script, sends it events/scheduled.json, and records:

  * wall time of the sweep (event served -> response received) and the summary's duration_ms
  * HTTP requests: the summary's `requests` and the simulator's own count
  * peak RSS of the function process (VmHWM)
  * sessions closed per second
  * start-up time (process spawned -> first request for an event)

Then it runs the Power Automate flow's shape as the baseline against another fresh simulator
with the same data and latency: list the active sessions with paging, decide client-side, and
send one PATCH with If-Match per eligible session, no batching, 20 in parallel. It prints a
table of the figures beside the targets and writes them as JSON (bench-out/results.json).
Numbers are reported, not asserted.

Used by `make bench`; needs only the standard library and boto3 (in .venv with moto). The
processes, dataverse-sim and the secret in moto are set up with scripts/localstack.py, shared
with scripts/local_run.py; the Runtime API stub and the baseline flow are this script's own.
"""

from __future__ import annotations

import argparse
import http.server
import json
import math
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import localstack
from localstack import (
    REGION,
    ROOT,
    SIM_CLIENT_ID,
    SIM_CLIENT_SECRET,
    TENANT,
    VENV_BIN,
    Processes,
    StepError,
    announced_url,
    function_environment,
    store_secret,
)

VENV_PYTHON = VENV_BIN / "python"
MOTO_GUARD = ROOT / "tests" / "integration" / "support" / "moto_guard.py"
EVENT_FILE = ROOT / "events" / "scheduled.json"
ELIGIBLE_RATIO = 0.2
STARTUP_SECONDS = 120  # generating 100,000 rows takes the simulator a moment
TAIL_LINES = 20
NOT_ANNOUNCED = "did not announce its URL within"
INVOKE_SECONDS = 900  # the Lambda maximum
BUILD_HINT = "run cargo build --release --workspace --bins"

# What the function is held to (issue 4). MB here is 10^6 bytes, MiB 2^20.
CLOSE_BATCH_SIZE = 100  # the function's default CLOSE_BATCH_SIZE (DESIGN.md)
PAGE_SIZE = 5000  # Dataverse's default and largest page
TARGET_SIZE = 100_000
TARGET_LATENCY_MS = 20
TARGET_WALL_S = 10.0
TARGET_REQUEST_RATIO = 20.0
TARGET_RSS_MIB = 64.0
TARGET_STARTUP_MS = 50.0
TARGET_BINARY_MB = 15.0

# Power Automate's Apply to each runs one item at a time by default; with concurrency control
# on it runs up to 50 at once, 20 by default. 20 workers is therefore generous to the flow.
BASELINE_WORKERS = 20

SESSIONS = "w4d_chatsessions"
CONFIGURATIONS = "w4d_whatsappconfigurations"


# ---------------------------------------------------------------- the local stand-ins


def start_sim(processes: Processes, sim: Path, name: str, sessions: int, latency_ms: int) -> tuple[subprocess.Popen, str]:
    args = ["--sessions", str(sessions), "--eligible-ratio", str(ELIGIBLE_RATIO), "--latency-ms", str(latency_ms)]
    return localstack.start_sim(processes, sim, args, name=name, late=NOT_ANNOUNCED)


def start_moto(processes: Processes) -> str:
    if not VENV_PYTHON.is_file():
        raise StepError(".venv/bin/python not found: run make venv")
    process, log = processes.start("moto", [str(VENV_PYTHON), str(MOTO_GUARD)])
    what = "moto (tests/integration/support/moto_guard.py)"
    return str(processes.wait_for(what, lambda: announced_url(log), process, log, NOT_ANNOUNCED))


def get_json(url: str, timeout: float = 30) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.load(answer)


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM (the process's peak resident set) in KiB, or None if /proc cannot say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


# ---------------------------------------------------------------- the Lambda Runtime API stub


class RuntimeApi:
    """The part of the Lambda Runtime API a function uses: it hands out one event, takes the
    response (or error), and keeps any later /next waiting until shutdown.

    A stub rather than cargo lambda's emulator (which `make demo` uses) because the function's
    first GET /next is the moment it is ready for an event, and only the server answering that
    request sees it exactly; it also marks when the event left and when the answer came back,
    with nothing else in between."""

    PREFIX = "/2018-06-01/runtime"

    def __init__(self, event: bytes) -> None:
        self.event = event
        self.request_id = str(uuid.uuid4())
        self.first_next: float | None = None  # time.monotonic() of the first GET /next
        self.served: float | None = None  # the event was handed over
        self.answered: float | None = None  # the response (or error) arrived
        self.response: bytes | None = None
        self.error: bytes | None = None
        self.done = threading.Event()
        self.closing = threading.Event()
        self._lock = threading.Lock()
        self._nexts = 0
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

            def _body(self) -> bytes:
                if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                    chunks = []
                    while True:
                        size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                        if size == 0:
                            while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                                pass
                            return b"".join(chunks)
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                return self.rfile.read(int(self.headers.get("Content-Length") or 0))

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(body)
                self.wfile.flush()

            def do_GET(self) -> None:  # noqa: N802
                if self.path != f"{api.PREFIX}/invocation/next":
                    self._send(404, b'{"errorMessage":"not found"}')
                    return
                now = time.monotonic()
                with api._lock:
                    first = api._nexts == 0
                    api._nexts += 1
                    if api.first_next is None:
                        api.first_next = now
                if not first:
                    api.closing.wait()  # one event per process: wait here until shutdown
                    self.close_connection = True
                    return
                deadline_ms = int(time.time() * 1000) + INVOKE_SECONDS * 1000
                api.served = time.monotonic()
                self._send(
                    200,
                    api.event,
                    {
                        "Lambda-Runtime-Aws-Request-Id": api.request_id,
                        "Lambda-Runtime-Deadline-Ms": str(deadline_ms),
                        "Lambda-Runtime-Invoked-Function-Arn": f"arn:aws:lambda:{REGION}:123456789012:function:session-sweeper-bench",
                        "Lambda-Runtime-Trace-Id": "Root=1-00000000-000000000000000000000000;Sampled=0",
                    },
                )

            def do_POST(self) -> None:  # noqa: N802
                body = self._body()
                now = time.monotonic()
                if self.path == f"{api.PREFIX}/invocation/{api.request_id}/response":
                    api.response = body
                elif self.path.endswith("/error"):  # invocation or init error
                    api.error = body or b"(empty error body)"
                else:
                    self._send(404, b'{"errorMessage":"not found"}')
                    return
                api.answered = now
                self._send(202, b'{"status":"OK"}')
                api.done.set()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="runtime-api", daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host}:{port}"

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


# ---------------------------------------------------------------- one sweep by the function


def run_function(processes: Processes, paths: dict[str, Path], moto_url: str, size: int, latency_ms: int, event: bytes) -> dict:
    sim, sim_url = start_sim(processes, paths["sim"], f"sim-function-{size}", size, latency_ms)
    runtime = RuntimeApi(event)
    function = None
    try:
        secret_id = f"session-sweeper/bench-{size}-{uuid.uuid4().hex[:8]}"
        store_secret(moto_url, secret_id, sim_url)
        lambda_variables = {
            "AWS_LAMBDA_RUNTIME_API": runtime.address,
            "AWS_LAMBDA_FUNCTION_NAME": "session-sweeper-bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
        }
        env = function_environment(lambda_variables, moto_url, secret_id, rust_log="warn")
        env["MAX_CLOSURES_PER_SWEEP"] = "1000000"
        spawned = time.monotonic()
        function, log = processes.start(f"function-{size}", [str(paths["function"])], env)
        deadline = spawned + INVOKE_SECONDS + STARTUP_SECONDS
        while not runtime.done.wait(0.05):
            if function.poll() is not None:
                raise StepError(f"the function exited with code {function.returncode} without answering:\n{processes.tail(log)}")
            if time.monotonic() > deadline:
                raise StepError(f"the function did not answer within {INVOKE_SECONDS} s:\n{processes.tail(log)}")
        # Read right after the answer and before the process is stopped.
        rss_kib = peak_rss_kib(function.pid)
        if runtime.error is not None:
            raise StepError(f"the function reported an error: {runtime.error.decode(errors='replace')}\n{processes.tail(log)}")
        try:
            summary = json.loads(runtime.response or b"")
        except ValueError as error:
            raise StepError(f"the function answered something other than JSON: {runtime.response!r}") from error
        stats = get_json(f"{sim_url}/_sim/stats")
        assert runtime.first_next is not None and runtime.served is not None and runtime.answered is not None
        wall = runtime.answered - runtime.served
        closed = int(summary.get("closed", 0))
        return {
            "startup_ms": (runtime.first_next - spawned) * 1000,
            "wall_s": wall,
            "duration_ms": summary.get("duration_ms"),
            "eligible": summary.get("eligible"),
            "closed": closed,
            "deferred": summary.get("deferred"),
            "skipped": len(summary.get("skipped") or []),
            "failed": len(summary.get("failed") or []),
            "complete": summary.get("complete"),
            "summary_requests": summary.get("requests"),
            "sim_requests": stats.get("requests"),
            "sim_stats": stats,
            "peak_rss_kib": rss_kib,
            "peak_rss_mib": None if rss_kib is None else rss_kib / 1024,
            "closed_per_s": closed / wall if wall > 0 else None,
        }
    finally:
        if function is not None:
            processes.stop(function)
        runtime.close()
        processes.stop(sim)


# ---------------------------------------------------------------- the Power Automate flow's shape


def parse_time(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def run_baseline(processes: Processes, paths: dict[str, Path], size: int, latency_ms: int, workers: int) -> dict:
    """What the flow does: get a token (the connector does this), read the configuration,
    list the active sessions page by page, keep those past their timeout (a Condition, no
    request), then Apply to each: one PATCH with If-Match per session, `workers` at a time."""
    sim, sim_url = start_sim(processes, paths["sim"], f"sim-baseline-{size}", size, latency_ms)
    try:
        api = f"{sim_url}/api/data/v9.2/"
        started = time.monotonic()
        form = urllib.parse.urlencode(
            {
                "grant_type": "client_credentials",
                "client_id": SIM_CLIENT_ID,
                "client_secret": SIM_CLIENT_SECRET,
                "scope": f"{sim_url}/.default",
            }
        ).encode()
        token_request = urllib.request.Request(f"{sim_url}/{TENANT}/oauth2/v2.0/token", data=form, method="POST")
        with urllib.request.urlopen(token_request, timeout=60) as answer:
            token = json.load(answer)["access_token"]
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/json",
            "OData-MaxVersion": "4.0",
            "OData-Version": "4.0",
        }
        sent = 1

        def get(url: str, extra: dict[str, str] | None = None) -> dict:
            request = urllib.request.Request(url, headers={**headers, **(extra or {})})
            with urllib.request.urlopen(request, timeout=60) as answer:
                return json.load(answer)

        active = "$filter=" + urllib.parse.quote("statecode eq 0")
        configurations = get(
            f"{api}{CONFIGURATIONS}?$select=w4d_whatsappconfigurationid,w4d_sessiontimeout&{active}"
        )["value"]
        sent += 1
        timeouts = {
            row["w4d_whatsappconfigurationid"]: timedelta(minutes=float(row["w4d_sessiontimeout"]))
            for row in configurations
        }
        only = next(iter(timeouts.values())) if len(timeouts) == 1 else None

        now = datetime.now(timezone.utc)
        eligible: list[tuple[str, str]] = []
        listed = pages = 0
        url: str | None = (
            f"{api}{SESSIONS}?$select=w4d_chatsessionid,w4d_lastcustomermessageon,createdon,"
            f"_w4d_configurationid_value&{active}"
        )
        while url:
            page = get(url, {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
            sent += 1
            pages += 1
            for row in page["value"]:
                listed += 1
                timeout = timeouts.get(row.get("_w4d_configurationid_value") or "", only)
                last = parse_time(row.get("w4d_lastcustomermessageon")) or parse_time(row.get("createdon"))
                if timeout is not None and last is not None and now >= last + timeout:
                    eligible.append((row["w4d_chatsessionid"], row["@odata.etag"]))
            url = page.get("@odata.nextLink")

        body = json.dumps({"statecode": 1, "statuscode": 2}).encode()

        def close(item: tuple[str, str]) -> int:
            session, etag = item
            request = urllib.request.Request(
                f"{api}{SESSIONS}({session})",
                data=body,
                method="PATCH",
                headers={**headers, "Content-Type": "application/json", "If-Match": etag},
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    return answer.status
            except urllib.error.HTTPError as error:
                return error.code

        with ThreadPoolExecutor(max_workers=workers) as pool:
            statuses = list(pool.map(close, eligible))
        sent += len(statuses)
        wall = time.monotonic() - started
        stats = get_json(f"{sim_url}/_sim/stats")
        closed = sum(1 for status in statuses if status in (200, 204))
        return {
            "workers": workers,
            "wall_s": wall,
            "listed": listed,
            "pages": pages,
            "eligible": len(eligible),
            "closed": closed,
            "skipped": sum(1 for status in statuses if status == 412),
            "failed": sum(1 for status in statuses if status not in (200, 204, 412)),
            "client_requests": sent,
            "sim_requests": stats.get("requests"),
            "sim_stats": stats,
            "closed_per_s": closed / wall if wall > 0 else None,
        }
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        raise StepError(f"the baseline flow failed against {sim_url}: {error}") from error
    finally:
        processes.stop(sim)


# ---------------------------------------------------------------- reporting


def request_target(eligible: int, batch: int = CLOSE_BATCH_SIZE) -> int:
    """1 token + 1 configurations + the candidate pages (at least one) + the close batches."""
    return 1 + 1 + max(1, math.ceil(eligible / PAGE_SIZE)) + math.ceil(eligible / batch)


def fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = ()) -> str:
    """Columns right-aligned (numbers), except those at the indexes in `left`."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(row) for row in rows])


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("ok" if ok else "MISS")


def evaluate_targets(runs: list[dict], binary_bytes: int, latency_ms: int, profile: str) -> list[dict]:
    """Each target with the figure it is judged on; the per-size ones on the 100,000 run."""
    big = next((r for r in runs if r["size"] == TARGET_SIZE), None)
    function = big["function"] if big else None
    baseline = big.get("baseline") if big else None
    at_target_latency = latency_ms == TARGET_LATENCY_MS
    startups = [r["function"]["startup_ms"] for r in runs]
    targets = []

    def add(name: str, target: str, value: object, shown: str, ok: bool | None, note: str = "") -> None:
        targets.append({"target": name, "limit": target, "value": value, "shown": shown, "ok": ok, "note": note})

    for r in runs:
        f = r["function"]
        limit = request_target(int(f["eligible"] or 0))
        add(
            f"requests at {r['size']:,}",
            f"<= {limit:,} (1 token + 1 configurations + pages + batches of {CLOSE_BATCH_SIZE})",
            f["sim_requests"],
            fmt(f["sim_requests"]),
            f["sim_requests"] is not None and f["sim_requests"] <= limit,
        )
    missing = "" if big else f"no {TARGET_SIZE:,} run"
    latency_note = "" if at_target_latency else f"measured at {latency_ms} ms, the target is at {TARGET_LATENCY_MS} ms"
    add(
        f"wall at {TARGET_SIZE:,}",
        f"< {TARGET_WALL_S:g} s",
        function["wall_s"] if function else None,
        f"{function['wall_s']:.2f} s" if function else "-",
        (function["wall_s"] < TARGET_WALL_S) if function and at_target_latency else None,
        missing or latency_note,
    )
    ratio = big["ratios"]["requests"] if big and big.get("ratios") else None
    add(
        f"fewer requests than the baseline at {TARGET_SIZE:,}",
        f">= {TARGET_REQUEST_RATIO:g}x",
        ratio,
        f"{ratio:,.1f}x" if ratio else "-",
        (ratio >= TARGET_REQUEST_RATIO) if ratio else None,
        missing or ("" if baseline else "baseline skipped"),
    )
    rss = function["peak_rss_mib"] if function else None
    add(
        f"peak RSS at {TARGET_SIZE:,}",
        f"< {TARGET_RSS_MIB:g} MiB",
        rss,
        f"{rss:.1f} MiB" if rss is not None else "-",
        (rss < TARGET_RSS_MIB) if rss is not None else None,
        missing,
    )
    worst = max(startups) if startups else None
    release = profile == "release"
    debug_note = "" if release else "a debug build; the target is for release"
    add(
        "start-up (worst of the runs)",
        f"< {TARGET_STARTUP_MS:g} ms",
        worst,
        f"{worst:.1f} ms" if worst is not None else "-",
        (worst < TARGET_STARTUP_MS) if worst is not None and release else None,
        debug_note,
    )
    add(
        "release binary",
        f"< {TARGET_BINARY_MB:g} MB",
        binary_bytes,
        f"{binary_bytes / 1e6:.2f} MB",
        binary_bytes < TARGET_BINARY_MB * 1e6 if release else None,
        debug_note,
    )
    return targets


def print_report(config: dict, binary: dict, runs: list[dict], targets: list[dict]) -> None:
    print()
    print(
        f"session-sweeper bench: {config['profile']} build, {config['latency_ms']} ms simulated latency per request, "
        f"{ELIGIBLE_RATIO:.0%} of active sessions eligible"
    )
    print(f"function binary {binary['path']}: {binary['bytes'] / 1e6:.2f} MB ({binary['bytes']:,} bytes; host architecture, not the arm64 bootstrap)")

    print("\nFunction: one sweep per size (wall = event served to response received; RSS = VmHWM)")
    rows = []
    for r in runs:
        f = r["function"]
        rows.append(
            [
                fmt(r["size"]),
                fmt(f["eligible"]),
                fmt(f["closed"]),
                f"{f['wall_s']:.3f}",
                fmt(f["duration_ms"]),
                fmt(f["summary_requests"]),
                fmt(f["sim_requests"]),
                f"<= {request_target(int(f['eligible'] or 0)):,}",
                "-" if f["peak_rss_mib"] is None else f"{f['peak_rss_mib']:.1f}",
                fmt(f["closed_per_s"], 0),
                f"{f['startup_ms']:.1f}",
                fmt(f["complete"]),
            ]
        )
    print(
        table(
            ["active", "eligible", "closed", "wall s", "duration_ms", "req (summary)", "req (sim)",
             "req target", "peak RSS MiB", "closed/s", "start-up ms", "complete"],
            rows,
        )
    )

    with_baseline = [r for r in runs if r.get("baseline")]
    print(
        f"\nBaseline: the Power Automate flow's shape (list active sessions page by page, one PATCH with If-Match "
        f"per eligible session, no batching), run with {config['baseline_workers']} parallel workers: Apply to each "
        f"is sequential by default and allows at most 50 (20 when concurrency control is on), so this is generous "
        f"to the flow"
    )
    if with_baseline:
        rows = []
        for r in with_baseline:
            b = r["baseline"]
            rows.append(
                [
                    fmt(r["size"]),
                    fmt(b["listed"]),
                    fmt(b["pages"]),
                    fmt(b["eligible"]),
                    fmt(b["closed"]),
                    f"{b['wall_s']:.3f}",
                    fmt(b["sim_requests"]),
                    fmt(b["closed_per_s"], 0),
                ]
            )
        print(table(["active", "listed", "pages", "eligible", "closed", "wall s", "requests (sim)", "closed/s"], rows))

        print("\nBaseline / function")
        rows = []
        for r in with_baseline:
            q = r["ratios"]
            rows.append(
                [
                    fmt(r["size"]),
                    f"{r['baseline']['sim_requests']:,} / {r['function']['sim_requests']:,}",
                    f"{q['requests']:,.1f}x",
                    f"{r['baseline']['wall_s']:.2f} / {r['function']['wall_s']:.2f}",
                    f"{q['wall']:,.1f}x",
                ]
            )
        print(table(["active", "requests", "request ratio", "wall s", "wall ratio"], rows))
    skipped = [r["size"] for r in runs if not r.get("baseline")]
    if skipped:
        print(f"  (baseline skipped for {', '.join(f'{s:,}' for s in skipped)} by --skip-baseline-above)")

    print("\nTargets")
    print(
        table(
            ["target", "limit", "measured", "verdict"],
            [[t["target"], t["limit"], t["shown"], verdict(t["ok"]) + (f" ({t['note']})" if t["note"] else "")] for t in targets],
            left=(0, 1, 3),
        )
    )


# ---------------------------------------------------------------- main


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from error
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return sizes


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=parse_sizes, default=[1_000, 10_000, 100_000], help="active sessions per run, comma-separated (default 1000,10000,100000)")
    parser.add_argument("--latency-ms", type=int, default=TARGET_LATENCY_MS, help=f"simulated latency per request (default {TARGET_LATENCY_MS})")
    parser.add_argument("--profile", choices=["release", "debug"], default="release", help="which target directory's binaries to run (default release)")
    parser.add_argument("--skip-baseline-above", type=int, default=None, metavar="N", help="no baseline run for sizes above N")
    parser.add_argument("--baseline-workers", type=int, default=BASELINE_WORKERS, help=f"parallel PATCHes in the baseline (default {BASELINE_WORKERS})")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-out" / "results.json", help="where to write the figures as JSON (default bench-out/results.json)")
    return parser.parse_args(argv)


def binaries(profile: str) -> dict[str, Path]:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / profile
    paths = {"function": target / "session-sweeper", "sim": target / "dataverse-sim"}
    hint = BUILD_HINT if profile == "release" else "run cargo build --workspace --bins"
    for path in paths.values():
        if not path.is_file():
            raise StepError(f"{path} not found: {hint}")
    return paths


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out: Path = args.out if args.out.is_absolute() else Path.cwd() / args.out
    config = {
        "profile": args.profile,
        "sizes": args.sizes,
        "latency_ms": args.latency_ms,
        "eligible_ratio": ELIGIBLE_RATIO,
        "baseline_workers": args.baseline_workers,
        "close_batch_size": CLOSE_BATCH_SIZE,
        "page_size": PAGE_SIZE,
    }
    results: dict = {"config": config, "runs": []}
    processes = Processes(out.parent / "logs", STARTUP_SECONDS, TAIL_LINES)
    try:
        paths = binaries(args.profile)
        event = EVENT_FILE.read_bytes()
        json.loads(event)
        binary = {"path": str(paths["function"].relative_to(ROOT) if paths["function"].is_relative_to(ROOT) else paths["function"]),
                  "bytes": paths["function"].stat().st_size}
        results["binary"] = binary
        processes.log_dir.mkdir(parents=True, exist_ok=True)

        print("starting moto (Secrets Manager)", flush=True)
        moto_url = start_moto(processes)
        for size in args.sizes:
            print(f"{size:,} active sessions: function sweep", end="", flush=True)
            run: dict = {"size": size, "function": run_function(processes, paths, moto_url, size, args.latency_ms, event)}
            print(f" {run['function']['wall_s']:.2f} s", end="", flush=True)
            if args.skip_baseline_above is None or size <= args.skip_baseline_above:
                print(", baseline", end="", flush=True)
                run["baseline"] = run_baseline(processes, paths, size, args.latency_ms, args.baseline_workers)
                print(f" {run['baseline']['wall_s']:.2f} s", end="", flush=True)
                f, b = run["function"], run["baseline"]
                run["ratios"] = {
                    "requests": b["sim_requests"] / f["sim_requests"] if f["sim_requests"] else None,
                    "wall": b["wall_s"] / f["wall_s"] if f["wall_s"] else None,
                }
            print(flush=True)
            results["runs"].append(run)

        results["targets"] = evaluate_targets(results["runs"], binary["bytes"], args.latency_ms, args.profile)
        print_report(config, binary, results["runs"], results["targets"])
        return 0
    except StepError as error:
        results["error"] = str(error)
        print(f"\nbench: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        results["error"] = "interrupted"
        print("\nbench: interrupted", file=sys.stderr)
        return 130
    finally:
        processes.stop_all()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nfigures written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
