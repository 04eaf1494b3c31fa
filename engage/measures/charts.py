"""Run charts as self-contained SVG: weekly points, the median as centre line, no JavaScript.

Pure: no Flask, no database. ``run_chart`` returns markup ready to inline in a page (wrap
it in ``markupsafe.Markup``: every text inside is escaped here) or to save as an ``.svg``.
The score chart of the review pages (engage/review/charts.py) draws scores against time;
a run chart is a different picture (evenly spaced weeks, gaps for weeks with nothing to
measure, a median line per series), so only its escaping and number helpers are shared.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from engage.review.charts import CHAR_WIDTH, INSET, MONTHS, c, nice_step, text

UNITS = ("share", "hours", "count")
EMPTY_TEXT = "Nothing to measure in these weeks"
TOP = 18  # room for the legend
BOTTOM = 22  # room for the week labels
TICK_GAP = 56  # least room between two week labels
# Series are told apart by colour, line and marker, so a greyscale print still reads.
STYLE = (
    ".run-chart{font-family:Helvetica,Arial,sans-serif;font-size:10px}"
    ".run-chart text{fill:#222}"
    ".run-chart .axis,.run-chart .tick{stroke:#555;stroke-width:1;fill:none}"
    ".run-chart .grid{stroke:#e3e7ec;stroke-width:1}"
    ".run-chart .line-0{fill:none;stroke:#1d3557;stroke-width:1.5;stroke-linejoin:round}"
    ".run-chart .line-1{fill:none;stroke:#b45309;stroke-width:1.5;stroke-dasharray:5 2}"
    ".run-chart .point-0{fill:#1d3557}"
    ".run-chart .point-1{fill:#fff;stroke:#b45309;stroke-width:1.5}"
    ".run-chart .median-0{stroke:#1d3557;stroke-width:1;stroke-dasharray:6 4}"
    ".run-chart .median-1{stroke:#b45309;stroke-width:1;stroke-dasharray:2 3}"
    ".run-chart .median-label{font-size:9px}"
    ".run-chart .median-label-0{fill:#1d3557}.run-chart .median-label-1{fill:#b45309}"
    ".run-chart .empty{font-size:12px;fill:#555}"
)


@dataclass(frozen=True)
class RunSeries:
    """One line of a run chart: a value (or None) for each week, and its median."""

    label: str
    values: Sequence[float | None]
    median: float | None
    notes: Sequence[str] = ()  # per week, shown on hover, e.g. "2 of 3"


def run_chart(
    weeks: Sequence[date],
    series: Sequence[RunSeries],
    *,
    unit: str,
    title: str,
    ident: str = "run-chart",
    width: int = 640,
    height: int = 220,
) -> str:
    """Draw one or two series over ``weeks`` (Mondays) as a complete ``<svg>`` document."""
    check_input(weeks, series, unit)
    shown = [v for line in series for v in [*line.values, line.median] if v is not None]
    highest = max(shown, default=0.0)
    ticks = value_ticks(unit, highest)
    labels = [value_text(tick, unit) for tick in ticks]
    left = max(24.0, max(len(label) for label in labels) * CHAR_WIDTH + 10)
    widest_median = max((len(median_text(s, unit)) for s in series), default=0)
    right = max(16.0, widest_median * 5.0 + 8)
    plot = Plot(left, TOP, width - right, height - BOTTOM, ticks[-1], len(weeks))
    if plot.x1 - plot.x0 < 2 * INSET + 1 or plot.y1 - plot.y0 < 1:
        raise ValueError(f"a chart of {width}x{height} leaves no room to plot")

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="run-chart" role="img" '
        f'aria-labelledby="{ident}-title {ident}-desc" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f'<title id="{ident}-title">{text(title)}</title>',
        f'<desc id="{ident}-desc">{text(describe(weeks, series, unit))}</desc>',
        f"<style>{STYLE}</style>",
    ]
    parts += draw_value_axis(plot, ticks, labels)
    if all(value is None for s in series for value in s.values):
        parts.append(
            f'<text class="empty" x="{c((plot.x0 + plot.x1) / 2)}" '
            f'y="{c((plot.y0 + plot.y1) / 2 + 4)}" text-anchor="middle">{EMPTY_TEXT}</text>'
        )
        parts.append("</svg>")
        return "".join(parts)
    parts += draw_week_axis(plot, weeks)
    label_at: list[float] = []
    for n, line in enumerate(series):
        parts += draw_median(plot, line, n, unit, label_at)
    for n, line in enumerate(series):
        parts += draw_line(plot, line, n)
        parts += draw_points(plot, line, n, weeks, unit)
    if len(series) > 1:
        parts += draw_legend(plot, series)
    parts.append("</svg>")
    return "".join(parts)


def check_input(weeks: Sequence[date], series: Sequence[RunSeries], unit: str) -> None:
    if unit not in UNITS:
        raise ValueError(f"unit {unit!r} is not one of {', '.join(UNITS)}")
    if not weeks:
        raise ValueError("a run chart needs at least one week")
    if not 1 <= len(series) <= 2:
        raise ValueError("a run chart draws one or two series")
    for line in series:
        if len(line.values) != len(weeks):
            raise ValueError(f"{line.label!r} has {len(line.values)} values for {len(weeks)} weeks")
        for value in [*line.values, line.median]:
            if value is not None and not (math.isfinite(value) and value >= 0):
                raise ValueError(f"{line.label!r}: {value!r} is not a number of 0 or more")


class Plot:
    """The plot area, and the scales from week numbers and values to its coordinates."""

    def __init__(
        self, x0: float, y0: float, x1: float, y1: float, maximum: float, weeks: int
    ) -> None:
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.maximum = maximum
        self.weeks = weeks

    def x(self, week: int) -> float:
        if self.weeks == 1:
            return (self.x0 + self.x1) / 2
        return self.x0 + INSET + week * (self.x1 - self.x0 - 2 * INSET) / (self.weeks - 1)

    def y(self, value: float) -> float:
        share = min(value, self.maximum) / self.maximum
        return self.y1 - share * (self.y1 - self.y0)


def value_ticks(unit: str, highest: float) -> list[float]:
    """0 to 100% for shares; round steps from 0 past the highest value otherwise."""
    if unit == "share":
        return [0, 0.25, 0.5, 0.75, 1.0]
    if highest <= 0:
        return [0, 1] if unit == "count" else [0, 1, 2]
    step = nice_step(highest / 4)
    if unit == "count":
        step = max(1.0, math.ceil(step))
    steps = math.ceil(highest / step - 1e-9)
    return [round(n * step, 10) for n in range(steps + 1)]


def draw_value_axis(plot: Plot, ticks: Sequence[float], labels: Sequence[str]) -> list[str]:
    parts = []
    for value, label in zip(ticks, labels, strict=True):
        y = c(plot.y(value))
        if value > 0:
            parts.append(f'<path class="grid" d="M{c(plot.x0)} {y}H{c(plot.x1)}"/>')
        parts.append(f'<path class="tick" d="M{c(plot.x0 - 4)} {y}H{c(plot.x0)}"/>')
        parts.append(
            f'<text class="y-label" x="{c(plot.x0 - 6)}" y="{c(plot.y(value) + 3.5)}" '
            f'text-anchor="end">{text(label)}</text>'
        )
    parts.append(f'<path class="axis" d="M{c(plot.x0)} {c(plot.y0)}V{c(plot.y1)}H{c(plot.x1)}"/>')
    return parts


def draw_week_axis(plot: Plot, weeks: Sequence[date]) -> list[str]:
    """Label every few weeks, counted back from the last, which is always labelled."""
    room = max(1, int((plot.x1 - plot.x0) // TICK_GAP))
    step = max(1, math.ceil(len(weeks) / room))
    parts = []
    for n, monday in enumerate(weeks):
        if (len(weeks) - 1 - n) % step:
            continue
        x = c(plot.x(n))
        parts.append(f'<path class="tick" d="M{x} {c(plot.y1)}V{c(plot.y1 + 4)}"/>')
        parts.append(
            f'<text class="x-label" x="{x}" y="{c(plot.y1 + 15)}" text-anchor="middle">'
            f"{MONTHS[monday.month - 1]} {monday.day}</text>"
        )
    return parts


def draw_median(plot: Plot, line: RunSeries, n: int, unit: str, label_at: list[float]) -> list[str]:
    """The centre line across the plot, labelled at its right end (clear of other labels)."""
    if line.median is None:
        return []
    y = plot.y(line.median)
    label_y = y + 3
    for taken in label_at:
        if abs(label_y - taken) < 10:
            # Above the other label, unless that leaves the chart; then below it.
            label_y = taken - 10 if taken - 10 > plot.y0 else taken + 10
    label_at.append(label_y)
    label = text(median_text(line, unit))
    return [
        f'<line class="median median-{n}" x1="{c(plot.x0)}" y1="{c(y)}" x2="{c(plot.x1)}" '
        f'y2="{c(y)}"><title>{text(line.label)}: {label}</title></line>',
        f'<text class="median-label median-label-{n}" x="{c(plot.x1 + 4)}" '
        f'y="{c(label_y)}">{label}</text>',
    ]


def draw_line(plot: Plot, line: RunSeries, n: int) -> list[str]:
    """One polyline per run of weeks with a value: a week with none leaves a gap."""
    parts = []
    run: list[str] = []
    for week, value in enumerate([*line.values, None]):
        if value is not None:
            run.append(f"{c(plot.x(week))},{c(plot.y(value))}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline class="line line-{n}" points="{" ".join(run)}"/>')
        run = []
    return parts


def draw_points(plot: Plot, line: RunSeries, n: int, weeks: Sequence[date], unit: str) -> list[str]:
    parts = []
    for week, value in enumerate(line.values):
        if value is None:
            continue
        note = line.notes[week] if week < len(line.notes) and line.notes[week] else ""
        hover = f"{line.label}, week of {weeks[week].isoformat()}: {value_text(value, unit)}"
        hover += f" ({note})" if note else ""
        x, y = c(plot.x(week)), c(plot.y(value))
        shape = (
            f'<circle class="point point-{n}" cx="{x}" cy="{y}" r="3">'
            if n == 0
            else f'<rect class="point point-{n}" x="{c(plot.x(week) - 3)}" '
            f'y="{c(plot.y(value) - 3)}" width="6" height="6">'
        )
        closing = "</circle>" if n == 0 else "</rect>"
        parts.append(f"{shape}<title>{text(hover)}</title>{closing}")
    return parts


def draw_legend(plot: Plot, series: Sequence[RunSeries]) -> list[str]:
    parts = []
    x = plot.x0 + 4
    y = plot.y0 - 7
    for n, line in enumerate(series):
        parts.append(
            f'<path class="line line-{n}" d="M{c(x)} {c(y)}H{c(x + 16)}"/>'
            f'<text class="legend" x="{c(x + 20)}" y="{c(y + 3.5)}">{text(line.label)}</text>'
        )
        x += 28 + len(line.label) * CHAR_WIDTH
    return parts


def describe(weeks: Sequence[date], series: Sequence[RunSeries], unit: str) -> str:
    """Summarise the chart in a sentence per series, for screen readers."""
    sentences = []
    for line in series:
        measured = [
            (monday, value)
            for monday, value in zip(weeks, line.values, strict=True)
            if value is not None
        ]
        if not measured:
            sentences.append(f"{line.label}: nothing to measure in {len(weeks)} weeks.")
            continue
        monday, value = measured[-1]
        sentences.append(
            f"{line.label}: latest {value_text(value, unit)} in the week of "
            f"{monday.isoformat()}; {median_text(line, unit)} over {len(measured)} of "
            f"{len(weeks)} weeks."
        )
    return " ".join(sentences)


def median_text(line: RunSeries, unit: str) -> str:
    return "" if line.median is None else f"median {value_text(line.median, unit)}"


def value_text(value: float, unit: str) -> str:
    """A value as people read it: 67%, 4.5 h, 3."""
    if unit == "share":
        return f"{round(value * 100)}%"
    rounded = round(value, 1) + 0.0
    shown = str(int(rounded)) if rounded.is_integer() else f"{rounded:.1f}"
    return f"{shown} h" if unit == "hours" else shown
