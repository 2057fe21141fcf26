"""The day scenario's parts (scripts/bench_day.py), without running a day: the workload
generator, the data set's eligibility, the virtual scheduler, and the judging of closes."""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from benchkit.day import Run, Strategy, flow_actions, flow_would_close, function_duration_ms  # noqa: E402
from benchkit.keepalive import KeepAlive  # noqa: E402
from benchkit.day_report import APPLICATION_USER_ID, figures, verdicts  # noqa: E402
from benchkit.vscheduler import VirtualScheduler, at_seconds, fire_second, rate_seconds  # noqa: E402
from benchkit.workload import DAY_S, DEFAULT_CONFIGURATIONS, Session, WorkloadSettings, generate, stamp  # noqa: E402

ONE_DAY, THIRTY_MINUTES = DEFAULT_CONFIGURATIONS[0], DEFAULT_CONFIGURATIONS[2]


@pytest.fixture(scope="module")
def week() -> tuple[WorkloadSettings, list[Session]]:
    settings = WorkloadSettings(sessions_per_day=4_000, days=7)
    return settings, generate(settings, 7 * DAY_S)


def test_each_day_gets_exactly_the_sessions_its_settings_ask_for(week: tuple[WorkloadSettings, list[Session]]) -> None:
    settings, sessions = week
    per_day = Counter(s.opened // DAY_S for s in sessions)
    expected = {day: settings.day_sessions(day) for day in range(-settings.warm_up_days, 7)}
    assert dict(per_day) == expected
    # The week starts on a Tuesday: days 4 and 5 are Saturday and Sunday.
    assert expected[0] == 4_000 and expected[4] == expected[5] == round(4_000 * settings.weekend_factor)


def test_the_configurations_get_their_shares_of_the_sessions(week: tuple[WorkloadSettings, list[Session]]) -> None:
    _, sessions = week
    counts = Counter(s.configuration for s in sessions)
    for configuration in DEFAULT_CONFIGURATIONS:
        assert counts[configuration] / len(sessions) == pytest.approx(configuration.share, abs=0.02), counts


def test_each_session_has_between_one_and_the_most_customer_messages_in_order(week: tuple[WorkloadSettings, list[Session]]) -> None:
    settings, sessions = week
    assert all(1 <= len(s.customer) <= settings.max_customer_messages for s in sessions)
    assert all(s.customer[0] == s.opened and s.customer == sorted(s.customer) for s in sessions)
    assert {len(s.customer) for s in sessions} == set(range(1, settings.max_customer_messages + 1))


def test_the_share_of_sessions_left_awaiting_an_agent_follows_the_setting(week: tuple[WorkloadSettings, list[Session]]) -> None:
    settings, sessions = week
    unanswered = sum(1 for s in sessions if len(s.agent) < len(s.customer)) / len(sessions)
    assert unanswered == pytest.approx(settings.no_reply_share, abs=0.005)


def test_arrivals_peak_by_day_and_trickle_at_night(week: tuple[WorkloadSettings, list[Session]]) -> None:
    _, sessions = week
    hours = Counter((s.opened % DAY_S) // 3600 for s in sessions if 0 <= s.opened < DAY_S)
    assert hours[10] > 10 * hours[3], hours


def test_the_same_seed_gives_the_same_workload_and_another_seed_another() -> None:
    first, again = generate(WorkloadSettings(sessions_per_day=500), DAY_S), generate(WorkloadSettings(sessions_per_day=500), DAY_S)
    other = generate(WorkloadSettings(sessions_per_day=500, seed=24), DAY_S)
    assert [(s.opened, s.customer, s.agent) for s in first] == [(s.opened, s.customer, s.agent) for s in again]
    assert [s.customer for s in first] != [s.customer for s in other]


def session(customer: list[int], agent: list[int], configuration=THIRTY_MINUTES) -> Session:
    return Session("5e550000-0000-4000-8000-000000000001", configuration, customer[0], customer, agent)


def test_a_session_is_eligible_one_timeout_after_the_customers_message_once_an_agent_answered() -> None:
    assert session([0], [60]).eligible_intervals() == [(1800, float("inf"))]


def test_an_agent_answering_after_the_timeout_makes_the_session_eligible_at_the_reply() -> None:
    assert session([0], [5000]).eligible_intervals() == [(5000, float("inf"))]


def test_a_session_whose_customer_wrote_last_is_never_eligible() -> None:
    assert session([0, 600], [60]).eligible_intervals() == []


def test_a_late_customer_message_ends_the_eligibility_it_interrupts() -> None:
    s = session([0, 2000], [60, 2030])
    assert s.eligible_intervals() == [(1800, 2000), (3800, float("inf"))]
    assert s.eligible_at(1900) and not s.eligible_at(2500)


class FakeScheduler:
    """GetSchedule as moto answers it, for the schedule the function last wrote."""

    def __init__(self) -> None:
        self.expression: str | None = None
        self.detail: dict = {}

    def write(self, seconds: int, sweep_at: int | None = None) -> None:
        self.expression = f"at({stamp(seconds)[:-1]})"
        self.detail = {} if sweep_at is None else {"sweep_at": stamp(sweep_at)}

    def get_schedule(self, **_: object) -> dict:
        if self.expression is None:
            raise LookupError("ResourceNotFoundException: Schedule day-wake does not exist.")
        event = {"id": "<aws.scheduler.execution-id>", "detail": self.detail}
        return {"ScheduleExpression": self.expression, "Target": {"Input": json.dumps(event)}}


def test_a_written_schedule_fires_within_the_minute_of_its_time_and_never_before() -> None:
    client = FakeScheduler()
    scheduler = VirtualScheduler(client, "day-wake", seed=7)
    assert scheduler.poll() is None
    client.write(3 * 3600 + 37 * 60 + 42)
    firing = scheduler.poll()
    assert firing is not None and firing.at_s == 3 * 3600 + 37 * 60 + 42
    assert 3 * 3600 + 37 * 60 <= firing.fire_s < 3 * 3600 + 38 * 60, firing
    assert "<aws.scheduler.execution-id>" not in str(firing.event)


def test_a_schedule_fires_once_and_a_rewrite_replaces_the_pending_one() -> None:
    client = FakeScheduler()
    scheduler = VirtualScheduler(client, "day-wake", seed=7)
    client.write(600)
    first = scheduler.poll()
    client.write(900)
    second = scheduler.poll()
    assert first is not None and second is not None and second.at_s == 900
    assert scheduler.take() == second
    assert scheduler.poll() is None  # still at(…900), already fired


def test_the_same_minute_written_again_for_another_moment_fires_again_with_the_new_moment() -> None:
    client = FakeScheduler()
    scheduler = VirtualScheduler(client, "day-wake", seed=7)
    client.write(600, sweep_at=690)
    assert scheduler.take() is None and scheduler.poll() is not None
    scheduler.take()
    client.write(600, sweep_at=700)
    again = scheduler.poll()
    assert again is not None and again.event["detail"]["sweep_at"] == stamp(700)


def test_the_scheduler_second_is_uniform_over_the_minute_and_never_outside_it() -> None:
    rng = random.Random(1)
    fired = [fire_second(7_260, rng) for _ in range(2_000)]  # at 02:01:00 exactly
    assert min(fired) == 7_260 and max(fired) == 7_319
    assert abs(sum(fired) / len(fired) - 7_289.5) < 2


def test_the_schedule_expressions_are_read_as_the_scheduler_reads_them() -> None:
    assert at_seconds("at(2026-11-24T01:00:05)") == 3_605
    assert rate_seconds("rate(5 minutes)") == 300 and rate_seconds("rate(12 hours)") == 43_200
    with pytest.raises(ValueError):
        at_seconds("rate(1 hour)")


def closed_row(s: Session, at: int) -> dict:
    return {"w4d_chatsessionid": s.id, "statecode": 1, "modifiedon": stamp(at), "_modifiedby_value": APPLICATION_USER_ID}


def run_with(rows: list[dict], t: int) -> Run:
    invocation = {"t": t, "duration_ms": 400.0, "requests": 12, "token_requests": 0, "reads": 11, "patches": 1, "rows_read": 3}
    return Run(Strategy("close-on-time", "function", 43_200, wake=True), [invocation], rows)


def test_a_strategy_that_closed_a_session_before_its_eligibility_is_reported_and_fails() -> None:
    s = session([0], [60])  # eligible from 1800
    by_name = {"close-on-time": figures(run_with([closed_row(s, 1799)], 1799), {s.id: s}, DAY_S, 1)}
    assert by_name["close-on-time"]["closed_early"] == 1
    early = next(t for t in verdicts(by_name, 1) if t["target"] == "close-on-time: closed before eligibility")
    assert early["ok"] is False


def test_a_close_after_eligibility_counts_its_lag_to_the_end_of_its_sweep() -> None:
    s = session([0], [60])
    result = figures(run_with([closed_row(s, 1830)], 1830), {s.id: s}, DAY_S, 1)
    assert result["closed_early"] == 0 and result["lag_s"]["max"] == pytest.approx(30.4)


def test_a_close_after_a_wait_counts_from_the_moment_swept_and_the_wait_counts_in_lambda_time() -> None:
    s = session([0], [60])  # eligible from 1800
    waited = {"t": 1_770, "swept_t": 1_800, "wait_ms": 30_000.0, "sweep_ms": 400.0, "duration_ms": 30_400.0,
              "requests": 12, "token_requests": 0, "reads": 11, "patches": 1, "rows_read": 3}
    run = Run(Strategy("close-on-time", "function", 43_200, wake=True), [waited], [closed_row(s, 1_800)])
    result = figures(run, {s.id: s}, DAY_S, 1)
    assert result["closed_early"] == 0 and result["lag_s"]["max"] == pytest.approx(0.4)
    assert result["longest_sweep_ms"] == 400.0 and result["wait_s_per_day"] == 30.0
    assert result["gb_s_per_day"] == pytest.approx(30.4 * 128 / 1024)


def test_a_sweeps_duration_follows_the_latency_model() -> None:
    # 1 token (20 ms), 10 reads (30 ms each), 2 batches of 150 closes in parallel (20 ms + 150 x 10 ms), 2 scheduler calls.
    delta = {"requests": 13, "token_requests": 1, "batches": 2, "batch_operations": 300}
    assert function_duration_ms(delta, wake=True) == 20 + 10 * 30 + 20 + 1500 + 40


def test_the_flow_pays_an_action_for_every_listed_session_and_every_update() -> None:
    assert flow_actions(pages=2, listed=6_000, due=40) == 1 + 1 + 2 + 1 + 6_000 + 40


def test_the_flows_condition_closes_an_answered_session_from_the_second_its_timeout_ends() -> None:
    configuration = "c1"
    cutoffs = {configuration: "2026-11-24T15:00:00Z"}

    def row(customer: str | None, agent: str | None, owner: str = configuration) -> dict:
        return {"_w4d_configurationid_value": owner, "w4d_lastcustomermessageon": customer, "w4d_lastagentmessageon": agent}

    assert flow_would_close(row("2026-11-24T15:00:00Z", "2026-11-24T15:00:00Z"), cutoffs)
    assert not flow_would_close(row("2026-11-24T15:00:01Z", "2026-11-24T15:00:02Z"), cutoffs)
    # Awaiting an agent, never written to, or of no configuration the flow read: left open.
    assert not flow_would_close(row("2026-11-24T14:00:00Z", "2026-11-24T13:59:59Z"), cutoffs)
    assert not flow_would_close(row(None, "2026-11-24T13:00:00Z"), cutoffs)
    assert not flow_would_close(row("2026-11-24T14:00:00Z", "2026-11-24T14:01:00Z", owner="c2"), cutoffs)
    # Another format is compared as a time, not as text: 16:00:00+02:00 is 14:00 UTC.
    assert flow_would_close(row("2026-11-24T16:00:00+02:00", "2026-11-24T14:30:00Z"), cutoffs)
    assert not flow_would_close(row("2026-11-24T14:00:00Z", "2026-11-24T15:30:00+02:00"), cutoffs)


def test_the_keep_alive_client_reuses_its_connection_and_opens_another_when_the_server_closed_it() -> None:
    import http.server
    import threading

    connections: list[int] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            if not connections or connections[-1] != id(self):
                connections.append(id(self))
            body = json.dumps({"path": self.path}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            if self.path == "/close":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        client = KeepAlive(f"http://127.0.0.1:{server.server_address[1]}")
        assert client.json("GET", "/a?x=1") == {"path": "/a?x=1"}
        assert client.json("GET", f"http://127.0.0.1:{server.server_address[1]}/b") == {"path": "/b"}
        assert len(connections) == 1
        assert client.json("GET", "/close") == {"path": "/close"}
        assert client.json("GET", "/c") == {"path": "/c"}
        assert len(connections) == 2
    finally:
        server.shutdown()
        server.server_close()
