"""``/api/v1/me…``: who is signed in, their patients, an adult's grants, ideas, preferences."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest
import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.codesign.models import Idea, IdeaChannel, IdeaCredit, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import change_status
from engage.conversations.models import CheckIn, CheckInStatus, CloseReason
from engage.conversations.services import open_checkin
from engage.db import utcnow
from engage.instruments.services import get_instrument
from engage.messaging.models import Message, MessageStatus
from engage.messaging.sender import claim_batch
from engage.messaging.services import queue_outbound
from engage.mobile.models import ProxyGrant
from engage.network.services import find_staff_user
from engage.people.models import CaregiverLink, ConsentChange, Language, Patient, Relationship
from engage.people.services import add_caregiver, add_contact, find_contact, link_caregiver
from engage.scheduling.models import Enrollment, EnrollmentStatus, ScheduleKind
from tests.demo_staff import JORDAN
from tests.mobile.conftest import CARMEN, DANIEL, LAURA, NOAH, SOFIA, bearer

PROBLEM = "application/problem+json"

pytestmark = pytest.mark.usefixtures("demo")


# -- helpers ----------------------------------------------------------------------------------
@pytest.fixture
def signed_in(app_tokens):
    """The Authorization header of a new sign-in of a demo phone."""

    def header(phone):
        return bearer(app_tokens(phone).access_token)

    return header


def patient_named(session, given_name):
    return session.scalar(sa.select(Patient).where(Patient.given_name == given_name))


def aware(moment):
    """SQLite hands datetimes back without their zone; they are UTC."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def events(session, action, contact_id):
    return session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == action, AuditEvent.contact_id == contact_id)
        .order_by(AuditEvent.id)
    ).all()


def problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.mimetype == PROBLEM
    assert response.json["type"] == f"/api/v1/problems/{slug}"
    return response.json


def make_adult(session, patient):
    """18 today: born on 1 January eighteen years ago."""
    patient.date_of_birth = date(utcnow().astimezone(patient.zone).year - 18, 1, 1)
    session.commit()
    return patient


def local_today(patient):
    return utcnow().astimezone(patient.zone).date()


# -- me ---------------------------------------------------------------------------------------
def test_me_tells_a_patient_who_they_are(client, session, signed_in):
    response = client.get("/api/v1/me", headers=signed_in(NOAH))

    assert response.status_code == 200, response.text
    noah = patient_named(session, "Noah")
    assert response.json == {
        "role": "patient",
        "first_name": "Noah",
        "language": "en",
        "phone": "+1••••••0102",
        "sms_enabled": True,
        "paused_until": None,
        "resumes_at": None,
        "patient_id": noah.id,
    }
    [event] = events(session, "app.view_me", find_contact(NOAH).id)
    assert event.patient_id == noah.id and event.staff_user_id is None


def test_me_tells_a_caregiver_they_have_no_patient_id(client, signed_in):
    body = client.get("/api/v1/me", headers=signed_in(CARMEN)).json

    assert body["role"] == "caregiver"
    assert body["first_name"] == "Carmen"
    assert body["language"] == "es"
    assert body["patient_id"] is None
    assert body["phone"].endswith("0113") and "555" not in body["phone"]


def test_every_me_endpoint_needs_a_live_access_token(client):
    for method, url in [
        ("get", "/api/v1/me"),
        ("get", "/api/v1/me/patients"),
        ("get", "/api/v1/me/proxy-grants"),
        ("post", "/api/v1/me/proxy-grants"),
        ("delete", "/api/v1/me/proxy-grants/1"),
        ("get", "/api/v1/me/ideas"),
        ("post", "/api/v1/me/ideas"),
        ("get", "/api/v1/me/preferences"),
        ("patch", "/api/v1/me/preferences"),
    ]:
        # No body at all: the 401 comes before the body is read.
        response = getattr(client, method)(url, headers=bearer("eat_not-a-token"))
        problem(response, 401, "unauthorized")


# -- my patients ------------------------------------------------------------------------------
def test_a_caregiver_lists_the_children_they_answer_for(client, session, signed_in):
    response = client.get("/api/v1/me/patients", headers=signed_in(LAURA))

    assert response.status_code == 200, response.text
    body = response.json
    assert (body["total"], body["page"], body["per_page"], body["pages"]) == (2, 1, 25, 1)
    mia, noah = patient_named(session, "Mia"), patient_named(session, "Noah")
    assert body["items"] == [
        {
            "id": mia.id,
            "first_name": "Mia",
            "age": mia.age_on(local_today(mia)),
            "center_name": mia.center.name,
            "access": "proxy",
        },
        {
            "id": noah.id,
            "first_name": "Noah",
            "age": noah.age_on(local_today(noah)),
            "center_name": noah.center.name,
            "access": "proxy",
        },
    ]
    viewed = events(session, "app.list_patients", find_contact(LAURA).id)
    assert sorted(e.patient_id for e in viewed) == sorted([mia.id, noah.id])


def test_my_patients_comes_a_page_at_a_time(client, signed_in):
    header = signed_in(LAURA)
    first = client.get("/api/v1/me/patients?per_page=1", headers=header).json
    second = client.get("/api/v1/me/patients?per_page=1&page=2", headers=header).json
    past = client.get("/api/v1/me/patients?per_page=1&page=3", headers=header).json

    assert (first["total"], first["pages"]) == (2, 2)
    assert [first["items"][0]["first_name"], second["items"][0]["first_name"]] == ["Mia", "Noah"]
    assert past["items"] == []
    refused = client.get("/api/v1/me/patients?per_page=500", headers=header)
    assert "per_page" in problem(refused, 422, "invalid-input")["errors"]


def test_a_patient_lists_only_themselves(client, session, signed_in):
    body = client.get("/api/v1/me/patients", headers=signed_in(DANIEL)).json

    daniel = patient_named(session, "Daniel")
    assert [(p["id"], p["access"], p["age"]) for p in body["items"]] == [(daniel.id, "self", 20)]


def test_a_caregiver_without_proxy_permission_sees_nobody(client, session, signed_in):
    link = session.scalar(
        sa.select(CaregiverLink).where(
            CaregiverLink.caregiver_id == find_contact(CARMEN).caregiver_id
        )
    )
    link.may_answer_as_proxy = False
    session.commit()

    body = client.get("/api/v1/me/patients", headers=signed_in(CARMEN)).json

    assert (body["items"], body["total"]) == ([], 0)


def test_a_caregiver_loses_an_adult_until_the_adult_grants_access(client, session, signed_in):
    sofia = make_adult(session, patient_named(session, "Sofia"))
    carmen = find_contact(CARMEN).caregiver
    as_carmen, as_sofia = signed_in(CARMEN), signed_in(SOFIA)

    assert client.get("/api/v1/me/patients", headers=as_carmen).json["items"] == []

    granted = client.post(
        "/api/v1/me/proxy-grants", json={"caregiver_id": carmen.id}, headers=as_sofia
    )
    assert granted.status_code == 201, granted.text
    assert granted.json["has_access"] is True and granted.json["granted_at"] is not None
    [item] = client.get("/api/v1/me/patients", headers=as_carmen).json["items"]
    assert (item["id"], item["access"], item["age"]) == (sofia.id, "proxy_granted", 18)

    revoked = client.delete(f"/api/v1/me/proxy-grants/{carmen.id}", headers=as_sofia)
    assert revoked.status_code == 204, revoked.text
    assert client.get("/api/v1/me/patients", headers=as_carmen).json["items"] == []

    again = client.post(
        "/api/v1/me/proxy-grants", json={"caregiver_id": carmen.id}, headers=as_sofia
    )
    assert again.status_code == 201
    grants = session.scalars(
        sa.select(ProxyGrant).where(ProxyGrant.patient_id == sofia.id).order_by(ProxyGrant.id)
    ).all()
    assert len(grants) == 2
    assert grants[0].revoked_at is not None and grants[1].revoked_at is None
    sofia_phone = find_contact(SOFIA).id
    actions = [
        e.action
        for e in session.scalars(
            sa.select(AuditEvent)
            .where(AuditEvent.contact_id == sofia_phone, AuditEvent.action.like("app.%proxy%"))
            .order_by(AuditEvent.id)
        )
    ]
    assert actions == ["app.grant_proxy", "app.revoke_proxy", "app.grant_proxy"]


# -- proxy grants -----------------------------------------------------------------------------
def test_an_adult_sees_their_caregivers_and_who_may_read(client, session, signed_in):
    make_adult(session, patient_named(session, "Sofia"))
    carmen = find_contact(CARMEN).caregiver

    body = client.get("/api/v1/me/proxy-grants", headers=signed_in(SOFIA)).json

    assert body["may_grant"] is True
    assert (body["total"], body["pages"]) == (1, 1)
    assert body["items"] == [
        {
            "id": carmen.id,
            "first_name": "Carmen",
            "relationship": "parent",
            "may_answer_as_proxy": True,
            "has_access": False,
            "granted_at": None,
        }
    ]


def test_a_minor_sees_their_caregivers_but_does_not_grant(client, session, signed_in):
    carmen = find_contact(CARMEN).caregiver
    as_sofia = signed_in(SOFIA)  # 17

    body = client.get("/api/v1/me/proxy-grants", headers=as_sofia).json
    assert body["may_grant"] is False
    assert [(c["id"], c["has_access"]) for c in body["items"]] == [(carmen.id, True)]

    refused = client.post(
        "/api/v1/me/proxy-grants", json={"caregiver_id": carmen.id}, headers=as_sofia
    )
    problem(refused, 403, "forbidden")
    problem(
        client.delete(f"/api/v1/me/proxy-grants/{carmen.id}", headers=as_sofia), 403, "forbidden"
    )


def test_a_caregiver_has_no_grants_to_manage(client, session, signed_in):
    as_laura = signed_in(LAURA)
    problem(client.get("/api/v1/me/proxy-grants", headers=as_laura), 403, "forbidden")
    refused = client.post("/api/v1/me/proxy-grants", json={"caregiver_id": 1}, headers=as_laura)
    problem(refused, 403, "forbidden")


def test_daniel_has_nobody_to_grant(client, session, signed_in):
    carmen = find_contact(CARMEN).caregiver
    as_daniel = signed_in(DANIEL)  # 20, no caregiver

    body = client.get("/api/v1/me/proxy-grants", headers=as_daniel).json
    assert (body["may_grant"], body["items"]) == (True, [])

    for caregiver_id in (carmen.id, 2**31 - 1):
        response = client.post(
            "/api/v1/me/proxy-grants", json={"caregiver_id": caregiver_id}, headers=as_daniel
        )
        problem(response, 404, "not-found")
    problem(
        client.delete(f"/api/v1/me/proxy-grants/{carmen.id}", headers=as_daniel), 404, "not-found"
    )
    assert session.scalar(sa.select(sa.func.count()).select_from(ProxyGrant)) == 0


def test_grant_refusals(client, session, signed_in, make_patient):
    sofia = make_adult(session, patient_named(session, "Sofia"))
    carmen = find_contact(CARMEN).caregiver
    uncle = add_caregiver(given_name="Tomas", family_name="Martinez")
    link_caregiver(uncle, sofia, relationship=Relationship.OTHER, may_answer_as_proxy=False)
    session.commit()
    as_sofia = signed_in(SOFIA)

    def grant(body):
        return client.post("/api/v1/me/proxy-grants", json=body, headers=as_sofia)

    assert grant({"caregiver_id": carmen.id}).status_code == 201
    body = problem(grant({"caregiver_id": carmen.id}), 409, "conflict")
    assert "already granted" in body["detail"]
    # The care team has not let him answer for her: a grant would change nothing.
    problem(grant({"caregiver_id": uncle.id}), 409, "conflict")
    for bad in (
        {},
        {"caregiver_id": "x"},
        {"caregiver_id": True},
        {"caregiver_id": 0},
        {"caregiver_id": carmen.id, "extra": 1},
    ):
        problem(grant(bad), 422, "invalid-input")
    problem(
        client.delete(f"/api/v1/me/proxy-grants/{uncle.id}", headers=as_sofia), 404, "not-found"
    )
    assert (
        client.delete(f"/api/v1/me/proxy-grants/{carmen.id}", headers=as_sofia).status_code == 204
    )
    # Nothing left to revoke.
    problem(
        client.delete(f"/api/v1/me/proxy-grants/{carmen.id}", headers=as_sofia), 404, "not-found"
    )


def test_an_adult_with_a_new_caregiver_grants_them(client, session, make_patient, app_tokens):
    adult = make_patient(given_name="Lena", date_of_birth=date(2000, 2, 3))
    mother = add_caregiver(given_name="Rosa", family_name="Perez")
    link_caregiver(mother, adult, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    add_contact(adult, "+16175550177")
    add_contact(mother, "+16175550178")
    session.commit()
    as_lena = bearer(app_tokens("+16175550177").access_token)
    as_rosa = bearer(app_tokens("+16175550178").access_token)

    assert client.get("/api/v1/me/patients", headers=as_rosa).json["items"] == []
    response = client.post(
        "/api/v1/me/proxy-grants", json={"caregiver_id": mother.id}, headers=as_lena
    )
    assert response.status_code == 201, response.text
    [item] = client.get("/api/v1/me/patients", headers=as_rosa).json["items"]
    assert (item["first_name"], item["access"]) == ("Lena", "proxy_granted")


# -- my ideas ---------------------------------------------------------------------------------
def test_submit_an_idea_from_the_app(client, session, signed_in):
    response = client.post(
        "/api/v1/me/ideas",
        json={
            "text": "  A checklist of questions to ask at the visit  ",
            "category": "clinic_visits",
            "who_it_helps": "new families",
            "may_contact": True,
            "credit": "first_name",
        },
        headers=signed_in(LAURA),
    )

    assert response.status_code == 201, response.text
    body = response.json
    idea = session.scalar(sa.select(Idea).where(Idea.reference == body["reference"]))
    laura = find_contact(LAURA)
    assert idea.channel is IdeaChannel.APP and idea.contact_id == laura.id
    assert idea.credit is IdeaCredit.FIRST_NAME and idea.may_contact is True
    assert body["text"] == "A checklist of questions to ask at the visit"
    assert body["relation"] == "submitted"
    assert (body["status"], body["status_label"], body["history"]) == ("new", "new", [])
    assert (body["category"], body["who_it_helps"]) == ("clinic_visits", "new families")
    [event] = events(session, "app.submit_idea", laura.id)
    assert event.detail == body["reference"]


def test_my_ideas_newest_first_with_their_history(client, session, signed_in):
    laura = find_contact(LAURA)
    now = utcnow()
    older = submit_idea(
        "Text reminders the night before, Mia loves them",
        contact=laura,
        channel=IdeaChannel.SMS,
        now=now - timedelta(days=2),
    )
    newer = submit_idea(
        "A quiet room for infusions",
        contact=laura,
        channel=IdeaChannel.APP,
        now=now - timedelta(days=1),
    )
    submit_idea("Someone else's idea", contact=find_contact(NOAH), channel=IdeaChannel.SMS)
    jordan = find_staff_user(JORDAN)
    change_status(older, IdeaStatus.UNDER_REVIEW, rationale="Looking at it this month", by=jordan)
    session.commit()

    body = client.get("/api/v1/me/ideas", headers=signed_in(LAURA)).json

    # The demo's own idea of Laura's (40 days old) comes after these two.
    references = [i["reference"] for i in body["items"]]
    assert references[:2] == [newer.reference, older.reference]
    assert body["total"] == len(references) == 3
    assert all(i["relation"] == "submitted" for i in body["items"])
    reviewed = body["items"][1]
    assert reviewed["text"] == "Text reminders the night before, Mia loves them"  # their words
    assert (reviewed["status"], reviewed["status_label"]) == ("under_review", "under review")
    [step] = reviewed["history"]
    assert set(step) == {"to_status", "label", "rationale", "at"}  # no reviewer, no relay
    assert (step["to_status"], step["rationale"]) == ("under_review", "Looking at it this month")
    assert events(session, "app.view_ideas", laura.id)


def test_an_idea_merged_into_anothers_is_followed_in_redacted_words(client, session, signed_in):
    laura, noah = find_contact(LAURA), find_contact(NOAH)
    theirs = submit_idea(
        "Noah Thompson says: a teen group chat", contact=noah, channel=IdeaChannel.SMS
    )
    mine = submit_idea("A group chat for teens", contact=laura, channel=IdeaChannel.APP)
    change_status(
        mine,
        IdeaStatus.MERGED,
        rationale="Same idea",
        by=find_staff_user(JORDAN),
        merge_into=theirs,
    )
    session.commit()

    items = client.get("/api/v1/me/ideas", headers=signed_in(LAURA)).json["items"]

    by_reference = {i["reference"]: i for i in items}
    assert by_reference[mine.reference]["merged_into"] == theirs.reference
    followed = by_reference[theirs.reference]
    assert followed["relation"] == "following"
    assert "Noah" not in followed["text"] and "Thompson" not in followed["text"]
    assert followed["text"] == theirs.redacted_text
    assert followed["credit"] is None and followed["may_contact"] is None


def test_ideas_page_at_a_time(client, session, signed_in):
    laura = find_contact(LAURA)
    for n in range(3):
        submit_idea(
            f"Idea number {n}",
            contact=laura,
            channel=IdeaChannel.APP,
            now=utcnow() - timedelta(hours=3 - n),
        )
    session.commit()

    body = client.get("/api/v1/me/ideas?per_page=2&page=2", headers=signed_in(LAURA)).json

    # Three new ones and the demo's: 4 in all.
    assert (body["total"], body["pages"], body["page"]) == (4, 2, 2)
    assert [i["text"] for i in body["items"]][0] == "Idea number 0"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"text": "   "}, "text"),
        ({"text": ""}, "text"),
        ({"text": "x" * 5000}, "text"),
        ({}, "text"),
        ({"text": "Good idea", "category": "astrology"}, "category"),
        ({"text": "Good idea", "credit": "full_name"}, "credit"),
        ({"text": "Good idea", "may_contact": "yes"}, "may_contact"),
        ({"text": "Good idea", "reviewer": "me"}, "reviewer"),
    ],
)
def test_an_idea_is_refused_naming_the_field(client, session, signed_in, body, field):
    response = client.post("/api/v1/me/ideas", json=body, headers=signed_in(NOAH))

    assert field in problem(response, 422, "invalid-input")["errors"]
    from_app = sa.select(Idea.id).where(Idea.channel == IdeaChannel.APP)
    assert session.scalar(from_app) is None


# -- preferences ------------------------------------------------------------------------------
def test_preferences_as_they_start(client, session, signed_in):
    response = client.get("/api/v1/me/preferences", headers=signed_in(NOAH))

    assert response.status_code == 200, response.text
    noah = patient_named(session, "Noah")
    assert response.json == {
        "preferred_time": "18:00",  # the demo's Monday check-in
        "check_in_times": ["18:00"],
        "time_zone": noah.effective_time_zone,
        "quiet_hours": None,
        "effective_quiet_hours": {"start": "21:00", "end": "08:00", "source": "center"},
        "language": "en",
        "paused_until": None,
        "resumes_at": None,
        "sms_enabled": True,
    }
    assert events(session, "app.view_preferences", find_contact(NOAH).id)


def test_a_preferred_time_moves_the_recurring_check_ins(client, session, signed_in):
    mia = patient_named(session, "Mia")  # Laura answers for her

    response = client.patch(
        "/api/v1/me/preferences", json={"preferred_time": "07:30"}, headers=signed_in(LAURA)
    )

    assert response.status_code == 200, response.text
    assert (response.json["preferred_time"], response.json["check_in_times"]) == (
        "07:30",
        ["07:30"],
    )
    session.expire_all()
    enrollments = session.scalars(
        sa.select(Enrollment).where(Enrollment.patient_id == mia.id).order_by(Enrollment.id)
    ).all()
    recurring = [e for e in enrollments if e.kind is ScheduleKind.RECURRING]
    [symptoms] = recurring
    assert symptoms.local_time == time(7, 30)
    assert symptoms.weekdays == "mon"  # the days stay
    due = aware(symptoms.next_due_at).astimezone(mia.zone)
    assert (due.hour, due.minute, due.weekday()) == (7, 30, 0)
    assert aware(symptoms.next_due_at) > utcnow()
    before_visit = [e for e in enrollments if e.kind is ScheduleKind.BEFORE_VISIT]
    assert all(e.local_time is None for e in before_visit)  # not a recurring schedule
    # Laura's own record, and Mia's: her schedule moved.
    laura_events = events(session, "app.change_preferences", find_contact(LAURA).id)
    assert {e.patient_id for e in laura_events} == {None, mia.id}
    assert any(e.detail == "changed: preferred_time" for e in laura_events)


def test_a_preferred_time_needs_recurring_check_ins(client, session, signed_in):
    laura = find_contact(LAURA)
    for enrollment in session.scalars(
        sa.select(Enrollment).where(Enrollment.contact_id == laura.id)
    ):
        enrollment.status = EnrollmentStatus.ENDED
    session.commit()
    as_laura = signed_in(LAURA)

    refused = client.patch(
        "/api/v1/me/preferences", json={"preferred_time": "07:30"}, headers=as_laura
    )
    assert "preferred_time" in problem(refused, 409, "conflict")["errors"]
    assert client.get("/api/v1/me/preferences", headers=as_laura).json["preferred_time"] is None


@pytest.mark.parametrize(
    "body",
    [
        {"preferred_time": "7:30"},
        {"preferred_time": "24:00"},
        {"preferred_time": "07:30:00"},
        {"quiet_hours": {"start": "22:00"}},
        {"quiet_hours": {"start": "22:00", "end": "07:00", "days": "all"}},
        {"quiet_hours": {"start": "22:00", "end": "22:00"}},
        {"quiet_hours": "22:00-07:00"},
        {"language": "fr"},
        {"paused_until": "tomorrow"},
        {"sms_enabled": "no"},
        {"sms_enabled": None},
        {"colour": "blue"},
    ],
)
def test_preferences_refused_naming_the_field(client, session, signed_in, body):
    response = client.patch("/api/v1/me/preferences", json=body, headers=signed_in(NOAH))

    assert set(body) <= set(problem(response, 422, "invalid-input")["errors"])
    assert not events(session, "app.change_preferences", find_contact(NOAH).id)


def test_quiet_hours_hold_a_check_in_text(client, session, signed_in):
    noah = patient_named(session, "Noah")
    noon = datetime.combine(local_today(noah), time(12, 0), tzinfo=noah.zone)
    checkin = open_checkin(noah, get_instrument("ibd-symptoms"), now=noon.astimezone(UTC))
    session.commit()

    response = client.patch(
        "/api/v1/me/preferences",
        json={"quiet_hours": {"start": "11:00", "end": "13:30"}},
        headers=signed_in(NOAH),
    )

    assert response.status_code == 200, response.text
    assert response.json["quiet_hours"] == {"start": "11:00", "end": "13:30"}
    assert response.json["effective_quiet_hours"] == {
        "start": "11:00",
        "end": "13:30",
        "source": "phone",
    }
    batch = claim_batch(noon.astimezone(UTC), 50, 50, "test")
    assert batch.deferred >= 1 and not batch.claimed
    texts = session.scalars(sa.select(Message).where(Message.checkin_id == checkin.id)).all()
    assert texts and all(m.status is MessageStatus.QUEUED for m in texts)
    morning = datetime.combine(local_today(noah), time(13, 30), tzinfo=noah.zone)
    assert all(aware(m.next_attempt_at) == morning for m in texts)

    cleared = client.patch(
        "/api/v1/me/preferences", json={"quiet_hours": None}, headers=signed_in(NOAH)
    )
    assert cleared.json["quiet_hours"] is None
    assert cleared.json["effective_quiet_hours"]["source"] == "center"
    contact = find_contact(NOAH)
    assert (contact.quiet_hours_start, contact.quiet_hours_end) == (None, None)


def test_sms_off_cancels_check_in_texts_but_not_sign_in_codes(client, session, signed_in):
    noah = patient_named(session, "Noah")
    contact = find_contact(NOAH)
    consents = len(contact.consent_history)
    noon = datetime.combine(local_today(noah), time(12, 0), tzinfo=noah.zone).astimezone(UTC)
    as_noah = signed_in(NOAH)

    response = client.patch("/api/v1/me/preferences", json={"sms_enabled": False}, headers=as_noah)
    assert response.status_code == 200, response.text
    assert response.json["sms_enabled"] is False
    checkin = open_checkin(noah, get_instrument("ibd-symptoms"), now=noon)
    code = queue_outbound(
        phone=NOAH,
        body="Your code is 123456",
        contact_id=contact.id,
        checkin_id=None,
        purpose="sign_in_code",
    )
    session.commit()

    batch = claim_batch(noon, 50, 50, "test")

    assert [c.id for c in batch.claimed] == [code.id]
    texts = session.scalars(sa.select(Message).where(Message.checkin_id == checkin.id)).all()
    assert texts and all(m.status is MessageStatus.CANCELLED for m in texts)
    assert all("SMS turned off" in (m.error_message or "") for m in texts)
    session.expire_all()
    assert session.get(CheckIn, checkin.id).status is CheckInStatus.SENT  # waits in the app
    # Not a withdrawal of consent: nothing in the consent history.
    assert len(find_contact(NOAH).consent_history) == consents
    assert (
        session.scalar(
            sa.select(sa.func.count())
            .select_from(ConsentChange)
            .where(ConsentChange.contact_id == contact.id)
        )
        == consents
    )

    again = client.patch("/api/v1/me/preferences", json={"sms_enabled": True}, headers=as_noah)
    assert again.json["sms_enabled"] is True
    assert client.get("/api/v1/me", headers=as_noah).json["sms_enabled"] is True


def test_a_pause_cancels_open_check_ins_through_the_end_of_the_day(client, session, signed_in):
    noah = patient_named(session, "Noah")
    checkin = open_checkin(noah, get_instrument("ibd-symptoms"))
    session.commit()
    last_day = local_today(noah) + timedelta(days=3)
    as_noah = signed_in(NOAH)

    response = client.patch(
        "/api/v1/me/preferences", json={"paused_until": last_day.isoformat()}, headers=as_noah
    )

    assert response.status_code == 200, response.text
    resume = datetime.combine(last_day + timedelta(days=1), time(0, 0), tzinfo=noah.zone)
    assert response.json["paused_until"] == last_day.isoformat()
    assert datetime.fromisoformat(response.json["resumes_at"]) == resume
    session.expire_all()
    assert aware(find_contact(NOAH).paused_until) == resume
    closed = session.get(CheckIn, checkin.id)
    assert (closed.status, closed.close_reason) == (CheckInStatus.CANCELLED, CloseReason.PAUSED)
    texts = session.scalars(sa.select(Message).where(Message.checkin_id == checkin.id)).all()
    assert texts and all(m.status is MessageStatus.CANCELLED for m in texts)
    assert client.get("/api/v1/me", headers=as_noah).json["paused_until"] == last_day.isoformat()
    [event] = events(session, "app.change_preferences", find_contact(NOAH).id)
    assert event.detail == "changed: paused_until" and event.patient_id == noah.id

    resumed = client.patch("/api/v1/me/preferences", json={"paused_until": None}, headers=as_noah)
    assert (resumed.json["paused_until"], resumed.json["resumes_at"]) == (None, None)
    session.expire_all()
    assert find_contact(NOAH).paused_until is None


def test_a_pause_goes_from_today_to_ninety_days_ahead(client, session, signed_in):
    today = local_today(patient_named(session, "Noah"))
    as_noah = signed_in(NOAH)

    def pause(day):
        return client.patch(
            "/api/v1/me/preferences", json={"paused_until": day.isoformat()}, headers=as_noah
        )

    for day in (
        today - timedelta(days=1),
        today + timedelta(days=91),
        date(9999, 12, 31),
        date(1, 1, 1),
    ):
        assert "paused_until" in problem(pause(day), 422, "invalid-input")["errors"]
    assert pause(today).json["paused_until"] == today.isoformat()
    far = today + timedelta(days=90)
    assert pause(far).json["paused_until"] == far.isoformat()


def test_language_and_several_changes_at_once(client, session, signed_in):
    as_carmen = signed_in(CARMEN)

    response = client.patch(
        "/api/v1/me/preferences",
        json={
            "language": "en",
            "sms_enabled": False,
            "quiet_hours": {"start": "22:00", "end": "07:00"},
        },
        headers=as_carmen,
    )

    assert response.status_code == 200, response.text
    assert response.json["language"] == "en"
    session.expire_all()
    contact = find_contact(CARMEN)
    assert contact.caregiver.preferred_language is Language.ENGLISH
    assert (contact.quiet_hours_start, contact.quiet_hours_end) == (time(22), time(7))
    assert contact.sms_enabled is False
    [event] = events(session, "app.change_preferences", contact.id)
    assert event.detail == "changed: language, quiet_hours, sms_enabled"
    # Carmen's zone and center are Sofia's, her first linked child's.
    assert response.json["time_zone"] == patient_named(session, "Sofia").effective_time_zone


def test_a_refused_change_changes_nothing(client, session, signed_in):
    response = client.patch(
        "/api/v1/me/preferences",
        json={"language": "es", "paused_until": "2000-01-01"},
        headers=signed_in(NOAH),
    )

    problem(response, 422, "invalid-input")
    session.expire_all()
    assert patient_named(session, "Noah").preferred_language is Language.ENGLISH


def test_a_preferences_change_without_a_body_is_refused(client, app_tokens):
    headers = bearer(app_tokens(NOAH).access_token)
    response = client.patch("/api/v1/me/preferences", headers=headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "body" in response.get_json()["errors"]
