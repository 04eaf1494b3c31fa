"""Two texts from one phone at the same moment are handled one after the other.

These tests use a database of their own with committed data, and real
concurrent requests on separate connections: the row lock on the phone's
contact (PostgreSQL) or SQLite's single writer must serialise them.
"""

from __future__ import annotations

import threading

import flask_migrate
import pytest
import sqlalchemy as sa

from engage.conversations.models import Answer
from engage.conversations.services import open_checkin
from engage.db import db
from engage.demo.seed import seed_demo
from engage.instruments.services import get_instrument
from engage.messaging.models import Message
from engage.people.models import Patient
from tests.conftest import make_test_app
from tests.conversations.conftest import NOAH
from tests.twilio_helpers import replies, send_signed_sms


@pytest.fixture
def live_app(backend, new_database):
    app = make_test_app(new_database(backend))
    with app.app_context():
        flask_migrate.upgrade()
        seed_demo()
        noah = db.session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
        checkin = open_checkin(noah, get_instrument("ibd-symptoms"))
        db.session.commit()
        app.config["TEST_CHECKIN_ID"] = checkin.id
    yield app
    with app.app_context():
        db.engine.dispose()


def at_once(app, messages):
    barrier = threading.Barrier(len(messages))
    results = [None] * len(messages)

    def send(index, body, sid):
        client = app.test_client()
        barrier.wait()
        results[index] = send_signed_sms(client, app, body=body, from_=NOAH, sid=sid)

    threads = [
        threading.Thread(target=send, args=(i, body, sid)) for i, (body, sid) in enumerate(messages)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_answers_at_once_advance_the_conversation_twice_not_once(live_app, slow_engine):
    first, second = at_once(live_app, [("1", "SM-race-a"), ("2", "SM-race-b")])
    texts = replies(first) + replies(second)
    assert all("Sorry" not in text for text in texts), texts
    with live_app.app_context():
        checkin_id = live_app.config["TEST_CHECKIN_ID"]
        answers = db.session.scalars(sa.select(Answer).where(Answer.checkin_id == checkin_id)).all()
        # Whichever came first answered the pain question; the other answered the next one.
        assert len(answers) == 2, [(a.item_id, a.value) for a in answers]
        assert "pain" in {a.item_id for a in answers}


def test_the_same_message_sid_at_once_is_stored_once(live_app, slow_engine):
    first, second = at_once(live_app, [("1", "SM-twice"), ("1", "SM-twice")])
    assert replies(first) == replies(second)
    with live_app.app_context():
        stored = db.session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.twilio_sid == "SM-twice")
        )
        answers = db.session.scalar(sa.select(sa.func.count()).select_from(Answer))
    assert (stored, answers) == (1, 1)
