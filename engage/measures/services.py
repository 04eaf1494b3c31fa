"""Who may read the QI measures, how centers are named to them, and the CSV export.

The figures are the same for everyone (engage/measures/compute.py); what differs is the
naming. A viewer's own centers (those they are a member of) are named by their code;
every other center is "Center A", "Center B"… in the order centers were added (by id),
skipping the viewer's own, so a label stays put from one visit to the next. A network
reviewer who belongs to no center sees every center anonymised.
"""

from __future__ import annotations

import csv
import io
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import current_app
from werkzeug.exceptions import Forbidden

from engage.audit.services import record_event
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.measures.compute import (
    DEFAULT_WEEKS,
    MAX_WEEKS,
    MEASURES,
    Measure,
    Measures,
    Series,
    Tally,
    Unit,
    Window,
    compute_measures,
    series_of,
    window_before,
)
from engage.network.models import Center, StaffRole, StaffUser

NETWORK_KEY = "network"
NETWORK_LABEL = "Network"
CSV_COLUMNS = ("week", "center", "measure", "numerator", "denominator", "value")
EXPORT_ACTION = "export.measures_csv"
# The same window's figures are served from memory this long (seconds). Past weeks hardly
# change, and on a network-sized database the remission measure reads every symptom
# check-in ever completed; under test (TESTING) nothing is kept.
CACHE_SECONDS = 600
CACHE_KEY = "engage.measures.cache"


def may_view_measures(user: StaffUser | None) -> bool:
    """Clinicians, network reviewers and anyone else who reviews ideas; not plain admins."""
    if user is None or not user.is_active:
        return False
    return user.role in (StaffRole.CLINICIAN, StaffRole.NETWORK_REVIEWER) or user.may_review_ideas


def require_measures_viewer(user: StaffUser | None) -> StaffUser:
    if user is None or not may_view_measures(user):
        raise Forbidden("The QI measures are for clinicians and network reviewers.")
    return user


@dataclass(frozen=True)
class Place:
    """The network, or one center as this viewer may call it."""

    key: str  # for ?center=: "network", an own center's code, or "center-a"
    label: str  # "Network", "EAST", "Center A"
    named: bool
    center_id: int | None
    name: str | None = None  # the full name, of the viewer's own centers only

    @property
    def is_network(self) -> bool:
        return self.center_id is None


def anonymous_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: as spreadsheet columns, so a big network never runs out."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(ord("A") + remainder) + letters
    return letters


def places_for(viewer: StaffUser, centers: Sequence[Center]) -> list[Place]:
    """The network first, then the viewer's own centers by code, then the others, lettered."""
    own_ids = {center.id for center in viewer.centers}
    own = sorted((c for c in centers if c.id in own_ids), key=lambda center: center.code)
    places = [Place(NETWORK_KEY, NETWORK_LABEL, True, None)]
    places += [Place(c.code, c.code, True, c.id, c.name) for c in own]
    taken = {NETWORK_KEY, *(c.code.casefold() for c in own)}
    letter = 0
    for center in sorted((c for c in centers if c.id not in own_ids), key=lambda c: c.id):
        while True:
            letters = anonymous_letters(letter)
            letter += 1
            key, label = f"center-{letters.lower()}", f"Center {letters}"
            if key not in taken and label.casefold() not in taken:
                break  # an own center coded "Center A" would be confused with it
        places.append(Place(key, label, False, center.id))
    return places


@dataclass(frozen=True)
class MeasureReport:
    """The figures one viewer sees: every place, each with all its measures."""

    window: Window
    computed_at: datetime
    places: tuple[Place, ...]
    series: Mapping[str, Mapping[Measure, Series]]  # by place key

    def place(self, key: str) -> Place | None:
        return next((place for place in self.places if place.key == key), None)

    def choose(self, key: str | None) -> tuple[Place, ...]:
        """Every place, or only the one ``key`` names; InvalidInput for any other key."""
        if key is None:
            return self.places
        place = self.place(key)
        if place is None:
            keys = ", ".join(place.key for place in self.places)
            raise InvalidInput("center", key, f"is not one of {keys}")
        return (place,)


def read_measures(
    viewer: StaffUser, weeks: int = DEFAULT_WEEKS, now: datetime | None = None
) -> MeasureReport:
    """The measures over the ``weeks`` complete weeks before now, named for ``viewer``."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise InvalidInput("weeks", weeks, f"must be from 1 to {MAX_WEEKS}")
    window = window_before(now, weeks)
    computed_at, measures = cached_measures(window)
    centers = list(db.session.scalars(sa.select(Center).order_by(Center.id)))
    places = places_for(viewer, centers)
    series: dict[str, Mapping[Measure, Series]] = {}
    for place in places:
        if place.center_id is None:
            series[place.key] = measures.network
        else:
            # A center added since the figures were counted has none yet.
            found = measures.centers.get(place.center_id)
            series[place.key] = found or series_of(window, Tally(window.weeks))
    return MeasureReport(window, computed_at, tuple(places), series)


_cache_lock = threading.Lock()


def cached_measures(window: Window) -> tuple[datetime, Measures]:
    """The window's figures, counted now or at most CACHE_SECONDS ago in this process."""
    seconds = current_app.config.get(
        "MEASURES_CACHE_SECONDS", 0 if current_app.config.get("TESTING") else CACHE_SECONDS
    )
    if not seconds:
        return utcnow(), compute_measures(window)
    key = (window.start, window.weeks)
    cache: dict[tuple[datetime, int], tuple[float, datetime, Measures]]
    cache = current_app.extensions.setdefault(CACHE_KEY, {})
    with _cache_lock:
        hit = cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < seconds:
        return hit[1], hit[2]
    computed_at, measures = utcnow(), compute_measures(window)
    with _cache_lock:
        # Earlier windows are never asked for again once a week has passed.
        for stale in [k for k in cache if k[0] != window.start]:
            del cache[stale]
        cache[key] = (time.monotonic(), computed_at, measures)
    return computed_at, measures


# -- CSV ------------------------------------------------------------------------------------
def value_field(value: float | None, unit: Unit) -> str:
    if value is None:
        return ""
    if unit is Unit.SHARE:
        return f"{value:.4f}"
    if unit is Unit.HOURS:
        return f"{value:.2f}"
    return str(round(value))


def spreadsheet_safe(value: str) -> str:
    """A center code that a spreadsheet would run as a formula is written as text."""
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_rows(report: MeasureReport, places: Sequence[Place]) -> Iterator[list[str]]:
    """One row per place, measure and week, in that order."""
    for place in places:
        for info in MEASURES:
            for figure in report.series[place.key][info.id].figures:
                yield [
                    figure.week.isoformat(),
                    spreadsheet_safe(place.label),
                    info.id.value,
                    str(figure.numerator),
                    "" if figure.denominator is None else str(figure.denominator),
                    value_field(figure.value, info.unit),
                ]


def export_measures_csv(report: MeasureReport, viewer: StaffUser, center: str | None) -> str:
    """The report as CSV text, and an audit event saying who took how many rows."""
    places = report.choose(center)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    rows = 0
    for row in csv_rows(report, places):
        writer.writerow(row)
        rows += 1
    first, last = report.window.mondays[0], report.window.mondays[-1]
    record_event(
        viewer,
        EXPORT_ACTION,
        detail=(
            f"{rows} rows; weeks {first.isoformat()} to {last.isoformat()}; "
            f"center {center or 'all'}"
        ),
    )
    return out.getvalue()
