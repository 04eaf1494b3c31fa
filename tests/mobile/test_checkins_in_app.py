"""Check-ins in the app: the same engine as SMS, item by item, sharing one state with SMS."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import flask_migrate
import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert
from engage.audit.models import AuditEvent
from engage.conversations.models import (
    Answer,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    ContactConversation,
    RespondentRole,
)
from engage.conversations.services import open_checkin
from engage.db import db, utcnow
from engage.demo.history import WEEKS, seed_history
from engage.demo.seed import seed_demo
from engage.instruments.loader import parse_instrument
from engage.instruments.services import get_instrument
from engage.messaging.models import Message, MessageStatus
from engage.mobile.tokens import issue_tokens
from engage.people.models import Patient
from engage.people.services import find_contact
from tests.conftest import make_test_app
from tests.mobile.conftest import CARMEN, LAURA, NOAH, SOFIA, bearer
from tests.twilio_helpers import replies, send_signed_sms

AVA = "+12135550102"  # 15, answers for herself (WEST)
DANIEL = "+12135550103"  # 20, WEST, nobody else's business
DAVID = "+12135550121"  # parent of Ethan (WEST)
PROBLEM = "application/problem+json"
THANKS = "Thank you! Your care team will see your answers before your next visit."
NOTHING_OPEN = (
    "Thanks for your message. There is no check-in open right now. "
    "Reply HELP for help or IDEA to share an idea."
)
# Noah's answers, messy as people type them, and what each one means.
MESSY = [
    ("pain", "Some pain, easy to ignore", "ignorable"),  # a choice by its label
    ("worst_pain", "about 5", 5),
    ("bleeding", "1", "none"),  # a choice by its number
    ("consistency", "2", "partly_formed"),
    ("stools", "six", 6),
    ("night", "nope", False),
    ("activity", "Not at all", "none"),
]


# -- helpers ----------------------------------------------------------------------------------
def patient(session, mrn):
    return session.scalar(sa.select(Patient).where(Patient.mrn == mrn))


@pytest.fixture
def start(session, demo):
    """Open a check-in now, as the scheduler will, and commit it."""

    def open_(mrn, instrument="ibd-symptoms", **kw):
        if isinstance(instrument, str):
            instrument = get_instrument(instrument)
        checkin = open_checkin(patient(session, mrn), instrument, **kw)
        session.commit()
        return checkin

    return open_


@pytest.fixture
def signed_in(app_tokens):
    """The Authorization header of a demo phone signed in to the app."""

    def sign_in(phone):
        return bearer(app_tokens(phone).access_token)

    return sign_in


def answer(client, headers, checkin_id, item_id, text=None, *, action=None):
    body = {"item_id": item_id}
    if text is not None:
        body["answer"] = text
    if action is not None:
        body["action"] = action
    return client.post(f"/api/v1/checkins/{checkin_id}/answers", json=body, headers=headers)


def answered(client, headers, checkin_id, item_id, text=None, *, action=None):
    response = answer(client, headers, checkin_id, item_id, text, action=action)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def current_item(client, headers, checkin_id):
    response = client.get(f"/api/v1/checkins/{checkin_id}", headers=headers)
    assert response.status_code == 200, response.get_json()
    question = response.get_json()["current_question"]
    return question and question["item_id"]


def answers_of(session, checkin_id):
    session.expire_all()
    rows = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin_id)).all()
    return {a.item_id: (a.status.value, a.value) for a in rows}


def scores_of(session, checkin_id):
    rows = session.scalars(sa.select(CheckInScore).where(CheckInScore.checkin_id == checkin_id))
    return {(s.score_id, s.raw, s.value, s.band_id, s.answered) for s in rows}


def queued(session, checkin_id):
    session.expire_all()
    return session.scalars(
        sa.select(Message.body).where(
            Message.checkin_id == checkin_id, Message.status == MessageStatus.QUEUED
        )
    ).all()


def problem_type(response):
    assert response.mimetype == PROBLEM, response.get_data(as_text=True)
    return response.get_json()["type"].rsplit("/", 1)[-1]


# -- reading ----------------------------------------------------------------------------------
def test_an_open_check_in_shows_its_current_question_ready_to_render(client, start, signed_in):
    checkin = start("E-1002")
    noah = signed_in(NOAH)

    response = client.get(f"/api/v1/patients/{checkin.patient_id}/checkins", headers=noah)
    assert response.status_code == 200
    page = response.get_json()
    assert (page["total"], page["page"], page["pages"]) == (1, 1, 1)
    [item] = page["items"]
    assert item["id"] == checkin.id
    assert item["instrument"] == {"id": "ibd-symptoms", "title": "Weekly IBD symptoms"}
    assert item["status"] == "sent"
    assert item["respondent_role"] == "self"
    assert item["opened_at"] and item["expires_at"] and item["closed_at"] is None
    assert item["current_question"] == {
        "item_id": "pain",
        "type": "choice",
        "text": "In the last 24 hours, how was your belly pain?",
        "options": [
            {"code": "none", "number": 1, "label": "No pain"},
            {"code": "ignorable", "number": 2, "label": "Some pain, easy to ignore"},
            {"code": "not_ignorable", "number": 3, "label": "Pain too bad to ignore"},
        ],
        "min": None,
        "max": None,
        "anchors": [],
        "required": True,
        "position": 1,
        "at_most": 7,
    }
    assert item["scores"] == []

    single = client.get(f"/api/v1/checkins/{checkin.id}", headers=noah).get_json()
    assert single == item

    answered(client, noah, checkin.id, "pain", "3")
    scale = client.get(f"/api/v1/checkins/{checkin.id}", headers=noah).get_json()
    assert scale["status"] == "in_progress"
    question = scale["current_question"]
    assert (question["item_id"], question["type"], question["min"], question["max"]) == (
        "worst_pain",
        "scale",
        0,
        10,
    )
    assert question["anchors"] == [
        {"value": 0, "label": "no pain"},
        {"value": 10, "label": "worst pain ever"},
    ]
    assert question["position"] == 2


def test_a_caregiver_reads_the_proxy_wording(client, start, signed_in):
    checkin = start("E-1001")  # Mia, 6: her mother answers
    got = client.get(f"/api/v1/checkins/{checkin.id}", headers=signed_in(LAURA)).get_json()
    assert got["respondent_role"] == "proxy"
    assert got["current_question"]["text"] == (
        "In the last 24 hours, how was your child's belly pain?"
    )


def test_lists_filter_by_status_and_page(client, start, signed_in, session):
    noah = signed_in(NOAH)
    seed_history(now=utcnow())
    session.commit()
    open_now = start("E-1002")
    noah_id = open_now.patient_id
    url = f"/api/v1/patients/{noah_id}/checkins"

    assert [c["id"] for c in client.get(url, headers=noah).get_json()["items"]] == [open_now.id]
    closed = client.get(url, query_string={"status": "closed", "per_page": 3}, headers=noah)
    body = closed.get_json()
    assert (body["total"], body["per_page"], body["pages"], len(body["items"])) == (
        len(WEEKS),
        3,
        3,
        3,
    )
    assert all(c["status"] == "completed" and c["scores"] for c in body["items"])
    assert all(c["current_question"] is None for c in body["items"])
    everything = client.get(url, query_string={"status": "all", "per_page": 100}, headers=noah)
    assert everything.get_json()["total"] == len(WEEKS) + 1
    last = client.get(url, query_string={"status": "all", "page": 9}, headers=noah).get_json()
    assert last["items"] == [] and last["total"] == len(WEEKS) + 1


@pytest.mark.parametrize(
    "query",
    [{"per_page": 0}, {"per_page": 101}, {"page": 0}, {"page": "two"}, {"status": "pending"}],
)
def test_list_parameters_are_checked(client, signed_in, session, query):
    noah_id = patient(session, "E-1002").id
    for path in (f"/api/v1/patients/{noah_id}/checkins", f"/api/v1/patients/{noah_id}/history"):
        if "status" in query and path.endswith("history"):
            continue
        response = client.get(path, query_string=query, headers=signed_in(NOAH))
        assert response.status_code == 422
        assert problem_type(response) == "invalid-input"
        assert set(response.get_json()["errors"]) == set(query)


def test_a_check_in_past_its_window_is_listed_as_closed(client, start, signed_in):
    checkin = start("E-1002", now=utcnow() - timedelta(hours=25))
    noah = signed_in(NOAH)
    url = f"/api/v1/patients/{checkin.patient_id}/checkins"
    assert client.get(url, headers=noah).get_json()["items"] == []
    [item] = client.get(url, query_string={"status": "closed"}, headers=noah).get_json()["items"]
    assert (item["id"], item["status"], item["current_question"]) == (checkin.id, "missed", None)


# -- answering --------------------------------------------------------------------------------
def test_noah_answers_his_whole_check_in_in_the_app_exactly_as_sms_would(
    client, start, signed_in, sms, session
):
    checkin = start("E-1002")
    assert len(queued(session, checkin.id)) == 2  # the intro and the first question
    noah = signed_in(NOAH)

    for n, (item_id, text, _value) in enumerate(MESSY, 1):
        got = answered(client, noah, checkin.id, item_id, text)
        if n < len(MESSY):
            assert (got["outcome"], got["messages"], got["red_flags"]) == ("recorded", [], [])
            assert got["check_in"]["current_question"]["item_id"] == MESSY[n][0]
            assert got["check_in"]["current_question"]["position"] == n + 1
        if n == 1:
            # The texts still waiting in the outbox are for a question already answered.
            assert queued(session, checkin.id) == []
    assert got["outcome"] == "completed"
    assert got["messages"] == [THANKS, "Your symptoms this week: Mild."]
    done = got["check_in"]
    assert (done["status"], done["current_question"]) == ("completed", None)
    assert done["closed_at"] is not None
    assert done["scores"] == [
        {
            "score_id": "activity_index",
            "label": "Symptom activity (PUCAI points)",
            "value": 20.0,
            "band_id": "mild",
            "band_label": "Mild",
            "answered": 6,
        }
    ]

    # The same replies by SMS to Ava's check-in store the same answers and scores.
    by_sms = start("W-2002")
    for _item_id, text, _value in MESSY:
        sms(text, from_=AVA)
    expected = {item_id: ("answered", value) for item_id, _text, value in MESSY}
    assert answers_of(session, checkin.id) == answers_of(session, by_sms.id) == expected
    assert scores_of(session, checkin.id) == scores_of(session, by_sms.id)
    assert session.get(CheckIn, by_sms.id).status is CheckInStatus.COMPLETED

    rows = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin.id)).all()
    noah_contact = find_contact(NOAH)
    assert {(a.contact_id, a.respondent_role, a.message_id) for a in rows} == {
        (noah_contact.id, RespondentRole.SELF, None)
    }
    assert {a.raw_text for a in rows if a.item_id == "worst_pain"} == {"about 5"}

    # Closed on SMS too: a late text from Noah's phone is told nothing is open.
    assert replies(sms("2", from_=NOAH)) == [NOTHING_OPEN]
    assert answers_of(session, checkin.id) == expected
    again = answer(client, noah, checkin.id, "activity", "1")
    assert again.status_code == 409 and problem_type(again) == "check-in-closed"


def test_a_red_flag_raises_its_alert_and_returns_the_safety_message(
    client, start, signed_in, session
):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    answered(client, noah, checkin.id, "pain", "3")
    got = answered(client, noah, checkin.id, "worst_pain", "9 out of 10")

    safety = (
        "Pain of 8 or more out of 10 is important. Your care team will be told. "
        "If the pain is severe or getting worse, call the clinic or go to the ER now."
    )
    assert got["outcome"] == "recorded"
    assert got["messages"] == [safety]
    assert got["red_flags"] == [{"id": "severe_pain", "severity": "high", "message": safety}]
    assert got["check_in"]["current_question"]["item_id"] == "bleeding"
    session.expire_all()
    alert = session.scalar(sa.select(Alert).where(Alert.checkin_id == checkin.id))
    assert (alert.red_flag_id, alert.severity.value, alert.status.value) == (
        "severe_pain",
        "high",
        "open",
    )
    assert alert.safety_message == safety


def test_an_unreadable_answer_is_asked_again_then_left_unanswered(
    client, start, signed_in, session
):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    first = answered(client, noah, checkin.id, "pain", "purple")
    assert first["outcome"] == "asked_again"
    assert first["messages"] == [
        "Sorry, I didn't get that. Please reply with a number from 1 to 3."
    ]
    assert first["check_in"]["current_question"]["item_id"] == "pain"
    assert first["check_in"]["status"] == "sent"

    second = answered(client, noah, checkin.id, "pain", "banana")
    assert second["outcome"] == "moved_on"
    assert second["messages"] == ["OK, let's leave that one and go on."]
    assert second["check_in"]["current_question"]["item_id"] == "bleeding"
    assert answers_of(session, checkin.id) == {"pain": ("unanswered", None)}

    ambiguous = answered(client, noah, checkin.id, "bleeding", "1")
    assert ambiguous["outcome"] == "recorded"
    got = answered(client, noah, checkin.id, "consistency", "2")
    assert got["check_in"]["current_question"]["item_id"] == "stools"
    reask = answered(client, noah, checkin.id, "stools", "5 or 6")
    assert (reask["outcome"], reask["messages"]) == (
        "asked_again",
        ["Please send just one number, from 0 to 30."],
    )


def test_skip_and_back(client, start, signed_in, session):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    at_start = answered(client, noah, checkin.id, "pain", action="back")
    assert (at_start["outcome"], at_start["messages"]) == ("asked_again", [])
    assert at_start["check_in"]["current_question"]["item_id"] == "pain"

    skipped = answered(client, noah, checkin.id, "pain", action="skip")
    assert skipped["outcome"] == "recorded"
    assert skipped["check_in"]["current_question"]["item_id"] == "bleeding"
    answered(client, noah, checkin.id, "bleeding", "A little, in most")
    assert answers_of(session, checkin.id) == {
        "pain": ("skipped", None),
        "bleeding": ("answered", "little_most"),
    }

    back = answered(client, noah, checkin.id, "consistency", action="back")
    assert back["outcome"] == "recorded"
    assert back["check_in"]["current_question"]["item_id"] == "bleeding"
    assert back["check_in"]["current_question"]["position"] == 2
    assert answers_of(session, checkin.id) == {"pain": ("skipped", None)}
    answered(client, noah, checkin.id, "bleeding", "none")
    assert answers_of(session, checkin.id)["bleeding"] == ("answered", "none")
    assert current_item(client, noah, checkin.id) == "consistency"


def test_yes_no_and_free_text_questions_in_spanish(client, start, signed_in, session):
    checkin = start("E-1003", "previsit")  # Sofia, 17, answers in Spanish
    sofia = signed_in(SOFIA)
    question = client.get(f"/api/v1/checkins/{checkin.id}", headers=sofia).get_json()[
        "current_question"
    ]
    assert (question["item_id"], question["type"], question["options"]) == (
        "changes",
        "yes_no",
        [],
    )
    assert question["text"] == "Desde su ultima cita, ¿hay sintomas nuevos o diferentes?"
    unclear = answered(client, sofia, checkin.id, "changes", "tal vez")
    assert unclear["messages"] == ["Perdon, no entendi. Responda SI o NO."]
    got = answered(client, sofia, checkin.id, "changes", "sí claro")
    question = got["check_in"]["current_question"]
    assert (question["item_id"], question["type"]) == ("what_changed", "text")
    answered(client, sofia, checkin.id, "what_changed", "  más cansada que antes ")
    assert answers_of(session, checkin.id) == {
        "changes": ("answered", True),
        "what_changed": ("answered", "más cansada que antes"),
    }


def test_a_stale_item_is_refused_as_moved_on(client, start, signed_in, sms, session):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    sms("1", from_=NOAH)  # the family answered by text meanwhile

    stale = answer(client, noah, checkin.id, "pain", "3")
    assert stale.status_code == 409
    assert problem_type(stale) == "check-in-moved-on"
    assert "'bleeding'" in stale.get_json()["detail"]
    assert answers_of(session, checkin.id) == {"pain": ("answered", "none")}
    unknown = answer(client, noah, checkin.id, "no-such-item", "3")
    assert problem_type(unknown) == "check-in-moved-on"


def test_answers_to_a_closed_check_in_are_refused(client, start, signed_in, session, sms):
    noah = signed_in(NOAH)
    late = start("E-1002", now=utcnow() - timedelta(hours=25))
    response = answer(client, noah, late.id, "pain", "1")
    assert response.status_code == 409 and problem_type(response) == "check-in-closed"
    session.expire_all()
    assert session.get(CheckIn, late.id).status is CheckInStatus.MISSED  # closed on the way

    cancelled = start("E-1002")
    sms("STOP", from_=NOAH)
    response = answer(client, noah, cancelled.id, "pain", "1")
    assert response.status_code == 409 and problem_type(response) == "check-in-closed"
    assert answers_of(session, cancelled.id) == {}


def test_half_by_sms_then_in_the_app_then_by_sms_again(client, start, signed_in, sms, session):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    sms("2", from_=NOAH)
    sms("about 7/10", from_=NOAH)
    assert current_item(client, noah, checkin.id) == "bleeding"

    answered(client, noah, checkin.id, "bleeding", "No blood!")
    got = answered(client, noah, checkin.id, "consistency", "b")
    assert got["check_in"]["current_question"]["item_id"] == "stools"

    # Back to texting: the next text answers where the app left off.
    assert replies(sms("six", from_=NOAH))[0].startswith("Did you have to get up at night")
    answered(client, noah, checkin.id, "night", "yep")
    assert replies(sms("Not at all", from_=NOAH)) == [THANKS, "Your symptoms this week: Mild."]

    assert answers_of(session, checkin.id) == {
        "pain": ("answered", "ignorable"),
        "worst_pain": ("answered", 7),
        "bleeding": ("answered", "none"),
        "consistency": ("answered", "partly_formed"),
        "stools": ("answered", 6),
        "night": ("answered", True),
        "activity": ("answered", "none"),
    }
    assert scores_of(session, checkin.id) == {("activity_index", 30, 30.0, "mild", 6)}
    texted = session.scalars(
        sa.select(Answer.item_id).where(
            Answer.checkin_id == checkin.id, Answer.message_id.is_not(None)
        )
    ).all()
    assert sorted(texted) == ["activity", "pain", "stools", "worst_pain"]
    closed = answer(client, noah, checkin.id, "activity", "1")
    assert problem_type(closed) == "check-in-closed"


def test_laura_answers_mias_check_in_as_her_proxy(client, start, signed_in, session):
    checkin = start("E-1001")
    laura = signed_in(LAURA)
    got = answered(client, laura, checkin.id, "pain", "1")
    assert got["check_in"]["current_question"]["text"] == (
        "In the last 24 hours, was there blood in your child's poop?"
    )
    [row] = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin.id)).all()
    assert row.contact_id == find_contact(LAURA).id
    assert row.respondent_role is RespondentRole.PROXY


def test_a_parent_may_answer_a_check_in_sent_to_the_teen_as_proxy(
    client, start, signed_in, session
):
    checkin = start("E-1002")  # sent to Noah's own phone
    got = answered(client, signed_in(LAURA), checkin.id, "pain", "1")
    assert got["outcome"] == "recorded"
    [row] = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin.id)).all()
    assert (row.contact_id, row.respondent_role) == (find_contact(LAURA).id, RespondentRole.PROXY)


def variant(instrument_id, mode):
    """ibd-symptoms under another id, answered only in ``mode``."""
    source = get_instrument("ibd-symptoms").source
    source = source.replace("id: ibd-symptoms", f"id: {instrument_id}", 1)
    source = source.replace("mode: either", f"mode: {mode}", 1)
    source = source.replace("  self_from_age: 12\n", "", 1)
    return parse_instrument(source, f"prompts/{instrument_id}.yaml")


def test_who_may_answer_follows_the_instruments_respondent_mode(client, start, signed_in):
    own = start("E-1002", variant("teen-only", "self"))
    refused = answer(client, signed_in(LAURA), own.id, "pain", "1")
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    assert "answered by the patient themselves" in refused.get_json()["detail"]
    assert answered(client, signed_in(NOAH), own.id, "pain", "1")["outcome"] == "recorded"

    parents = start("E-1002", variant("parent-only", "proxy"))
    refused = answer(client, signed_in(NOAH), parents.id, "pain", "1")
    assert refused.status_code == 403 and problem_type(refused) == "forbidden"
    assert "answered by a parent or caregiver" in refused.get_json()["detail"]
    assert answered(client, signed_in(LAURA), parents.id, "pain", "1")["outcome"] == "recorded"


def test_a_waiting_check_in_can_be_begun_in_the_app(client, start, signed_in, sms, session):
    sms("STOP", from_=NOAH)  # Noah's phone opted out: his mother answers for both
    mia = start("E-1001")
    noah = start("E-1002")
    assert noah.state["opening_sent"] is False and queued(session, noah.id) == []
    laura = signed_in(LAURA)
    assert current_item(client, laura, noah.id) == "pain"

    mia_texts = queued(session, mia.id)
    answered(client, laura, noah.id, "pain", "1")
    session.expire_all()
    assert session.get(CheckIn, noah.id).state["opening_sent"] is True
    # Laura's texts go on answering Mia's check-in, which is what her phone was asked.
    assert replies(sms("1", from_=LAURA))[0].startswith("In the last 24 hours, was there blood")
    assert answers_of(session, mia.id) == {"pain": ("answered", "none")}
    assert answers_of(session, noah.id) == {"pain": ("answered", "none")}
    assert session.get(ContactConversation, find_contact(LAURA).id).chosen_checkin_id == mia.id

    for item_id, text in [
        ("bleeding", "1"),
        ("consistency", "1"),
        ("stools", "1"),
        ("night", "no"),
        ("activity", "1"),
    ]:
        got = answered(client, laura, noah.id, item_id, text)
    assert got["outcome"] == "completed"
    assert queued(session, mia.id) == mia_texts  # nothing new: Laura's phone is still on Mia's
    assert replies(sms("1", from_=LAURA))[0].startswith("What were most of your child's poops")


def test_finishing_in_the_app_starts_the_check_in_waiting_on_that_phone(
    client, start, signed_in, sms, session
):
    sms("STOP", from_=NOAH)
    mia = start("E-1001")
    noah = start("E-1002")
    laura = signed_in(LAURA)
    for item_id, text in [
        ("pain", "1"),
        ("bleeding", "1"),
        ("consistency", "1"),
        ("stools", "0"),
        ("night", "no"),
        ("activity", "1"),
    ]:
        got = answered(client, laura, mia.id, item_id, text)
    assert got["outcome"] == "completed"
    assert queued(session, mia.id) == []
    texts = queued(session, noah.id)
    assert texts[0] == "Now a check-in about Noah."
    assert any("your child's belly pain" in text for text in texts)
    assert session.get(CheckIn, noah.id).state["opening_sent"] is True
    # Laura's next text answers Noah's first question.
    sms("2", from_=LAURA)
    assert answers_of(session, noah.id) == {"pain": ("answered", "ignorable")}


# -- who may see what -------------------------------------------------------------------------
def test_strangers_and_other_families_are_not_found(client, start, signed_in, session):
    checkin = start("E-1002")
    noah_id = checkin.patient_id
    paths = [
        ("get", f"/api/v1/patients/{noah_id}/checkins", None),
        ("get", f"/api/v1/patients/{noah_id}/history", None),
        ("get", f"/api/v1/checkins/{checkin.id}", None),
        ("post", f"/api/v1/checkins/{checkin.id}/answers", {"item_id": "pain", "answer": "1"}),
    ]
    for phone in (DANIEL, DAVID, SOFIA, CARMEN):
        headers = signed_in(phone)
        for method, path, body in paths:
            response = getattr(client, method)(path, json=body, headers=headers)
            assert response.status_code == 404, (phone, path)
            assert problem_type(response) == "not-found"
            if "/checkins/" in path:  # not even whose check-in it is
                assert response.get_json()["detail"] == f"No check-in {checkin.id}."
    for method, path, body in paths:
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 401 and problem_type(response) == "unauthorized"
    for huge in (2**31, 2**63 - 1, 2**63):
        missing = client.get(f"/api/v1/checkins/{huge}", headers=signed_in(NOAH))
        assert missing.status_code == 404, huge
    assert answers_of(session, checkin.id) == {}


def test_every_read_and_answer_is_audited(client, start, signed_in, session):
    checkin = start("E-1002")
    noah = signed_in(NOAH)
    client.get(f"/api/v1/patients/{checkin.patient_id}/checkins", headers=noah)
    client.get(f"/api/v1/checkins/{checkin.id}", headers=noah)
    answered(client, noah, checkin.id, "pain", "1")
    client.get(f"/api/v1/patients/{checkin.patient_id}/history", headers=noah)

    session.expire_all()
    events = session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)).all()
    mine = [
        (e.action, e.patient_id, e.contact_id, e.staff_user_id)
        for e in events
        if e.action.startswith("app.")
    ]
    contact_id = find_contact(NOAH).id
    assert mine == [
        (action, checkin.patient_id, contact_id, None)
        for action in (
            "app.view_checkins",
            "app.view_checkin",
            "app.answer_checkin",
            "app.view_history",
        )
    ]


# -- history ----------------------------------------------------------------------------------
def test_history_lists_scores_and_bands_newest_first(client, signed_in, session, start):
    seed_history(now=datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    session.commit()
    start("E-1002")  # open: not in the history
    noah = signed_in(NOAH)
    noah_id = patient(session, "E-1002").id
    url = f"/api/v1/patients/{noah_id}/history"

    body = client.get(url, query_string={"per_page": 100}, headers=noah).get_json()
    assert (body["total"], body["pages"]) == (len(WEEKS), 1)
    entries = body["items"]
    times = [e["completed_at"] for e in entries]
    assert times == sorted(times, reverse=True)
    assert entries[0]["instrument"] == {"id": "ibd-symptoms", "title": "Weekly IBD symptoms"}
    bands = [e["scores"][0]["band_label"] for e in entries]
    # WEEKS is oldest first: a flare that settles.
    assert bands[::-1][:3] == ["Moderate", "Moderate", "Mild"]
    assert bands[0] == "Remission"
    assert {e["scores"][0]["label"] for e in entries} == {"Symptom activity (PUCAI points)"}

    second = client.get(url, query_string={"per_page": 3, "page": 2}, headers=noah).get_json()
    assert [e["checkin_id"] for e in second["items"]] == [e["checkin_id"] for e in entries[3:6]]
    assert second["pages"] == 3
    other = client.get(url, query_string={"instrument": "ibd-wellbeing"}, headers=noah)
    assert other.get_json()["items"] == []
    assert client.get(url, query_string={"instrument": "ibd-symptoms"}, headers=noah).get_json()[
        "total"
    ] == len(WEEKS)


def test_history_speaks_the_readers_language(client, signed_in, session):
    seed_history(now=datetime(2026, 12, 2, 15, 0, tzinfo=UTC))
    session.commit()
    sofia_id = patient(session, "E-1003").id
    for phone in (SOFIA, CARMEN):
        body = client.get(
            f"/api/v1/patients/{sofia_id}/history", headers=signed_in(phone)
        ).get_json()
        assert body["total"] == len(WEEKS)
        entry = body["items"][-1]  # the oldest: a moderate week
        assert entry["instrument"]["title"] == "Síntomas de EII de la semana"
        [score] = entry["scores"]
        assert (score["label"], score["band_id"], score["band_label"]) == (
            "Actividad de sintomas (puntos PUCAI)",
            "moderate",
            "Moderada",
        )
        labels = {e["scores"][0]["band_label"] for e in body["items"]}
        assert labels == {"Moderada", "Leve", "Remision"}


# -- the request body -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "body",
    [
        {"item_id": "pain"},
        {"item_id": "pain", "answer": "1", "action": "skip"},
        {"item_id": "pain", "action": "forward"},
        {"answer": "1"},
        {"item_id": "pain", "answer": "1", "extra": True},
        {"item_id": "pain", "answer": 1},
        {"item_id": "pain", "answer": "x" * 1601},
    ],
)
def test_answer_bodies_are_checked(client, start, signed_in, session, body):
    checkin = start("E-1002")
    response = client.post(
        f"/api/v1/checkins/{checkin.id}/answers", json=body, headers=signed_in(NOAH)
    )
    assert response.status_code == 422
    assert problem_type(response) == "invalid-input"
    assert answers_of(session, checkin.id) == {}


def test_text_the_database_cannot_hold_is_kept_readable(client, start, signed_in, session):
    checkin = start("E-1002")
    got = answered(client, signed_in(NOAH), checkin.id, "pain", "2\x00\ud800")
    assert got["outcome"] == "recorded"
    [row] = session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin.id)).all()
    assert row.raw_text == "2\ufffd\ufffd"


# -- an SMS reply and an app answer at the same moment ----------------------------------------
@pytest.fixture
def live_app(backend, new_database):
    """An app on a database of its own, with committed data: requests on separate connections."""
    app = make_test_app(new_database(backend))
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        checkin = open_checkin(patient(db.session, "E-1002"), get_instrument("ibd-symptoms"))
        token = issue_tokens(find_contact(NOAH)).access_token
        db.session.commit()
        app.config["TEST_CHECKIN_ID"], app.config["TEST_TOKEN"] = checkin.id, token
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.mark.usefixtures("slow_engine")
def test_a_text_and_an_app_answer_at_once_never_both_answer_one_item(live_app):
    checkin_id = live_app.config["TEST_CHECKIN_ID"]
    headers = bearer(live_app.config["TEST_TOKEN"])
    barrier = threading.Barrier(2)
    results = {}

    def by_sms():
        client = live_app.test_client()
        barrier.wait()
        results["sms"] = send_signed_sms(client, live_app, body="1", from_=NOAH, sid="SM-race")

    def in_app():
        client = live_app.test_client()
        barrier.wait()
        results["app"] = answer(client, headers, checkin_id, "pain", "2")

    threads = [threading.Thread(target=by_sms), threading.Thread(target=in_app)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    texts = replies(results["sms"])
    assert all("Sorry" not in text for text in texts), texts
    with live_app.app_context():
        stored = {
            a.item_id: (a.value, a.message_id is None)
            for a in db.session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin_id))
        }
    if results["app"].status_code == 409:  # the text came first: the app's screen was stale
        assert problem_type(results["app"]) == "check-in-moved-on"
        assert stored == {"pain": ("none", False)}
    else:  # the app came first: the text answered the next question
        assert results["app"].status_code == 200
        assert stored == {"pain": ("ignorable", True), "worst_pain": (1, False)}
