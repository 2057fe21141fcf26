#!/usr/bin/env python3
"""A day in the life, measured: one day (or, with --week, seven) of an org in virtual time, in
well under two minutes of real time, with four strategies side by side on the same seeded
workload: the function with close-on-time (the rate rule plus the one-time schedules it writes
to moto's EventBridge Scheduler, fired at a random second of their minute as the real service
fires them), the function on rate(5 minutes) without the wake-up, and the Power Automate
flow's shape every 12 hours (the vendor's default) and every 5 minutes.

Each strategy gets its own dataverse-sim (answering at once; its clock set to each
invocation's moment) holding the same workload. The function runs as scripts/virtual_lambda.rs:
the real handler, whose `now` is each invocation's virtual moment. An invocation's duration is
the latency model's (20 ms per request, 10 ms per operation, $batch requests 4 in flight,
20 ms per AWS call), so nothing sleeps.

Figures per strategy, from the simulator and the data set: closure lag after eligibility,
sessions closed before eligibility, sessions still open past eligibility at the end,
invocations, Dataverse HTTP requests, Power Platform requests, rows read, Lambda GB-seconds
and the month's cost. They are printed with the targets' verdicts, written to
bench-out/day.json and drawn in bench-out/day.svg; a missed target exits 1.

Used by `make bench-day` (and `make bench`); the parts are in scripts/benchkit/ (workload,
timeline, vscheduler, day, day_report, day_chart).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, replace
from pathlib import Path

from benchkit.day import STRATEGIES, Stage, Strategy, run_flow, run_function, scheduler_client
from benchkit.day_chart import write_day_chart
from benchkit.day_report import figures, judge_closes, print_references, print_runs, print_verdicts, print_workload, verdicts
from benchkit.report import missed
from benchkit.stand_ins import start_moto
from benchkit.timeline import in_play, plan
from benchkit.workload import DAY_S, Session, WorkloadSettings, generate
from localstack import ROOT, Processes, StepError

EVENT_FILE = ROOT / "events" / "scheduled.json"


def parse_args(argv: list[str]) -> argparse.Namespace:
    defaults = WorkloadSettings()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--week", action="store_true", help="seven days (Tuesday to Monday) instead of one")
    add("--seed", type=int, default=defaults.seed, help=f"the workload's and the scheduler's seed (default {defaults.seed})")
    add("--sessions-per-day", type=int, default=defaults.sessions_per_day, help=f"new sessions a business day (default {defaults.sessions_per_day:,})")
    add("--weekend-factor", type=float, default=defaults.weekend_factor, help=f"Saturday's and Sunday's share of that (default {defaults.weekend_factor:g})")
    add("--slow-agent-share", type=float, default=defaults.slow_agent_share, help=f"replies after 1 to 6 hours (default {defaults.slow_agent_share:g})")
    add("--no-reply-share", type=float, default=defaults.no_reply_share, help=f"sessions whose last message is never answered (default {defaults.no_reply_share:g})")
    add("--late-message-share", type=float, default=defaults.late_message_share, help=f"follow-ups at 0.8 to 1.3 timeouts (default {defaults.late_message_share:g})")
    add("--profile", choices=["release", "debug"], default="release", help="which target directory's binaries to run (default release)")
    add("--out", type=Path, default=ROOT / "bench-out" / "day.json", help="where to write the figures (default bench-out/day.json); the chart goes beside it as day.svg")
    return parser.parse_args(argv)


def binaries(profile: str) -> dict[str, Path]:
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / profile
    paths = {"host": target / "virtual-lambda", "sim": target / "dataverse-sim"}
    for path in paths.values():
        if not path.is_file():
            flag = " --release" if profile == "release" else ""
            raise StepError(f"{path} not found: run cargo build{flag} --workspace --bins")
    return paths


def workload_summary(settings: WorkloadSettings, sessions: list[Session], end_s: int) -> dict:
    measured = [s for s in sessions if 0 <= s.opened < end_s]
    return {
        "settings": {**asdict(settings), "configurations": None},
        "configurations": [{**asdict(c), "sessions": sum(1 for s in measured if s.configuration == c)} for c in settings.configurations],
        "sessions": len(measured),
        "customer_messages": sum(len(s.customer) for s in measured),
        "agent_messages": sum(len(s.agent) for s in measured),
        "eligibilities": sum(1 for s in sessions if in_play(s) for start, _ in s.eligible_intervals() if 0 <= start < end_s),
        "never_answered": sum(1 for s in measured if len(s.agent) < len(s.customer)),
        "open_at_start": len(plan(sessions)[0]),
    }


def run_strategy(strategy: Strategy, log_dir: Path, paths: dict[str, Path], moto_url: str,
                 sessions: list[Session], settings: WorkloadSettings, end_s: int) -> object:
    """One strategy from start to end, in a process of its own (see `main`), which stops the
    simulator and function it started, whatever happens."""
    started = time.monotonic()
    processes = Processes(log_dir, 60, 20)
    try:
        stage = Stage(processes, paths["sim"], strategy, sessions, settings, end_s)
        horizon = end_s + strategy.grace_s
        if strategy.kind == "function":
            event = json.loads(EVENT_FILE.read_text())
            run = run_function(stage, processes, paths["host"], moto_url, scheduler_client(moto_url), settings.seed, horizon, event)
        else:
            run = run_flow(stage, horizon)
    finally:
        processes.stop_all()
    print(f"  {strategy.name}: {len(run.invocations):,} invocations in {time.monotonic() - started:.1f} s", flush=True)
    return run


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    started = time.monotonic()
    out: Path = args.out if args.out.is_absolute() else Path.cwd() / args.out
    settings = replace(WorkloadSettings(), seed=args.seed, sessions_per_day=args.sessions_per_day, days=7 if args.week else 1,
                       weekend_factor=args.weekend_factor, slow_agent_share=args.slow_agent_share,
                       no_reply_share=args.no_reply_share, late_message_share=args.late_message_share)
    end_s = settings.days * DAY_S
    results: dict = {"profile": args.profile}
    processes = Processes(out.parent / "logs-day", 60, 20)
    try:
        paths = binaries(args.profile)
        processes.log_dir.mkdir(parents=True, exist_ok=True)
        sessions = generate(settings, end_s + max(s.grace_s for s in STRATEGIES))
        by_id = {s.id: s for s in sessions}
        summary = workload_summary(settings, sessions, end_s)
        results["workload"] = summary
        print_workload(summary)
        print("\nstarting moto (Secrets Manager, EventBridge Scheduler), then the four strategies", flush=True)
        moto_url = start_moto(processes)
        # A process for each strategy, not a thread: their drivers' Python work (reading the
        # flow's pages, the scheduler's read-backs) would otherwise take turns on one lock, and
        # close-on-time's 1,430 round trips, the longest part, would wait behind the flows'.
        with ProcessPoolExecutor(max_workers=len(STRATEGIES), mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(run_strategy, s, processes.log_dir, paths, moto_url, sessions, settings, end_s) for s in STRATEGIES]
            runs = [future.result() for future in futures]
        by_name = {run.strategy.name: figures(run, by_id, end_s, settings.days) for run in runs}  # type: ignore[attr-defined]
        targets = verdicts(by_name, settings.days)
        results.update({"strategies": by_name, "targets": targets,
                        "invocations": {run.strategy.name: run.invocations for run in runs}})  # type: ignore[attr-defined]
        print_runs(by_name, settings.days)
        print_references(by_name)
        print_verdicts(targets)
        lags = {run.strategy.name: judge_closes(run, by_id, end_s)["lags"] for run in runs}  # type: ignore[attr-defined]
        chart = out.parent / "day.svg"
        write_day_chart(chart, lags, {name: f["hourly_requests"] for name, f in by_name.items()})
        print(f"\nchart written to {chart.relative_to(ROOT) if chart.is_relative_to(ROOT) else chart}")
        results["real_seconds"] = time.monotonic() - started
        print(f"{settings.days} virtual day(s) in {results['real_seconds']:.0f} s of real time")
        failed = missed(targets)
        if failed:
            print(f"\nbench-day: {len(failed)} target(s) missed: " + "; ".join(t["target"] for t in failed), file=sys.stderr)
            return 1
        return 0
    except StepError as error:
        results["error"] = str(error)
        print(f"\nbench-day: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        results["error"] = "interrupted"
        return 130
    finally:
        processes.stop_all()
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2, default=str) + "\n")
        print(f"\nfigures written to {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out}", flush=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
