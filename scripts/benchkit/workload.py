"""The day scenario's workload, generated from a seed: configurations, sessions arriving on a
business-day curve, and each session's customer messages and agent replies; and, from those
messages alone, when each session is eligible to be closed (the data set's own answer, which
every strategy's closes are judged against).

A session opens with a customer message; each customer message gets an agent reply (quickly,
late, or, for the last message of a few sessions, never), and some customers write again,
a few of them close to the timeout, so that some sessions are saved by a late message and
some wait on an agent. The rule is the function's: a session is eligible when an agent wrote
at or after the customer's last message and that message is one timeout old; a session whose
customer wrote last is never eligible. Standard library only.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

DAY_S = 86_400
# A Tuesday: the day before it, whose sessions are still open when the day starts, is a
# business day too. A week then runs Tuesday to Monday.
START = datetime(2026, 11, 24, tzinfo=timezone.utc)
# Arrivals per hour of a business day, relative (a peak by day, a trickle at night).
BUSINESS_CURVE = (0.15, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.9, 1.8, 2.6, 2.8, 2.7,
                  2.2, 2.5, 2.7, 2.6, 2.3, 1.8, 1.2, 0.9, 0.7, 0.5, 0.3, 0.2)
NO_REPLY = math.inf


@dataclass(frozen=True)
class Configuration:
    """One WhatsApp configuration: its id, name, timeout and share of the sessions."""

    id: str
    name: str
    timeout_minutes: int
    share: float


DEFAULT_CONFIGURATIONS = (
    Configuration("c0000000-0000-4000-8000-000000001440", "1 day", 1440, 0.5),
    Configuration("c0000000-0000-4000-8000-000000000240", "4 hours", 240, 0.3),
    Configuration("c0000000-0000-4000-8000-000000000030", "30 minutes", 30, 0.2),
)


@dataclass(frozen=True)
class WorkloadSettings:
    """Everything the generator takes; printed with the report."""

    seed: int = 23
    sessions_per_day: int = 20_000
    days: int = 1
    weekend_factor: float = 0.3  # Saturday and Sunday get this share of a weekday's sessions
    configurations: tuple[Configuration, ...] = DEFAULT_CONFIGURATIONS
    max_customer_messages: int = 4  # per session, the first one included
    agent_reply_mean_s: float = 180.0
    slow_agent_share: float = 0.1  # a reply after one to six hours
    no_reply_share: float = 0.02  # the last customer message is never answered
    follow_up_mean_s: float = 300.0
    late_message_share: float = 0.05  # a follow-up at 0.8 to 1.3 timeouts: some come too late
    # Sessions that arrive this long before the day are in the data set when it starts.
    warm_up_days: int = 2

    def day_sessions(self, day: int) -> int:
        """Sessions arriving on day `day` (0 is the first measured day; negative: warm-up)."""
        weekday = (START + timedelta(days=day)).weekday()
        factor = self.weekend_factor if weekday >= 5 else 1.0
        return round(self.sessions_per_day * factor)


@dataclass
class Session:
    """One session's messages, in seconds since START."""

    id: str
    configuration: Configuration
    opened: int
    customer: list[int] = field(default_factory=list)
    agent: list[int] = field(default_factory=list)

    @property
    def timeout_s(self) -> int:
        return self.configuration.timeout_minutes * 60

    def events(self) -> list[tuple[int, str]]:
        """(second, "customer" | "agent"), in order; at equal seconds the customer first."""
        return sorted([(t, "customer") for t in self.customer] + [(t, "agent") for t in self.agent],
                      key=lambda e: (e[0], e[1] != "customer"))

    def eligible_intervals(self) -> list[tuple[int, float]]:
        """[start, end) of every stretch during which the session may be closed: from the
        moment an agent has answered the customer's last message and that message is one
        timeout old, until the customer writes again (math.inf when they never do)."""
        intervals: list[tuple[int, float]] = []
        last_customer: int | None = None
        answered_at: int | None = None
        for t, kind in self.events() + [(math.inf, "customer")]:  # type: ignore[list-item]
            if kind == "agent":
                if last_customer is not None and answered_at is None:
                    answered_at = t
                continue
            if last_customer is not None and answered_at is not None:
                start = max(last_customer + self.timeout_s, answered_at)
                if start < t:
                    intervals.append((start, t))
            last_customer, answered_at = (None if t == math.inf else t), None  # type: ignore[assignment]
        return intervals

    def eligible_at(self, t: float) -> bool:
        return any(start <= t < end for start, end in self.eligible_intervals())

    def state_at(self, t: float) -> dict:
        """The last customer and agent message at or before `t` (None when none yet)."""
        customer = max((m for m in self.customer if m <= t), default=None)
        agent = max((m for m in self.agent if m <= t), default=None)
        return {"customer": customer, "agent": agent}


def arrival_seconds(rng: random.Random, count: int, day: int) -> list[int]:
    """`count` arrivals on day `day`, apportioned to the hours by the curve (largest
    remainder, so the day's total is exact) and uniform within each hour."""
    total = sum(BUSINESS_CURVE)
    quotas = [count * w / total for w in BUSINESS_CURVE]
    per_hour = [math.floor(q) for q in quotas]
    for hour in sorted(range(24), key=lambda h: quotas[h] - per_hour[h], reverse=True)[: count - sum(per_hour)]:
        per_hour[hour] += 1
    base = day * DAY_S
    return sorted(base + hour * 3600 + rng.randrange(3600) for hour, n in enumerate(per_hour) for _ in range(n))


def _pick_configuration(rng: random.Random, configurations: tuple[Configuration, ...]) -> Configuration:
    return rng.choices(configurations, weights=[c.share for c in configurations])[0]


def _conversation(rng: random.Random, settings: WorkloadSettings, session: Session) -> None:
    """Fills in the customer messages and agent replies after the opening message."""
    t = session.opened
    messages = rng.randint(1, settings.max_customer_messages)
    for index in range(messages):
        session.customer.append(t)
        last = index == messages - 1
        if last and rng.random() < settings.no_reply_share:
            return
        if rng.random() < settings.slow_agent_share:
            reply = rng.randint(3600, 6 * 3600)
        else:
            reply = max(10, round(rng.expovariate(1 / settings.agent_reply_mean_s)))
        session.agent.append(t + reply)
        if last:
            return
        if rng.random() < settings.late_message_share:
            gap = round(session.timeout_s * rng.uniform(0.8, 1.3))
        else:
            gap = max(5, round(rng.expovariate(1 / settings.follow_up_mean_s)))
        t = t + reply + gap


def generate(settings: WorkloadSettings, through_s: int) -> list[Session]:
    """Every session arriving from the warm-up until `through_s` (seconds since START), in
    order of arrival. The same settings always give the same sessions."""
    rng = random.Random(settings.seed)
    sessions: list[Session] = []
    last_day = math.ceil(through_s / DAY_S)
    for day in range(-settings.warm_up_days, last_day):
        for opened in arrival_seconds(rng, settings.day_sessions(day), day):
            if opened >= through_s:
                break
            number = len(sessions)
            session = Session(f"5e550000-0000-4000-8000-{number:012d}", _pick_configuration(rng, settings.configurations), opened)
            _conversation(rng, settings, session)
            sessions.append(session)
    return sessions


def at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def stamp(seconds: float) -> str:
    return at(seconds).strftime("%Y-%m-%dT%H:%M:%SZ")
