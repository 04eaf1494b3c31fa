"""``/api/v1/review``: the same data and rules as the pages, by token or session."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from engage.alerts.models import AlertStatus
from engage.audit.models import AuditEvent
from engage.instruments.model import Severity
from engage.people.models import Patient
from tests.api import problem_type
from tests.demo_staff import ANA, JORDAN, PAT, SAM, auth


def mrn(session, value):
    return session.scalar(sa.select(Patient).where(Patient.mrn == value))


@pytest.fixture
def alert(tokens, raise_alert):
    return raise_alert(severity=Severity.HIGH)


def test_the_openapi_document_describes_the_review_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    paths = document["paths"]
    for path in (
        "/api/v1/review/clinic-day",
        "/api/v1/review/patients/{patient_id}",
        "/api/v1/review/alerts",
        "/api/v1/review/alerts/{alert_id}/acknowledge",
    ):
        assert path in paths, path
    assert "ClinicVisit" in document["components"]["schemas"]
    assert "bearer" in document["components"]["securitySchemes"]


def test_without_credentials_the_api_answers_401(client, tokens):
    for headers in ({}, auth("engage_forged")):
        answer = client.get("/api/v1/review/alerts", headers=headers)
        assert answer.status_code == 401 and problem_type(answer) == "unauthorized"
    # Credentials are checked before the query: a stranger learns nothing from a 422.
    answer = client.get("/api/v1/review/clinic-day?date=soon", headers=auth("engage_forged"))
    assert answer.status_code == 401


@pytest.mark.parametrize(("email", "status"), [(ANA, 200), (SAM, 200), (JORDAN, 403), (PAT, 403)])
def test_only_clinicians_use_the_review_api(client, tokens, email, status):
    for path in ("/api/v1/review/clinic-day", "/api/v1/review/alerts"):
        answer = client.get(path, headers=auth(tokens[email]))
        assert answer.status_code == status, (email, path)
        if status == 403:
            assert problem_type(answer) == "forbidden"


@pytest.mark.parametrize(
    ("email", "patient_mrn", "status"),
    [(ANA, "E-1002", 200), (ANA, "W-2001", 404), (SAM, "E-1002", 404), (JORDAN, "E-1002", 403)],
)
def test_a_patient_summary_only_for_its_centers_clinicians(
    client, tokens, session, email, patient_mrn, status
):
    target = mrn(session, patient_mrn)
    response = client.get(f"/api/v1/review/patients/{target.id}", headers=auth(tokens[email]))
    assert response.status_code == status
    if status == 200:
        body = response.get_json()
        assert body["patient"]["mrn"] == patient_mrn
        assert {"series", "latest_checkins", "alerts", "phones", "missed"} <= set(body)
    else:
        assert target.family_name not in response.text and patient_mrn not in response.text
        assert problem_type(response) == ("forbidden" if status == 403 else "not-found")


def test_views_through_the_api_are_audited(client, tokens, session):
    noah = mrn(session, "E-1002")
    client.get(f"/api/v1/review/patients/{noah.id}", headers=auth(tokens[ANA]))
    event = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "view_patient"))
    assert event.patient_id == noah.id and event.detail == "api"
    assert event.request_id


def test_clinic_day_takes_a_date_and_refuses_a_bad_one(client, tokens):
    ok = client.get("/api/v1/review/clinic-day?date=2026-12-01", headers=auth(tokens[ANA]))
    assert ok.status_code == 200 and ok.get_json()["date"] == "2026-12-01"
    bad = client.get("/api/v1/review/clinic-day?date=soon", headers=auth(tokens[ANA]))
    assert bad.status_code == 422
    assert problem_type(bad) == "invalid-input" and "date" in bad.get_json()["errors"]


def test_alerts_are_listed_and_acknowledged_with_a_note(client, tokens, session, alert):
    listed = client.get("/api/v1/review/alerts", headers=auth(tokens[ANA])).get_json()
    assert [a["alert_id"] for a in listed["items"]] == [alert.id]
    assert (listed["total"], listed["page"], listed["per_page"], listed["pages"]) == (1, 1, 25, 1)
    assert listed["items"][0]["severity"] == "high"
    elsewhere = client.get("/api/v1/review/alerts", headers=auth(tokens[SAM])).get_json()
    assert (elsewhere["items"], elsewhere["total"], elsewhere["pages"]) == ([], 0, 1)
    path = f"/api/v1/review/alerts/{alert.id}/acknowledge"
    assert client.post(path, json={"note": "x"}, headers=auth(tokens[SAM])).status_code == 404
    empty = client.post(path, json={}, headers=auth(tokens[ANA]))
    assert empty.status_code == 422 and "note" in empty.get_json()["errors"]
    blank = client.post(path, json={"note": "   "}, headers=auth(tokens[ANA]))
    assert blank.status_code == 422 and "note" in blank.get_json()["errors"]
    done = client.post(path, json={"note": "Called; seen today."}, headers=auth(tokens[ANA]))
    assert done.status_code == 200
    assert done.get_json()["status"] == "acknowledged"
    session.refresh(alert)
    assert alert.status is AlertStatus.ACKNOWLEDGED
    again = client.post(path, json={"note": "twice"}, headers=auth(tokens[ANA]))
    assert again.status_code == 409
    assert problem_type(again) == "conflict" and "alert" in again.get_json()["errors"]


def test_the_alert_inbox_comes_a_page_at_a_time(client, tokens, session, raise_alert):
    alerts = [raise_alert(mrn, severity=Severity.HIGH) for mrn in ("E-1001", "E-1002", "E-1003")]
    headers = auth(tokens[ANA])

    def page(**query):
        answer = client.get("/api/v1/review/alerts", query_string=query, headers=headers)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    first, second = page(per_page=2), page(per_page=2, page=2)
    assert [a["alert_id"] for a in first["items"] + second["items"]] == [a.id for a in alerts]
    assert (first["total"], first["pages"], second["page"]) == (3, 2, 2)
    assert page(per_page=2, page=3)["items"] == []
    # Only the alerts on the page were shown, so only they are audited.
    viewed = session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "view_alert")
    ).all()
    assert sorted(viewed) == sorted(f"alert {a.id}" for a in alerts)
    for query in ({"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "first"}):
        refused = client.get("/api/v1/review/alerts", query_string=query, headers=headers)
        assert refused.status_code == 422 and set(query) <= set(refused.get_json()["errors"])


def test_a_session_needs_its_csrf_token_to_post(client, tokens, session, alert):
    import re

    from engage.demo.seed import DEMO_STAFF_PASSWORD

    page = client.get("/sign-in").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post(
        "/sign-in", data={"email": ANA, "password": DEMO_STAFF_PASSWORD, "csrf_token": token}
    )
    path = f"/api/v1/review/alerts/{alert.id}/acknowledge"
    assert client.get("/api/v1/review/alerts").status_code == 200  # the session works for reads
    assert client.post(path, json={"note": "no token"}).status_code == 403
    home = client.get("/").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home).group(1)
    assert client.post(path, json={"note": "ok"}, headers={"X-CSRF-Token": csrf}).status_code == 200


def test_a_token_is_issued_once_from_the_command_line(runner, tokens, session):
    result = runner.invoke(args=["engage", "staff", "token", ANA, "--name", "clinic laptop"])
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    assert token.startswith("engage_")
    from engage.auth.models import ApiToken

    stored = session.scalars(sa.select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 5
