"""The local stand-ins one bench run needs: dataverse-sim started with the run's settings,
moto's Secrets Manager, the data set's own count of eligible sessions (read from the simulator
before anything runs, so no figure the function reports decides a target), and a sampler of the
simulator's counters over time (for closes per second against time)."""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

import localstack
from localstack import ROOT, VENV_BIN, Processes, StepError, announced_url

VENV_PYTHON = VENV_BIN / "python"
MOTO_GUARD = ROOT / "tests" / "integration" / "support" / "moto_guard.py"
NOT_ANNOUNCED = "did not announce its URL within"
SESSIONS = "w4d_chatsessions"
CONFIGURATIONS = "w4d_whatsappconfigurations"


@dataclass
class SimSettings:
    """How one dataverse-sim is started; every field is printed with the report."""

    sessions: int
    eligible_ratio: float
    latency_ms: int
    operation_cost_ms: int
    dop_hint: int | None = None  # None: the simulator's default
    window_s: float | None = None  # None: no limits
    max_requests: int | None = None
    max_execution_ms: int | None = None
    max_concurrent: int | None = None

    def args(self) -> list[str]:
        return ["--sessions", str(self.sessions), "--eligible-ratio", str(self.eligible_ratio), *self.model_args()]

    def model_args(self) -> list[str]:
        """The flags that shape how the simulator answers (not which data it holds)."""
        args = [
            "--latency-ms", str(self.latency_ms),
            "--operation-cost-ms", str(self.operation_cost_ms),
        ]
        if self.dop_hint is not None:
            args += ["--dop-hint", str(self.dop_hint)]
        if self.window_s is not None:
            args += ["--limit-window-ms", str(round(self.window_s * 1000))]
        for flag, value in (
            ("--max-requests", self.max_requests),
            ("--max-execution-ms", self.max_execution_ms),
            ("--max-concurrent", self.max_concurrent),
        ):
            if value is not None:
                args += [flag, str(value)]
        return args


def start_sim(processes: Processes, sim: Path, name: str, settings: SimSettings) -> tuple[subprocess.Popen, str]:
    return localstack.start_sim(processes, sim, settings.args(), name=name, late=NOT_ANNOUNCED)


def start_moto(processes: Processes) -> str:
    if not VENV_PYTHON.is_file():
        raise StepError(".venv/bin/python not found: run make venv")
    process, log = processes.start("moto", [str(VENV_PYTHON), str(MOTO_GUARD)])
    what = "moto (tests/integration/support/moto_guard.py)"
    return str(processes.wait_for(what, lambda: announced_url(log), process, log, NOT_ANNOUNCED))


def get_json(url: str, timeout: float = 60) -> object:
    with urllib.request.urlopen(url, timeout=timeout) as answer:
        return json.load(answer)


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def count_eligible(sim_url: str, now: datetime | None = None) -> dict:
    """Active sessions, and those past their configuration's timeout, counted from the rows
    the simulator holds (its admin endpoint), before any sweep runs."""
    now = now or datetime.now(timezone.utc)
    configurations = get_json(f"{sim_url}/_sim/tables/{CONFIGURATIONS}")
    timeouts = {
        row["w4d_whatsappconfigurationid"]: timedelta(minutes=float(row["w4d_sessiontimeout"]))
        for row in configurations
        if row.get("statecode") == 0
    }
    active = eligible = 0
    for row in get_json(f"{sim_url}/_sim/tables/{SESSIONS}", timeout=120):
        if row.get("statecode") != 0:
            continue
        active += 1
        timeout = timeouts.get(row.get("_w4d_configurationid_value") or "")
        last = _parse_time(row.get("w4d_lastcustomermessageon")) or _parse_time(row.get("createdon"))
        if timeout is not None and last is not None and now >= last + timeout:
            eligible += 1
    return {"active": active, "eligible": eligible}


def ceil_div(a: int, b: int) -> int:
    return math.ceil(a / b) if b else 0


@dataclass
class StatsSampler:
    """Polls the simulator's counters every `period` seconds on a thread until stopped."""

    sim_url: str
    period: float = 0.5
    samples: list[dict] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        started = time.monotonic()

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    stats = get_json(f"{self.sim_url}/_sim/stats", timeout=5)
                except OSError:
                    stats = None
                if isinstance(stats, dict):
                    self.samples.append({"t": time.monotonic() - started, **stats})
                self._stop.wait(self.period)

        self._thread = threading.Thread(target=loop, name="stats-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> list[dict]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        return self.samples
