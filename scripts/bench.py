#!/usr/bin/env python3
"""Benchmarks one sweep of session-sweeper against dataverse-sim, beside the Power Automate
flow it replaces, and under Dataverse's service protection limits.

For each size (active sessions, 20% of them past their timeout) it starts a fresh
dataverse-sim with a fixed latency per request and an execution cost per operation (a
`$batch` costs the sum of its operations, which Dataverse runs one after another), counts the
eligible sessions in the data set, stores the Dataverse secret in moto's Secrets Manager, runs
the built function as a process against a minimal Lambda Runtime API served here, sends it
events/scheduled.json, and records:

  * wall time of the sweep (event served -> response received) and the summary's duration_ms
  * HTTP requests: the summary's `requests` and the simulator's own count
  * peak RSS of the function process (VmHWM)
  * sessions closed per second
  * start-up time (process spawned -> first request for an event)

Then it runs the Power Automate flow's shape as the baseline against another fresh simulator
with the same data and settings: list the active sessions with paging, decide client-side, and
send one PATCH with If-Match per eligible session, no batching, 20 in parallel.

The limits scenario then runs both against a simulator whose requests, execution time and
concurrency are limited over a short sliding window (Dataverse's 5-minute limits scaled to
it), and reports closes per second against the ceiling those limits allow, and the 429s.

It prints every setting it ran with, the figures beside the targets, writes them as JSON
(bench-out/results.json) and draws bench-out/bench.svg. Each target is derived from the model
the run used (a sweep's wall time against the least its work can take: operations x cost per
operation / requests in flight, plus the reads and the latency of each round) and printed with
its derivation; a missed target makes it exit 1.

Used by `make bench`; needs only the standard library and boto3 (in .venv with moto). The
parts live in scripts/benchkit/; the processes, dataverse-sim and the secret in moto are set
up with scripts/localstack.py, shared with scripts/local_run.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from benchkit.baseline import BASELINE_WORKERS, PAGE_SIZE, run_baseline
from benchkit.chart import write_chart
from benchkit.function import STARTUP_SECONDS, run_function
from benchkit.report import (
    CLOSE_BATCH_SIZE,
    CLOSE_CONCURRENCY,
    SIM_DOP_HINT,
    TARGET_LATENCY_MS,
    Model,
    evaluate_targets,
    limits_figures,
    limits_verdicts,
    missed,
    print_report,
)
from benchkit.stand_ins import SimSettings, start_moto
from localstack import ROOT, Processes, StepError

EVENT_FILE = ROOT / "events" / "scheduled.json"
ELIGIBLE_RATIO = 0.2
TAIL_LINES = 20
BUILD_HINT = "run cargo build --release --workspace --bins"
OPERATION_COST_MS = 10  # an assumption: Microsoft publishes no per-operation time
# The function would stop at its default MAX_CLOSURES_PER_SWEEP (5,000); the bench measures
# whole sweeps, so it lifts the cap and says so in the report.
FUNCTION_ENV = {"MAX_CLOSURES_PER_SWEEP": "1000000"}
# Dataverse's limits per 300 s window; the limits scenario scales them to its window.
DATAVERSE_WINDOW_S = 300
DATAVERSE_MAX_REQUESTS = 6000
DATAVERSE_MAX_EXECUTION_MS = 1_200_000
DATAVERSE_MAX_CONCURRENT = 52
LIMITS_SESSIONS = 40_000
LIMITS_ELIGIBLE_RATIO = 0.5
LIMITS_WINDOW_S = 10.0
LIMITS_BASELINE_SECONDS = 60.0


def parse_sizes(text: str) -> list[int]:
    try:
        sizes = [int(part.replace("_", "")) for part in text.split(",") if part.strip()]
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from error
    if not sizes or any(size <= 0 for size in sizes):
        raise argparse.ArgumentTypeError(f"expected positive numbers, got {text!r}")
    return sizes


def parse_env(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--sizes", type=parse_sizes, default=[1_000, 10_000, 100_000], help="active sessions per run, comma-separated (default 1000,10000,100000)")
    add("--latency-ms", type=int, default=TARGET_LATENCY_MS, help=f"simulated latency per request (default {TARGET_LATENCY_MS})")
    add("--operation-cost-ms", type=int, default=OPERATION_COST_MS, help=f"simulated execution time per operation, a $batch costing the sum of its operations (default {OPERATION_COST_MS})")
    add("--dop-hint", type=int, default=None, help="x-ms-dop-hint the simulator sends (default: the simulator's, 4)")
    add("--function-env", type=parse_env, action="append", default=[], metavar="NAME=VALUE", help="set a function setting for every run (repeatable), e.g. CLOSE_CONCURRENCY=8")
    add("--profile", choices=["release", "debug"], default="release", help="which target directory's binaries to run (default release)")
    add("--skip-baseline-above", type=int, default=None, metavar="N", help="no baseline run for sizes above N")
    add("--baseline-workers", type=int, default=BASELINE_WORKERS, help=f"parallel PATCHes in the baseline (default {BASELINE_WORKERS})")
    add("--limits-sessions", type=int, default=LIMITS_SESSIONS, help=f"active sessions in the limits scenario, {LIMITS_ELIGIBLE_RATIO:.0%}% eligible; 0 skips it (default {LIMITS_SESSIONS})")
    add("--limits-window-s", type=float, default=LIMITS_WINDOW_S, help=f"sliding window of the limits scenario; the 300 s limits are scaled to it (default {LIMITS_WINDOW_S:g})")
    add("--limits-baseline-seconds", type=float, default=LIMITS_BASELINE_SECONDS, help=f"the throttled baseline stops sending new closes after this long (default {LIMITS_BASELINE_SECONDS:g})")
    add("--out", type=Path, default=ROOT / "bench-out" / "results.json", help="where to write the figures as JSON (default bench-out/results.json); the chart goes beside it as bench.svg")
    return parser.parse_args(argv)


def binaries(profile: str) -> dict[str, Path]:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / profile
    paths = {"function": target / "session-sweeper", "sim": target / "dataverse-sim"}
    hint = BUILD_HINT if profile == "release" else "run cargo build --workspace --bins"
    for path in paths.values():
        if not path.is_file():
            raise StepError(f"{path} not found: {hint}")
    return paths


def model(args: argparse.Namespace, function_env: dict[str, str]) -> Model:
    """The cost model the targets are derived from: the simulator's latency and cost, and the
    requests in flight the dop hint and CLOSE_CONCURRENCY allow."""
    try:
        concurrency = int(function_env.get("CLOSE_CONCURRENCY", CLOSE_CONCURRENCY))
        batch = int(function_env.get("CLOSE_BATCH_SIZE", CLOSE_BATCH_SIZE))
    except ValueError as error:
        raise StepError(f"CLOSE_CONCURRENCY and CLOSE_BATCH_SIZE must be numbers: {error}") from error
    dop = SIM_DOP_HINT if args.dop_hint is None else args.dop_hint
    return Model(args.latency_ms, args.operation_cost_ms, dop, concurrency, batch)


def limits_settings(args: argparse.Namespace) -> SimSettings:
    """Dataverse's limits scaled from 300 s to the scenario's window (concurrency is not a
    rate, so it stays 52)."""
    scale = args.limits_window_s / DATAVERSE_WINDOW_S
    return SimSettings(
        sessions=args.limits_sessions,
        eligible_ratio=LIMITS_ELIGIBLE_RATIO,
        latency_ms=args.latency_ms,
        operation_cost_ms=args.operation_cost_ms,
        dop_hint=args.dop_hint,
        window_s=args.limits_window_s,
        max_requests=max(1, round(DATAVERSE_MAX_REQUESTS * scale)),
        max_execution_ms=max(1, round(DATAVERSE_MAX_EXECUTION_MS * scale)),
        max_concurrent=DATAVERSE_MAX_CONCURRENT,
    )


def run_sizes(args: argparse.Namespace, processes: Processes, paths: dict[str, Path], moto_url: str, function_env: dict[str, str], event: bytes) -> list[dict]:
    runs = []
    for size in args.sizes:
        settings = SimSettings(size, ELIGIBLE_RATIO, args.latency_ms, args.operation_cost_ms, args.dop_hint)
        print(f"{size:,} active sessions: function sweep", end="", flush=True)
        run: dict = {"size": size, "function": run_function(processes, paths, moto_url, f"function-{size}", settings, function_env, event)}
        print(f" {run['function']['wall_s']:.2f} s", end="", flush=True)
        if args.skip_baseline_above is None or size <= args.skip_baseline_above:
            print(", baseline", end="", flush=True)
            run["baseline"] = run_baseline(processes, paths, f"baseline-{size}", settings, args.baseline_workers)
            print(f" {run['baseline']['wall_s']:.2f} s", end="", flush=True)
            f, b = run["function"], run["baseline"]
            run["ratios"] = {
                "requests": b["sim_requests"] / f["sim_requests"] if f["sim_requests"] else None,
                "wall": b["wall_s"] / f["wall_s"] if f["wall_s"] else None,
            }
        print(flush=True)
        runs.append(run)
    return runs


def run_limits(args: argparse.Namespace, processes: Processes, paths: dict[str, Path], moto_url: str, function_env: dict[str, str], event: bytes) -> dict:
    settings = limits_settings(args)
    assert settings.max_execution_ms is not None and settings.window_s is not None
    # Execution time the window allows per second, spent at the cost of one close each.
    ceiling = (settings.max_execution_ms / settings.window_s) / args.operation_cost_ms if args.operation_cost_ms else 0.0
    print(f"limits scenario, {settings.sessions:,} active sessions: function sweep", end="", flush=True)
    function = run_function(processes, paths, moto_url, "limits-function", settings, function_env, event, sample=True)
    print(f" {function['wall_s']:.2f} s, baseline", end="", flush=True)
    baseline = run_baseline(processes, paths, "limits-baseline", settings, args.baseline_workers, stop_after_s=args.limits_baseline_seconds, sample=True)
    print(f" {baseline['wall_s']:.2f} s", flush=True)
    return {
        "sessions": settings.sessions,
        "eligible": function["dataset"]["eligible"],
        "settings": vars(settings),
        "ceiling_per_s": ceiling,
        "baseline_stop_after_s": args.limits_baseline_seconds,
        "function": function,
        "baseline": baseline,
        "function_figures": limits_figures(function, ceiling),
        "baseline_figures": limits_figures(baseline, ceiling),
    }


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    out: Path = args.out if args.out.is_absolute() else Path.cwd() / args.out
    function_env = {**FUNCTION_ENV, **dict(args.function_env)}
    config = {
        "profile": args.profile,
        "sizes": args.sizes,
        "latency_ms": args.latency_ms,
        "operation_cost_ms": args.operation_cost_ms,
        "eligible_ratio": ELIGIBLE_RATIO,
        "baseline_workers": args.baseline_workers,
        "close_batch_size": CLOSE_BATCH_SIZE,
        "page_size": PAGE_SIZE,
        "function_env": function_env,
        "sim_args": SimSettings(0, ELIGIBLE_RATIO, args.latency_ms, args.operation_cost_ms, args.dop_hint).model_args(),
        "limits": {"sim_args": limits_settings(args).model_args()} if args.limits_sessions > 0 else None,
    }
    results: dict = {"config": config, "runs": []}
    processes = Processes(out.parent / "logs", STARTUP_SECONDS, TAIL_LINES)
    try:
        paths = binaries(args.profile)
        event = EVENT_FILE.read_bytes()
        json.loads(event)
        function_path = paths["function"]
        binary = {"path": str(function_path.relative_to(ROOT) if function_path.is_relative_to(ROOT) else function_path),
                  "bytes": function_path.stat().st_size}
        results["binary"] = binary
        processes.log_dir.mkdir(parents=True, exist_ok=True)

        print("starting moto (Secrets Manager)", flush=True)
        moto_url = start_moto(processes)
        results["runs"] = run_sizes(args, processes, paths, moto_url, function_env, event)
        limits = run_limits(args, processes, paths, moto_url, function_env, event) if args.limits_sessions > 0 else None
        results["limits"] = limits
        targets = evaluate_targets(results["runs"], binary["bytes"], model(args, function_env), args.profile)
        if limits:
            targets += limits_verdicts("function", limits["function_figures"])
            targets += limits_verdicts("baseline", limits["baseline_figures"], reference=True)
        results["targets"] = targets
        print_report(config, binary, results["runs"], limits, targets)
        chart = out.parent / "bench.svg"
        write_chart(chart, results["runs"], limits)
        results["chart"] = str(chart)
        print(f"\nchart written to {chart.relative_to(ROOT) if chart.is_relative_to(ROOT) else chart}")
        failed = missed(targets)
        if failed:
            print(f"\nbench: {len(failed)} target(s) missed: " + "; ".join(t["target"] for t in failed), file=sys.stderr)
            return 1
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
