"""The clinician's pages: who may open what, and every view of a patient in the audit log."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engage.alerts.models import AlertStatus
from engage.audit.models import AuditEvent
from engage.conversations.services import open_checkin
from engage.demo.seed import seed_demo
from engage.instruments.services import get_instrument
from engage.people.models import Patient
from tests.demo_staff import ANA, JORDAN, PAT, SAM, token_of


@pytest.fixture
def demo(session):
    seed_demo()
    session.commit()


def patient(session, mrn):
    return session.scalar(sa.select(Patient).where(Patient.mrn == mrn))


@pytest.fixture
def alert(demo, raise_alert):
    return raise_alert()


PAGES = ("/review/clinic-day", "/review/alerts")


@pytest.mark.parametrize(
    ("email", "allowed"), [(ANA, True), (SAM, True), (JORDAN, False), (PAT, False)]
)
def test_only_clinicians_open_the_review_pages(signed_in, email, allowed):
    client = signed_in(email)
    for path in PAGES:
        assert client.get(path).status_code == (200 if allowed else 403), (email, path)


def test_signed_out_visitors_are_sent_to_sign_in(client, demo, session):
    noah = patient(session, "E-1002")
    for path in (*PAGES, f"/review/patients/{noah.id}"):
        response = client.get(path)
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(
    ("email", "mrn", "status"),
    [
        (ANA, "E-1002", 200),
        (ANA, "W-2001", 404),  # another center's patient: not found, nothing leaks
        (SAM, "W-2001", 200),
        (SAM, "E-1002", 404),
        (JORDAN, "E-1002", 403),
        (PAT, "W-2001", 403),
    ],
)
def test_a_patient_page_is_for_that_centers_clinicians_only(signed_in, session, email, mrn, status):
    client = signed_in(email)
    target = patient(session, mrn)
    for path in (f"/review/patients/{target.id}", f"/review/patients/{target.id}?print=1"):
        response = client.get(path)
        assert response.status_code == status, (email, path)
        if status != 200:
            assert target.family_name not in response.text
            assert target.mrn not in response.text


def test_viewing_a_patient_is_audited(signed_in, session):
    client = signed_in(ANA)
    noah = patient(session, "E-1002")
    assert "Noah" in client.get(f"/review/patients/{noah.id}").text
    client.get(f"/review/patients/{noah.id}?print=1")
    client.get("/review/clinic-day")
    events = session.execute(
        sa.select(AuditEvent.action, AuditEvent.patient_id).where(
            AuditEvent.action.in_(["view_patient", "print_patient"])
        )
    ).all()
    assert sorted(events) == [("print_patient", noah.id), ("view_patient", noah.id)]


def test_a_refused_view_is_not_shown_and_not_audited_as_a_view(signed_in, session):
    client = signed_in(SAM)
    noah = patient(session, "E-1002")
    client.get(f"/review/patients/{noah.id}")
    assert not session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "view_patient")
    ).all()


def test_the_alert_inbox_lists_and_acknowledges_with_a_note(signed_in, session, alert):
    client = signed_in(ANA)
    inbox = client.get("/review/alerts").text
    assert "Please call the clinic today." in inbox
    empty_note = client.post(
        f"/review/alerts/{alert.id}/acknowledge", data={"csrf_token": token_of(inbox), "note": " "}
    )
    assert empty_note.status_code == 302
    session.refresh(alert)
    assert alert.status is AlertStatus.OPEN
    done = client.post(
        f"/review/alerts/{alert.id}/acknowledge",
        data={"csrf_token": token_of(inbox), "note": "Called mother, seen today."},
    )
    assert done.status_code == 302
    session.refresh(alert)
    assert alert.status is AlertStatus.ACKNOWLEDGED
    assert alert.acknowledgement_note == "Called mother, seen today."
    assert alert.acknowledged_at is not None
    actions = session.scalars(sa.select(AuditEvent.action)).all()
    assert "acknowledge_alert" in actions


def test_another_centers_clinician_cannot_see_or_acknowledge_an_alert(signed_in, session, alert):
    client = signed_in(SAM)
    inbox = client.get("/review/alerts").text
    assert "Please call the clinic today." not in inbox
    refused = client.post(
        f"/review/alerts/{alert.id}/acknowledge",
        data={"csrf_token": token_of(inbox), "note": "not mine"},
    )
    assert refused.status_code == 404
    session.refresh(alert)
    assert alert.status is AlertStatus.OPEN


def test_the_patient_page_draws_the_chart_of_a_completed_check_in(signed_in, session, sms):
    noah = patient(session, "E-1002")
    open_checkin(noah, get_instrument("ibd-symptoms"))
    session.commit()
    for answer in ["1", "none", "formed", "two", "nope", "not at all"]:
        sms(answer, from_="+16175550102")
    client = signed_in(ANA)
    page = client.get(f"/review/patients/{noah.id}").text
    assert page.count('class="score-chart') >= 1
    assert 'class="point"' in page  # the answered check-in drawn on the chart
    assert "Remission" in page


def test_a_bad_date_on_the_clinic_day_says_so_and_shows_today(signed_in):
    client = signed_in(ANA)
    page = client.get("/review/clinic-day?date=tomorrow").text
    assert "is not a date in the form YYYY-MM-DD" in page


# -- managing a patient's check-ins from the page ------------------------------------------------
def test_enroll_pause_resume_and_end_from_the_patient_page(signed_in, session):
    from engage.scheduling.models import Enrollment, EnrollmentStatus

    client = signed_in(ANA)
    noah = patient(session, "E-1002")
    page = client.get(f"/review/patients/{noah.id}").text
    token = token_of(page)
    done = client.post(
        f"/review/patients/{noah.id}/enroll",
        data={"csrf_token": token, "instrument": "ibd-wellbeing", "kind": "weekly",
              "weekly": "tue,fri", "at_time": "19:30", "respondent": "auto"},
    )  # fmt: skip
    assert done.status_code == 302
    page = client.get(done.headers["Location"]).text
    assert "Enrolled in ibd-wellbeing: Tue and Fri at 19:30 (America/New_York)." in page
    enrollment = session.scalar(
        sa.select(Enrollment).where(
            Enrollment.patient_id == noah.id, Enrollment.instrument_id == "ibd-wellbeing"
        )
    )
    for action, status in (("pause", "paused"), ("resume", "active"), ("end", "ended")):
        client.post(f"/review/enrollments/{enrollment.id}/{action}", data={"csrf_token": token})
        session.refresh(enrollment)
        assert enrollment.status is EnrollmentStatus(status)
    actions = set(session.scalars(sa.select(AuditEvent.action)))
    assert {"enroll", "pause_enrollment", "resume_enrollment", "end_enrollment"} <= actions


def test_a_bad_schedule_is_refused_with_the_reason(signed_in, session):
    client = signed_in(ANA)
    noah = patient(session, "E-1002")
    token = token_of(client.get(f"/review/patients/{noah.id}").text)
    refused = client.post(
        f"/review/patients/{noah.id}/enroll",
        data={"csrf_token": token, "instrument": "ibd-wellbeing", "kind": "weekly",
              "weekly": "funday", "at_time": "19:30"},
    )  # fmt: skip
    page = client.get(refused.headers["Location"]).text
    assert "funday" in page and "weekdays:" in page


def test_visits_are_added_moved_and_cancelled_from_the_page(signed_in, session):
    from engage.visits.models import Visit, VisitStatus

    client = signed_in(ANA)
    noah = patient(session, "E-1002")
    token = token_of(client.get(f"/review/patients/{noah.id}").text)
    client.post(
        f"/review/patients/{noah.id}/visits", data={"csrf_token": token, "at": "2027-02-03T09:15"}
    )
    visit = session.scalar(
        sa.select(Visit).where(Visit.patient_id == noah.id).order_by(Visit.id.desc())
    )
    assert visit.starts_at.astimezone(noah.center.zone).strftime("%Y-%m-%d %H:%M") == (
        "2027-02-03 09:15"
    )
    client.post(
        f"/review/visits/{visit.id}/move", data={"csrf_token": token, "at": "2027-02-10T10:00"}
    )
    session.refresh(visit)
    assert visit.starts_at.astimezone(noah.center.zone).day == 10
    client.post(f"/review/visits/{visit.id}/cancel", data={"csrf_token": token})
    session.refresh(visit)
    assert visit.status is VisitStatus.CANCELLED


def test_another_centers_clinician_cannot_manage_a_patient(signed_in, session):
    from engage.scheduling.models import Enrollment, EnrollmentStatus

    client = signed_in(SAM)
    noah = patient(session, "E-1002")
    token = token_of(client.get("/review/alerts").text)
    enrollment = session.scalar(sa.select(Enrollment).where(Enrollment.patient_id == noah.id))
    assert (
        client.post(
            f"/review/enrollments/{enrollment.id}/pause", data={"csrf_token": token}
        ).status_code
        == 404
    )
    session.refresh(enrollment)
    assert enrollment.status is EnrollmentStatus.ACTIVE
    assert (
        client.post(
            f"/review/patients/{noah.id}/visits",
            data={"csrf_token": token, "at": "2027-02-03T09:15"},
        ).status_code
        == 404
    )


def test_a_browser_gets_an_error_page_not_json(signed_in, session):
    client = signed_in(SAM)
    noah = patient(session, "E-1002")
    page = client.get(f"/review/patients/{noah.id}", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert page.mimetype == "text/html" and "<h1>Not Found</h1>" in page.text
    assert "Noah" not in page.text
    api = client.get("/api/v1/review/patients/0", headers={"Accept": "text/html"})
    assert api.mimetype == "application/problem+json"


@pytest.mark.parametrize(("email", "status"), [(PAT, 200), (ANA, 403), (JORDAN, 403)])
def test_only_administrators_read_the_audit_log(signed_in, email, status):
    client = signed_in(email)
    assert client.get("/admin/audit").status_code == status


def test_the_audit_log_filters_by_staff_and_patient(signed_in, session):
    noah = patient(session, "E-1002")
    signed_in(ANA).get(f"/review/patients/{noah.id}")
    client = signed_in(PAT)
    page = client.get(f"/admin/audit?staff={ANA}&patient={noah.id}&action=view_patient").text
    assert f"<td>{ANA}</td><td>view_patient</td><td>{noah.id}</td>" in page
    assert "sign_in" not in page.split("<tbody>")[1]
    bad = client.get("/admin/audit?since=yesterday").text
    assert "since: &#39;yesterday&#39; is not a date" in bad
