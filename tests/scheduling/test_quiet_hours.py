from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from engage.scheduling.quiet_hours import in_quiet_hours, quiet_until

NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(20, 59), False),
        (time(21, 0), True),
        (time(23, 59), True),
        (time(0, 0), True),
        (time(7, 59), True),
        (time(8, 0), False),
        (time(12, 0), False),
    ],
)
def test_the_default_window_spans_midnight(local, quiet):
    assert in_quiet_hours(local, time(21, 0), time(8, 0)) is quiet


def test_a_window_inside_one_day_and_an_empty_window():
    assert in_quiet_hours(time(13, 30), time(13, 0), time(14, 0))
    assert not in_quiet_hours(time(14, 0), time(13, 0), time(14, 0))
    assert not in_quiet_hours(time(3, 0), time(8, 0), time(8, 0))


def test_late_evening_waits_for_the_next_morning_in_the_respondents_zone():
    evening = datetime(2026, 12, 1, 22, 30, tzinfo=NEW_YORK)
    assert quiet_until(evening, NEW_YORK) == datetime(2026, 12, 2, 8, 0, tzinfo=NEW_YORK)


def test_after_midnight_waits_for_the_same_morning():
    night = datetime(2026, 12, 2, 3, 0, tzinfo=NEW_YORK).astimezone(UTC)
    assert quiet_until(night, "America/New_York") == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


def test_daytime_is_not_quiet():
    assert quiet_until(datetime(2026, 12, 2, 15, 0, tzinfo=NEW_YORK), NEW_YORK) is None


def test_the_morning_after_a_clock_change_is_local_eight_oclock():
    # US fall-back night 2026-11-01: the morning is at 08:00 EST, 13:00 UTC.
    night = datetime(2026, 10, 31, 23, 0, tzinfo=NEW_YORK)
    assert quiet_until(night, NEW_YORK) == datetime(2026, 11, 1, 13, 0, tzinfo=UTC)
    # US spring-forward night 2026-03-08: 08:00 EDT is 12:00 UTC.
    night = datetime(2026, 3, 7, 23, 0, tzinfo=NEW_YORK)
    assert quiet_until(night, NEW_YORK) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)
