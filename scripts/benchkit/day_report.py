"""The day scenario's figures, verdicts and tables. Every figure comes from the simulator (its
counters, and its rows at the end: who closed each session and when) and from the data set
(when each session was eligible, worked out from its messages), never from what the function
reported about itself. A close counts at the end of the sweep that made it."""

from __future__ import annotations

import math
from datetime import datetime

from .day import MEMORY_GB, Run
from .timeline import in_play
from .report import fmt, table, verdict
from .workload import DAY_S, START, Session

APPLICATION_USER_ID = "a11ce5e0-0000-4000-8000-00000000a99e"  # dataverse-sim's application user
MIN_WAKE_INTERVAL_S = 60  # the function's default MIN_WAKE_INTERVAL
TARGET_JITTER_S = 60  # EventBridge Scheduler's precision: the minute of the schedule

# Reference figures, each with its source and the date it was read.
REFERENCES = {
    "lambda_arm64_gb_s_usd": (
        0.0000133334,
        "AWS Lambda pricing, Arm, US East (N. Virginia), first 7.5 billion GB-seconds a month: "
        "$0.0000133334 per GB-second, $0.20 per 1M requests (free tier 400,000 GB-s and 1M requests a month, not deducted here); "
        "https://aws.amazon.com/lambda/pricing/, read 2026-12-01",
    ),
    "lambda_request_usd": (0.20 / 1e6, "same page: $0.20 per 1M requests"),
    "pool_non_licensed": (
        500_000,
        "Power Platform requests for non-licensed (application) users, pooled per tenant per 24 hours: Dynamics 365 "
        "Enterprise and Professional 500,000 + 5,000 per user licence, up to 10,000,000; Power Apps or Power Automate "
        "only: 25,000; Microsoft Learn, \"Requests limits and allocations\" (page dated 2025-05-29), "
        "https://learn.microsoft.com/power-platform/admin/api-request-limits-allocations, read 2026-12-01",
    ),
}


def seconds(text: str) -> int:
    return round((datetime.fromisoformat(text.replace("Z", "+00:00")) - START).total_seconds())


def percentile(values: list[float], p: float) -> float | None:
    """Nearest rank: the smallest value with at least p% of the values at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def sweep_ms(invocation: dict) -> float:
    """The sweep's own duration: the invocation's, less any wait for its moment."""
    return invocation.get("sweep_ms", invocation["duration_ms"])


def judge_closes(run: Run, sessions: dict[str, Session], end_s: int) -> dict:
    """Each close the simulator recorded, judged against the data set: closed before its
    eligibility, or its lag after the start of the eligibility it ended."""
    durations: dict[int, float] = {}
    for invocation in run.invocations:
        # A close is stamped with the moment its sweep ran (after any wait), and counts at the
        # end of that sweep.
        moment = invocation.get("swept_t", invocation["t"])
        durations[moment] = max(durations.get(moment, 0.0), sweep_ms(invocation))
    closed_at: dict[str, int] = {}
    early: list[dict] = []
    lags: list[float] = []
    for row in run.rows or []:
        if row.get("statecode") != 1 or row.get("_modifiedby_value") != APPLICATION_USER_ID:
            continue
        session = sessions.get(row["w4d_chatsessionid"])
        if session is None:
            continue
        t = seconds(row["modifiedon"])
        closed_at[session.id] = t
        interval = next(((s, e) for s, e in session.eligible_intervals() if s <= t < e), None)
        if interval is None:
            early.append({"id": session.id, "closed": t, "eligible": session.eligible_intervals()[:1]})
        elif 0 <= interval[0] < end_s:
            lags.append(t + durations.get(t, 0.0) / 1000 - interval[0])
    return {"closed_at": closed_at, "early": early, "lags": lags}


def figures(run: Run, sessions: dict[str, Session], end_s: int, days: int) -> dict:
    judged = judge_closes(run, sessions, end_s)
    closed_at = judged["closed_at"]
    missed = open_at_end = 0
    for session in filter(in_play, sessions.values()):
        closed = closed_at.get(session.id, math.inf)
        for start, stop in session.eligible_intervals():
            if not 0 <= start < end_s:
                continue
            if stop <= closed and stop < math.inf:
                missed += 1  # a later customer message came before any close
            # The last second of the day, before the runs every strategy makes at its end.
            if start <= end_s - 1 < stop and closed > end_s - 1:
                open_at_end += 1
    day = run.in_days(end_s)
    total = {key: sum(i.get(key, 0) for i in day) for key in ("requests", "token_requests", "reads", "patches", "rows_read", "actions")}
    lags = judged["lags"]
    function = run.strategy.kind == "function"
    gb_s = sum(math.ceil(i["duration_ms"]) / 1000 * MEMORY_GB for i in day) / days if function else None
    pp = total["reads"] + total["patches"] if function else total["actions"]
    price, request_price = REFERENCES["lambda_arm64_gb_s_usd"][0], REFERENCES["lambda_request_usd"][0]
    per_day = len(day) / days
    return {
        "closed": len(lags) + len(judged["early"]),
        "lag_s": {name: percentile(lags, p) for name, p in (("p50", 50), ("p95", 95), ("p99", 99), ("max", 100))},
        "closed_early": len(judged["early"]),
        "early_examples": judged["early"][:10],
        "missed_then_saved": missed,
        "open_past_eligibility_at_end": open_at_end,
        "invocations_per_day": per_day,
        "dataverse_requests_per_day": (total["requests"] - total["token_requests"]) / days,
        "power_platform_requests_per_day": pp / days,
        "rows_read_per_day": total["rows_read"] / days,
        "gb_s_per_day": gb_s,
        "cost_per_month_usd": 30 * (gb_s * price + per_day * request_price) if gb_s is not None else None,
        "longest_sweep_ms": max((sweep_ms(i) for i in day), default=0.0),
        "wait_s_per_day": sum(i.get("wait_ms", 0.0) for i in day) / 1000 / days,
        "errors": sum(1 for i in day if i.get("error")),
        "hourly_requests": hourly(day, end_s, "requests"),
    }


def hourly(invocations: list[dict], end_s: int, key: str) -> list[int]:
    hours = [0] * math.ceil(end_s / 3600)
    for i in invocations:
        hours[min(len(hours) - 1, i["t"] // 3600)] += i[key] - i.get("token_requests", 0)
    return hours


def _target(name: str, limit: str, shown: str, ok: bool | None, note: str = "") -> dict:
    return {"target": name, "limit": limit, "shown": shown, "ok": ok, "note": note}


def verdicts(by_name: dict[str, dict], days: int) -> list[dict]:
    cot, flow = by_name.get("close-on-time"), by_name.get("flow, 12 hours")
    targets = []
    if cot:
        p99, sweep = cot["lag_s"]["p99"], cot["longest_sweep_ms"] / 1000
        limit = TARGET_JITTER_S + sweep
        targets.append(_target(
            "close-on-time: p99 lag", f"<= {TARGET_JITTER_S} s (the scheduler's minute) + the longest sweep {sweep:.2f} s = {limit:.2f} s",
            f"{p99:.1f} s" if p99 is not None else "-", p99 <= limit if p99 is not None else None))
        per_day = DAY_S / MIN_WAKE_INTERVAL_S
        targets.append(_target(
            "close-on-time: invocations", f"<= {per_day:,.0f} a day (one per MIN_WAKE_INTERVAL, 1 minute)",
            f"{cot['invocations_per_day']:,.0f}", cot["invocations_per_day"] <= per_day))
    if cot and flow:
        for key, label in (("dataverse_requests_per_day", "Dataverse HTTP requests"), ("power_platform_requests_per_day", "Power Platform requests")):
            targets.append(_target(
                f"close-on-time: {label} a day", f"< the 12-hour flow's {flow[key]:,.0f}",
                f"{cot[key]:,.0f}", cot[key] < flow[key]))
    for name, f in by_name.items():
        targets.append(_target(f"{name}: closed before eligibility", "0", fmt(f["closed_early"]), f["closed_early"] == 0))
        targets.append(_target(f"{name}: failed invocations", "0", fmt(f["errors"]), f["errors"] == 0))
    return targets


def _lag(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 120:
        return f"{value:.1f} s"
    if value < 7200:
        return f"{value / 60:.1f} min"
    return f"{value / 3600:.1f} h"


def print_workload(summary: dict) -> None:
    w = summary["settings"]
    print(f"\nWorkload (seed {w['seed']}): {w['sessions_per_day']:,} new sessions a business day "
          f"({w['weekend_factor']:.0%} of that on Saturday and Sunday), {w['days']} day(s) measured from {START:%A %Y-%m-%d} 00:00 UTC, "
          f"after {w['warm_up_days']} days of warm-up")
    for c in summary["configurations"]:
        print(f"  configuration {c['name']!r}: timeout {c['timeout_minutes']} min, {c['share']:.0%} of sessions, {c['sessions']:,} in the measured days")
    print(f"  per session 1 to {w['max_customer_messages']} customer messages ({summary['customer_messages']:,} in all), "
          f"each answered by an agent after {w['agent_reply_mean_s']:g} s on average, {w['slow_agent_share']:.0%} after 1 to 6 hours, "
          f"the last one never for {w['no_reply_share']:.0%}; a follow-up {w['follow_up_mean_s']:g} s after the reply on average, "
          f"{w['late_message_share']:.0%} at 0.8 to 1.3 timeouts")
    print(f"  in the data set: {summary['eligibilities']:,} eligibilities begin in the measured days; "
          f"{summary['never_answered']:,} sessions end awaiting an agent (never eligible); "
          f"{summary['open_at_start']:,} sessions are open when the day starts")


def print_runs(by_name: dict[str, dict], days: int) -> None:
    unit = "a day" if days == 1 else f"a day (mean of {days})"
    print(f"\nStrategies, side by side on the same workload (counts {unit})")
    rows = []
    for name, f in by_name.items():
        lag = f["lag_s"]
        rows.append([name, fmt(f["closed"]), _lag(lag["p50"]), _lag(lag["p95"]), _lag(lag["p99"]), _lag(lag["max"]),
                     fmt(f["closed_early"]), fmt(f["missed_then_saved"]), fmt(f["open_past_eligibility_at_end"]),
                     fmt(f["invocations_per_day"], 0), fmt(f["dataverse_requests_per_day"], 0),
                     fmt(f["power_platform_requests_per_day"], 0), fmt(f["rows_read_per_day"], 0),
                     fmt(f["gb_s_per_day"], 1), "-" if f["cost_per_month_usd"] is None else f"${f['cost_per_month_usd']:.3f}"])
    print(table(["strategy", "closed", "lag p50", "p95", "p99", "max", "closed early", "missed, saved later",
                 "open past eligibility at end", "invocations", "Dataverse requests", "Power Platform requests",
                 "rows read", "Lambda GB-s", "Lambda $/month"], rows, left=(0,)))


def print_references(by_name: dict[str, dict]) -> None:
    print("\nReference figures")
    for key in ("lambda_arm64_gb_s_usd", "pool_non_licensed"):
        print(f"  {REFERENCES[key][1]}")
    pool = REFERENCES["pool_non_licensed"][0]
    for name, f in by_name.items():
        print(f"  {name}: {f['power_platform_requests_per_day']:,.0f} Power Platform requests a day, "
              f"{f['power_platform_requests_per_day'] / pool:.1%} of the 500,000 pool (the smallest Dynamics 365 one), "
              f"{f['power_platform_requests_per_day'] / 25_000:.0%} of a Power Apps or Power Automate tenant's 25,000")


def print_verdicts(targets: list[dict]) -> None:
    print("\nTargets (a MISS makes make bench-day exit non-zero)")
    print(table(["target", "limit", "measured", "verdict"],
                [[t["target"], t["limit"], t["shown"], verdict(t["ok"]) + (f" ({t['note']})" if t["note"] else "")] for t in targets],
                left=(0, 1, 3)))
