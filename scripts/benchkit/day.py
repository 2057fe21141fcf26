"""The day scenario's four strategies, each on its own dataverse-sim with the same workload, in
virtual time: the function with close-on-time (the rate rule plus the one-time schedules it
writes to moto's EventBridge Scheduler, fired by the virtual scheduler), the function on
`rate(5 minutes)` without the wake-up, and the Power Automate flow's shape every 12 hours and
every 5 minutes. Nothing sleeps: the simulator answers at once and each invocation's duration
is the latency model's (the same 20 ms per request and 10 ms per operation as `make bench`),
so the timeline stays consistent while the day runs in seconds.
"""

from __future__ import annotations

import json
import math
import subprocess
import time
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import localstack
from localstack import REGION, SIM_CLIENT_ID, SIM_CLIENT_SECRET, TENANT, Processes, StepError, function_environment, store_secret

from .keepalive import KeepAlive
from .stand_ins import NOT_ANNOUNCED, get_json
from .timeline import AGENT_COLUMN, CONFIGURATIONS, CUSTOMER_COLUMN, SESSIONS, Timeline
from .vscheduler import VirtualScheduler
from .workload import START, Session, WorkloadSettings, stamp

LATENCY_MS = 20.0
OPERATION_COST_MS = 10.0
AWS_CALL_MS = 20.0  # an assumption: one Secrets Manager or Scheduler call from inside Lambda
IN_FLIGHT = 4  # the simulator's dop hint and the default CLOSE_CONCURRENCY
FLOW_WORKERS = 20  # as in make bench: generous, Apply to each is sequential by default
PAGE_SIZE = 5000
MEMORY_GB = 128 / 1024  # the template's MemorySize
FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:session-sweeper-day"
ROLE_ARN = "arn:aws:iam::123456789012:role/session-sweeper-day-scheduler"


@dataclass(frozen=True)
class Strategy:
    """How one strategy is run: the function or the flow's shape, its rate, the wake-up."""

    name: str
    kind: str  # "function" or "flow"
    rate_s: int
    wake: bool = False

    @property
    def grace_s(self) -> int:
        """How long it runs past the measured days, so that sessions eligible near the end are
        closed (or not) as they would be: one interval, or ten minutes with the wake-up."""
        return 600 if self.wake else self.rate_s + 60


STRATEGIES = (
    Strategy("close-on-time", "function", 12 * 3600, wake=True),
    Strategy("rate(5 minutes)", "function", 300),
    Strategy("flow, 12 hours", "flow", 12 * 3600),
    Strategy("flow, 5 minutes", "flow", 300),
)


def function_duration_ms(delta: dict, wake: bool) -> float:
    """An invocation's duration under the latency model, from the simulator's counters: the
    reads one after another, the `$batch` requests `IN_FLIGHT` at a time (each round paying
    the latency once, the operations running in parallel; the next eligibility's batch of
    reads is counted among them, as the counters cannot tell it apart), and the scheduler's
    two calls."""
    batches, batch_ops = delta["batches"], delta["batch_operations"]
    web = delta["requests"] - delta["token_requests"]
    sequential = delta["token_requests"] * LATENCY_MS + (web - batches) * (LATENCY_MS + OPERATION_COST_MS)
    rounds = math.ceil(batches / IN_FLIGHT)
    closes = rounds * LATENCY_MS + batch_ops * OPERATION_COST_MS / max(1, min(IN_FLIGHT, batches))
    return sequential + closes + (2 * AWS_CALL_MS if wake else 0.0)


def flow_duration_ms(pages: int, patches: int) -> float:
    request = LATENCY_MS + OPERATION_COST_MS
    return (1 + pages) * request + math.ceil(patches / FLOW_WORKERS) * request


def flow_actions(pages: int, listed: int, due: int) -> int:
    """Power Platform requests of one run, every action counted as Microsoft counts them: the
    trigger, List rows of the configurations, List rows of the sessions once per page, Apply
    to each, its Condition once per listed session, Update a row once per session due."""
    return 1 + 1 + pages + 1 + listed + due


def seconds_of(text: str) -> float:
    """Seconds since START of an RFC 3339 instant."""
    return (datetime.fromisoformat(text.replace("Z", "+00:00")) - START).total_seconds()


def _delta(before: dict, after: dict) -> dict:
    return {key: after[key] - before.get(key, 0) for key in after if isinstance(after[key], (int, float))}


@dataclass
class Run:
    """What one strategy did: each invocation with its counters, and the rows at the end."""

    strategy: Strategy
    invocations: list[dict]
    rows: list[dict] | None = None

    def in_days(self, end_s: int) -> list[dict]:
        """The invocations that count for the measured days: after second 0 and up to the end.
        Every strategy runs at second 0 and at the end, and the day starts with nothing
        eligible left behind, so the run at second 0 stands for the end of the day before."""
        return [i for i in self.invocations if 0 < i["t"] <= end_s]


class Host:
    """scripts/virtual_lambda.rs as a child process: one JSON line in, one out."""

    def __init__(self, processes: Processes, binary: Path, env: dict[str, str], name: str) -> None:
        self.log = processes.log_dir / f"{name}.log"
        with open(self.log, "wb") as err:
            self.process = subprocess.Popen([str(binary)], env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                            stderr=err, start_new_session=True, text=True, bufsize=1)
        processes.started.append(self.process)
        ready = self._read()
        if not ready.get("ready"):
            raise StepError(f"the virtual function did not start: {ready}\n{processes.tail(self.log)}")

    def _read(self) -> dict:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise StepError(f"the virtual function exited (code {self.process.poll()}); see {self.log}")
        return json.loads(line)

    def invoke(self, t: int, event: dict, wait: Callable[[int], int]) -> dict:
        """One invocation at second `t`. When it waits for a moment (a wake-up written ahead
        of it), `wait` is called with that second and answers the second virtual time was
        moved to, which the function's clock then reads."""
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"now": stamp(t), "event": event}) + "\n")
        while True:
            answer = self._read()
            if "wait_until" not in answer:
                return answer
            moved = wait(math.ceil(seconds_of(answer["wait_until"])))
            self.process.stdin.write(json.dumps({"now": stamp(moved)}) + "\n")


class Stage:
    """One strategy's simulator, its timeline and its counters."""

    def __init__(self, processes: Processes, sim_binary: Path, strategy: Strategy, sessions: list[Session],
                 settings: WorkloadSettings, end_s: int) -> None:
        self.strategy = strategy
        self.processes = processes
        tag = strategy.name.replace(" ", "").replace(",", "-").replace("(", "").replace(")", "")
        self.tag = tag
        self.sim, self.sim_url = localstack.start_sim(processes, sim_binary, ["--dop-hint", str(IN_FLIGHT)], name=f"day-sim-{tag}", late=NOT_ANNOUNCED)
        self.client = KeepAlive(self.sim_url)
        self.timeline = Timeline(self.client, sessions, settings.configurations)
        self.timeline.start()
        self.stats = self._stats()
        self.run = Run(strategy, [])

    def _stats(self) -> dict:
        stats = self.client.json("GET", "/_sim/stats")
        assert isinstance(stats, dict)
        return stats

    def before(self, t: int) -> None:
        """Advances the data to `t`."""
        self.timeline.advance(t)

    def record(self, t: int, trigger: str, extra: dict, duration_ms: float | None = None, swept_t: int | None = None) -> dict:
        """`swept_t`: the second the sweep ran at, after waiting inside the invocation since
        `t`; the invocation's duration (its GB-seconds) is the wait plus the sweep."""
        after = self._stats()
        delta = _delta(self.stats, after)
        self.stats = after
        if duration_ms is None:
            duration_ms = function_duration_ms(delta, self.strategy.wake)
        swept_t = t if swept_t is None else swept_t
        wait_ms = (swept_t - t) * 1000.0
        entry = {"t": t, "trigger": trigger, "swept_t": swept_t, "wait_ms": wait_ms, "sweep_ms": duration_ms,
                 "duration_ms": wait_ms + duration_ms, **{k: delta.get(k, 0) for k in (
            "requests", "token_requests", "reads", "patches", "batches", "batch_operations")},
            "rows_read": delta.get("rows_served", 0), **extra}
        self.run.invocations.append(entry)
        return entry

    def finish(self) -> Run:
        rows = get_json(f"{self.sim_url}/_sim/tables/{SESSIONS}", timeout=120)
        assert isinstance(rows, list)
        self.run.rows = rows
        self.processes.stop(self.sim)
        return self.run


def run_function(stage: Stage, processes: Processes, host_binary: Path, moto_url: str, scheduler_client,
                 seed: int, horizon_s: int, rate_event: dict) -> Run:
    strategy = stage.strategy
    secret_id = f"session-sweeper/day-{stage.tag}-{int(time.time() * 1000)}"
    store_secret(moto_url, secret_id, stage.sim_url)
    env = function_environment({"VIRTUAL_FUNCTION_ARN": FUNCTION_ARN}, moto_url, secret_id, rust_log="off")
    env["SESSION_LAST_AGENT_MESSAGE_COLUMN"] = AGENT_COLUMN
    schedule = f"day-wake-{stage.tag}"
    if strategy.wake:
        env.update({"WAKE_SCHEDULE_NAME": schedule, "WAKE_ROLE_ARN": ROLE_ARN})
    host = Host(processes, host_binary, env, f"day-function-{stage.tag}")
    scheduler = VirtualScheduler(scheduler_client, schedule, seed=seed) if strategy.wake else None
    next_rate = 0
    try:
        # The scheduler fires no earlier than the write that set it, at the end of the last sweep.
        written = 0
        while True:
            firing = scheduler.pending if scheduler else None
            if firing and firing.fire_s <= next_rate:
                t, trigger, event = max(written, firing.fire_s), "wake", firing.event
                scheduler.take()  # type: ignore[union-attr]
            else:
                t, trigger, event = next_rate, "rate", rate_event
                next_rate += strategy.rate_s
            if t >= horizon_s:
                break
            stage.before(t)
            swept = [t]

            def wait(until: int) -> int:
                # What happened while the function waited is in the data when it sweeps.
                swept[0] = max(swept[0], until)
                stage.before(swept[0])
                return swept[0]

            answer = host.invoke(t, event, wait)
            error = answer.get("error")
            if scheduler:
                scheduler.poll()
            entry = stage.record(t, trigger, {"wall_ms": answer.get("wall_ms"), "error": error, "wake_at": scheduler_at(scheduler)},
                                 swept_t=swept[0])
            written = swept[0] + math.ceil(entry["sweep_ms"] / 1000)
    finally:
        processes.stop(host.process)
    return stage.finish()


def scheduler_at(scheduler: VirtualScheduler | None) -> int | None:
    return scheduler.pending.at_s if scheduler and scheduler.pending else None


class VirtualFlow:
    """The flow's shape in virtual time (as in make bench): list the active sessions page by
    page, then Apply to each: a Condition (an agent answered the customer's last message, and
    that message is one timeout old), and for those that pass one Update a row (PATCH with
    If-Match). Each thread keeps its connection open, as the flow's connector does."""

    def __init__(self, sim_url: str, client: KeepAlive) -> None:
        self.api = f"{sim_url}/api/data/v9.2/"
        form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": SIM_CLIENT_ID,
                                       "client_secret": SIM_CLIENT_SECRET, "scope": f"{sim_url}/.default"}).encode()
        with urllib.request.urlopen(urllib.request.Request(f"{sim_url}/{TENANT}/oauth2/v2.0/token", data=form), timeout=60) as answer:
            token = json.load(answer)["access_token"]
        self.headers = {"Accept": "application/json", "OData-Version": "4.0", "Authorization": f"Bearer {token}"}
        self.client = client

    def _get(self, url: str) -> dict:
        page = self.client.json("GET", url, {**self.headers, "Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
        assert isinstance(page, dict)
        return page

    def run(self, t: int) -> dict:
        active = "$filter=" + urllib.parse.quote("statecode eq 0")
        configurations = self._get(f"{self.api}{CONFIGURATIONS}?$select=w4d_whatsappconfigurationid,w4d_sessiontimeout&{active}")
        cutoffs = {c["w4d_whatsappconfigurationid"]: stamp(t - int(c["w4d_sessiontimeout"]) * 60) for c in configurations["value"]}
        columns = f"w4d_chatsessionid,{CUSTOMER_COLUMN},{AGENT_COLUMN},_w4d_configurationid_value"
        url: str | None = f"{self.api}{SESSIONS}?$select={columns}&{active}"
        due: list[tuple[str, str]] = []
        pages = listed = 0
        while url:
            page = self._get(url)
            pages += 1
            listed += len(page["value"])
            for row in page["value"]:
                if flow_would_close(row, cutoffs):
                    due.append((row["w4d_chatsessionid"], row["@odata.etag"]))
            url = page.get("@odata.nextLink")
        with ThreadPoolExecutor(max_workers=8) as pool:
            statuses = list(pool.map(self._close, due))
        return {"pages": pages, "listed": listed, "due": len(due), "closed": statuses.count(204),
                "actions": flow_actions(pages, listed, len(due))}

    def _close(self, item: tuple[str, str]) -> int:
        session, etag = item
        headers = {**self.headers, "Content-Type": "application/json", "If-Match": etag}
        status, _ = self.client.send("PATCH", f"{self.api}{SESSIONS}({session})", headers, json.dumps({"statecode": 1, "statuscode": 2}).encode())
        return status


def flow_would_close(row: dict, cutoffs: dict[str, str]) -> bool:
    """The flow's Condition on one listed row: an agent answered the customer's last message,
    and that message is at or before its configuration's cutoff (the run's moment less the
    timeout, as `YYYY-MM-DDTHH:MM:SSZ`). Compared as text, which is the order of time for
    that format; a text in another format is compared as a time."""
    cutoff = cutoffs.get(row.get("_w4d_configurationid_value") or "")
    customer, agent = row.get(CUSTOMER_COLUMN), row.get(AGENT_COLUMN)
    if cutoff is None or not customer or not agent:
        return False
    if not (len(customer) == len(agent) == 20 and customer[19] == agent[19] == "Z"):
        customer, agent = seconds_of(customer), seconds_of(agent)
        return agent >= customer and customer <= seconds_of(cutoff)
    return agent >= customer and customer <= cutoff


def run_flow(stage: Stage, horizon_s: int) -> Run:
    flow = VirtualFlow(stage.sim_url, stage.client)
    t = 0
    while t < horizon_s:
        stage.before(t)
        figures = flow.run(t)
        stage.record(t, "recurrence", figures, duration_ms=flow_duration_ms(figures["pages"], figures["due"]))
        t += stage.strategy.rate_s
    return stage.finish()


def scheduler_client(moto_url: str):
    import boto3

    return boto3.client("scheduler", endpoint_url=moto_url, region_name=REGION,
                        aws_access_key_id="testing", aws_secret_access_key="testing")
