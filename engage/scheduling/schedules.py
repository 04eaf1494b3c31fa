"""Per-patient schedules as values, and when each is next due.

A schedule is a row in the database (``Enrollment``); this module reads it as a
frozen :class:`Schedule`, checks it, describes it for staff and computes its
next due moment in the respondent's time zone. It knows neither Flask nor the
database session.

Daylight saving time follows RFC 5545 (iCalendar, section 3.3.5), so that a
check-in is never skipped nor sent twice:

* a local time that does not exist that day (02:30 when clocks jump from 02:00
  to 03:00) is due once, as far after the jump as it was meant to be after the
  last valid minute: 02:30 becomes 03:30 daylight time;
* a local time that occurs twice (01:30 when clocks fall back from 02:00 to
  01:00) is due once, at its first occurrence (``fold=0``, daylight time).

APScheduler 3.11 does not keep to this by itself. ``CronTrigger`` compares wall
times: for 02:30 on the spring-forward day it returns the nonexistent 02:30
(which is 03:30 daylight time), yet asked at 03:10 it skips to the next day; on
the fall-back day it returns 01:30 twice, an hour apart. So a ``CronTrigger`` here
only answers which local date is next, and the moment on that date is ours
(``_occurrence``).

Every N weeks is those dates kept when a multiple of N whole weeks separates
their Monday from the Monday of ``starts_on``'s week. Not ``CalendarIntervalTrigger``:
it drops the day whose time falls in the gap, takes one weekday only, and asked
without a previous fire time returns its start date whatever the time, so the
next date would be a walk from ``starts_on``. Nor cron's ``week="*/2"``: ISO
week numbers restart after week 52 or 53, so two weeks in a row can both match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from engage.errors import InvalidInput
from engage.scheduling.models import ScheduleKind
from engage.timezones import check_time_zone

if TYPE_CHECKING:
    from engage.scheduling.models import Enrollment

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

MAX_EVERY_WEEKS = 52
MINUTES_PER_DAY = 24 * 60
MAX_MINUTES_BEFORE_VISIT = 60 * MINUTES_PER_DAY

_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DAY_WORDS: dict[str, tuple[str, ...]] = {
    **{
        word: (day,)
        for day, name in zip(WEEKDAYS, _DAY_NAMES, strict=True)
        for word in (day, name, name + "s")
    },
    "tues": ("tue",),
    "weds": ("wed",),
    "thur": ("thu",),
    "thurs": ("thu",),
    "weekday": WEEKDAYS[:5],
    "weekdays": WEEKDAYS[:5],
    "weekend": WEEKDAYS[5:],
    "weekends": WEEKDAYS[5:],
}

_EVERY_DAY = frozenset({"", "daily", "every day", "everyday"})
_DAY_SEPARATORS = re.compile(r"(?:[\s,;/&+]|\band\b)+")
WEEKDAY_FORMS = (
    "day names such as 'mon,thu' or 'Monday Thursday', 'weekdays', 'weekends' or 'daily'"
)

_CLOCK_24 = re.compile(r"(\d{1,2}):(\d{2})")
_CLOCK_12 = re.compile(r"(\d{1,2})(?::(\d{2}))?\s*([ap])\.?\s*m\.?")
TIME_FORMS = "is not a time of day such as '18:00', '6pm' or '6:30 pm'"


def parse_weekdays(text: str | None) -> tuple[str, ...] | None:
    """Read the days a schedule runs on, Mon..Sun without repeats; None means every day."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise InvalidInput("weekdays", text, f"is not text; use {WEEKDAY_FORMS}")
    spoken = " ".join(text.lower().split())
    if spoken in _EVERY_DAY:
        return None
    chosen: set[str] = set()
    for word in _DAY_SEPARATORS.split(spoken):
        if not word:
            continue
        try:
            chosen.update(_DAY_WORDS[word])
        except KeyError:
            raise InvalidInput(
                "weekdays", text, f"has an unknown day {word!r}; use {WEEKDAY_FORMS}"
            ) from None
    if not chosen:
        raise InvalidInput("weekdays", text, f"names no day; use {WEEKDAY_FORMS}")
    return _in_week_order(chosen)


def format_weekdays(days: Iterable[str] | None) -> str | None:
    """The stored form of a set of days ("mon,thu"); None for every day."""
    if days is None:
        return None
    chosen = set(days)
    if not chosen or chosen - set(WEEKDAYS):
        raise InvalidInput("weekdays", ",".join(sorted(chosen)), f"use {', '.join(WEEKDAYS)}")
    ordered = _in_week_order(chosen)
    return ",".join(ordered) if ordered else None


def _in_week_order(chosen: set[str]) -> tuple[str, ...] | None:
    # All seven days are stored as "every day", so a schedule has one spelling.
    if len(chosen) == len(WEEKDAYS):
        return None
    return tuple(day for day in WEEKDAYS if day in chosen)


def parse_local_time(text: str) -> time:
    """Read a local time of day given as "18:00", "07:05", "6pm" or "6:30 pm"."""
    if not isinstance(text, str):
        raise InvalidInput("at", text, TIME_FORMS)
    spoken = text.strip().lower()
    if match := _CLOCK_24.fullmatch(spoken):
        hour, minute = int(match[1]), int(match[2])
        if hour < 24 and minute < 60:
            return time(hour, minute)
    elif match := _CLOCK_12.fullmatch(spoken):
        hour, minute = int(match[1]), int(match[2] or 0)
        if 1 <= hour <= 12 and minute < 60:
            # 12am is midnight, 12pm is noon.
            return time(hour % 12 + (12 if match[3] == "p" else 0), minute)
    raise InvalidInput("at", text, TIME_FORMS)


@dataclass(frozen=True)
class Schedule:
    """When an enrollment is due, as the values of its columns."""

    kind: ScheduleKind
    time_zone: str
    weekdays: tuple[str, ...] | None = None
    every_weeks: int = 1
    local_time: time | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    minutes_before_visit: int | None = None
    once_at: datetime | None = None

    @classmethod
    def from_enrollment(cls, enrollment: Enrollment) -> Schedule:
        """Read an enrollment's schedule columns (not yet checked: see ``check``)."""
        return cls(
            kind=enrollment.kind,
            time_zone=enrollment.time_zone,
            weekdays=parse_weekdays(enrollment.weekdays),
            # The column default applies at flush; an unsaved row may still hold None.
            every_weeks=enrollment.every_weeks or 1,
            local_time=enrollment.local_time,
            starts_on=enrollment.starts_on,
            ends_on=enrollment.ends_on,
            minutes_before_visit=enrollment.minutes_before_visit,
            once_at=enrollment.once_at,
        )

    def check(self) -> None:
        """Refuse a combination of values that cannot be scheduled."""
        check_time_zone(self.time_zone)
        if self.starts_on and self.ends_on and self.ends_on < self.starts_on:
            raise InvalidInput(
                "ends_on", self.ends_on.isoformat(), f"is before starts_on {self.starts_on}"
            )
        if self.kind == ScheduleKind.RECURRING:
            self._check_recurring()
        elif self.kind == ScheduleKind.BEFORE_VISIT:
            minutes = self.minutes_before_visit
            if minutes is None or not 0 < minutes <= MAX_MINUTES_BEFORE_VISIT:
                raise InvalidInput(
                    "minutes_before_visit",
                    minutes,
                    f"must be a number of minutes from 1 to {MAX_MINUTES_BEFORE_VISIT} "
                    "(60 days) for a before-visit schedule",
                )
        elif self.kind == ScheduleKind.ONCE:
            if self.once_at is None:
                raise InvalidInput("once_at", None, "is required for a one-time schedule")
            if self.once_at.utcoffset() is None:
                raise InvalidInput("once_at", self.once_at.isoformat(), "has no time zone")
        else:
            raise InvalidInput("kind", self.kind, "is not a kind of schedule")

    def _check_recurring(self) -> None:
        if self.local_time is None:
            raise InvalidInput("local_time", None, "is required for a recurring schedule")
        if (
            self.local_time.tzinfo is not None
            or self.local_time.second
            or self.local_time.microsecond
        ):
            raise InvalidInput(
                "local_time", self.local_time.isoformat(), "must be whole minutes, without a zone"
            )
        if self.weekdays is not None:
            if not self.weekdays or set(self.weekdays) - set(WEEKDAYS):
                raise InvalidInput("weekdays", ",".join(self.weekdays), f"use {WEEKDAY_FORMS}")
        if not 1 <= self.every_weeks <= MAX_EVERY_WEEKS:
            raise InvalidInput(
                "every_weeks", self.every_weeks, f"must be from 1 to {MAX_EVERY_WEEKS}"
            )
        if self.every_weeks > 1 and self.starts_on is None:
            raise InvalidInput(
                "starts_on", None, "is required to count every N weeks from its week"
            )


def next_due(schedule: Schedule, after: datetime) -> datetime | None:
    """The first due moment strictly after ``after``, in UTC; None when there is none left."""
    if after.utcoffset() is None:
        raise ValueError(f"naive datetime {after.isoformat()} refused: give it a time zone")
    if schedule.kind == ScheduleKind.RECURRING:
        return _next_recurring(schedule, after)
    if schedule.kind == ScheduleKind.ONCE:
        once_at = schedule.once_at
        if once_at is None or once_at.utcoffset() is None:
            raise InvalidInput(
                "once_at", once_at, "must be an aware datetime for a one-time schedule"
            )
        # DateTrigger would return its run date whatever the time: nothing to ask it.
        return once_at.astimezone(UTC) if once_at > after else None
    if schedule.kind == ScheduleKind.BEFORE_VISIT:
        raise ValueError("a before-visit schedule is due from its visits: use due_before_visit")
    raise ValueError(f"unknown schedule kind {schedule.kind!r}")


def _next_recurring(schedule: Schedule, after: datetime) -> datetime | None:
    at = schedule.local_time
    if at is None:
        raise InvalidInput("local_time", None, "is required for a recurring schedule")
    every_weeks = schedule.every_weeks
    starts_on, ends_on = schedule.starts_on, schedule.ends_on
    days = schedule.weekdays
    anchor = None
    if every_weeks > 1:
        if starts_on is None:
            raise InvalidInput(
                "starts_on", None, "is required to count every N weeks from its week"
            )
        days = days or (WEEKDAYS[starts_on.weekday()],)
        anchor = starts_on - timedelta(days=starts_on.weekday())
    zone = ZoneInfo(schedule.time_zone)

    # Today's time may still be ahead in UTC while its wall time is not (02:30 in a
    # gap is 03:30): compare instants, not wall times, to decide where to look.
    day = after.astimezone(zone).date()
    if _occurrence(day, at, zone) <= after:
        day += timedelta(days=1)
    if starts_on is not None and day < starts_on:
        day = starts_on
    while True:
        if anchor is not None:
            # Whole weeks since the Monday of starts_on's week; skip to the next active week.
            weeks = (day - anchor).days // 7
            if rest := weeks % every_weeks:
                day = anchor + timedelta(weeks=weeks + every_weeks - rest)
        if ends_on is not None and day > ends_on:
            return None
        found = _next_date(schedule.time_zone, days, day)
        if anchor is not None and ((found - anchor).days // 7) % every_weeks:
            day = found  # ran into a week off: the loop moves on to the next active week
            continue
        if ends_on is not None and found > ends_on:
            return None
        due = _occurrence(found, at, zone)
        # Only where a zone dropped a whole date (Pacific/Apia, 30 December 2011) can two
        # dates share one instant; that instant is then due once.
        if due > after:
            return due
        day = found + timedelta(days=1)


# The trigger answers "which local date is next" only, asked and answered at local
# noon: no zone changes its clocks at noon, so the answer cannot depend on how
# APScheduler treats a missing or repeated hour.
_NOON = time(12, 0)


@lru_cache(maxsize=1024)
def _date_finder(time_zone: str, days: tuple[str, ...] | None) -> CronTrigger:
    # Keyed on the zone and the days only, so thousands of enrollments share a few
    # triggers; times, bounds and week intervals are applied by the caller.
    return CronTrigger(
        day_of_week=",".join(days) if days else "*", hour=12, minute=0, second=0, timezone=time_zone
    )


@lru_cache(maxsize=8192)
def _next_date(time_zone: str, days: tuple[str, ...] | None, day: date) -> date:
    """The first local date from ``day`` on that is one of ``days``, as the trigger finds it."""
    # The trigger walks day by day (about 8 µs a day); a dispatcher's burst asks the
    # same few questions (a handful of zones and day sets, today or tomorrow) again
    # and again, so each answer is computed once.
    finder = _date_finder(time_zone, days)
    noon = datetime.combine(day, _NOON, tzinfo=finder.timezone)
    return finder.get_next_fire_time(None, noon).date()


def _occurrence(day: date, at: time, zone: tzinfo) -> datetime:
    # fold=0: a repeated wall time is its first occurrence; a missing one is read
    # with the offset in force before the jump (RFC 5545), i.e. pushed past the gap.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def due_before_visit(
    visit_starts_at: datetime, minutes_before: int, time_zone: str | None = None
) -> datetime:
    """When a check-in ``minutes_before`` a visit is due, in UTC.

    An offset of whole days (a multiple of 1440 minutes) with a ``time_zone``
    keeps the local time of day: "2 days before a 10:00 visit" is 10:00 two
    calendar days earlier, even when the clocks change in between (47 or 49
    elapsed hours). Staff and families count days on the calendar, and a
    morning check-in should not drift to 09:00 or 11:00. A wall time that does
    not exist, or occurs twice, that day follows the module's RFC 5545 rule.

    Any other offset ("36 hours before") is elapsed time: a plain subtraction
    in UTC, which is also what an offset of days means without a zone.
    """
    if visit_starts_at.utcoffset() is None:
        raise ValueError(f"naive datetime {visit_starts_at.isoformat()} refused: give it a zone")
    if time_zone is not None and minutes_before and minutes_before % MINUTES_PER_DAY == 0:
        zone = ZoneInfo(time_zone)
        local = visit_starts_at.astimezone(zone)
        day = local.date() - timedelta(days=minutes_before // MINUTES_PER_DAY)
        return _occurrence(day, local.time(), zone)
    return visit_starts_at.astimezone(UTC) - timedelta(minutes=minutes_before)


def describe(schedule: Schedule) -> str:
    """The schedule in plain words for staff."""
    if schedule.kind == ScheduleKind.BEFORE_VISIT:
        return f"{_duration(schedule.minutes_before_visit)} before each visit"
    zone = f"({schedule.time_zone})"
    if schedule.kind == ScheduleKind.ONCE:
        if schedule.once_at is None:
            return f"once, time not set {zone}"
        local = schedule.once_at.astimezone(ZoneInfo(schedule.time_zone))
        return f"once at {local:%Y-%m-%d %H:%M} {zone}"
    at = f"{schedule.local_time:%H:%M}" if schedule.local_time else "(time not set)"
    days = schedule.weekdays
    if schedule.every_weeks > 1:
        if days is None and schedule.starts_on is not None:
            days = (WEEKDAYS[schedule.starts_on.weekday()],)
        words = f"every {schedule.every_weeks} weeks on {_day_list(days)} at {at} {zone}"
    elif days is None:
        words = f"daily at {at} {zone}"
    else:
        words = f"{_day_list(days)} at {at} {zone}"
    if schedule.starts_on:
        words += f" from {schedule.starts_on.isoformat()}"
    if schedule.ends_on:
        words += f" until {schedule.ends_on.isoformat()}"
    return words


def _day_list(days: tuple[str, ...] | None) -> str:
    if not days:
        return "every day"
    if days == WEEKDAYS[:5]:
        return "Mon to Fri"
    names = [day.capitalize() for day in days]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _duration(minutes: int | None) -> str:
    if minutes is None:
        return "(time not set)"
    if minutes % MINUTES_PER_DAY == 0:
        count, unit = minutes // MINUTES_PER_DAY, "day"
    elif minutes % 60 == 0:
        count, unit = minutes // 60, "hour"
    else:
        count, unit = minutes, "minute"
    return f"{count} {unit}{'' if count == 1 else 's'}"
