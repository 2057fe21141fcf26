"""What the figures are judged against and how they are printed: every target derived from the
model the run used (latency per request, execution cost per operation, requests in flight) and
from the data set the simulator holds, never from the function's own summary; the limits
scenario's verdicts; the settings every run used; and the tables. A target the run misses is a
failing verdict, and the bench then exits non-zero."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .baseline import PAGE_SIZE

# What the function is held to. MB here is 10^6 bytes, MiB 2^20.
CLOSE_BATCH_SIZE = 100  # the function's default CLOSE_BATCH_SIZE
CLOSE_CONCURRENCY = 4  # the function's default CLOSE_CONCURRENCY
SIM_DOP_HINT = 4  # the simulator's default x-ms-dop-hint
TARGET_SIZE = 100_000
TARGET_LATENCY_MS = 20
# A sweep may take at most this multiple of the least time its work can take under the model.
TARGET_WALL_RATIO = 1.15
TARGET_RSS_MIB = 64.0  # half of the template's 128 MB, the rest for the runtime and growth
TARGET_STARTUP_MS = 50.0
TARGET_BINARY_MB = 15.0
# The limits scenario (issue 14).
TARGET_CEILING_SHARE = 0.85
TARGET_THROTTLED_SHARE = 0.02


def request_target(eligible: int, batch: int = CLOSE_BATCH_SIZE) -> int:
    """1 token + 1 configurations + the candidate pages (at least one) + the close batches,
    for `eligible` counted in the data set."""
    return 1 + 1 + max(1, math.ceil(eligible / PAGE_SIZE)) + math.ceil(eligible / batch)


@dataclass(frozen=True)
class Model:
    """What the simulator charges: latency per request, execution per operation, and how many
    `$batch` requests the function keeps in flight (the dop hint, capped by CLOSE_CONCURRENCY)."""

    latency_ms: float
    operation_cost_ms: float
    dop_hint: int = SIM_DOP_HINT
    close_concurrency: int = CLOSE_CONCURRENCY
    batch: int = CLOSE_BATCH_SIZE

    @property
    def in_flight(self) -> int:
        return max(1, min(self.dop_hint or self.close_concurrency, self.close_concurrency))

    def wall_floor_s(self, eligible: int) -> tuple[float, str]:
        """The least time a sweep of `eligible` closes can take, and how it was worked out: the
        token, the configurations and the first page one after another (later pages may
        overlap with closing), then the closes, whose operations run `in flight` at a time
        (never more than there are batches), each round of batches paying the latency once."""
        request = self.latency_ms + self.operation_cost_ms
        reads_ms = self.latency_ms + 2 * request
        batches = math.ceil(eligible / self.batch)
        flight = max(1, min(self.in_flight, batches))
        rounds = math.ceil(batches / self.in_flight) if batches else 0
        work_ms = max(eligible * self.operation_cost_ms / flight, min(eligible, self.batch) * self.operation_cost_ms)
        closes_ms = work_ms + rounds * self.latency_ms
        floor_s = (reads_ms + closes_ms) / 1000
        how = (f"reads {reads_ms:g} ms (token {self.latency_ms:g} + configurations and first page "
               f"{request:g} each) + {eligible:,} ops x {self.operation_cost_ms:g} ms / {flight} in flight "
               f"+ {rounds} rounds x {self.latency_ms:g} ms = {floor_s:.2f} s")
        return floor_s, how


def baseline_requests(active: int, eligible: int) -> int:
    """The flow's shape: 1 token + 1 configurations + one page per 5,000 active + one PATCH per
    eligible session."""
    return 1 + 1 + max(1, math.ceil(active / PAGE_SIZE)) + eligible


def fmt(value: object, digits: int = 0) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def table(header: list[str], rows: list[list[str]], left: tuple[int, ...] = ()) -> str:
    """Columns right-aligned (numbers), except those at the indexes in `left`."""
    widths = [max(len(h), *(len(row[i]) for row in rows)) if rows else len(h) for i, h in enumerate(header)]

    def line(cells: list[str]) -> str:
        return "  " + "  ".join(c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(row) for row in rows])


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("ok" if ok else "MISS")


def limited(stats: dict) -> int:
    """429s the simulator's limits (not its injected faults) answered."""
    return sum(int(stats.get(k) or 0) for k in ("limited_requests", "limited_execution_time", "limited_concurrency"))


def limits_figures(run: dict, ceiling: float) -> dict:
    """Closes per second against the ceiling, the 429s and their share of Web API requests."""
    stats = run["sim_stats"]
    web_requests = int(stats.get("requests") or 0) - int(stats.get("token_requests") or 0)
    throttled = limited(stats)
    rate = run["closed_per_s"] or 0.0
    return {
        "closed_per_s": rate,
        "ceiling_per_s": ceiling,
        "ceiling_share": rate / ceiling if ceiling else None,
        "throttled": throttled,
        "web_requests": web_requests,
        "throttled_share": throttled / web_requests if web_requests else None,
        "failed": run["failed"],
    }


def limits_verdicts(who: str, figures: dict, reference: bool = False) -> list[dict]:
    """The function's are targets; `reference` (the flow's shape) prints the same figures with
    no verdict, since nothing this project builds is held to them."""
    share, throttled = figures["ceiling_share"], figures["throttled_share"]
    note = "reference: the flow's shape is what the function replaces, not held to a target" if reference else ""
    checks = [
        (f"limits: {who} closes/s",
         f">= {TARGET_CEILING_SHARE:.0%} of the ceiling {figures['ceiling_per_s']:,.0f}/s (execution-time budget per second / cost of a close)",
         share, f"{figures['closed_per_s']:,.0f}/s ({share:.0%})" if share is not None else "-",
         share >= TARGET_CEILING_SHARE if share is not None else None),
        (f"limits: {who} requests answered 429", f"<= {TARGET_THROTTLED_SHARE:.0%} of its Web API requests (a budget)", throttled,
         f"{figures['throttled']:,} of {figures['web_requests']:,}" + (f" ({throttled:.1%})" if throttled is not None else ""),
         throttled <= TARGET_THROTTLED_SHARE if throttled is not None else None),
        (f"limits: {who} failed closes", "0", figures["failed"], fmt(figures["failed"]), figures["failed"] == 0),
    ]
    return [_target(name, limit, value, shown, None if reference else ok, note) for name, limit, value, shown, ok in checks]


def _target(name: str, limit: str, value: object, shown: str, ok: bool | None, note: str = "") -> dict:
    return {"target": name, "limit": limit, "value": value, "shown": shown, "ok": ok, "note": note}


def missed(targets: list[dict]) -> list[dict]:
    """The targets whose verdict is a miss (not those that do not apply)."""
    return [t for t in targets if t["ok"] is False]


def _size_targets(r: dict, model: Model, release: bool) -> list[dict]:
    f = r["function"]
    eligible, active = f["dataset"]["eligible"], f["dataset"]["active"]
    limit = request_target(eligible, model.batch)
    floor_s, how = model.wall_floor_s(eligible)
    ratio = f["wall_s"] / floor_s if floor_s > 0 else None
    targets = [
        _target(
            f"requests at {r['size']:,}",
            f"<= {limit:,} (1 token + 1 configurations + pages of {PAGE_SIZE:,} + batches of {CLOSE_BATCH_SIZE}, for the data set's {eligible:,} eligible)",
            f["sim_requests"], fmt(f["sim_requests"]),
            f["sim_requests"] is not None and f["sim_requests"] <= limit,
        ),
        _target(
            f"closes at {r['size']:,}", f"= {eligible:,} (the data set's eligible)",
            f["closed"], fmt(f["closed"]), f["closed"] == eligible,
        ),
        _target(
            f"wall at {r['size']:,}", f"<= {TARGET_WALL_RATIO:g}x the floor: {how}",
            ratio, f"{f['wall_s']:.2f} s ({ratio:.2f}x)" if ratio else "-",
            (ratio <= TARGET_WALL_RATIO) if ratio is not None and release else None,
            "" if release else "a debug build; the target is for release",
        ),
    ]
    b = r.get("baseline")
    if b:
        expected = baseline_requests(active, eligible)
        wanted = expected / limit
        measured = b["sim_requests"] / f["sim_requests"] if f["sim_requests"] else None
        targets.append(_target(
            f"fewer requests than the baseline at {r['size']:,}",
            f">= {wanted:,.1f}x (the flow's {expected:,}: 1 token + 1 configurations + a page per {PAGE_SIZE:,} active + a PATCH per eligible; / the request target {limit:,})",
            measured, f"{measured:,.1f}x" if measured else "-", (measured >= wanted) if measured else None,
        ))
    return targets


def evaluate_targets(runs: list[dict], binary_bytes: int, model: Model, profile: str) -> list[dict]:
    """Each target with the figure it is judged on and the derivation it prints; the
    per-size ones for every size, the memory one on the 100,000 run."""
    release = profile == "release"
    targets = [t for r in runs for t in _size_targets(r, model, release)]
    big = next((r for r in runs if r["size"] == TARGET_SIZE), None)
    function = big["function"] if big else None
    rss = function["peak_rss_mib"] if function else None
    targets.append(_target(
        f"peak RSS at {TARGET_SIZE:,}", f"< {TARGET_RSS_MIB:g} MiB (half the function's 128 MB)", rss,
        f"{rss:.1f} MiB" if rss is not None else "-", (rss < TARGET_RSS_MIB) if rss is not None else None,
        "" if big else f"no {TARGET_SIZE:,} run",
    ))
    startups = [r["function"]["startup_ms"] for r in runs]
    worst = max(startups) if startups else None
    debug_note = "" if release else "a debug build; the target is for release"
    targets.append(_target(
        "start-up (worst of the runs)", f"< {TARGET_STARTUP_MS:g} ms (a budget: a cold start must not be noticed beside a sweep)", worst,
        f"{worst:.1f} ms" if worst is not None else "-",
        (worst < TARGET_STARTUP_MS) if worst is not None and release else None, debug_note,
    ))
    targets.append(_target(
        "release binary", f"< {TARGET_BINARY_MB:g} MB (a budget for the deployment package)", binary_bytes, f"{binary_bytes / 1e6:.2f} MB",
        binary_bytes < TARGET_BINARY_MB * 1e6 if release else None, debug_note,
    ))
    return targets


def print_settings(config: dict) -> None:
    print("\nSettings this bench ran with")
    print("  simulator (every run): " + " ".join(config["sim_args"]))
    if config.get("limits"):
        print("  simulator (limits scenario): " + " ".join(config["limits"]["sim_args"]))
    print("  function environment (set by the bench; every other setting at its default): "
          + " ".join(f"{k}={v}" for k, v in config["function_env"].items()))
    print(f"  baseline: {config['baseline_workers']} parallel workers, pages of {PAGE_SIZE}, 429 retried after Retry-After")


def print_function(runs: list[dict]) -> None:
    print("\nFunction: one sweep per size (wall = event served to response received; RSS = VmHWM)")
    rows = []
    for r in runs:
        f = r["function"]
        rows.append([
            fmt(r["size"]), fmt(f["dataset"]["eligible"]), fmt(f["eligible"]), fmt(f["closed"]),
            f"{f['wall_s']:.3f}", fmt(f["duration_ms"]), fmt(f["summary_requests"]), fmt(f["sim_requests"]),
            f"<= {request_target(f['dataset']['eligible']):,}",
            "-" if f["peak_rss_mib"] is None else f"{f['peak_rss_mib']:.1f}",
            fmt(f["closed_per_s"], 0), f"{f['startup_ms']:.1f}", fmt(f["complete"]),
        ])
    print(table(["active", "eligible (data)", "eligible (summary)", "closed", "wall s", "duration_ms", "req (summary)",
                 "req (sim)", "req target", "peak RSS MiB", "closed/s", "start-up ms", "complete"], rows))


def print_baseline(config: dict, runs: list[dict]) -> None:
    with_baseline = [r for r in runs if r.get("baseline")]
    print(
        f"\nBaseline: the Power Automate flow's shape (list active sessions page by page, one PATCH with If-Match "
        f"per eligible session, no batching), run with {config['baseline_workers']} parallel workers: Apply to each "
        f"is sequential by default and allows at most 50 (20 when concurrency control is on), so this is generous "
        f"to the flow"
    )
    if with_baseline:
        rows = [[fmt(r["size"]), fmt(b["listed"]), fmt(b["pages"]), fmt(b["eligible"]), fmt(b["closed"]),
                 f"{b['wall_s']:.3f}", fmt(b["sim_requests"]), fmt(b["closed_per_s"], 0)]
                for r in with_baseline for b in [r["baseline"]]]
        print(table(["active", "listed", "pages", "eligible", "closed", "wall s", "requests (sim)", "closed/s"], rows))
        print("\nBaseline / function")
        rows = [[fmt(r["size"]), f"{r['baseline']['sim_requests']:,} / {r['function']['sim_requests']:,}",
                 f"{r['ratios']['requests']:,.1f}x", f"{r['baseline']['wall_s']:.2f} / {r['function']['wall_s']:.2f}",
                 f"{r['ratios']['wall']:,.1f}x"] for r in with_baseline]
        print(table(["active", "requests", "request ratio", "wall s", "wall ratio"], rows))
    skipped = [r["size"] for r in runs if not r.get("baseline")]
    if skipped:
        print(f"  (baseline skipped for {', '.join(f'{s:,}' for s in skipped)} by --skip-baseline-above)")


def print_limits(limits: dict) -> None:
    s = limits["settings"]
    print(
        f"\nLimits scenario: {limits['sessions']:,} active sessions ({limits['eligible']:,} eligible in the data set), "
        f"window {s['window_s']:g} s with {s['max_requests']:,} requests, {s['max_execution_ms']:,} ms of execution "
        f"time and {s['max_concurrent']} concurrent requests (Dataverse's 300 s limits scaled), "
        f"{s['operation_cost_ms']} ms per operation: ceiling {limits['ceiling_per_s']:,.0f} closes/s "
        f"(execution-time budget / cost per close)"
    )
    rows = []
    for who in ("function", "baseline"):
        run, fig = limits.get(who), limits.get(f"{who}_figures")
        if not run or not fig:
            continue
        rows.append([who, fmt(run["closed"]), fmt(run.get("not_sent")), f"{run['wall_s']:.1f}",
                     fmt(fig["closed_per_s"], 0),
                     "-" if fig["ceiling_share"] is None else f"{fig['ceiling_share']:.0%}", fmt(fig["throttled"]),
                     fmt(fig["web_requests"]), fmt(fig["failed"])])
    print(table(["run", "closed", "not sent", "wall s", "closed/s", "of ceiling", "429s", "requests", "failed"], rows, left=(0,)))
    if limits.get("baseline") and limits["baseline"].get("not_sent"):
        print(f"  (the baseline stopped sending new closes after {limits['baseline_stop_after_s']:g} s)")


def print_report(config: dict, binary: dict, runs: list[dict], limits: dict | None, targets: list[dict]) -> None:
    print()
    print(
        f"session-sweeper bench: {config['profile']} build, {config['latency_ms']} ms simulated latency per request, "
        f"{config['operation_cost_ms']} ms execution per operation, {config['eligible_ratio']:.0%} of active sessions eligible"
    )
    print(f"function binary {binary['path']}: {binary['bytes'] / 1e6:.2f} MB ({binary['bytes']:,} bytes; host architecture, not the arm64 bootstrap)")
    print_settings(config)
    print_function(runs)
    print_baseline(config, runs)
    if limits:
        print_limits(limits)
    print("\nTargets (each limit says how it follows from the model above; a MISS makes the bench exit non-zero)")
    print(table(
        ["target", "limit", "measured", "verdict"],
        [[t["target"], t["limit"], t["shown"], verdict(t["ok"]) + (f" ({t['note']})" if t["note"] else "")] for t in targets],
        left=(0, 1, 3),
    ))
