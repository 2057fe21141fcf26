"""The day scenario's picture, beside bench.svg: the closure lag distribution per strategy (the
share of closes within a lag, lag on a logarithmic axis) and Dataverse HTTP requests per hour
across the first measured day."""

from __future__ import annotations

from pathlib import Path

from .chart import HEIGHT, WIDTH, Panel

DAY_COLOURS = {
    "close-on-time": "#1f77b4",
    "rate(5 minutes)": "#2ca02c",
    "flow, 12 hours": "#d62728",
    "flow, 5 minutes": "#ff7f0e",
}


def cumulative(lags: list[float]) -> list[tuple[float, float]]:
    """(lag, share of closes at or below it), at most 200 points."""
    ordered = sorted(max(lag, 0.1) for lag in lags)
    if not ordered:
        return []
    step = max(1, len(ordered) // 200)
    points = [(ordered[i], (i + 1) / len(ordered)) for i in range(0, len(ordered), step)]
    return points + [(ordered[-1], 1.0)]


def write_day_chart(path: Path, lags: dict[str, list[float]], hourly: dict[str, list[int]]) -> None:
    curves = {name: cumulative(values) for name, values in lags.items()}
    xs = [x for points in curves.values() for x, _ in points] or [1.0, 10.0]
    lag_panel = Panel(0, "Closure lag after eligibility", "lag, seconds (log)", "share of closes", xs, [0.0, 1.0],
                      logx=True, logy=False, colours=DAY_COLOURS)
    for name, points in curves.items():
        lag_panel.series(name, points, dots=False)
    hours = [float(h) for values in hourly.values() for h in range(len(values))] or [0.0, 24.0]
    counts = [float(v) for values in hourly.values() for v in values] or [1.0]
    request_panel = Panel(WIDTH, "Dataverse requests per hour", "hour of the day (UTC)", "HTTP requests", hours, counts,
                          logx=False, logy=False, colours=DAY_COLOURS)
    for name, values in hourly.items():
        request_panel.series(name, [(float(h), float(v)) for h, v in enumerate(values[:24])], dots=False)
    total = 2 * WIDTH
    legend = " ".join(
        f'<rect x="{16 + i * 190}" y="{HEIGHT + 4}" width="12" height="12" fill="{colour}"/>'
        f'<text x="{32 + i * 190}" y="{HEIGHT + 14}" font-size="12">{name}</text>'
        for i, (name, colour) in enumerate(DAY_COLOURS.items())
    )
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT + 24}" viewBox="0 0 {total} {HEIGHT + 24}" '
           f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
           f"{lag_panel.svg()}\n{request_panel.svg()}\n{legend}\n</svg>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
