"""EventBridge Scheduler in virtual time, for the day scenario: it reads back the one-time
schedule the function wrote to moto and fires it as the real service does. EventBridge
Scheduler invokes targets with 60-second precision even with the flexible time window off: a
schedule set for 1:00 runs between 1:00:00 and 1:00:59 ("Schedule types in EventBridge
Scheduler"). So a schedule whose `at()` names a second fires at a uniformly random second of
that second's minute, drawn from a seed: never before the minute begins, never after it ends,
and possibly before the second it names (the function writes the minute before the moment it
wants and waits inside the invocation; the day loop never fires a write before it was made).
Each write fires once.

Also the rate rule: `rate(N unit)` fires at every multiple of its interval from the start.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from .workload import START

AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
UNIT_S = {"minute": 60, "hour": 3600, "day": 86_400}


class SchedulerClient(Protocol):
    def get_schedule(self, **kwargs: object) -> dict: ...


@dataclass(frozen=True)
class Firing:
    """One write of the schedule: the second its at() names, the second it fires, its input."""

    expression: str
    at_s: int
    fire_s: int
    event: dict
    key: str = ""


def at_seconds(expression: str) -> int:
    """Seconds since START of an `at(yyyy-mm-ddThh:mm:ss)` expression in UTC."""
    match = AT.match(expression)
    if not match:
        raise ValueError(f"not a one-time schedule expression: {expression!r}")
    moment = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return round((moment - START).total_seconds())


def rate_seconds(expression: str) -> int:
    """The interval of a `rate(N unit)` expression, in seconds."""
    match = RATE.match(expression)
    if not match:
        raise ValueError(f"not a rate expression: {expression!r}")
    return int(match.group(1)) * UNIT_S[match.group(2).rstrip("s")]


def fire_second(at_s: int, rng: random.Random) -> int:
    """A uniformly random second of the minute `at_s` falls in."""
    return at_s - at_s % 60 + rng.randrange(60)


class VirtualScheduler:
    """The one wake-up schedule: `poll` after each invocation returns the pending firing, a
    new one when the function wrote a new time, and none once it has fired."""

    def __init__(self, client: SchedulerClient, name: str, group: str = "default", seed: int = 0) -> None:
        self.client, self.name, self.group = client, name, group
        self.rng = random.Random(seed)
        self.pending: Firing | None = None
        self.fired: set[str] = set()
        self.writes = 0

    def poll(self) -> Firing | None:
        try:
            schedule = self.client.get_schedule(Name=self.name, GroupName=self.group)
        except Exception as error:  # botocore's ResourceNotFoundException has no importable base here
            if "ResourceNotFound" in type(error).__name__ or "ResourceNotFound" in str(error):
                return self.pending
            raise
        expression = schedule["ScheduleExpression"]
        raw = schedule["Target"].get("Input") or "{}"
        # A write is its time and its input: the same minute may be written again for another moment.
        key = f"{expression} {raw}"
        if key in self.fired or (self.pending and self.pending.key == key):
            return self.pending
        at_s = at_seconds(expression)
        event = json.loads(raw.replace("<aws.scheduler.execution-id>", str(uuid.uuid4())))
        self.writes += 1
        self.pending = Firing(expression, at_s, fire_second(at_s, self.rng), event, key)
        return self.pending

    def take(self) -> Firing | None:
        """Marks the pending firing as fired and returns it."""
        firing, self.pending = self.pending, None
        if firing:
            self.fired.add(firing.key)
        return firing
