"""Checking IANA time zone names, which centers and respondents live by."""

from __future__ import annotations

from functools import cache
from zoneinfo import available_timezones

from engage.errors import InvalidInput


@cache
def known_time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def check_time_zone(value: str, field: str = "time_zone") -> str:
    """Return the name unchanged if it is an IANA zone, else refuse it."""
    if not isinstance(value, str) or value not in known_time_zones():
        raise InvalidInput(field, value, "is not a known IANA time zone (e.g. 'America/New_York')")
    return value
