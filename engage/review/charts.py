"""Scores over time as one self-contained SVG: bands shaded, check-ins marked, no JavaScript.

Pure: no Flask, no database. ``score_chart`` returns markup ready to inline in a page (wrap it
in ``markupsafe.Markup``) or to save as an ``.svg`` file; ``band_zones`` turns the bands of an
instrument's ``Score`` into the shaded zones the chart draws.
"""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

from engage.instruments.model import Score, Translations

TONES = ("good", "mild", "moderate", "severe", "neutral")
# From the best band to the worst; a score with fewer bands skips steps (3 bands: good,
# moderate, severe) so the worst band always looks the worst.
GRADED_TONES = ("good", "mild", "moderate", "severe")
# Band ids that mean "all is well"; where one sits (lowest or highest band) tells which way
# a score points when the caller does not say.
GOOD_BAND_IDS = frozenset({"remission", "doing_well", "inactive", "normal", "none", "well", "good"})

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
EMPTY_TEXT = "No check-ins yet"

# Layout, in SVG user units (pixels at 100%).
CHAR_WIDTH = 5.6  # average advance of a 10px sans-serif character, to size margins
TOP = 16  # room for the legend
BOTTOM = 22  # room for the time axis labels
INSET = 6.0  # keeps the first and last markers off the axes
MIN_SPAN = timedelta(days=14)  # one check-in still gets a readable time axis
TICK_GAP = 64  # least room between two time labels
BAND_CHAR_WIDTH = 5.0  # band labels are 9px
BAND_LINE_HEIGHT = 10.0  # a band this tall or more gets its label, wrapped to fit
MAX_BAND_LABEL_WIDTH = 120.0  # longer labels wrap onto more lines
MONTH_STEPS = (1, 2, 3, 6, 12, 24, 60, 120)
WEEK_STEPS = (1, 2, 4, 8)

# Fills darken with severity, so a greyscale print still reads from light (good) to dark
# (severe); the labels at the right edge name each band as well. Selectors are scoped to
# .score-chart because an inline <style> applies to the whole HTML page.
STYLE = (
    ".score-chart{font-family:Helvetica,Arial,sans-serif;font-size:10px}"
    ".score-chart text{fill:#222}"
    ".score-chart .band{stroke:none}"
    ".score-chart .band-good{fill:#eef7f0}"
    ".score-chart .band-mild{fill:#f7e5a0}"
    ".score-chart .band-moderate{fill:#f8d6b4}"
    ".score-chart .band-severe{fill:#f0b8b8}"
    ".score-chart .band-neutral{fill:#ececec}"
    ".score-chart .band-label{font-size:9px}"
    ".score-chart .axis,.score-chart .tick{stroke:#555;stroke-width:1;fill:none}"
    ".score-chart .series{fill:none;stroke:#1d3557;stroke-width:1.5;stroke-linejoin:round}"
    ".score-chart .point{fill:#1d3557}"
    ".score-chart .missed,.score-chart .legend-missed{fill:#fff;stroke:#1d3557;stroke-width:1.2}"
    ".score-chart .visit,.score-chart .legend-visit{stroke:#333;stroke-width:1;"
    "stroke-dasharray:4 3}"
    ".score-chart .empty{font-size:12px;fill:#555}"
)

# Characters XML 1.0 cannot carry at all, even escaped; dropped so the SVG always parses.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_QUOTES = {'"': "&quot;"}


@dataclass(frozen=True)
class Point:
    """One check-in: its time (aware) and value; a value of None is a missed check-in."""

    at: datetime
    value: float | None
    label: str | None = None  # shown on hover, e.g. "answered by parent" or "expired"


@dataclass(frozen=True)
class BandZone:
    """A shaded stretch of the value axis, from ``low`` to ``high``, with its label and tone."""

    low: float
    high: float
    label: str
    tone: str  # one of TONES


class BandLike(Protocol):
    """An instrument's ``Band``, or any band with an id, bounds and a label or translations."""

    @property
    def id(self) -> str: ...
    @property
    def label(self) -> str | Translations: ...
    @property
    def minimum(self) -> float: ...
    @property
    def maximum(self) -> float: ...


def band_zones(
    bands: Score | Iterable[BandLike],
    language: str = "en",
    *,
    higher_is_better: bool | None = None,
) -> tuple[BandZone, ...]:
    """Return the shaded zones for the bands of a score, the best band toned "good".

    Zones are contiguous: each runs from its band's minimum to the next band's minimum, so
    integer bands such as 10-34 and 35-64 leave no unshaded strip. When ``higher_is_better``
    is None it is inferred from where a band with a "good" id (remission, doing_well, ...)
    sits; when that cannot tell, every zone is "neutral" rather than guessed.
    """
    ordered: list[BandLike] = sorted(
        bands.bands if isinstance(bands, Score) else bands, key=lambda band: band.minimum
    )
    if not ordered:
        return ()
    if higher_is_better is None:
        higher_is_better = infer_higher_is_better(ordered)
    zones = []
    for index, band in enumerate(ordered):
        high = ordered[index + 1].minimum if index + 1 < len(ordered) else band.maximum
        if higher_is_better is None:
            tone = "neutral"
        else:
            rank = len(ordered) - 1 - index if higher_is_better else index
            tone = graded_tone(rank, len(ordered))
        zones.append(BandZone(band.minimum, high, band_label(band, language), tone))
    return tuple(zones)


def infer_higher_is_better(bands: Sequence[BandLike]) -> bool | None:
    """Tell from band ids (lowest first) which way a score points, or None if they do not say."""
    if bands[0].id in GOOD_BAND_IDS:
        return False
    if bands[-1].id in GOOD_BAND_IDS:
        return True
    return None


def graded_tone(rank: int, count: int) -> str:
    """Tone of the band ``rank`` steps from the best of ``count`` bands."""
    if count == 1:
        return GRADED_TONES[0]
    steps = len(GRADED_TONES) - 1
    # Rounded half up, in integers: 3 bands give good, moderate, severe.
    return GRADED_TONES[(2 * rank * steps + count - 1) // (2 * (count - 1))]


def band_label(band: BandLike, language: str) -> str:
    if isinstance(band.label, str):
        return band.label
    return band.label.get(language) or next(iter(band.label.values()), None) or band.id


def score_chart(
    points: Sequence[Point],
    *,
    minimum: float,
    maximum: float,
    bands: Sequence[BandZone],
    title: str,
    width: int = 640,
    height: int = 200,
    time_zone: str = "UTC",
    visits: Sequence[datetime] = (),
) -> str:
    """Draw ``points`` over time as a complete ``<svg>`` document, bands shaded behind them."""
    check_input(points, minimum, maximum, bands, visits)
    zone = ZoneInfo(time_zone)
    ordered = sorted(points, key=lambda point: point.at)
    zones = sorted(bands, key=lambda band: band.low)
    y_values = value_ticks(minimum, maximum, zones)
    y_labels = [number(value) for value in y_values]
    left = max(24.0, max(len(label) for label in y_labels) * CHAR_WIDTH + 10)
    widest_band = max((len(band.label) for band in zones), default=0)
    right = min(max(24.0, widest_band * BAND_CHAR_WIDTH + 10), MAX_BAND_LABEL_WIDTH)
    plot = Plot(left, TOP, width - right, height - BOTTOM, minimum, maximum)
    if plot.x1 - plot.x0 < 2 * INSET + 1 or plot.y1 - plot.y0 < 1:
        raise ValueError(f"a chart of {width}x{height} leaves no room to plot")

    missed = sum(point.value is None for point in ordered)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="score-chart" role="img" '
        f'width="{width}" height="{height}" viewBox="0 0 {width} {height}">',
        f"<title>{text(title)}</title>",
        f"<desc>{text(describe(ordered, zones, zone))}</desc>",
        f"<style>{STYLE}</style>",
    ]
    parts += draw_bands(plot, zones, right)
    parts += draw_value_axis(plot, y_values, y_labels)
    if not ordered:
        middle_x = (plot.x0 + plot.x1) / 2
        middle_y = (plot.y0 + plot.y1) / 2 + 4
        parts.append(
            f'<text class="empty" x="{c(middle_x)}" y="{c(middle_y)}" '
            f'text-anchor="middle">{EMPTY_TEXT}</text>'
        )
        parts.append("</svg>")
        return "".join(parts)

    instants = [point.at.timestamp() for point in ordered] + [v.timestamp() for v in visits]
    plot.set_time(min(instants), max(instants))
    parts += draw_time_axis(plot, zone)
    for visit in sorted(visits):
        x = c(plot.x(visit.timestamp()))
        parts.append(
            f'<line class="visit" x1="{x}" y1="{c(plot.y0)}" x2="{x}" y2="{c(plot.y1)}">'
            f"<title>Visit {local_date(visit, zone).isoformat()}</title></line>"
        )
    parts += draw_series(plot, ordered)
    for point in ordered:
        parts.append(draw_marker(plot, point, zones, zone))
    parts += draw_legend(plot, missed=missed > 0, visits=bool(visits))
    parts.append("</svg>")
    return "".join(parts)


def check_input(
    points: Sequence[Point],
    minimum: float,
    maximum: float,
    bands: Sequence[BandZone],
    visits: Sequence[datetime],
) -> None:
    if not (math.isfinite(minimum) and math.isfinite(maximum) and minimum < maximum):
        raise ValueError(f"minimum {minimum} must be below maximum {maximum}")
    for point in points:
        if point.at.utcoffset() is None:
            raise ValueError(f"check-in time {point.at!r} has no time zone")
        if point.value is not None and not math.isfinite(point.value):
            raise ValueError(f"check-in value {point.value!r} is not a number")
    for visit in visits:
        if visit.utcoffset() is None:
            raise ValueError(f"visit time {visit!r} has no time zone")
    for band in bands:
        if band.tone not in TONES:
            raise ValueError(f"band tone {band.tone!r} is not one of {', '.join(TONES)}")
        if not band.low < band.high:
            raise ValueError(f"band {band.label!r} runs from {band.low} to {band.high}")


class Plot:
    """The plot area and the scales from values and instants to its coordinates."""

    def __init__(
        self, x0: float, y0: float, x1: float, y1: float, minimum: float, maximum: float
    ) -> None:
        self.x0, self.y0, self.x1, self.y1 = x0, y0, x1, y1
        self.minimum, self.maximum = minimum, maximum
        self.start = 0.0
        self.end = 1.0

    def set_time(self, first: float, last: float) -> None:
        """Span the time axis from ``first`` to ``last`` (POSIX seconds), never under MIN_SPAN."""
        least = MIN_SPAN.total_seconds()
        if last - first < least:
            middle = (first + last) / 2
            first, last = middle - least / 2, middle + least / 2
        self.start, self.end = first, last

    def x(self, instant: float) -> float:
        share = (instant - self.start) / (self.end - self.start)
        return self.x0 + INSET + share * (self.x1 - self.x0 - 2 * INSET)

    def y(self, value: float) -> float:
        # Out-of-range values are pinned to the edge; their hover text keeps the real value.
        value = min(max(value, self.minimum), self.maximum)
        share = (value - self.minimum) / (self.maximum - self.minimum)
        return self.y1 - share * (self.y1 - self.y0)


def draw_bands(plot: Plot, zones: Sequence[BandZone], right: float) -> list[str]:
    parts = []
    per_line = max(int((right - 6) / BAND_CHAR_WIDTH), 4)
    for band in zones:
        low, high = max(band.low, plot.minimum), min(band.high, plot.maximum)
        if high <= low:
            continue
        top, bottom = round(plot.y(high), 1), round(plot.y(low), 1)
        parts.append(
            f'<rect class="band band-{band.tone}" x="{c(plot.x0)}" y="{c(top)}" '
            f'width="{c(plot.x1 - plot.x0)}" height="{c(bottom - top)}"/>'
        )
        room = int((bottom - top) // BAND_LINE_HEIGHT)
        if room < 1:
            continue  # too thin to label; the hover text of its points still names it
        lines = textwrap.wrap(band.label, per_line, max_lines=room, placeholder="…") or [""]
        x = c(plot.x1 + 4)
        first = (top + bottom) / 2 + 3 - (len(lines) - 1) * BAND_LINE_HEIGHT / 2
        spans = "".join(
            f'<tspan x="{x}" y="{c(first + n * BAND_LINE_HEIGHT)}">{text(line)}</tspan>'
            for n, line in enumerate(lines)
        )
        parts.append(f'<text class="band-label">{spans}</text>')
    return parts


def draw_value_axis(plot: Plot, values: Sequence[float], labels: Sequence[str]) -> list[str]:
    parts = [
        f'<path class="axis" d="M{c(plot.x0)} {c(plot.y0)}V{c(plot.y1)}H{c(plot.x1)}"/>',
    ]
    for value, label in zip(values, labels, strict=True):
        y = c(plot.y(value))
        parts.append(f'<path class="tick" d="M{c(plot.x0 - 4)} {y}H{c(plot.x0)}"/>')
        parts.append(
            f'<text class="y-label" x="{c(plot.x0 - 6)}" y="{c(plot.y(value) + 3.5)}" '
            f'text-anchor="end">{label}</text>'
        )
    return parts


def draw_time_axis(plot: Plot, zone: ZoneInfo) -> list[str]:
    parts = []
    most = max(2, int((plot.x1 - plot.x0) // TICK_GAP))
    for instant, label in time_ticks(plot.start, plot.end, zone, most):
        x = plot.x(instant)
        parts.append(f'<path class="tick" d="M{c(x)} {c(plot.y1)}V{c(plot.y1 + 4)}"/>')
        parts.append(
            f'<text class="x-label" x="{c(x)}" y="{c(plot.y1 + 15)}" '
            f'text-anchor="middle">{label}</text>'
        )
    return parts


def draw_series(plot: Plot, ordered: Sequence[Point]) -> list[str]:
    """One polyline per run of answered check-ins: a missed one breaks the line."""
    parts = []
    run: list[str] = []
    for point in [*ordered, None]:
        if point is not None and point.value is not None:
            run.append(f"{c(plot.x(point.at.timestamp()))},{c(plot.y(point.value))}")
            continue
        if len(run) > 1:
            parts.append(f'<polyline class="series" points="{" ".join(run)}"/>')
        run = []
    return parts


def draw_marker(plot: Plot, point: Point, zones: Sequence[BandZone], zone: ZoneInfo) -> str:
    day = local_date(point.at, zone).isoformat()
    x = c(plot.x(point.at.timestamp()))
    note = f", {point.label}" if point.label else ""
    if point.value is None:
        hover = f"{day}: missed{note}"
        return (
            f'<circle class="missed" cx="{x}" cy="{c(plot.y1)}" r="3.5">'
            f"<title>{text(hover)}</title></circle>"
        )
    band = band_of(point.value, zones)
    hover = f"{day}: {number(point.value)}" + (f" ({band.label})" if band else "") + note
    return (
        f'<circle class="point" cx="{x}" cy="{c(plot.y(point.value))}" r="3">'
        f"<title>{text(hover)}</title></circle>"
    )


def draw_legend(plot: Plot, *, missed: bool, visits: bool) -> list[str]:
    """Explain the hollow marker and the dashed line on paper, where hover text is lost."""
    parts = []
    x = plot.x1
    y = plot.y0 - 5
    if visits:
        x -= len("visit") * CHAR_WIDTH
        parts.append(f'<text class="legend" x="{c(x)}" y="{c(y + 3.5)}">visit</text>')
        parts.append(f'<path class="legend-visit" d="M{c(x - 4)} {c(y - 6)}V{c(y + 5)}"/>')
        x -= 16
    if missed:
        x -= len("missed check-in") * CHAR_WIDTH
        parts.append(f'<text class="legend" x="{c(x)}" y="{c(y + 3.5)}">missed check-in</text>')
        parts.append(f'<circle class="legend-missed" cx="{c(x - 6)}" cy="{c(y)}" r="3.5"/>')
    return parts


def describe(ordered: Sequence[Point], zones: Sequence[BandZone], zone: ZoneInfo) -> str:
    """Summarise the chart in one sentence for screen readers."""
    if not ordered:
        return EMPTY_TEXT
    answered = [(point.at, point.value) for point in ordered if point.value is not None]
    missed = len(ordered) - len(answered)
    since = local_date(ordered[0].at, zone).isoformat()
    if not answered:
        return f"No answered check-ins; {missed} missed since {since}"
    at, value = answered[-1]
    band = band_of(value, zones)
    band_text = f" ({band.label})" if band else ""
    count = f"{len(answered)} check-in{'s' if len(answered) != 1 else ''} answered"
    missed_text = f", {missed} missed" if missed else ""
    return (
        f"Latest {number(value)}{band_text} on {local_date(at, zone).isoformat()}; "
        f"{count} since {since}{missed_text}"
    )


def band_of(value: float, zones: Sequence[BandZone]) -> BandZone | None:
    """The zone holding ``value``; a value on a shared edge belongs to the upper zone."""
    found = None
    for band in zones:
        if band.low <= value <= band.high:
            found = band
    return found


def value_ticks(minimum: float, maximum: float, zones: Sequence[BandZone]) -> list[float]:
    """Ticks at band edges when there are bands (the cut-offs clinicians know), else round steps."""
    edges = {minimum, maximum}
    if zones:
        edges.update(edge for band in zones for edge in (band.low, band.high))
    else:
        step = nice_step((maximum - minimum) / 4)
        first = math.ceil(minimum / step)
        edges.update(round(n * step, 10) for n in range(first, first + 6))
    ticks = sorted(edge for edge in edges if minimum <= edge <= maximum)
    # Keep labels apart; the maximum always stays (min and max are always far enough apart).
    gap = (maximum - minimum) * 0.07
    kept = [ticks[0]]
    for tick in ticks[1:]:
        if tick - kept[-1] >= gap:
            kept.append(tick)
        elif tick == maximum:
            kept[-1] = tick
    return kept


def nice_step(raw: float) -> float:
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def time_ticks(start: float, end: float, zone: ZoneInfo, most: int) -> list[tuple[float, str]]:
    """Local-midnight ticks (Mondays, or first days of months) between two instants."""
    first = datetime.fromtimestamp(start, zone).date()
    last = datetime.fromtimestamp(end, zone).date()
    if (last - first).days < 56:
        monday = first + timedelta(days=(7 - first.weekday()) % 7)
        for weeks in WEEK_STEPS:
            days = [monday + timedelta(weeks=n) for n in range(0, (last - monday).days // 7 + 1)]
            days = days[::weeks]
            ticks = within(days, start, end, zone)
            if len(ticks) <= most:
                return [(at, f"{MONTHS[day.month - 1]} {day.day}") for day, at in ticks]
    start_month = first.year * 12 + first.month - 1 + (first.day > 1)
    last_month = last.year * 12 + last.month - 1
    ticks = []
    for months in MONTH_STEPS:
        aligned = -(-start_month // months) * months
        days = [date(m // 12, m % 12 + 1, 1) for m in range(aligned, last_month + 1, months)]
        ticks = within(days, start, end, zone)
        if len(ticks) <= most:
            break
    return [(at, f"{MONTHS[day.month - 1]} {day.year}") for day, at in ticks]


def within(
    days: Sequence[date], start: float, end: float, zone: ZoneInfo
) -> list[tuple[date, float]]:
    """The local midnights of ``days`` that fall inside the time axis."""
    midnights = [
        (day, datetime(day.year, day.month, day.day, tzinfo=zone).timestamp()) for day in days
    ]
    return [(day, at) for day, at in midnights if start <= at <= end]


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def number(value: float) -> str:
    """A score as people read it: 35, 41.5."""
    rounded = round(value, 1) + 0.0
    return str(int(rounded)) if rounded.is_integer() else f"{rounded:.1f}"


def c(coordinate: float) -> str:
    """A coordinate to one decimal, never "-0.0"."""
    return f"{round(coordinate, 1) + 0.0:.1f}"


def text(value: str) -> str:
    """Escape text for XML; str() first so a Markup is escaped as the plain text it holds."""
    return escape(_NOT_XML.sub("", str(value)), _QUOTES)
