"""Each measure on hand-built rows with known answers, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from engage.conversations.models import CheckInStatus
from engage.instruments.services import get_instrument
from engage.measures.compute import (
    MAX_WEEKS,
    REMISSION_BAND,
    SYMPTOMS_INSTRUMENT,
    SYMPTOMS_SCORE,
    Measure,
    compute_measures,
    window_before,
)
from tests.measures.conftest import WEEK_0, WEEK_1, WEEK_2

HOUR = timedelta(hours=1)


def figures(series):
    return [(f.numerator, f.denominator, f.value) for f in series.figures]


def test_the_window_is_the_complete_utc_weeks_before_now():
    window = window_before(datetime(2026, 6, 17, 12, tzinfo=UTC), weeks=3)
    assert window.start == WEEK_0
    assert window.end == datetime(2026, 6, 15, tzinfo=UTC)  # this Monday: not yet counted
    assert window.mondays == [date(2026, 5, 25), date(2026, 6, 1), date(2026, 6, 8)]
    # Sunday 23:30 in Los Angeles is Monday in UTC: the UTC week has begun.
    monday_utc = datetime(2026, 6, 15, 6, 30, tzinfo=UTC)
    assert window_before(monday_utc, weeks=1).start == datetime(2026, 6, 8, tzinfo=UTC)
    with pytest.raises(ValueError):
        window_before(weeks=MAX_WEEKS + 1)
    with pytest.raises(ValueError):
        window_before(weeks=0)


def test_the_symptom_score_and_band_the_remission_measure_reads_exist(app):
    score = get_instrument(SYMPTOMS_INSTRUMENT).score(SYMPTOMS_SCORE)
    assert REMISSION_BAND in [band.id for band in score.bands]


def test_share_of_due_checkins_completed(rows, make_center, window):
    east, west = make_center("EAST"), make_center("WEST", time_zone="America/Los_Angeles")
    a, b = rows.patient(east), rows.patient(west)
    rows.checkin(a, WEEK_0 + HOUR)
    rows.checkin(a, WEEK_1 - timedelta(seconds=1))  # Sunday 23:59:59: still week 0
    rows.checkin(a, WEEK_0 + 30 * HOUR, CheckInStatus.MISSED)
    rows.checkin(a, WEEK_0 + 2 * HOUR, CheckInStatus.CANCELLED)  # never asked: not counted
    rows.checkin(a, WEEK_0 + 3 * HOUR, CheckInStatus.SENT)  # may still be answered
    rows.checkin(a, WEEK_0 - HOUR)  # before the window
    rows.checkin(a, window.end)  # this week: not yet in the window
    rows.checkin(b, WEEK_2, CheckInStatus.EXPIRED)  # Monday 00:00: week 2
    rows.checkin(b, WEEK_2 + HOUR, instrument="previsit", score="none")  # any instrument

    measures = compute_measures(window)

    east_figures = figures(measures.centers[east.id][Measure.CHECKINS_COMPLETED])
    assert east_figures == [(2, 3, pytest.approx(2 / 3)), (0, 0, None), (0, 0, None)]
    west_figures = figures(measures.centers[west.id][Measure.CHECKINS_COMPLETED])
    assert west_figures == [(0, 0, None), (0, 0, None), (1, 2, 0.5)]
    network = measures.network[Measure.CHECKINS_COMPLETED]
    assert figures(network) == [(2, 3, pytest.approx(2 / 3)), (0, 0, None), (1, 2, 0.5)]
    # A week with nothing due is a gap, not a zero, and the median skips it.
    assert network.median == pytest.approx((2 / 3 + 0.5) / 2)


def test_share_of_patients_whose_latest_band_is_remission(rows, make_center, window):
    east, west = make_center("EAST"), make_center("WEST")
    settled, flaring, new = (rows.patient(east) for _ in range(3))
    elsewhere = rows.patient(west)
    rows.checkin(settled, WEEK_0 - timedelta(days=60), band="moderate")
    rows.checkin(settled, WEEK_0 - timedelta(days=30), band=REMISSION_BAND)  # before the window
    rows.checkin(flaring, WEEK_0 + HOUR, band="mild")
    rows.checkin(flaring, WEEK_1 + HOUR, band=REMISSION_BAND)
    rows.checkin(new, WEEK_2 + HOUR, band="mild")
    rows.checkin(settled, WEEK_2 + 2 * HOUR, band="moderate")
    # Neither changes anyone's latest band: unfinished, or without a band, or another score.
    rows.checkin(flaring, WEEK_2 + HOUR, CheckInStatus.EXPIRED, band="severe")
    rows.checkin(flaring, WEEK_2 + 3 * HOUR, band=None)
    rows.checkin(flaring, WEEK_2 + 4 * HOUR, band="severe", instrument="ibd-wellbeing")
    # Completed after the window ends: not known at the end of week 2.
    rows.checkin(new, WEEK_2 + 2 * HOUR, band=REMISSION_BAND, closed_at=window.end + HOUR)
    rows.checkin(elsewhere, WEEK_1 + HOUR, band=REMISSION_BAND)

    measures = compute_measures(window)

    east_figures = figures(measures.centers[east.id][Measure.REMISSION])
    # Week 0: settled (remission) and flaring (mild). Week 1: both in remission.
    # Week 2: new arrives (mild), settled flares (moderate): 1 of 3.
    assert east_figures == [(1, 2, 0.5), (2, 2, 1.0), (1, 3, pytest.approx(1 / 3))]
    west_figures = figures(measures.centers[west.id][Measure.REMISSION])
    assert west_figures == [(0, 0, None), (1, 1, 1.0), (1, 1, 1.0)]
    assert figures(measures.network[Measure.REMISSION]) == [
        (1, 2, 0.5),
        (3, 3, 1.0),
        (2, 4, 0.5),
    ]


def test_median_hours_to_acknowledge_alerts(rows, make_center, window):
    east, west = make_center("EAST"), make_center("WEST")
    a, b = rows.patient(east), rows.patient(west)
    rows.alert(a, WEEK_0 + HOUR, acknowledged_after=2 * HOUR)
    rows.alert(a, WEEK_0 + 5 * HOUR, acknowledged_after=6 * HOUR)
    rows.alert(a, WEEK_0 + 9 * HOUR)  # still open
    rows.alert(b, WEEK_0 + 2 * HOUR, acknowledged_after=HOUR)
    # Raised in week 2, acknowledged after the window: counted with the week it was raised.
    rows.alert(b, WEEK_2 + 150 * HOUR, acknowledged_after=30 * HOUR)
    rows.alert(b, WEEK_0 - HOUR, acknowledged_after=HOUR)  # raised before the window

    measures = compute_measures(window)

    east_alerts = measures.centers[east.id][Measure.ALERT_ACK_HOURS]
    assert figures(east_alerts) == [(2, 3, pytest.approx(4.0)), (0, 0, None), (0, 0, None)]
    west_alerts = measures.centers[west.id][Measure.ALERT_ACK_HOURS]
    assert figures(west_alerts) == [(1, 1, pytest.approx(1.0)), (0, 0, None), (1, 1, 30.0)]
    network = measures.network[Measure.ALERT_ACK_HOURS]
    # Network week 0: the median of 1, 2 and 6 hours (not the median of the centers' medians).
    assert figures(network) == [(3, 4, pytest.approx(2.0)), (0, 0, None), (1, 1, 30.0)]
    assert network.median == pytest.approx(16.0)


def test_an_even_count_of_acknowledgements_takes_the_mean_of_the_middle_two(
    rows, make_center, window
):
    center = make_center()
    patient = rows.patient(center)
    for hours in (1, 2, 3, 10):
        rows.alert(patient, WEEK_1 + hours * HOUR, acknowledged_after=hours * HOUR)
    series = compute_measures(window).centers[center.id][Measure.ALERT_ACK_HOURS]
    assert series.figures[1].value == pytest.approx(2.5)


def test_ideas_submitted_and_adopted(rows, make_center, window):
    east, west = make_center("EAST"), make_center("WEST")
    rows.idea(east, WEEK_0 + HOUR)
    rows.idea(east, WEEK_0 + 50 * HOUR)
    rows.idea(None, WEEK_1 + HOUR)  # from a phone with no center: the network's only
    older = rows.idea(west, WEEK_0 - timedelta(days=40))
    rows.adopt(older, WEEK_2 + HOUR)
    rows.adopt(rows.idea(west, WEEK_2 - HOUR), window.end + HOUR)  # adopted this week

    measures = compute_measures(window)

    east_ideas = measures.centers[east.id]
    assert figures(east_ideas[Measure.IDEAS_SUBMITTED]) == [
        (2, None, 2.0),
        (0, None, 0.0),
        (0, None, 0.0),
    ]
    west_ideas = measures.centers[west.id]
    assert [f.value for f in west_ideas[Measure.IDEAS_SUBMITTED].figures] == [0, 1, 0]
    assert [f.value for f in west_ideas[Measure.IDEAS_ADOPTED].figures] == [0, 0, 1]
    network = measures.network
    assert [f.value for f in network[Measure.IDEAS_SUBMITTED].figures] == [2, 2, 0]
    assert [f.value for f in network[Measure.IDEAS_ADOPTED].figures] == [0, 0, 1]
    assert network[Measure.IDEAS_SUBMITTED].median == 2


def test_weeks_with_nothing_at_all_are_gaps_and_counts_of_zero(make_center, window):
    center = make_center()
    measures = compute_measures(window)
    for series in [*measures.network.values(), *measures.centers[center.id].values()]:
        for figure in series.figures:
            assert figure.numerator == 0
            if series.measure.id in (Measure.IDEAS_SUBMITTED, Measure.IDEAS_ADOPTED):
                assert (figure.denominator, figure.value) == (None, 0.0)
            else:
                assert (figure.denominator, figure.value) == (0, None)
    assert measures.network[Measure.CHECKINS_COMPLETED].median is None
    assert measures.network[Measure.IDEAS_ADOPTED].median == 0
