"""One sweep by the built function: a fresh simulator, the secret in moto, the function as a
process against the Runtime API stub, one event; the figures of that sweep."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

from localstack import Processes, StepError, function_environment, store_secret

from .runtime_api import INVOKE_SECONDS, RuntimeApi
from .stand_ins import SimSettings, StatsSampler, count_eligible, get_json, start_sim

STARTUP_SECONDS = 120  # generating 100,000 rows takes the simulator a moment


def peak_rss_kib(pid: int) -> int | None:
    """VmHWM (the process's peak resident set) in KiB, or None if /proc cannot say."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def run_function(
    processes: Processes,
    paths: dict[str, Path],
    moto_url: str,
    name: str,
    settings: SimSettings,
    function_env: dict[str, str],
    event: bytes,
    sample: bool = False,
) -> dict:
    """`function_env` is set on top of the function's defaults; `sample` records the
    simulator's counters every half second (for closes per second over time)."""
    sim, sim_url = start_sim(processes, paths["sim"], f"sim-{name}", settings)
    runtime = RuntimeApi(event)
    sampler = StatsSampler(sim_url) if sample else None
    function = None
    try:
        dataset = count_eligible(sim_url)
        secret_id = f"session-sweeper/bench-{name}-{uuid.uuid4().hex[:8]}"
        store_secret(moto_url, secret_id, sim_url)
        lambda_variables = {
            "AWS_LAMBDA_RUNTIME_API": runtime.address,
            "AWS_LAMBDA_FUNCTION_NAME": "session-sweeper-bench",
            "AWS_LAMBDA_FUNCTION_VERSION": "1",
        }
        env = function_environment(lambda_variables, moto_url, secret_id, rust_log="warn")
        env.update(function_env)
        if sampler:
            sampler.start()
        spawned = time.monotonic()
        function, log = processes.start(f"function-{name}", [str(paths["function"])], env)
        _wait_for_answer(processes, runtime, function, log, spawned)
        # Read right after the answer and before the process is stopped.
        rss_kib = peak_rss_kib(function.pid)
        samples = sampler.stop() if sampler else []
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
            "dataset": dataset,
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
            "samples": samples,
        }
    finally:
        if sampler:
            sampler.stop()
        if function is not None:
            processes.stop(function)
        runtime.close()
        processes.stop(sim)


def _wait_for_answer(processes: Processes, runtime: RuntimeApi, function, log: Path, spawned: float) -> None:
    deadline = spawned + INVOKE_SECONDS + STARTUP_SECONDS
    while not runtime.done.wait(0.05):
        if function.poll() is not None:
            raise StepError(f"the function exited with code {function.returncode} without answering:\n{processes.tail(log)}")
        if time.monotonic() > deadline:
            raise StepError(f"the function did not answer within {INVOKE_SECONDS} s:\n{processes.tail(log)}")
