"""The network's QI measures, week by week, per center: counted in the database.

Weeks are ISO weeks in UTC, Monday 00:00 to the next Monday 00:00, so a week is the same
stretch of time at every center and the network's figure is the sum of its centers'.
A window is the ``weeks`` complete weeks before the current one: the week under way is
left out until it ends, so a run chart never ends on a half-counted point.

Each measure is one or two aggregate statements grouped by center and week (plus, for a
median, one ranked by week alone for the network); Python only adds centers up and keeps
running totals. No row per patient or per check-in comes back.
"""

from __future__ import annotations

import enum
import statistics
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.codesign.models import Idea, IdeaStatus, IdeaStatusChange
from engage.conversations.models import CheckIn, CheckInScore, CheckInStatus
from engage.db import db, utcnow
from engage.instruments.models import InstrumentVersion
from engage.network.models import Center
from engage.people.models import Patient

DEFAULT_WEEKS = 26
MAX_WEEKS = 104
WEEK = timedelta(weeks=1)
WEEK_SECONDS = 7 * 24 * 3600

# Measure 2 reads this score of this instrument (prompts/ibd-symptoms.yaml, PUCAI).
SYMPTOMS_INSTRUMENT = "ibd-symptoms"
SYMPTOMS_SCORE = "activity_index"
REMISSION_BAND = "remission"

# A check-in counts once its outcome is known. Cancelled ones (opted out, paused, unusable
# number, visit cancelled or moved, enrollment ended) were never asked; open ones may still
# be answered.
DECIDED_STATUSES = (CheckInStatus.COMPLETED, CheckInStatus.EXPIRED, CheckInStatus.MISSED)


class Measure(enum.StrEnum):
    CHECKINS_COMPLETED = "checkins_completed"
    REMISSION = "remission"
    ALERT_ACK_HOURS = "alert_ack_hours"
    IDEAS_SUBMITTED = "ideas_submitted"
    IDEAS_ADOPTED = "ideas_adopted"


class Unit(enum.StrEnum):
    SHARE = "share"  # 0 to 1, shown as a percentage
    HOURS = "hours"
    COUNT = "count"


@dataclass(frozen=True)
class MeasureInfo:
    """What a measure's numbers mean, in words for the page, the CSV and the API."""

    id: Measure
    title: str
    unit: Unit
    value: str
    numerator: str
    denominator: str | None


MEASURES: tuple[MeasureInfo, ...] = (
    MeasureInfo(
        Measure.CHECKINS_COMPLETED,
        "Due check-ins completed",
        Unit.SHARE,
        "share of the check-ins due that week that were completed",
        "check-ins due that week and completed",
        "check-ins due that week that were completed, expired or missed (cancelled and "
        "still-open ones are not counted)",
    ),
    MeasureInfo(
        Measure.REMISSION,
        "Patients in remission",
        Unit.SHARE,
        "share of patients whose latest symptom band, at the end of the week, is remission",
        "patients whose latest ibd-symptoms activity index band is remission",
        "patients with at least one completed ibd-symptoms check-in with a band by the end "
        "of the week",
    ),
    MeasureInfo(
        Measure.ALERT_ACK_HOURS,
        "Hours to acknowledge a red-flag alert",
        Unit.HOURS,
        "median hours from an alert to its acknowledgement, over the alerts raised that "
        "week and acknowledged since",
        "alerts raised that week and acknowledged",
        "alerts raised that week (the difference is still open)",
    ),
    MeasureInfo(
        Measure.IDEAS_SUBMITTED,
        "Ideas submitted",
        Unit.COUNT,
        "ideas submitted that week",
        "ideas submitted that week",
        None,
    ),
    MeasureInfo(
        Measure.IDEAS_ADOPTED,
        "Ideas adopted",
        Unit.COUNT,
        "ideas whose status changed to adopted that week",
        "ideas adopted that week",
        None,
    ),
)
MEASURE_INFO: Mapping[Measure, MeasureInfo] = {info.id: info for info in MEASURES}


@dataclass(frozen=True)
class Window:
    """``weeks`` consecutive UTC weeks from ``start`` (a Monday, 00:00 UTC)."""

    start: datetime
    weeks: int

    @property
    def end(self) -> datetime:
        return self.start + self.weeks * WEEK

    @property
    def mondays(self) -> list[date]:
        return [(self.start + n * WEEK).date() for n in range(self.weeks)]


def window_before(now: datetime | None = None, weeks: int = DEFAULT_WEEKS) -> Window:
    """The ``weeks`` complete weeks before the one ``now`` falls in."""
    if not 1 <= weeks <= MAX_WEEKS:
        raise ValueError(f"weeks must be from 1 to {MAX_WEEKS}, not {weeks}")
    today = (now or utcnow()).astimezone(UTC).date()
    this_monday = datetime.combine(today - timedelta(days=today.weekday()), datetime.min.time())
    return Window(this_monday.replace(tzinfo=UTC) - weeks * WEEK, weeks)


@dataclass(frozen=True)
class Figure:
    """One week of one measure: ``value`` is None when there was nothing to measure."""

    week: date  # its Monday
    numerator: int
    denominator: int | None
    value: float | None


@dataclass(frozen=True)
class Series:
    """One measure at one place over the window, with its run chart's centre line."""

    measure: MeasureInfo
    figures: tuple[Figure, ...]

    @property
    def median(self) -> float | None:
        values = [figure.value for figure in self.figures if figure.value is not None]
        return statistics.median(values) if values else None


@dataclass
class Tally:
    """Weekly numerators and denominators of one place, plus any medians from SQL."""

    weeks: int
    numerators: dict[Measure, list[int]] = field(default_factory=dict)
    denominators: dict[Measure, list[int]] = field(default_factory=dict)
    medians: dict[Measure, list[float | None]] = field(default_factory=dict)

    def numerator(self, measure: Measure) -> list[int]:
        return self.numerators.setdefault(measure, [0] * self.weeks)

    def denominator(self, measure: Measure) -> list[int]:
        return self.denominators.setdefault(measure, [0] * self.weeks)

    def median(self, measure: Measure) -> list[float | None]:
        return self.medians.setdefault(measure, [None] * self.weeks)


@dataclass(frozen=True)
class Measures:
    """Every measure over one window: the network's, and each center's by center id."""

    window: Window
    network: Mapping[Measure, Series]
    centers: Mapping[int, Mapping[Measure, Series]]


def compute_measures(window: Window) -> Measures:
    """Count every measure over ``window``, for each center and the whole network."""
    center_ids = list(db.session.scalars(sa.select(Center.id).order_by(Center.id)))
    tallies: dict[int | None, Tally] = {key: Tally(window.weeks) for key in [None, *center_ids]}

    def tally(center_id: int | None) -> Tally:
        # A center added between the two reads: still counted.
        return tallies.setdefault(center_id, Tally(window.weeks))

    # ``{center_id, None}``: each row adds to its center and to the network, once.
    sql = Sql(db.session.get_bind().dialect.name, window)
    for center_id, week, done, due in sql.checkins_completed():
        for place in {center_id, None}:
            tally(place).numerator(Measure.CHECKINS_COMPLETED)[week] += done
            tally(place).denominator(Measure.CHECKINS_COMPLETED)[week] += due
    add_remission(sql, tally)
    for center_id, week, acknowledged, raised in sql.alerts_raised():
        for place in {center_id, None}:
            tally(place).numerator(Measure.ALERT_ACK_HOURS)[week] += acknowledged
            tally(place).denominator(Measure.ALERT_ACK_HOURS)[week] += raised
    for median_center_id, week, hours in sql.acknowledgement_medians(by_center=True):
        tally(median_center_id).median(Measure.ALERT_ACK_HOURS)[week] = float(hours)
    for _, week, hours in sql.acknowledgement_medians(by_center=False):
        tally(None).median(Measure.ALERT_ACK_HOURS)[week] = float(hours)
    for measure, rows in (
        (Measure.IDEAS_SUBMITTED, sql.ideas_submitted()),
        (Measure.IDEAS_ADOPTED, sql.ideas_adopted()),
    ):
        # An idea from a phone engage could not place at a center counts network-wide only.
        for idea_center_id, week, count in rows:
            for place in {idea_center_id, None}:
                tally(place).numerator(measure)[week] += count

    series = {key: series_of(window, each) for key, each in tallies.items()}
    network = series.pop(None)
    return Measures(
        window, network, {key: value for key, value in series.items() if key is not None}
    )


def add_remission(sql: Sql, tally: Callable[[int | None], Tally]) -> None:
    """Running totals from the changes: who got a first band, who moved in or out."""
    changes: dict[int, dict[int, tuple[int, int]]] = {}
    for center_id, week, first_bands, into_remission in sql.remission_changes():
        changes.setdefault(center_id, {})[week] = (int(first_bands), int(into_remission))
    for center_id, by_week in changes.items():
        banded, in_remission = by_week.get(-1, (0, 0))
        for week in range(sql.window.weeks):
            first_bands, into_remission = by_week.get(week, (0, 0))
            banded += first_bands
            in_remission += into_remission
            for place in {center_id, None}:
                tally(place).numerator(Measure.REMISSION)[week] += in_remission
                tally(place).denominator(Measure.REMISSION)[week] += banded


def series_of(window: Window, tally: Tally) -> dict[Measure, Series]:
    """Figures from the counts: a share of nothing, or a median of nothing, is None."""
    result = {}
    for info in MEASURES:
        numerators = tally.numerator(info.id)
        figures = []
        for week, monday in enumerate(window.mondays):
            numerator = numerators[week]
            if info.id is Measure.ALERT_ACK_HOURS:
                denominator: int | None = tally.denominator(info.id)[week]
                value = tally.median(info.id)[week]
            elif info.unit is Unit.SHARE:
                denominator = tally.denominator(info.id)[week]
                value = numerator / denominator if denominator else None
            else:
                denominator, value = None, float(numerator)
            figures.append(Figure(monday, numerator, denominator, value))
        result[info.id] = Series(info, tuple(figures))
    return result


# -- SQL ------------------------------------------------------------------------------------
class Sql:
    """The aggregate statements, written once for PostgreSQL and SQLite.

    Only the arithmetic on times differs between the two; every filter compares a raw
    column with the window's bounds, so an index on that column can serve it.
    """

    def __init__(self, dialect: str, window: Window) -> None:
        self.dialect = dialect
        self.window = window

    def seconds(self, column: Any) -> sa.ColumnElement[Any]:
        """A stored time as seconds since 1970 (whole seconds on SQLite, exact on PostgreSQL)."""
        if self.dialect == "postgresql":
            return sa.extract("epoch", column)
        return sa.cast(sa.func.strftime("%s", column), sa.Integer)

    def week(self, column: Any) -> sa.ColumnElement[int]:
        """The window's week (0 = the first) of a time inside the window."""
        offset = self.seconds(column) - int(self.window.start.timestamp())
        if self.dialect == "postgresql":
            return sa.cast(sa.func.floor(offset / WEEK_SECONDS), sa.Integer)
        return offset // WEEK_SECONDS  # integers, never negative here: SQLite's / floors

    def hours_between(self, earlier: Any, later: Any) -> sa.ColumnElement[Any]:
        if self.dialect == "postgresql":
            return (sa.extract("epoch", later) - sa.extract("epoch", earlier)) / 3600.0
        return (sa.func.julianday(later) - sa.func.julianday(earlier)) * 24.0

    def within(self, column: Any) -> sa.ColumnElement[bool]:
        return sa.and_(column >= self.window.start, column < self.window.end)

    def rows(self, statement: sa.Select[Any]) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in db.session.execute(statement)]

    def checkins_completed(self) -> list[tuple[int, int, int, int]]:
        """(center, week, completed, decided) of the check-ins due each week."""
        due = (
            sa.select(
                Patient.center_id.label("center_id"),
                self.week(CheckIn.due_at).label("week"),
                sa.case((CheckIn.status == CheckInStatus.COMPLETED, 1), else_=0).label("done"),
            )
            .join_from(CheckIn, Patient, CheckIn.patient_id == Patient.id)
            .where(self.within(CheckIn.due_at), CheckIn.status.in_(DECIDED_STATUSES))
            .subquery()
        )
        return self.rows(
            sa.select(due.c.center_id, due.c.week, sa.func.sum(due.c.done), sa.func.count())
            .group_by(due.c.center_id, due.c.week)
        )  # fmt: skip

    def remission_changes(self) -> list[tuple[int, int, int, int]]:
        """(center, week, patients banded for the first time, net moves into remission).

        Each completed symptom check-in with a band, compared with the patient's one
        before it (by completion time): a first band adds the patient to the denominator,
        and a move into (or out of) remission adds (or takes) one from the numerator.
        Week -1 gathers everything before the window: the state at its start.
        """
        remission = sa.case((CheckInScore.band_id == REMISSION_BAND, 1), else_=0)
        banded = (
            sa.select(
                Patient.center_id.label("center_id"),
                CheckIn.closed_at.label("closed_at"),
                remission.label("remission"),
                sa.func.lag(remission)
                .over(partition_by=CheckIn.patient_id, order_by=(CheckIn.closed_at, CheckIn.id))
                .label("before"),
            )
            .join_from(CheckIn, CheckInScore, CheckInScore.checkin_id == CheckIn.id)
            .join(InstrumentVersion, InstrumentVersion.id == CheckIn.instrument_version_id)
            .join(Patient, Patient.id == CheckIn.patient_id)
            .where(
                CheckIn.status == CheckInStatus.COMPLETED,
                CheckIn.closed_at < self.window.end,
                InstrumentVersion.instrument_id == SYMPTOMS_INSTRUMENT,
                CheckInScore.score_id == SYMPTOMS_SCORE,
                CheckInScore.band_id.is_not(None),
            )
            .subquery()
        )
        week = sa.case(
            (banded.c.closed_at < self.window.start, -1), else_=self.week(banded.c.closed_at)
        )
        changes = sa.select(
            banded.c.center_id,
            week.label("week"),
            sa.case((banded.c.before.is_(None), 1), else_=0).label("first_band"),
            (banded.c.remission - sa.func.coalesce(banded.c.before, 0)).label("into_remission"),
        ).subquery()
        return self.rows(
            sa.select(
                changes.c.center_id,
                changes.c.week,
                sa.func.sum(changes.c.first_band),
                sa.func.sum(changes.c.into_remission),
            ).group_by(changes.c.center_id, changes.c.week)
        )

    def alerts_raised(self) -> list[tuple[int, int, int, int]]:
        """(center, week, acknowledged, raised) of the alerts raised each week."""
        raised = (
            sa.select(
                Patient.center_id.label("center_id"),
                self.week(Alert.created_at).label("week"),
                sa.case((Alert.acknowledged_at.is_not(None), 1), else_=0).label("acknowledged"),
            )
            .join_from(Alert, Patient, Alert.patient_id == Patient.id)
            .where(self.within(Alert.created_at))
            .subquery()
        )
        return self.rows(
            sa.select(
                raised.c.center_id,
                raised.c.week,
                sa.func.sum(raised.c.acknowledged),
                sa.func.count(),
            ).group_by(raised.c.center_id, raised.c.week)
        )

    def acknowledgement_medians(self, *, by_center: bool) -> list[tuple[int | None, int, float]]:
        """(center or None, week, median hours) over the alerts raised each week and
        acknowledged: the middle one, or the mean of the middle two, by rank."""
        acknowledged = (
            sa.select(
                Patient.center_id.label("center_id"),
                self.week(Alert.created_at).label("week"),
                self.hours_between(Alert.created_at, Alert.acknowledged_at).label("hours"),
            )
            .join_from(Alert, Patient, Alert.patient_id == Patient.id)
            .where(self.within(Alert.created_at), Alert.acknowledged_at.is_not(None))
            .subquery()
        )
        group = (acknowledged.c.center_id, acknowledged.c.week) if by_center else (
            acknowledged.c.week,
        )  # fmt: skip
        ranked = sa.select(
            acknowledged.c.center_id if by_center else sa.null().label("center_id"),
            acknowledged.c.week,
            acknowledged.c.hours,
            sa.func.row_number()
            .over(partition_by=group, order_by=acknowledged.c.hours)
            .label("rank"),
            sa.func.count().over(partition_by=group).label("n"),
        ).subquery()
        middle = sa.or_(
            ranked.c.rank == (ranked.c.n + 1) // 2, ranked.c.rank == (ranked.c.n + 2) // 2
        )
        return self.rows(
            sa.select(ranked.c.center_id, ranked.c.week, sa.func.avg(ranked.c.hours))
            .where(middle)
            .group_by(ranked.c.center_id, ranked.c.week)
        )

    def ideas_submitted(self) -> list[tuple[int | None, int, int]]:
        submitted = (
            sa.select(Idea.center_id.label("center_id"), self.week(Idea.created_at).label("week"))
            .where(self.within(Idea.created_at))
            .subquery()
        )
        return self.rows(
            sa.select(submitted.c.center_id, submitted.c.week, sa.func.count())
            .group_by(submitted.c.center_id, submitted.c.week)
        )  # fmt: skip

    def ideas_adopted(self) -> list[tuple[int | None, int, int]]:
        adopted = (
            sa.select(
                Idea.center_id.label("center_id"),
                self.week(IdeaStatusChange.changed_at).label("week"),
            )
            .join_from(IdeaStatusChange, Idea, Idea.id == IdeaStatusChange.idea_id)
            .where(
                IdeaStatusChange.to_status == IdeaStatus.ADOPTED,
                self.within(IdeaStatusChange.changed_at),
            )
            .subquery()
        )
        return self.rows(
            sa.select(adopted.c.center_id, adopted.c.week, sa.func.count())
            .group_by(adopted.c.center_id, adopted.c.week)
        )  # fmt: skip
