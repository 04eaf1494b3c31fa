from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.errors import InvalidInput
from engage.scheduling.models import Enrollment, ScheduleKind
from engage.scheduling.schedules import (
    WEEKDAYS,
    Schedule,
    describe,
    due_before_visit,
    format_weekdays,
    next_due,
    parse_local_time,
    parse_weekdays,
)

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LONDON = ZoneInfo("Europe/London")


def recurring(time_zone: str = "America/New_York", at: time = time(18, 0), **fields) -> Schedule:
    return Schedule(ScheduleKind.RECURRING, time_zone, local_time=at, **fields)


def dues(schedule: Schedule, start: datetime, until: datetime) -> list[datetime]:
    """Every due time after ``start`` up to ``until``, each computed from the one before."""
    found: list[datetime] = []
    after = start
    while (due := next_due(schedule, after)) is not None and due <= until:
        assert due > after
        found.append(due)
        after = due
    return found


def local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


# -- parsing ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon,thu", ("mon", "thu")),
        ("Mon Thu", ("mon", "thu")),
        ("monday, thursday", ("mon", "thu")),
        ("Thursdays and Mondays", ("mon", "thu")),
        ("thu,mon,THU", ("mon", "thu")),
        ("tues/thurs", ("tue", "thu")),
        ("sun", ("sun",)),
        ("weekdays", ("mon", "tue", "wed", "thu", "fri")),
        ("weekends", ("sat", "sun")),
        ("weekends, wed", ("wed", "sat", "sun")),
    ],
)
def test_weekdays_are_read_in_week_order_without_repeats(text, days):
    assert parse_weekdays(text) == days


@pytest.mark.parametrize(
    "text", [None, "", "  ", "daily", "Daily", "every day", "Every  Day", "weekdays weekends"]
)
def test_every_day_is_none(text):
    assert parse_weekdays(text) is None


@pytest.mark.parametrize(
    ("text", "bad"), [("mon,funday", "funday"), ("mo we", "mo"), ("daily mon", "daily")]
)
def test_an_unknown_day_is_named_with_the_accepted_forms(text, bad):
    with pytest.raises(InvalidInput) as caught:
        parse_weekdays(text)
    assert caught.value.field == "weekdays"
    assert caught.value.value == text
    assert repr(bad) in caught.value.reason
    assert "'weekdays'" in caught.value.reason and "'daily'" in caught.value.reason


def test_separators_alone_name_no_day():
    with pytest.raises(InvalidInput, match="names no day"):
        parse_weekdays(" , ")


def test_weekdays_are_stored_in_week_order():
    assert format_weekdays(("thu", "mon", "thu")) == "mon,thu"
    assert format_weekdays(None) is None
    assert format_weekdays(WEEKDAYS) is None
    with pytest.raises(InvalidInput):
        format_weekdays(())
    with pytest.raises(InvalidInput, match="xyz"):
        format_weekdays(("mon", "xyz"))


@given(st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=6))
def test_stored_weekdays_read_back_the_same(days):
    stored = format_weekdays(days)
    assert stored is not None
    assert parse_weekdays(stored) == tuple(day for day in WEEKDAYS if day in days)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("18:00", time(18, 0)),
        (" 07:05 ", time(7, 5)),
        ("7:05", time(7, 5)),
        ("0:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("6pm", time(18, 0)),
        ("6 PM", time(18, 0)),
        ("6:30 pm", time(18, 30)),
        ("6:30 p.m.", time(18, 30)),
        ("9am", time(9, 0)),
        ("12am", time(0, 0)),
        ("12:15 pm", time(12, 15)),
    ],
)
def test_local_times(text, expected):
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    "text", ["", "18", "24:00", "18:60", "13pm", "0am", "6:5 pm", "18:00:00", "noon", "6 o'clock"]
)
def test_a_bad_local_time_is_refused_by_name(text):
    with pytest.raises(InvalidInput) as caught:
        parse_local_time(text)
    assert caught.value.field == "at"
    assert caught.value.value == text
    assert repr(text) in str(caught.value)


# -- checking --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "schedule",
    [
        recurring(),
        recurring(weekdays=("mon", "thu"), every_weeks=52, starts_on=date(2026, 1, 1)),
        Schedule(ScheduleKind.BEFORE_VISIT, "Europe/Berlin", minutes_before_visit=86400),
        Schedule(ScheduleKind.ONCE, "UTC", once_at=datetime(2026, 12, 1, 18, tzinfo=UTC)),
        recurring(starts_on=date(2026, 3, 1), ends_on=date(2026, 3, 1)),
    ],
)
def test_consistent_schedules_pass(schedule):
    schedule.check()


@pytest.mark.parametrize(
    ("schedule", "field"),
    [
        (recurring(at=None), "local_time"),
        (recurring(at=time(18, 0, 30)), "local_time"),
        (recurring(every_weeks=0), "every_weeks"),
        (recurring(every_weeks=53, starts_on=date(2026, 1, 1)), "every_weeks"),
        (recurring(every_weeks=2), "starts_on"),
        (recurring(weekdays=()), "weekdays"),
        (recurring(weekdays=("mon", "funday")), "weekdays"),
        (recurring(time_zone="Mars/Olympus_Mons"), "time_zone"),
        (recurring(starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 1)), "ends_on"),
        (Schedule(ScheduleKind.BEFORE_VISIT, "UTC"), "minutes_before_visit"),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=0),
            "minutes_before_visit",
        ),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=86401),
            "minutes_before_visit",
        ),
        (Schedule(ScheduleKind.ONCE, "UTC"), "once_at"),
        (Schedule(ScheduleKind.ONCE, "UTC", once_at=datetime(2026, 12, 1, 18)), "once_at"),
    ],
)
def test_inconsistent_schedules_are_refused_by_field(schedule, field):
    with pytest.raises(InvalidInput) as caught:
        schedule.check()
    assert caught.value.field == field


def test_a_schedule_is_read_from_an_enrollment_row():
    enrollment = Enrollment(
        kind=ScheduleKind.RECURRING,
        time_zone="Europe/Berlin",
        weekdays="mon,thu",
        every_weeks=2,
        local_time=time(18, 0),
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 6, 30),
    )
    assert Schedule.from_enrollment(enrollment) == Schedule(
        ScheduleKind.RECURRING,
        "Europe/Berlin",
        weekdays=("mon", "thu"),
        every_weeks=2,
        local_time=time(18, 0),
        starts_on=date(2026, 3, 2),
        ends_on=date(2026, 6, 30),
    )
    # An unsaved row has no column defaults yet: every day, every week.
    daily = Enrollment(kind=ScheduleKind.RECURRING, time_zone="UTC", local_time=time(9, 0))
    assert Schedule.from_enrollment(daily) == recurring("UTC", time(9, 0))


# -- next due --------------------------------------------------------------------------------
def test_daily_is_due_strictly_after_the_given_moment_in_utc():
    schedule = recurring()
    due = next_due(schedule, datetime(2026, 12, 1, 17, 59, tzinfo=NEW_YORK))
    assert due == datetime(2026, 12, 1, 23, 0, tzinfo=UTC)
    assert due is not None and due.tzinfo is UTC
    at_six = datetime(2026, 12, 1, 18, 0, tzinfo=NEW_YORK)
    assert next_due(schedule, at_six) == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)


def test_the_day_is_the_respondents_not_utcs():
    # 01:00 UTC on 2 Dec is still the evening of 1 Dec in New York: 18:00 has passed there.
    after = datetime(2026, 12, 2, 1, 0, tzinfo=UTC)
    assert next_due(recurring(), after) == datetime(2026, 12, 2, 23, 0, tzinfo=UTC)
    assert next_due(recurring("Asia/Tokyo"), after) == datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_weekly_on_chosen_days():
    schedule = recurring(weekdays=("mon", "thu"))
    start = datetime(2026, 12, 1, 12, 0, tzinfo=NEW_YORK)  # a Tuesday
    found = dues(schedule, start, start + timedelta(days=14))
    assert [local(due, NEW_YORK) for due in found] == [
        datetime(2026, 12, 3, 18, 0),
        datetime(2026, 12, 7, 18, 0),
        datetime(2026, 12, 10, 18, 0),
        datetime(2026, 12, 14, 18, 0),
    ]


def test_every_two_weeks_counts_whole_weeks_from_the_week_of_starts_on():
    # starts_on is a Wednesday; its week's Monday (21 Dec) is before it and not due.
    # 2026 has an ISO week 53, so a cron week="*/2" would run two weeks in a row here.
    schedule = recurring(
        "Europe/Berlin", weekdays=("mon", "fri"), every_weeks=2, starts_on=date(2026, 12, 23)
    )
    start = datetime(2026, 12, 1, tzinfo=UTC)
    found = dues(schedule, start, datetime(2027, 2, 1, tzinfo=UTC))
    assert [local(due, BERLIN).date() for due in found] == [
        date(2026, 12, 25),
        date(2027, 1, 4),
        date(2027, 1, 8),
        date(2027, 1, 18),
        date(2027, 1, 22),
    ]
    assert {local(due, BERLIN).time() for due in found} == {time(18, 0)}


def test_every_three_weeks_without_days_keeps_the_weekday_of_starts_on():
    schedule = recurring("Europe/Berlin", every_weeks=3, starts_on=date(2026, 3, 4))
    found = dues(
        schedule, datetime(2026, 3, 4, 18, 0, tzinfo=BERLIN), datetime(2026, 5, 1, tzinfo=UTC)
    )
    assert [local(due, BERLIN).date() for due in found] == [
        date(2026, 3, 25),
        date(2026, 4, 15),
    ]


def test_nothing_is_due_before_starts_on_nor_after_ends_on():
    schedule = recurring(starts_on=date(2026, 12, 10), ends_on=date(2026, 12, 12), at=time(23, 30))
    found = dues(schedule, datetime(2026, 11, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [local(due, NEW_YORK) for due in found] == [
        datetime(2026, 12, 10, 23, 30),
        datetime(2026, 12, 11, 23, 30),
        datetime(2026, 12, 12, 23, 30),  # 04:30 UTC on the 13th: still the local 12th
    ]
    assert next_due(schedule, found[-1]) is None


def test_ends_on_before_the_next_chosen_day_ends_the_schedule():
    schedule = recurring(weekdays=("mon",), ends_on=date(2026, 12, 13))
    assert next_due(schedule, datetime(2026, 12, 8, tzinfo=UTC)) is None


def test_once_is_due_only_while_ahead():
    once_at = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("America/Los_Angeles"))
    schedule = Schedule(ScheduleKind.ONCE, "America/Los_Angeles", once_at=once_at)
    due = next_due(schedule, datetime(2026, 12, 1, tzinfo=UTC))
    assert due == datetime(2026, 12, 2, 2, 0, tzinfo=UTC)
    assert due is not None and due.tzinfo is UTC
    assert next_due(schedule, once_at) is None
    assert next_due(schedule, once_at + timedelta(days=1)) is None


def test_before_visit_schedules_are_not_due_by_themselves():
    schedule = Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=60)
    with pytest.raises(ValueError, match="due_before_visit"):
        next_due(schedule, datetime(2026, 12, 1, tzinfo=UTC))


def test_a_naive_moment_is_refused():
    with pytest.raises(ValueError, match="naive"):
        next_due(recurring(), datetime(2026, 12, 1, 18, 0))


# -- daylight saving time --------------------------------------------------------------------
DST_CHANGES = [
    # zone, day of the change, local time, the due time that day (UTC)
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        time(18, 0),
        datetime(2026, 3, 8, 22, 0, tzinfo=UTC),
        id="NY-spring-18:00",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        time(2, 30),
        datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
        id="NY-spring-02:30-missing",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 3, 8),
        time(1, 30),
        datetime(2026, 3, 8, 6, 30, tzinfo=UTC),
        id="NY-spring-01:30",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 11, 1),
        time(18, 0),
        datetime(2026, 11, 1, 23, 0, tzinfo=UTC),
        id="NY-fall-18:00",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 11, 1),
        time(1, 30),
        datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
        id="NY-fall-01:30-twice",
    ),
    pytest.param(
        NEW_YORK,
        date(2026, 11, 1),
        time(2, 30),
        datetime(2026, 11, 1, 7, 30, tzinfo=UTC),
        id="NY-fall-02:30",
    ),
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        time(18, 0),
        datetime(2026, 3, 29, 16, 0, tzinfo=UTC),
        id="Berlin-spring-18:00",
    ),
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        time(2, 30),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        id="Berlin-spring-02:30-missing",
    ),
    pytest.param(
        BERLIN,
        date(2026, 3, 29),
        time(1, 30),
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        id="Berlin-spring-01:30",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        time(18, 0),
        datetime(2026, 10, 25, 17, 0, tzinfo=UTC),
        id="Berlin-fall-18:00",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        time(2, 30),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        id="Berlin-fall-02:30-twice",
    ),
    pytest.param(
        BERLIN,
        date(2026, 10, 25),
        time(1, 30),
        datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
        id="Berlin-fall-01:30",
    ),
    pytest.param(
        LONDON,
        date(2026, 3, 29),
        time(1, 30),
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        id="London-spring-01:30-missing",
    ),
    pytest.param(
        LONDON,
        date(2026, 10, 25),
        time(1, 30),
        datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
        id="London-fall-01:30-twice",
    ),
]


@pytest.mark.parametrize(("zone", "change", "at", "due_that_day"), DST_CHANGES)
def test_daily_across_a_clock_change_is_due_once_every_local_day(zone, change, at, due_that_day):
    schedule = recurring(zone.key, at)
    start = datetime.combine(change - timedelta(days=7), time(0, 0), tzinfo=zone)
    until = datetime.combine(change + timedelta(days=8), time(0, 0), tzinfo=zone)
    found = dues(schedule, start, until)

    days = [local(due, zone).date() for due in found]
    assert days == [change + timedelta(days=offset) for offset in range(-7, 8)]
    assert found == sorted(set(found))
    assert due_that_day in found
    for due in found:
        if local(due, zone).date() != change:
            assert local(due, zone).time() == at


@pytest.mark.parametrize(("zone", "change", "at", "due_that_day"), DST_CHANGES)
def test_weekly_on_the_day_of_a_clock_change_is_due_once_that_sunday(
    zone, change, at, due_that_day
):
    assert change.weekday() == 6
    schedule = recurring(zone.key, at, weekdays=("sun",))
    start = datetime.combine(change - timedelta(days=7), time(0, 0), tzinfo=zone)
    until = datetime.combine(change + timedelta(days=8), time(0, 0), tzinfo=zone)
    found = dues(schedule, start, until)
    assert [local(due, zone).date() for due in found] == [
        change - timedelta(days=7),
        change,
        change + timedelta(days=7),
    ]
    assert found[1] == due_that_day


def test_a_missing_time_is_an_hour_later_that_day():
    # Clocks jump from 02:00 to 03:00: 02:30 is due at 03:30 daylight time.
    due = next_due(recurring(at=time(2, 30)), datetime(2026, 3, 7, 12, 0, tzinfo=NEW_YORK))
    assert due is not None and due.astimezone(NEW_YORK) == datetime(
        2026, 3, 8, 3, 30, tzinfo=NEW_YORK
    )


def test_a_missing_time_asked_for_after_the_jump_is_still_due_that_day():
    # APScheduler's CronTrigger compares wall times and moves on to 9 March here.
    after = datetime(2026, 3, 8, 3, 10, tzinfo=NEW_YORK)
    assert next_due(recurring(at=time(2, 30)), after) == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)


def test_a_repeated_time_is_due_at_its_first_occurrence_only():
    schedule = recurring(at=time(1, 30))
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    assert next_due(schedule, datetime(2026, 11, 1, 0, 0, tzinfo=NEW_YORK)) == first
    # Between the two 01:30s (01:10 EST), and after the first: the next is the next day's.
    between = datetime(2026, 11, 1, 1, 10, tzinfo=NEW_YORK, fold=1)
    assert between > first
    assert next_due(schedule, between) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
    assert next_due(schedule, first) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_an_ordinary_time_keeps_its_local_time_while_utc_moves():
    found = dues(
        recurring(), datetime(2026, 3, 7, tzinfo=NEW_YORK), datetime(2026, 3, 9, tzinfo=UTC)
    )
    assert found == [
        datetime(2026, 3, 7, 23, 0, tzinfo=UTC),
        datetime(2026, 3, 8, 22, 0, tzinfo=UTC),
    ]


# Property: around every clock change, in zones with either hemisphere's DST, and in
# zones that change at midnight (Santiago, Havana, Beirut) or by 30 minutes (Lord Howe).
PROPERTY_ZONES = [
    "America/New_York",
    "America/Los_Angeles",
    "Europe/Berlin",
    "Europe/London",
    "Australia/Sydney",
    "America/Santiago",
    "America/Havana",
    "Asia/Beirut",
    "Australia/Lord_Howe",
]


def clock_changes(zone: ZoneInfo, year: int) -> list[date]:
    """Local dates whose noon has another UTC offset than the noon before."""
    day = date(year, 1, 1)
    changes = []
    while day.year == year:
        before = datetime.combine(day - timedelta(days=1), time(12), tzinfo=zone).utcoffset()
        if datetime.combine(day, time(12), tzinfo=zone).utcoffset() != before:
            changes.append(day)
        day += timedelta(days=1)
    return changes


CHANGES = {name: clock_changes(ZoneInfo(name), 2026) for name in PROPERTY_ZONES}


def expected_due(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The due moment of ``at`` on ``day``, found by trying instants rather than by fold rules."""
    wall = datetime.combine(day, at)
    real = []
    for fold in (0, 1):
        moment = datetime.combine(day, at, tzinfo=zone).replace(fold=fold).astimezone(UTC)
        if local(moment, zone) == wall:
            real.append(moment)
    if real:
        return min(real)  # a repeated time: its first occurrence
    # A missing time: as long after the jump as it was meant to be after the wall time
    # the clocks jumped from.
    low = datetime.combine(day, time(0), tzinfo=UTC) - timedelta(days=1)
    high = low + timedelta(days=3)
    offset = low.astimezone(zone).utcoffset()
    while high - low > timedelta(minutes=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).utcoffset() == offset:
            low = middle
        else:
            high = middle
    jump_at = high.replace(second=0, microsecond=0)
    jumped_from = (jump_at + offset).replace(tzinfo=None)
    assert jumped_from <= wall < local(jump_at, zone)
    return jump_at + (wall - jumped_from)


def in_schedule(day: date, schedule: Schedule) -> bool:
    if schedule.starts_on and day < schedule.starts_on:
        return False
    if schedule.ends_on and day > schedule.ends_on:
        return False
    if schedule.every_weeks > 1:
        assert schedule.starts_on is not None
        first_monday = schedule.starts_on - timedelta(days=schedule.starts_on.weekday())
        monday = day - timedelta(days=day.weekday())
        if (monday - first_monday).days % (7 * schedule.every_weeks):
            return False
        days = schedule.weekdays or (WEEKDAYS[schedule.starts_on.weekday()],)
    else:
        days = schedule.weekdays or WEEKDAYS
    return WEEKDAYS[day.weekday()] in days


@st.composite
def schedules_around_clock_changes(draw):
    name = draw(st.sampled_from(PROPERTY_ZONES))
    zone = ZoneInfo(name)
    change = draw(st.sampled_from(CHANGES[name]))
    start = datetime.combine(change, time(0), tzinfo=UTC) + timedelta(
        minutes=draw(st.integers(-9 * 1440, 3 * 1440))
    )
    hour = draw(st.one_of(st.integers(0, 3), st.integers(0, 23)))
    at = time(hour, draw(st.sampled_from([0, 1, 15, 29, 30, 31, 45, 59])))
    weekdays = draw(st.none() | st.sets(st.sampled_from(WEEKDAYS), min_size=1, max_size=6))
    every_weeks = draw(st.integers(1, 3))
    starts_on = draw(
        st.none() | st.integers(-10, 10).map(lambda days: change + timedelta(days=days))
    )
    if every_weeks > 1 and starts_on is None:
        starts_on = change - timedelta(days=draw(st.integers(0, 20)))
    ends_on = draw(st.none() | st.integers(0, 14).map(lambda days: change + timedelta(days=days)))
    if starts_on and ends_on and ends_on < starts_on:
        ends_on = starts_on
    schedule = Schedule(
        ScheduleKind.RECURRING,
        name,
        weekdays=tuple(day for day in WEEKDAYS if day in weekdays) if weekdays else None,
        every_weeks=every_weeks,
        local_time=at,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    schedule.check()
    return schedule, zone, start


@settings(max_examples=300, deadline=None)
@given(schedules_around_clock_changes())
def test_each_scheduled_local_date_is_due_exactly_once_around_clock_changes(case):
    schedule, zone, start = case
    assert schedule.local_time is not None
    until = start + timedelta(days=21)
    first_day = local(start, zone).date() - timedelta(days=1)
    expected = [
        due
        for day in (first_day + timedelta(days=offset) for offset in range(24))
        if in_schedule(day, schedule)
        and start < (due := expected_due(day, schedule.local_time, zone)) <= until
    ]

    found = dues(schedule, start, until)

    assert found == expected
    assert all(later > earlier for earlier, later in zip(found, found[1:], strict=False))
    assert all(due.tzinfo is UTC for due in found)


# -- before a visit --------------------------------------------------------------------------
def test_whole_days_before_a_visit_keep_the_local_time_across_a_clock_change():
    visit = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)  # Monday after spring forward
    due = due_before_visit(visit, 2 * 1440, "America/New_York")
    assert due == datetime(2026, 3, 7, 15, 0, tzinfo=UTC)  # 10:00 EST, 47 hours before
    assert due.astimezone(NEW_YORK).time() == time(10, 0)
    visit = datetime(2026, 11, 2, 10, 0, tzinfo=NEW_YORK)  # Monday after fall back
    assert due_before_visit(visit, 2 * 1440, "America/New_York") == datetime(
        2026, 10, 31, 14, 0, tzinfo=UTC
    )


def test_without_a_zone_days_before_a_visit_are_elapsed_time():
    visit = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    assert due_before_visit(visit, 2 * 1440) == datetime(2026, 3, 7, 14, 0, tzinfo=UTC)


def test_hours_before_a_visit_are_elapsed_time_even_across_a_clock_change():
    visit = datetime(2026, 3, 9, 10, 0, tzinfo=NEW_YORK)
    due = due_before_visit(visit, 36 * 60, "America/New_York")
    assert due == datetime(2026, 3, 8, 2, 0, tzinfo=UTC)
    assert due.tzinfo is UTC


def test_a_day_before_a_visit_whose_time_is_missing_that_day_follows_the_jump():
    visit = datetime(2026, 3, 9, 2, 30, tzinfo=NEW_YORK)
    assert due_before_visit(visit, 1440, "America/New_York") == datetime(
        2026, 3, 8, 7, 30, tzinfo=UTC
    )


def test_zero_minutes_before_a_visit_is_the_visit_itself_even_in_a_repeated_hour():
    visit = datetime(2026, 11, 1, 1, 30, tzinfo=NEW_YORK, fold=1)  # 01:30 EST
    assert due_before_visit(visit, 0, "America/New_York") == datetime(
        2026, 11, 1, 6, 30, tzinfo=UTC
    )


# -- describing ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "words"),
    [
        (recurring(), "daily at 18:00 (America/New_York)"),
        (recurring(weekdays=("mon", "thu")), "Mon and Thu at 18:00 (America/New_York)"),
        (recurring(weekdays=("mon", "wed", "fri")), "Mon, Wed and Fri at 18:00 (America/New_York)"),
        (recurring(weekdays=WEEKDAYS[:5], at=time(7, 5)), "Mon to Fri at 07:05 (America/New_York)"),
        (
            recurring(
                "Europe/Berlin", weekdays=("mon",), every_weeks=2, starts_on=date(2026, 3, 2)
            ),
            "every 2 weeks on Mon at 18:00 (Europe/Berlin) from 2026-03-02",
        ),
        (
            recurring(
                "Europe/Berlin",
                every_weeks=3,
                starts_on=date(2026, 3, 4),
                ends_on=date(2026, 6, 30),
            ),
            "every 3 weeks on Wed at 18:00 (Europe/Berlin) from 2026-03-04 until 2026-06-30",
        ),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=2880),
            "2 days before each visit",
        ),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=1440),
            "1 day before each visit",
        ),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=2160),
            "36 hours before each visit",
        ),
        (
            Schedule(ScheduleKind.BEFORE_VISIT, "UTC", minutes_before_visit=90),
            "90 minutes before each visit",
        ),
        (
            Schedule(
                ScheduleKind.ONCE,
                "America/Los_Angeles",
                once_at=datetime(2026, 12, 2, 2, 0, tzinfo=UTC),
            ),
            "once at 2026-12-01 18:00 (America/Los_Angeles)",
        ),
    ],
)
def test_describe(schedule, words):
    assert describe(schedule) == words
