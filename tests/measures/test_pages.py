"""The network page and its CSV: who may open them, how centers are named, what they show."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from markupsafe import escape

from engage.alerts.models import Alert, AlertStatus
from engage.audit.models import AuditEvent
from engage.conversations.models import CheckIn
from engage.demo.history import seed_history
from engage.instruments.model import Severity
from engage.measures.compute import Measure
from engage.measures.services import (
    CACHE_KEY,
    CSV_COLUMNS,
    EXPORT_ACTION,
    anonymous_letters,
    places_for,
    read_measures,
)
from engage.network.models import Center
from engage.network.services import find_staff_user
from tests.demo_staff import ANA, JORDAN, PAT, SAM

EAST_NAME = str(escape("Harbor Children's IBD Center"))  # as the page writes it
WEST_NAME = str(escape("Pacific Children's IBD Clinic"))
SVG_CHART = re.compile(r'<svg [^>]*class="run-chart"')


@pytest.fixture
def history(demo, session):
    """Eight past weeks of answered check-ins, and one alert acknowledged after 3 hours."""
    seed_history()
    checkin = session.scalars(sa.select(CheckIn).order_by(CheckIn.due_at.desc())).first()
    raised = checkin.closed_at
    session.add(
        Alert(
            patient_id=checkin.patient_id,
            checkin_id=checkin.id,
            red_flag_id="blood_and_pain",
            severity=Severity.HIGH,
            status=AlertStatus.ACKNOWLEDGED,
            safety_message="Please call the clinic today.",
            created_at=raised,
            acknowledged_at=raised + timedelta(hours=3),
        )
    )
    session.commit()


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


# -- who may look ---------------------------------------------------------------------------
@pytest.mark.parametrize(("email", "status"), [(ANA, 200), (SAM, 200), (JORDAN, 200), (PAT, 403)])
def test_clinicians_and_reviewers_open_the_measures_administrators_do_not(signed_in, email, status):
    client = signed_in(email)
    for path in ("/measures", "/measures.csv", "/measures?format=csv"):
        assert client.get(path).status_code == status, path
    home = client.get("/").get_data(as_text=True)
    assert ('href="/measures"' in home) is (status == 200)


def test_an_administrator_who_reviews_ideas_may_open_them(signed_in, session):
    find_staff_user(PAT).reviews_ideas = True
    session.commit()
    assert signed_in(PAT).get("/measures").status_code == 200


def test_signed_out_visitors_are_sent_to_sign_in(client, demo):
    for path in ("/measures", "/measures.csv"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=")


# -- naming ---------------------------------------------------------------------------------
def test_anonymous_letters_run_like_spreadsheet_columns():
    assert [anonymous_letters(n) for n in (0, 1, 25, 26, 27, 51, 52, 701, 702)] == [
        "A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA",
    ]  # fmt: skip


def test_own_centers_are_named_and_the_others_lettered_by_id(demo, session, make_center):
    centers = list(session.scalars(sa.select(Center).order_by(Center.id)))
    east, west = (next(c for c in centers if c.code == code) for code in ("EAST", "WEST"))

    def labels(email):
        places = places_for(find_staff_user(email), centers)
        return [(place.label, place.key, place.center_id, place.name) for place in places]

    assert labels(ANA) == [
        ("Network", "network", None, None),
        ("EAST", "EAST", east.id, east.name),
        ("Center A", "center-a", west.id, None),
    ]
    assert labels(SAM) == [
        ("Network", "network", None, None),
        ("WEST", "WEST", west.id, west.name),
        ("Center A", "center-a", east.id, None),
    ]
    assert labels(JORDAN) == [
        ("Network", "network", None, None),
        ("Center A", "center-a", east.id, None),
        ("Center B", "center-b", west.id, None),
    ]
    # A center added later takes the next letter; nobody's labels move.
    north = make_center("NORTH")
    centers.append(north)
    assert labels(JORDAN)[-1] == ("Center C", "center-c", north.id, None)
    assert labels(ANA)[-1] == ("Center B", "center-b", north.id, None)


def test_the_page_names_only_the_viewers_own_centers(signed_in, history):
    ana_page = signed_in(ANA).get("/measures?center=center-a").get_data(as_text=True)
    assert "EAST" in ana_page and EAST_NAME in ana_page
    assert "Center A" in ana_page
    assert "WEST" not in ana_page and WEST_NAME not in ana_page
    jordan_page = signed_in(JORDAN).get("/measures?center=center-b").get_data(as_text=True)
    assert "Center A" in jordan_page and "Center B" in jordan_page
    for name in ("EAST", "WEST", EAST_NAME, WEST_NAME):
        assert name not in jordan_page


# -- the page -------------------------------------------------------------------------------
def test_the_network_page_draws_four_run_charts_with_their_median(signed_in, history):
    page = signed_in(JORDAN).get("/measures").get_data(as_text=True)
    charts = re.findall(r'<svg [^>]*class="run-chart".*?</svg>', page, re.S)
    assert len(charts) == 4
    for chart in charts:
        assert 'class="median median-0"' in chart
        assert "<title" in chart and "<desc" in chart
        assert 'class="point point-0"' in chart
    # Below each chart, its figures in a table; the history's weeks show 6 of 6 completed.
    assert page.count('<table class="figures">') == 4
    assert "<td>6</td><td>6</td><td>100%</td>" in page
    assert "Weeks run Monday to Sunday in UTC" in page


def test_a_chosen_center_is_drawn_beside_the_network(signed_in, history):
    page = signed_in(ANA).get("/measures?center=EAST&weeks=8").get_data(as_text=True)
    assert len(SVG_CHART.findall(page)) == 8
    assert page.count("<figcaption>EAST") == 4
    assert page.count('<tr><th scope="row">') == 8 * 8  # 8 charts of 8 weeks


def test_bad_choices_are_named_and_the_defaults_shown(signed_in, history):
    client = signed_in(ANA)
    page = client.get("/measures?center=WEST&weeks=500").get_data(as_text=True)
    assert "center: &#39;WEST&#39; is not a center you can choose" in page
    assert "weeks: &#39;500&#39; is not a whole number from 1 to 104; showing 26" in page
    assert len(SVG_CHART.findall(page)) == 4
    assert page.count('<tr><th scope="row">') == 4 * 26


# -- CSV ------------------------------------------------------------------------------------
def test_the_csv_has_every_place_measure_and_week(signed_in, session, history):
    response = signed_in(ANA).get("/measures.csv?weeks=10")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="engage-measures-\d{4}-\d\d-\d\d-to-\d{4}-\d\d-\d\d\.csv"',
        response.headers["Content-Disposition"],
    )
    header, *rows = rows_of(response)
    assert header == list(CSV_COLUMNS)
    assert len(rows) == 3 * 5 * 10  # network, EAST, Center A; five measures; ten weeks
    assert {row[1] for row in rows} == {"Network", "EAST", "Center A"}
    assert {row[2] for row in rows} == {
        "checkins_completed", "remission", "alert_ack_hours", "ideas_submitted", "ideas_adopted",
    }  # fmt: skip
    network_due = [r for r in rows if r[1] == "Network" and r[2] == "checkins_completed"]
    assert sum(r[3:] == ["6", "6", "1.0000"] for r in network_due) == 8
    assert sum(r[3:] == ["0", "0", ""] for r in network_due) == 2  # nothing due: no share
    acknowledged = [r for r in rows if r[1] == "Network" and r[2] == "alert_ack_hours"]
    assert ["1", "1", "3.00"] in [r[3:] for r in acknowledged]
    east_ideas = [r for r in rows if r[1] == "EAST" and r[2] == "ideas_submitted"]
    assert all(r[4] == "" and r[3] == r[5] for r in east_ideas)

    (event,) = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION))
    assert event.staff_user_id == find_staff_user(ANA).id
    assert event.patient_id is None
    assert event.detail.startswith("150 rows; weeks ")
    assert event.detail.endswith("; center all")


def test_the_csv_of_one_place_and_through_format(signed_in, history):
    client = signed_in(JORDAN)
    response = client.get("/measures?format=csv&center=center-b&weeks=4")
    header, *rows = rows_of(response)
    assert header == list(CSV_COLUMNS)
    assert len(rows) == 5 * 4 and {row[1] for row in rows} == {"Center B"}
    everything = rows_of(client.get("/measures.csv"))
    assert {row[1] for row in everything[1:]} == {"Network", "Center A", "Center B"}
    assert "EAST" not in str(everything) and "WEST" not in str(everything)


@pytest.mark.parametrize("query", ["weeks=0", "weeks=105", "weeks=two", "center=WEST"])
def test_a_bad_csv_request_is_refused_and_nothing_is_exported(signed_in, session, query):
    response = signed_in(ANA).get(f"/measures.csv?{query}")
    assert response.status_code == 400
    assert not session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == EXPORT_ACTION)
    ).all()


# -- kept a while ---------------------------------------------------------------------------
def test_the_figures_are_kept_for_a_while_outside_tests(app, demo, session, monkeypatch, rows):
    """In production the same window is counted at most every CACHE_SECONDS per process."""
    monkeypatch.setitem(app.config, "MEASURES_CACHE_SECONDS", 600)
    monkeypatch.setitem(app.extensions, CACHE_KEY, {})
    east = session.scalar(sa.select(Center).where(Center.code == "EAST"))
    jordan = find_staff_user(JORDAN)

    first = read_measures(jordan, weeks=4)
    rows.idea(east, first.window.start + timedelta(hours=1))
    again = read_measures(jordan, weeks=4)
    assert again.computed_at == first.computed_at
    assert again.series["network"] is first.series["network"]

    monkeypatch.setitem(app.config, "MEASURES_CACHE_SECONDS", 0)
    fresh = read_measures(jordan, weeks=4)
    submitted = fresh.series["network"][Measure.IDEAS_SUBMITTED].figures[0].numerator
    assert submitted == first.series["network"][Measure.IDEAS_SUBMITTED].figures[0].numerator + 1
