"""The bench's picture as SVG, drawn by hand (no plotting library): wall time and requests
against sessions for the function and the baseline (both axes logarithmic, the sizes span
two orders of magnitude), and closes per second against time in the limits scenario with the
ceiling the limits allow."""

from __future__ import annotations

import math
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 400, 320
MARGIN = {"left": 64, "right": 16, "top": 36, "bottom": 48}
COLOURS = {"function": "#1f77b4", "baseline": "#d62728", "ceiling": "#7f7f7f"}


def closes_per_second(samples: list[dict]) -> list[tuple[float, float]]:
    """PATCH operations per second between consecutive samples of the simulator's counters."""
    points = []
    for before, after in zip(samples, samples[1:]):
        dt = after["t"] - before["t"]
        if dt > 0:
            points.append((after["t"], (after["patches"] - before["patches"]) / dt))
    return points


class Panel:
    """One plot: axes, ticks, series; `log` axes map values through log10."""

    def __init__(self, x: int, title: str, xlabel: str, ylabel: str, xs: list[float], ys: list[float], logx: bool, logy: bool,
                 colours: dict[str, str] | None = None) -> None:
        self.x0, self.title, self.xlabel, self.ylabel = x, title, xlabel, ylabel
        self.colours = colours or COLOURS
        self.logx, self.logy = logx, logy
        self.xmin, self.xmax = self._range([v for v in xs if v > 0 or not logx], logx)
        self.ymin, self.ymax = self._range([v for v in ys if v > 0 or not logy], logy, zero=not logy)
        self.parts: list[str] = []

    @staticmethod
    def _range(values: list[float], log: bool, zero: bool = False) -> tuple[float, float]:
        if not values:
            return (0.0, 1.0)
        low, high = min(values), max(values)
        if log:
            return (10 ** math.floor(math.log10(low)), 10 ** math.ceil(math.log10(high)))
        low = 0.0 if zero else low
        return (low, high * 1.1 if high > low else low + 1)

    def _scale(self, value: float, low: float, high: float, log: bool) -> float:
        if log:
            value, low, high = math.log10(max(value, low)), math.log10(low), math.log10(high)
        return (value - low) / (high - low) if high > low else 0.0

    def point(self, x: float, y: float) -> tuple[float, float]:
        inner_w = WIDTH - MARGIN["left"] - MARGIN["right"]
        inner_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]
        px = self.x0 + MARGIN["left"] + self._scale(x, self.xmin, self.xmax, self.logx) * inner_w
        py = MARGIN["top"] + (1 - self._scale(y, self.ymin, self.ymax, self.logy)) * inner_h
        return px, py

    def _ticks(self, low: float, high: float, log: bool) -> list[float]:
        if log:
            return [10.0 ** e for e in range(round(math.log10(low)), round(math.log10(high)) + 1)]
        return [low + (high - low) * i / 4 for i in range(5)]

    def series(self, name: str, points: list[tuple[float, float]], dots: bool = True, dashed: bool = False) -> None:
        points = [(x, y) for x, y in points if (x > 0 or not self.logx) and (y > 0 or not self.logy)]
        if not points:
            return
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in (self.point(x, y) for x, y in points))
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        self.parts.append(f'<polyline fill="none" stroke="{self.colours[name]}" stroke-width="2"{dash} points="{path}"><title>{escape(name)}</title></polyline>')
        if dots:
            for x, y in points:
                px, py = self.point(x, y)
                self.parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{self.colours[name]}"><title>{escape(name)}: {y:,.2f}</title></circle>')

    def svg(self) -> str:
        left, top = self.x0 + MARGIN["left"], MARGIN["top"]
        right, bottom = self.x0 + WIDTH - MARGIN["right"], HEIGHT - MARGIN["bottom"]
        out = [f'<text x="{self.x0 + WIDTH / 2}" y="20" text-anchor="middle" font-weight="bold">{escape(self.title)}</text>',
               f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" fill="none" stroke="#333"/>']
        for value in self._ticks(self.xmin, self.xmax, self.logx):
            px, _ = self.point(value, self.ymin)
            out.append(f'<text x="{px:.1f}" y="{bottom + 16}" text-anchor="middle" font-size="11">{_short(value)}</text>')
        for value in self._ticks(self.ymin, self.ymax, self.logy):
            _, py = self.point(self.xmin, value)
            out.append(f'<line x1="{left}" x2="{right}" y1="{py:.1f}" y2="{py:.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{py + 4:.1f}" text-anchor="end" font-size="11">{_short(value)}</text>')
        out.append(f'<text x="{(left + right) / 2}" y="{HEIGHT - 10}" text-anchor="middle" font-size="12">{escape(self.xlabel)}</text>')
        out.append(f'<text transform="translate({self.x0 + 14},{(top + bottom) / 2}) rotate(-90)" text-anchor="middle" font-size="12">{escape(self.ylabel)}</text>')
        return "\n".join(out + self.parts)


def _short(value: float) -> str:
    for unit, size in (("M", 1e6), ("k", 1e3)):
        if abs(value) >= size:
            return f"{value / size:g}{unit}"
    return f"{value:.3g}"


def write_chart(path: Path, runs: list[dict], limits: dict | None) -> None:
    panels = []
    sizes = [float(r["size"]) for r in runs]
    for index, (key, title, ylabel) in enumerate((("wall_s", "Wall time", "seconds"), ("sim_requests", "Requests", "HTTP requests"))):
        values = [float(r[who][key]) for r in runs for who in ("function", "baseline") if r.get(who)]
        panel = Panel(index * WIDTH, title, "active sessions", ylabel, sizes, values, logx=True, logy=True)
        for who in ("function", "baseline"):
            panel.series(who, [(float(r["size"]), float(r[who][key])) for r in runs if r.get(who)])
        panels.append(panel)
    if limits:
        curves = {who: closes_per_second(limits[who]["samples"]) for who in ("function", "baseline") if limits.get(who)}
        ceiling = limits["ceiling_per_s"]
        xs = [t for points in curves.values() for t, _ in points] or [0.0, 1.0]
        ys = [v for points in curves.values() for _, v in points] + [ceiling]
        panel = Panel(2 * WIDTH, "Limits scenario: closes per second", "seconds since start", "PATCH operations / s", xs, ys, logx=False, logy=False)
        panel.series("ceiling", [(min(xs), ceiling), (max(xs), ceiling)], dots=False, dashed=True)
        for who, points in curves.items():
            panel.series(who, points, dots=False)
        panels.append(panel)
    total = WIDTH * len(panels)
    legend = " ".join(
        f'<rect x="{16 + i * 110}" y="{HEIGHT + 4}" width="12" height="12" fill="{colour}"/>'
        f'<text x="{32 + i * 110}" y="{HEIGHT + 14}" font-size="12">{name}</text>'
        for i, (name, colour) in enumerate(COLOURS.items())
    )
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="{HEIGHT + 24}" viewBox="0 0 {total} {HEIGHT + 24}" '
           f'font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n'
           + "\n".join(p.svg() for p in panels) + f"\n{legend}\n</svg>\n")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(svg)
