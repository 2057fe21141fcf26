"""The Power Automate flow's shape, as a plain HTTP client: get a token (the connector does
this), read the configurations, list the active sessions page by page, keep those past their
timeout (a Condition, no request), then Apply to each: one PATCH with If-Match per session,
`workers` at a time. A 429 is retried after its `Retry-After`, as the connector's default
retry policy does."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

from localstack import SIM_CLIENT_ID, SIM_CLIENT_SECRET, TENANT, Processes, StepError

from .stand_ins import CONFIGURATIONS, SESSIONS, SimSettings, StatsSampler, count_eligible, get_json, start_sim

PAGE_SIZE = 5000  # Dataverse's default and largest page
# Power Automate's Apply to each runs one item at a time by default; with concurrency control
# on it runs up to 50 at once, 20 by default. 20 workers is therefore generous to the flow.
BASELINE_WORKERS = 20
NOT_SENT = -1  # a close the time limit stopped before it was sent


class Flow:
    """One run's HTTP client: the token, the request count and the 429s it met."""

    def __init__(self, sim_url: str) -> None:
        self.sim_url = sim_url
        self.api = f"{sim_url}/api/data/v9.2/"
        self.sent = 0
        self.throttled = 0
        self._lock = threading.Lock()
        self.headers = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"}

    def send(self, request: urllib.request.Request) -> tuple[int, bytes]:
        """Status and body; a 429 waits its Retry-After (2 s without one) and is sent again."""
        while True:
            with self._lock:
                self.sent += 1
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    return answer.status, answer.read()
            except urllib.error.HTTPError as error:
                if error.code != 429:
                    return error.code, error.read()
                with self._lock:
                    self.throttled += 1
                time.sleep(float(error.headers.get("Retry-After") or 2))

    def sign_in(self) -> None:
        form = urllib.parse.urlencode(
            {"grant_type": "client_credentials", "client_id": SIM_CLIENT_ID,
             "client_secret": SIM_CLIENT_SECRET, "scope": f"{self.sim_url}/.default"}
        ).encode()
        _, body = self.send(urllib.request.Request(f"{self.sim_url}/{TENANT}/oauth2/v2.0/token", data=form, method="POST"))
        self.headers["Authorization"] = f"Bearer {json.loads(body)['access_token']}"

    def get(self, url: str, extra: dict[str, str] | None = None) -> dict:
        status, body = self.send(urllib.request.Request(url, headers={**self.headers, **(extra or {})}))
        if status != 200:
            raise StepError(f"GET {url} answered {status}: {body[:300]!r}")
        return json.loads(body)


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text.replace("Z", "+00:00")) if text else None


def _list_eligible(flow: Flow) -> tuple[list[tuple[str, str]], int, int]:
    """The eligible sessions with their ETags, the rows listed and the pages read."""
    active = "$filter=" + urllib.parse.quote("statecode eq 0")
    configurations = flow.get(
        f"{flow.api}{CONFIGURATIONS}?$select=w4d_whatsappconfigurationid,w4d_sessiontimeout&{active}"
    )["value"]
    timeouts = {
        row["w4d_whatsappconfigurationid"]: timedelta(minutes=float(row["w4d_sessiontimeout"]))
        for row in configurations
    }
    only = next(iter(timeouts.values())) if len(timeouts) == 1 else None
    now = datetime.now(timezone.utc)
    eligible: list[tuple[str, str]] = []
    listed = pages = 0
    url: str | None = (
        f"{flow.api}{SESSIONS}?$select=w4d_chatsessionid,w4d_lastcustomermessageon,createdon,"
        f"_w4d_configurationid_value&{active}"
    )
    while url:
        page = flow.get(url, {"Prefer": f"odata.maxpagesize={PAGE_SIZE}"})
        pages += 1
        for row in page["value"]:
            listed += 1
            timeout = timeouts.get(row.get("_w4d_configurationid_value") or "", only)
            last = _parse_time(row.get("w4d_lastcustomermessageon")) or _parse_time(row.get("createdon"))
            if timeout is not None and last is not None and now >= last + timeout:
                eligible.append((row["w4d_chatsessionid"], row["@odata.etag"]))
        url = page.get("@odata.nextLink")
    return eligible, listed, pages


def run_baseline(
    processes: Processes,
    paths: dict[str, Path],
    name: str,
    settings: SimSettings,
    workers: int,
    stop_after_s: float | None = None,
    sample: bool = False,
) -> dict:
    """`stop_after_s` stops sending new closes after that long (a throttled flow can take an
    hour); the closes never sent are reported as `not_sent`."""
    sim, sim_url = start_sim(processes, paths["sim"], f"sim-{name}", settings)
    sampler = StatsSampler(sim_url) if sample else None
    try:
        dataset = count_eligible(sim_url)
        if sampler:
            sampler.start()
        started = time.monotonic()
        flow = Flow(sim_url)
        flow.sign_in()
        eligible, listed, pages = _list_eligible(flow)
        body = json.dumps({"statecode": 1, "statuscode": 2}).encode()

        def close(item: tuple[str, str]) -> int:
            if stop_after_s is not None and time.monotonic() - started > stop_after_s:
                return NOT_SENT
            session, etag = item
            request = urllib.request.Request(
                f"{flow.api}{SESSIONS}({session})",
                data=body,
                method="PATCH",
                headers={**flow.headers, "Content-Type": "application/json", "If-Match": etag},
            )
            return flow.send(request)[0]

        with ThreadPoolExecutor(max_workers=workers) as pool:
            statuses = list(pool.map(close, eligible))
        wall = time.monotonic() - started
        samples = sampler.stop() if sampler else []
        stats = get_json(f"{sim_url}/_sim/stats")
        closed = sum(1 for status in statuses if status in (200, 204))
        return {
            "dataset": dataset,
            "workers": workers,
            "wall_s": wall,
            "listed": listed,
            "pages": pages,
            "eligible": len(eligible),
            "closed": closed,
            "skipped": sum(1 for status in statuses if status == 412),
            "failed": sum(1 for status in statuses if status not in (200, 204, 412, NOT_SENT)),
            "not_sent": sum(1 for status in statuses if status == NOT_SENT),
            "client_requests": flow.sent,
            "throttled": flow.throttled,
            "sim_requests": stats.get("requests"),
            "sim_stats": stats,
            "closed_per_s": closed / wall if wall > 0 else None,
            "samples": samples,
        }
    except (urllib.error.URLError, OSError, KeyError, ValueError) as error:
        raise StepError(f"the baseline flow failed against {sim_url}: {error}") from error
    finally:
        if sampler:
            sampler.stop()
        processes.stop(sim)
