"""Quiet hours: the local night when no scheduled message may reach a phone."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

DEFAULT_QUIET_START = time(21, 0)
DEFAULT_QUIET_END = time(8, 0)


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local time of day falls in [start, end), a window that may span midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_until(
    moment: datetime,
    zone: ZoneInfo | str,
    start: time = DEFAULT_QUIET_START,
    end: time = DEFAULT_QUIET_END,
) -> datetime | None:
    """When the quiet hours around ``moment`` end (UTC), or None when it is not quiet there."""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    local = moment.astimezone(zone)
    if not in_quiet_hours(local.time(), start, end):
        return None
    morning = local.date() if local.time() < end else local.date() + timedelta(days=1)
    return datetime.combine(morning, end, tzinfo=zone).astimezone(UTC)
