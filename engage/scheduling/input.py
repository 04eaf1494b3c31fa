"""Reading a schedule and times from what staff type, on the command line or in a form."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from engage.errors import InvalidInput
from engage.scheduling.models import ScheduleKind
from engage.scheduling.schedules import Schedule, parse_local_time, parse_weekdays
from engage.timezones import check_time_zone

DURATION = re.compile(r"^\s*(\d+)\s*(d|days?|h|hours?|m|min|minutes?)\s*$", re.IGNORECASE)


def build_schedule(time_zone: str, **options: Any) -> Schedule:
    """Exactly one kind of schedule from the options, or a refusal that says what to give."""
    chosen = [
        name
        for name in ("daily", "weekly", "every_weeks", "before_visit", "once")
        if options.get(name)
    ]
    if len(chosen) != 1:
        raise InvalidInput(
            "schedule",
            ", ".join("--" + name.replace("_", "-") for name in chosen) or "none",
            "give exactly one of --daily, --weekly DAYS, --every-weeks N, "
            "--before-visit DURATION, --once 'YYYY-MM-DD HH:MM'",
        )
    zone = ZoneInfo(check_time_zone(time_zone, field="time_zone"))
    starts = parse_date(options.get("starts"), "starts")
    ends = parse_date(options.get("ends"), "ends")
    kind = chosen[0]
    if kind == "before_visit":
        return Schedule(
            kind=ScheduleKind.BEFORE_VISIT,
            time_zone=time_zone,
            minutes_before_visit=parse_duration(options["before_visit"]),
        )
    if kind == "once":
        return Schedule(
            kind=ScheduleKind.ONCE,
            time_zone=time_zone,
            once_at=parse_local_datetime(options["once"], zone, "once"),
        )
    at_text = options.get("at_time")
    if not at_text:
        raise InvalidInput("at", "", "a recurring schedule needs --at HH:MM (local time)")
    every_weeks = int(options.get("every_weeks") or 1)
    if every_weeks > 1 and starts is None:
        starts = datetime.now(zone).date()  # count the weeks from this one
    weekdays = None
    if kind == "weekly":
        weekdays = parse_weekdays(options["weekly"])
    elif kind == "every_weeks":
        weekdays = parse_weekdays(options.get("on_days"))
    return Schedule(
        kind=ScheduleKind.RECURRING,
        time_zone=time_zone,
        weekdays=weekdays,
        every_weeks=every_weeks,
        local_time=parse_local_time(at_text),
        starts_on=starts,
        ends_on=ends,
    )


def parse_date(text: str | None, field: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, text, "is not a date in the form YYYY-MM-DD") from None


def parse_local_datetime(text: str, zone: ZoneInfo, field: str) -> datetime:
    """``2026-12-01 18:00`` in the given zone, or an ISO time with its own offset."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput(field, text, "is not a time in the form 'YYYY-MM-DD HH:MM'") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def parse_duration(text: str) -> int:
    """Minutes in ``2d``, ``36h``, ``90m``."""
    match = DURATION.match(text or "")
    if not match:
        raise InvalidInput("before_visit", text, "is not a duration such as 2d, 36h or 90m")
    number, unit = int(match.group(1)), match.group(2).lower()
    minutes = number * (1440 if unit.startswith("d") else 60 if unit.startswith("h") else 1)
    if not 0 < minutes <= 60 * 1440:
        raise InvalidInput("before_visit", text, "must be between 1 minute and 60 days")
    return minutes
