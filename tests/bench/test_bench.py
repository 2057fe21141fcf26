"""scripts/bench.py on a small org (200 active sessions, 40 eligible) with the debug build,
and a small limits scenario (2,000 active sessions, 1,000 eligible, a 2-second window).

The bench reports figures and asserts none of them; these tests check that it runs, that it
says what it ran with, that its targets come from the data set rather than from the
function's own report, and that what it records is consistent, not how fast anything is.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench.py"
BENCH_SECONDS = 300
OPERATION_COST_MS = 10
LIMITS = ["--limits-sessions", "2000", "--limits-window-s", "2", "--limits-baseline-seconds", "5"]

sys.path.insert(0, str(ROOT / "scripts"))
from benchkit.report import Model, evaluate_targets  # noqa: E402


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One debug build (quick when already built), then one bench run of 200 sessions."""
    build = subprocess.run(
        ["cargo", "build", "--workspace", "--bins"], cwd=ROOT, capture_output=True, text=True
    )
    assert build.returncode == 0, f"cargo build --workspace --bins failed:\n{build.stderr[-4000:]}"
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "200", "--profile", "debug", "--operation-cost-ms",
         str(OPERATION_COST_MS), *LIMITS, "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BENCH_SECONDS,
    )
    return run, out


@pytest.fixture(scope="module")
def results(bench: tuple[subprocess.CompletedProcess, Path]) -> dict:
    run, out = bench
    assert out.is_file(), run.stdout + run.stderr
    return json.loads(out.read_text())


def test_the_bench_of_a_small_org_runs_to_the_end_without_an_error(results: dict) -> None:
    assert "error" not in results and results["targets"], results.get("error")


def test_the_bench_exits_non_zero_exactly_when_a_target_is_missed(bench: tuple[subprocess.CompletedProcess, Path], results: dict) -> None:
    run, _ = bench
    missed = [t["target"] for t in results["targets"] if t["ok"] is False]
    assert run.returncode == (1 if missed else 0), run.stdout + run.stderr
    assert all(name in run.stderr for name in missed), run.stderr


def test_the_small_orgs_request_and_close_targets_are_met(results: dict) -> None:
    by_name = {t["target"]: t for t in results["targets"]}
    assert [by_name[name]["ok"] for name in ("requests at 200", "closes at 200")] == [True, True], by_name


def test_the_wall_target_is_a_ratio_to_the_floor_the_model_allows() -> None:
    # 40 closes in one batch at 10 ms each, 20 ms a request: 80 ms of reads, 400 ms of work, 20 ms for the round.
    floor_s, how = Model(20, OPERATION_COST_MS).wall_floor_s(40)
    assert math.isclose(floor_s, 0.5), how
    assert "40 ops x 10 ms / 1 in flight" in how, how


def test_the_flow_shapes_limits_figures_are_printed_without_a_verdict(results: dict) -> None:
    baseline = [t for t in results["targets"] if t["target"].startswith("limits: baseline")]
    assert baseline and all(t["ok"] is None for t in baseline), baseline


@pytest.mark.parametrize(
    "figure",
    [
        "wall s",
        "duration_ms",
        "req (summary)",
        "req (sim)",
        "peak RSS MiB",
        "closed/s",
        "start-up ms",
        "function binary",
        "Baseline",
        "20 parallel workers",
        "request ratio",
        "wall ratio",
        "Targets",
        "Limits scenario",
        "of ceiling",
        "429s",
    ],
)
def test_the_report_has_a_column_or_line_for_each_figure(bench: tuple[subprocess.CompletedProcess, Path], figure: str) -> None:
    run, _ = bench
    assert figure in run.stdout, run.stdout


def test_the_function_closes_every_eligible_session(results: dict) -> None:
    function = results["runs"][0]["function"]
    assert (function["eligible"], function["closed"]) == (40, 40)


def test_the_baseline_closes_the_same_sessions(results: dict) -> None:
    baseline = results["runs"][0]["baseline"]
    assert (baseline["eligible"], baseline["closed"]) == (40, 40)


def test_the_function_sends_fewer_requests_than_the_baseline(results: dict) -> None:
    run = results["runs"][0]
    assert run["function"]["sim_requests"] < run["baseline"]["sim_requests"]


def test_the_recorded_figures_are_measured_and_agree_with_each_other(results: dict) -> None:
    function = results["runs"][0]["function"]
    measured = {key: function[key] for key in ("wall_s", "startup_ms", "peak_rss_mib", "closed_per_s")}
    assert all(isinstance(value, float) and value > 0 for value in measured.values()), measured
    assert results["binary"]["bytes"] > 0
    assert math.isclose(function["closed_per_s"], function["closed"] / function["wall_s"]), function
    # Measured outside the process, the wall time contains the sweep the function timed itself.
    assert function["wall_s"] * 1000 >= function["duration_ms"] - 5, function
    assert 1 < function["peak_rss_mib"] < 1024, function


def test_the_sweep_pays_the_execution_cost_of_every_close(results: dict) -> None:
    function = results["runs"][0]["function"]
    assert function["sim_stats"]["execution_ms"] >= 40 * OPERATION_COST_MS, function["sim_stats"]
    assert function["wall_s"] >= 40 * OPERATION_COST_MS / 1000 / 4, function  # at most 4 batches in flight by default


def test_the_report_prints_the_settings_it_ran_with(bench: tuple[subprocess.CompletedProcess, Path], results: dict) -> None:
    run, _ = bench
    assert "MAX_CLOSURES_PER_SWEEP=1000000" in run.stdout, run.stdout
    assert f"--operation-cost-ms {OPERATION_COST_MS}" in run.stdout, run.stdout
    assert "--limit-window-ms 2000 --max-requests 40 --max-execution-ms 8000 --max-concurrent 52" in run.stdout, run.stdout
    assert results["config"]["function_env"] == {"MAX_CLOSURES_PER_SWEEP": "1000000"}


def test_the_eligible_count_comes_from_the_data_set(results: dict) -> None:
    assert results["runs"][0]["function"]["dataset"] == {"active": 200, "eligible": 40}


def test_the_request_target_ignores_what_the_function_reports() -> None:
    claimed = {"eligible": 0, "closed": 0, "sim_requests": 3, "wall_s": 1.0, "peak_rss_mib": 10.0,
               "startup_ms": 1.0, "dataset": {"active": 200, "eligible": 40}}
    targets = evaluate_targets([{"size": 200, "function": claimed}], 1, Model(20, OPERATION_COST_MS), "debug")
    by_name = {t["target"]: t for t in targets}
    assert by_name["requests at 200"]["limit"].startswith("<= 4 "), by_name["requests at 200"]
    assert by_name["closes at 200"]["ok"] is False


def test_the_limits_scenario_closes_every_eligible_session_without_failures(results: dict) -> None:
    limits = results["limits"]
    assert limits["eligible"] == 1000
    assert (limits["function"]["closed"], limits["function"]["failed"]) == (1000, 0)


def test_the_limits_ceiling_is_the_execution_budget_divided_by_the_cost_of_a_close(results: dict) -> None:
    # 1,200,000 ms per 300 s scaled to 2 s is 8,000 ms: 4,000 ms per second at 10 ms a close.
    assert results["limits"]["ceiling_per_s"] == 400


def test_the_throttled_baseline_reports_the_429s_the_simulator_answered(results: dict) -> None:
    limits = results["limits"]
    stats = limits["baseline"]["sim_stats"]
    answered = stats["limited_requests"] + stats["limited_execution_time"] + stats["limited_concurrency"]
    assert limits["baseline_figures"]["throttled"] == answered == limits["baseline"]["throttled"]
    assert answered > 0, "a 20-worker flow against 40 requests per 2 s must be throttled"


def test_the_chart_draws_each_series_of_each_panel(results: dict, bench: tuple[subprocess.CompletedProcess, Path]) -> None:
    _, out = bench
    svg = ElementTree.parse(out.parent / "bench.svg").getroot()
    titles = [line.findtext("{http://www.w3.org/2000/svg}title") for line in svg.iter("{http://www.w3.org/2000/svg}polyline")]
    # wall time and requests (function, baseline each), closes per second (ceiling, function, baseline)
    assert titles == ["function", "baseline", "function", "baseline", "ceiling", "function", "baseline"], titles


def test_a_missing_binary_is_reported_with_the_command_that_builds_it(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "200", "--limits-sessions", "0", "--out", str(tmp_path / "results.json")],
        cwd=ROOT,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and "run cargo build --release --workspace --bins" in run.stderr, run.stderr
