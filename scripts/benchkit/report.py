"""What the figures are judged against and how they are printed: the request target (from
the data set the simulator holds, never from the function's own summary), the targets of
issue 4, the limits scenario's verdicts, the settings every run used, and the tables."""

from __future__ import annotations

import math

from .baseline import PAGE_SIZE

# What the function is held to (issue 4). MB here is 10^6 bytes, MiB 2^20.
CLOSE_BATCH_SIZE = 100  # the function's default CLOSE_BATCH_SIZE
TARGET_SIZE = 100_000
TARGET_LATENCY_MS = 20
TARGET_WALL_S = 10.0
TARGET_REQUEST_RATIO = 20.0
TARGET_RSS_MIB = 64.0
TARGET_STARTUP_MS = 50.0
TARGET_BINARY_MB = 15.0
# The limits scenario (issue 14).
TARGET_CEILING_SHARE = 0.85
TARGET_THROTTLED_SHARE = 0.02


def request_target(eligible: int, batch: int = CLOSE_BATCH_SIZE) -> int:
    """1 token + 1 configurations + the candidate pages (at least one) + the close batches,
    for `eligible` counted in the data set."""
    return 1 + 1 + max(1, math.ceil(eligible / PAGE_SIZE)) + math.ceil(eligible / batch)


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


def limits_verdicts(who: str, figures: dict) -> list[dict]:
    share, throttled = figures["ceiling_share"], figures["throttled_share"]
    return [
        _target(f"limits: {who} closes/s", f">= {TARGET_CEILING_SHARE:.0%} of {figures['ceiling_per_s']:,.0f}/s",
                share, f"{figures['closed_per_s']:,.0f}/s ({share:.0%})" if share is not None else "-",
                share >= TARGET_CEILING_SHARE if share is not None else None),
        _target(f"limits: {who} requests answered 429", f"<= {TARGET_THROTTLED_SHARE:.0%}", throttled,
                f"{figures['throttled']:,} of {figures['web_requests']:,}" + (f" ({throttled:.1%})" if throttled is not None else ""),
                throttled <= TARGET_THROTTLED_SHARE if throttled is not None else None),
        _target(f"limits: {who} failed closes", "0", figures["failed"], fmt(figures["failed"]), figures["failed"] == 0),
    ]


def _target(name: str, limit: str, value: object, shown: str, ok: bool | None, note: str = "") -> dict:
    return {"target": name, "limit": limit, "value": value, "shown": shown, "ok": ok, "note": note}


def evaluate_targets(runs: list[dict], binary_bytes: int, latency_ms: int, profile: str) -> list[dict]:
    """Each target with the figure it is judged on; the per-size ones on the 100,000 run."""
    big = next((r for r in runs if r["size"] == TARGET_SIZE), None)
    function = big["function"] if big else None
    targets = []
    for r in runs:
        f = r["function"]
        limit = request_target(f["dataset"]["eligible"])
        targets.append(_target(
            f"requests at {r['size']:,}",
            f"<= {limit:,} (1 token + 1 configurations + pages + batches of {CLOSE_BATCH_SIZE}, for the data set's {f['dataset']['eligible']:,} eligible)",
            f["sim_requests"], fmt(f["sim_requests"]),
            f["sim_requests"] is not None and f["sim_requests"] <= limit,
        ))
        targets.append(_target(
            f"closes at {r['size']:,}", f"= {f['dataset']['eligible']:,} (the data set's eligible)",
            f["closed"], fmt(f["closed"]), f["closed"] == f["dataset"]["eligible"],
        ))
    missing = "" if big else f"no {TARGET_SIZE:,} run"
    latency_note = "" if latency_ms == TARGET_LATENCY_MS else f"measured at {latency_ms} ms, the target is at {TARGET_LATENCY_MS} ms"
    targets.append(_target(
        f"wall at {TARGET_SIZE:,}", f"< {TARGET_WALL_S:g} s",
        function["wall_s"] if function else None, f"{function['wall_s']:.2f} s" if function else "-",
        (function["wall_s"] < TARGET_WALL_S) if function and not latency_note else None, missing or latency_note,
    ))
    ratio = big["ratios"]["requests"] if big and big.get("ratios") else None
    targets.append(_target(
        f"fewer requests than the baseline at {TARGET_SIZE:,}", f">= {TARGET_REQUEST_RATIO:g}x",
        ratio, f"{ratio:,.1f}x" if ratio else "-", (ratio >= TARGET_REQUEST_RATIO) if ratio else None,
        missing or ("" if big and big.get("baseline") else "baseline skipped"),
    ))
    rss = function["peak_rss_mib"] if function else None
    targets.append(_target(
        f"peak RSS at {TARGET_SIZE:,}", f"< {TARGET_RSS_MIB:g} MiB", rss,
        f"{rss:.1f} MiB" if rss is not None else "-", (rss < TARGET_RSS_MIB) if rss is not None else None, missing,
    ))
    startups = [r["function"]["startup_ms"] for r in runs]
    worst = max(startups) if startups else None
    release = profile == "release"
    debug_note = "" if release else "a debug build; the target is for release"
    targets.append(_target(
        "start-up (worst of the runs)", f"< {TARGET_STARTUP_MS:g} ms", worst,
        f"{worst:.1f} ms" if worst is not None else "-",
        (worst < TARGET_STARTUP_MS) if worst is not None and release else None, debug_note,
    ))
    targets.append(_target(
        "release binary", f"< {TARGET_BINARY_MB:g} MB", binary_bytes, f"{binary_bytes / 1e6:.2f} MB",
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
    print("\nTargets")
    print(table(
        ["target", "limit", "measured", "verdict"],
        [[t["target"], t["limit"], t["shown"], verdict(t["ok"]) + (f" ({t['note']})" if t["note"] else "")] for t in targets],
        left=(0, 1, 3),
    ))
