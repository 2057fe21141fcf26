"""scripts/bench.py on a small org (200 active sessions, 40 eligible) with the debug build.

The bench reports figures and asserts none of them; these tests check that it runs, that it
names every figure, and that what it records is consistent, not how fast anything is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench.py"
BENCH_SECONDS = 300


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess, Path]:
    """One debug build (quick when already built), then one bench run of 200 sessions."""
    build = subprocess.run(
        ["cargo", "build", "--workspace", "--bins"], cwd=ROOT, capture_output=True, text=True
    )
    assert build.returncode == 0, f"cargo build --workspace --bins failed:\n{build.stderr[-4000:]}"
    out = tmp_path_factory.mktemp("bench") / "results.json"
    run = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "200", "--profile", "debug", "--out", str(out)],
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


def test_the_bench_of_a_small_org_exits_with_success(bench: tuple[subprocess.CompletedProcess, Path]) -> None:
    run, _ = bench
    assert run.returncode == 0, run.stdout + run.stderr


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
    ],
)
def test_the_output_names_each_figure(bench: tuple[subprocess.CompletedProcess, Path], figure: str) -> None:
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


def test_the_recorded_figures_are_all_measured(results: dict) -> None:
    function = results["runs"][0]["function"]
    measured = {key: function[key] for key in ("wall_s", "startup_ms", "peak_rss_mib", "closed_per_s")}
    assert all(isinstance(value, float) and value > 0 for value in measured.values()), measured
    assert results["binary"]["bytes"] > 0


def test_a_missing_binary_is_reported_with_the_command_that_builds_it(tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH), "--sizes", "200", "--out", str(tmp_path / "results.json")],
        cwd=ROOT,
        env={**os.environ, "CARGO_TARGET_DIR": str(tmp_path / "target")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode != 0 and "run cargo build --release --workspace --bins" in run.stderr, run.stderr
