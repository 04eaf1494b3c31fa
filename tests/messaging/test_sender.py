"""The sender hands the outbox to Twilio through the real twilio library, and records it all.

Every test drives ``twilio.rest.Client`` itself over a scripted HTTP client, so the
library builds the requests and parses the answers (and errors) as it does in production.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import flask_migrate
import pytest
import requests
import sqlalchemy as sa
from flask import Flask
from twilio.base.exceptions import TwilioRestException, TwilioServiceException

from engage.conversations.services import open_checkin
from engage.db import db
from engage.instruments.services import get_instrument
from engage.messaging.models import Message, MessageStatus, SendWindow
from engage.messaging.sender import (
    RESENT_NOTE,
    SendReport,
    claim_batch,
    retry_delay,
    send_outbox,
)
from engage.messaging.services import queue_outbound
from engage.messaging.transport import HTTP_CLIENT_KEY, classify, redirect_url, send_sms
from engage.network.models import Network
from engage.network.services import add_center
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import (
    ConsentChange,
    ConsentMethod,
    ConsentState,
    Contact,
    Diagnosis,
    Patient,
    Relationship,
)
from engage.people.services import (
    add_caregiver,
    add_contact,
    add_patient,
    link_caregiver,
    record_consent,
)
from tests.conftest import TWILIO_TEST_SETTINGS, make_test_app, postgres_server
from tests.fake_twilio import FakeTwilio
from tests.twilio_helpers import (
    ACCOUNT_SID,
    MESSAGES_URL,
    StubHttpClient,
    accepted,
    twilio_error,
)

NOW = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # noon in New York, 9:00 in Los Angeles


@pytest.fixture
def phone(make_patient: Callable[..., Patient], session: Any) -> Callable[..., Contact]:
    """A patient's phone with SMS consent granted (or as asked)."""
    numbers = iter(range(100, 10_000))

    def make(
        consent: ConsentState = ConsentState.GRANTED, patient: Patient | None = None, **kw: Any
    ) -> Contact:
        contact = add_contact(patient or make_patient(**kw), f"+1617555{next(numbers):04d}")
        record_consent(
            contact,
            consent,
            method=ConsentMethod.IMPORT,
            consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
        )
        session.commit()
        return contact

    return make


@pytest.fixture
def queue(session: Any) -> Callable[..., Message]:
    """Put a message in the outbox for a phone, as a check-in would."""
    bodies = iter(range(1, 10_000))

    def put(contact: Contact, body: str | None = None, **columns: Any) -> Message:
        message = queue_outbound(
            phone=contact.phone,
            body=body or f"Question {next(bodies)}: how many stools today?",
            contact_id=contact.id,
            checkin_id=None,
            purpose="question",
        )
        for name, value in columns.items():
            setattr(message, name, value)
        session.commit()
        return message

    return put


def fresh(session: Any, row: Any) -> Any:
    session.refresh(row)
    return row


# -- the request the library builds ---------------------------------------------------------
def test_a_queued_message_is_handed_to_twilio_and_accepted(app, session, stub, phone, queue):
    contact = phone()
    message = queue(contact, "How many stools today?")

    report = send_outbox(now=NOW)

    assert report == SendReport(sent=1)
    [request] = stub.requests
    assert request.method == "POST"
    assert request.url == MESSAGES_URL
    assert request.auth == (ACCOUNT_SID, TWILIO_TEST_SETTINGS["TWILIO_AUTH_TOKEN"])
    assert request.data == {
        "To": contact.phone,
        "Body": "How many stools today?",
        "MessagingServiceSid": TWILIO_TEST_SETTINGS["TWILIO_MESSAGING_SERVICE_SID"],
        "StatusCallback": "https://engage.test/twilio/status",
    }
    fresh(session, message)
    assert message.status is MessageStatus.ACCEPTED
    assert message.twilio_sid == f"SM{1:032x}"
    assert message.sent_at == NOW
    assert message.status_changed_at == NOW
    assert message.attempts == 1
    assert message.claimed_by and ":" in message.claimed_by


def test_a_from_number_is_used_without_a_messaging_service(app, stub, phone, queue, monkeypatch):
    monkeypatch.setitem(app.config, "TWILIO_MESSAGING_SERVICE_SID", None)
    monkeypatch.setitem(app.config, "TWILIO_FROM_NUMBER", "+16175550199")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", None)
    queue(phone())

    send_outbox(now=NOW)

    [request] = stub.requests
    assert request.data["From"] == "+16175550199"
    assert "MessagingServiceSid" not in request.data
    assert "StatusCallback" not in request.data  # no public address to call back


def test_twilio_s_own_status_is_kept_when_it_says_more_than_queued(session, stub, phone, queue):
    contact = phone()
    message = queue(contact)
    stub.script(contact.phone, accepted("SMsent", status="sent"))

    send_outbox(now=NOW)

    assert fresh(session, message).status is MessageStatus.SENT


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json",
            "http://127.0.0.1:8765/2010-04-01/Accounts/AC1/Messages.json",
        ),
        (
            "https://messaging.twilio.com/v1/Services?PageSize=5",
            "http://127.0.0.1:8765/v1/Services?PageSize=5",
        ),
        ("https://example.org/twilio.com/x", "https://example.org/twilio.com/x"),
        ("https://nottwilio.com/x", "https://nottwilio.com/x"),
    ],
)
def test_twilio_api_url_redirects_only_twilio_hosts(url, expected):
    assert redirect_url(url, "http://127.0.0.1:8765/") == expected


def test_twilio_api_url_sends_over_http_to_a_fake_twilio_on_loopback(
    app, session, phone, queue, monkeypatch
):
    ok, invalid = phone(), phone()
    sent, refused = queue(ok, "Hello"), queue(invalid)
    with FakeTwilio(
        ACCOUNT_SID,
        TWILIO_TEST_SETTINGS["TWILIO_AUTH_TOKEN"],
        faults={invalid.phone: [{"status": 400, "code": 21211}]},
    ) as fake:
        monkeypatch.setitem(app.config, "TWILIO_API_URL", fake.url)
        report = send_outbox(now=NOW)
        received = fake.received()

    assert report == SendReport(sent=1, failed=1)
    [record] = received
    assert record["to"] == ok.phone
    assert record["body"] == "Hello"
    assert record["messaging_service_sid"] == TWILIO_TEST_SETTINGS["TWILIO_MESSAGING_SERVICE_SID"]
    assert record["status_callback"] == "https://engage.test/twilio/status"
    assert fresh(session, sent).twilio_sid == record["sid"]
    assert fresh(session, refused).error_code == "21211"
    assert fresh(session, invalid).unusable_since == NOW


def test_send_sms_returns_twilio_s_sid_and_status(app, stub):
    sid, status = send_sms(app, "+16175550100", "Hello")
    assert (sid, status) == (f"SM{1:032x}", "queued")


@pytest.mark.parametrize(
    ("error", "transient", "code"),
    [
        (TwilioRestException(429, MESSAGES_URL, "Too Many Requests", 20429), True, "20429"),
        (TwilioRestException(502, MESSAGES_URL, "Bad Gateway", None), True, "502"),
        (TwilioRestException(400, MESSAGES_URL, "Invalid To", 21211), False, "21211"),
        (TwilioRestException(401, MESSAGES_URL, "Authenticate", 20003), False, "20003"),
        (
            TwilioServiceException("https://twilio.com/e", "Busy", 503, 20503, "try later"),
            True,
            "20503",
        ),
        (requests.exceptions.ConnectTimeout("connect timed out"), True, None),
        (ValueError("garbled answer"), True, None),
    ],
)
def test_failures_are_told_apart(error, transient, code):
    failure = classify(error)
    assert (failure.transient, failure.code) == (transient, code)


# -- transient failures: back to the queue, with backoff -------------------------------
def test_429_then_500_then_success_retries_with_growing_jittered_backoff(
    session, stub, phone, queue
):
    contact = phone()
    message = queue(contact)
    stub.script(
        contact.phone,
        twilio_error(429, 20429, "Too Many Requests"),
        twilio_error(500, 20500, "Internal Server Error"),
    )

    first = send_outbox(now=NOW)
    fresh(session, message)
    assert first == SendReport(retried=1)
    assert message.status is MessageStatus.QUEUED
    assert message.attempts == 1
    assert message.error_code == "20429"
    assert "Too Many Requests" in message.error_message
    assert NOW + timedelta(seconds=15) <= message.next_attempt_at <= NOW + timedelta(seconds=30)
    assert message.claimed_by is None

    # Not due yet: nothing is sent before its time.
    assert send_outbox(now=NOW + timedelta(seconds=14)) == SendReport()

    second_try = message.next_attempt_at
    assert send_outbox(now=second_try) == SendReport(retried=1)
    fresh(session, message)
    assert message.attempts == 2
    assert message.error_code == "20500"
    assert second_try + timedelta(seconds=30) <= message.next_attempt_at
    assert message.next_attempt_at <= second_try + timedelta(seconds=60)

    assert send_outbox(now=message.next_attempt_at) == SendReport(sent=1)
    fresh(session, message)
    assert message.status is MessageStatus.ACCEPTED
    assert message.attempts == 3
    assert len(stub.requests) == 3


def test_after_a_transient_failure_the_phone_s_next_message_waits_its_turn(
    session, stub, phone, queue
):
    contact, other = phone(), phone()
    intro, question = queue(contact, "Time for your check-in."), queue(contact, "Question 1")
    unrelated = queue(other)
    stub.script(contact.phone, twilio_error(429, 20429, "Too Many Requests"))

    assert send_outbox(now=NOW) == SendReport(sent=1, retried=1, deferred=1)

    fresh(session, intro), fresh(session, question)
    assert question.status is MessageStatus.QUEUED
    assert question.attempts == 0  # never attempted
    assert question.next_attempt_at == intro.next_attempt_at
    assert fresh(session, unrelated).status is MessageStatus.ACCEPTED

    assert send_outbox(now=intro.next_attempt_at) == SendReport(sent=2)
    bodies = [
        request.data["Body"] for request in stub.requests if request.data["To"] == contact.phone
    ]
    assert bodies == ["Time for your check-in.", "Time for your check-in.", "Question 1"]
    assert fresh(session, question).attempts == 1


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (requests.exceptions.ReadTimeout("read timed out"), "timed out"),
        (requests.exceptions.ConnectionError("connection refused"), "connection error"),
    ],
)
def test_a_timeout_or_connection_error_is_retried(session, stub, phone, queue, error, text):
    contact = phone()
    message = queue(contact)
    stub.script(contact.phone, error)

    assert send_outbox(now=NOW) == SendReport(retried=1)

    fresh(session, message)
    assert message.status is MessageStatus.QUEUED
    assert text in message.error_message
    assert message.error_code is None
    assert message.next_attempt_at > NOW


def test_backoff_doubles_up_to_an_hour():
    for attempts, ceiling in [(1, 30), (2, 60), (3, 120), (7, 1920), (8, 3600), (30, 3600)]:
        delay = retry_delay(attempts).total_seconds()
        assert ceiling / 2 <= delay <= ceiling


def test_after_the_last_attempt_the_message_fails(app, session, stub, phone, queue, monkeypatch):
    monkeypatch.setitem(app.config, "SEND_MAX_ATTEMPTS", 2)
    contact = phone()
    message = queue(contact)
    stub.script(contact.phone, twilio_error(503, 20503), twilio_error(503, 20503))

    assert send_outbox(now=NOW) == SendReport(retried=1)
    assert send_outbox(now=fresh(session, message).next_attempt_at) == SendReport(failed=1)

    fresh(session, message)
    assert message.status is MessageStatus.FAILED
    assert message.attempts == 2
    assert message.error_code == "20503"
    assert message.error_message.startswith("gave up after 2 attempts")
    assert send_outbox(now=NOW + timedelta(days=1)) == SendReport()
    assert len(stub.requests) == 2


# -- permanent failures: what Twilio says about the phone ---------------------------------
def test_21610_withdraws_consent_at_the_carrier_and_cancels_the_rest(session, stub, phone, queue):
    contact = phone()
    first = queue(contact)
    same_batch = queue(contact)
    later = queue(contact, next_attempt_at=NOW + timedelta(hours=2))
    stub.script(
        contact.phone, twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
    )

    report = send_outbox(now=NOW)

    assert report == SendReport(failed=1, cancelled=2)
    assert len(stub.requests) == 1
    fresh(session, first)
    assert first.status is MessageStatus.FAILED
    assert first.error_code == "21610"
    assert "unsubscribed recipient" in first.error_message
    for message in (same_batch, later):
        fresh(session, message)
        assert message.status is MessageStatus.CANCELLED
        assert "21610" in message.error_message
    fresh(session, contact)
    assert contact.sms_consent is ConsentState.WITHDRAWN
    change = session.scalars(
        sa.select(ConsentChange)
        .where(ConsentChange.contact_id == contact.id)
        .order_by(ConsentChange.id.desc())
    ).first()
    assert change.method is ConsentMethod.CARRIER
    assert change.state is ConsentState.WITHDRAWN
    assert change.consent_text_version == CURRENT_CONSENT_TEXT_VERSION
    assert "21610" in change.note


@pytest.mark.parametrize("code", [21211, 21614, 30006])
def test_an_unusable_number_is_never_texted_again(session, stub, phone, queue, code):
    contact = phone()
    first = queue(contact)
    waiting = queue(contact, next_attempt_at=NOW + timedelta(hours=1))
    stub.script(contact.phone, twilio_error(400, code, "The number cannot receive SMS"))

    assert send_outbox(now=NOW) == SendReport(failed=1, cancelled=1)

    fresh(session, contact)
    assert contact.unusable_since == NOW
    assert contact.unusable_reason.startswith(f"{code}: ")
    assert fresh(session, first).status is MessageStatus.FAILED
    assert fresh(session, waiting).status is MessageStatus.CANCELLED

    newer = queue(contact)
    assert send_outbox(now=NOW + timedelta(days=1)) == SendReport(cancelled=1)
    assert fresh(session, newer).status is MessageStatus.CANCELLED
    assert "unusable" in newer.error_message
    assert len(stub.requests) == 1


@pytest.mark.parametrize("code", [30003, 30005])
def test_an_unreachable_handset_is_counted_and_tried_again_later(session, stub, phone, queue, code):
    contact = phone()
    first = queue(contact)
    second = queue(contact)
    stub.script(contact.phone, twilio_error(400, code, "Unreachable destination handset"))

    assert send_outbox(now=NOW) == SendReport(sent=1, failed=1)

    assert fresh(session, first).status is MessageStatus.FAILED
    assert fresh(session, second).status is MessageStatus.ACCEPTED
    fresh(session, contact)
    assert contact.unreachable_failures == 1
    assert contact.unusable_since is None


def test_another_client_error_fails_the_message_only(session, stub, phone, queue):
    contact = phone()
    message = queue(contact)
    stub.script(
        contact.phone, twilio_error(400, 21617, "The concatenated message body is too long")
    )

    assert send_outbox(now=NOW) == SendReport(failed=1)

    fresh(session, message)
    assert message.status is MessageStatus.FAILED
    assert message.error_code == "21617"
    assert fresh(session, contact).sms_consent is ConsentState.GRANTED


# -- phones that must not get texts -------------------------------------------------------
def test_opted_out_paused_and_unusable_phones_are_never_texted(session, stub, phone, queue):
    opted_out = queue(phone(ConsentState.WITHDRAWN))
    paused_contact = phone()
    paused_contact.paused_until = NOW + timedelta(days=3)
    unusable_contact = phone()
    unusable_contact.unusable_since = NOW - timedelta(days=1)
    unusable_contact.unusable_reason = "21614: not a mobile number"
    pause_over = phone()
    pause_over.paused_until = NOW - timedelta(minutes=1)
    session.commit()
    paused = queue(paused_contact)
    unusable = queue(unusable_contact)
    allowed = queue(pause_over)

    assert send_outbox(now=NOW) == SendReport(sent=1, cancelled=3)

    assert stub.sent_to() == [pause_over.phone]
    reasons = {
        message.id: fresh(session, message).error_message
        for message in (opted_out, paused, unusable)
    }
    assert all(
        fresh(session, m).status is MessageStatus.CANCELLED for m in (opted_out, paused, unusable)
    )
    assert "consent withdrawn" in reasons[opted_out.id]
    assert "paused until" in reasons[paused.id]
    assert "unusable (21614: not a mobile number)" in reasons[unusable.id]
    assert fresh(session, allowed).status is MessageStatus.ACCEPTED


def test_quiet_hours_defer_to_the_local_morning(session, stub, phone, queue, make_center):
    new_york = phone()  # center in America/New_York, quiet 21:00-08:00
    los_angeles = phone(center=make_center(time_zone="America/Los_Angeles"))
    own_zone = phone(time_zone="America/Los_Angeles")  # patient's zone, not the center's
    night_in_new_york = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)  # 21:30 EST, 18:30 PST
    messages = [queue(new_york), queue(los_angeles), queue(own_zone)]

    assert send_outbox(now=night_in_new_york) == SendReport(sent=2, deferred=1)

    deferred = fresh(session, messages[0])
    assert deferred.status is MessageStatus.QUEUED
    assert deferred.attempts == 0
    assert deferred.next_attempt_at == datetime(2026, 12, 2, 13, 0, tzinfo=UTC)  # 08:00 EST
    assert stub.sent_to() == [los_angeles.phone, own_zone.phone]

    assert send_outbox(now=datetime(2026, 12, 2, 12, 59, tzinfo=UTC)) == SendReport()
    assert send_outbox(now=deferred.next_attempt_at) == SendReport(sent=1)


def test_a_caregiver_s_quiet_hours_follow_the_child_the_message_is_about(
    session, stub, make_center, make_patient, queue
):
    east = make_center(time_zone="America/New_York")
    west = make_center(time_zone="America/Los_Angeles")
    older = make_patient(center=east, date_of_birth=date(2019, 1, 5))
    younger = make_patient(center=west, date_of_birth=date(2021, 3, 9))
    parent = add_caregiver(given_name="Laura", family_name="Parent")
    for child in (older, younger):
        link_caregiver(parent, child, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    contact = add_contact(parent, "+16175550171")
    record_consent(
        contact,
        ConsentState.GRANTED,
        method=ConsentMethod.IMPORT,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
    )
    morning = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)  # 09:00 in New York, 06:00 in LA
    checkin = open_checkin(younger, get_instrument("ibd-symptoms"), now=morning)
    session.commit()
    about_younger = session.scalars(
        sa.select(Message).where(Message.checkin_id == checkin.id)
    ).all()
    general = queue(contact, "Your idea was reviewed by the network.")

    report = send_outbox(now=morning)

    # Without a check-in, the caregiver's first linked child (New York) decides.
    assert report.sent == 1
    assert stub.sent_to() == [contact.phone]
    assert fresh(session, general).status is MessageStatus.ACCEPTED
    assert about_younger
    for message in about_younger:
        fresh(session, message)
        assert message.status is MessageStatus.QUEUED
        assert message.next_attempt_at == datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 08:00 PST


# -- no Twilio, rate cap, stopped senders ------------------------------------------------
def test_without_twilio_nothing_leaves_the_outbox(
    app, session, stub, phone, queue, monkeypatch, caplog
):
    monkeypatch.setitem(app.config, "SMS_TRANSPORT", "outbox")
    monkeypatch.delitem(app.extensions, "engage.outbox_sender_notice", raising=False)
    message = queue(phone())

    with caplog.at_level(logging.INFO, logger="engage.messaging"):
        assert send_outbox(now=NOW) == SendReport()
        assert send_outbox(now=NOW) == SendReport()

    assert stub.requests == []
    assert fresh(session, message).status is MessageStatus.QUEUED
    assert caplog.text.count("local outbox") == 1


def test_the_rate_cap_limits_each_second(app, session, stub, phone, queue, monkeypatch):
    monkeypatch.setitem(app.config, "SEND_RATE_PER_SECOND", 3)
    contact = phone()
    for _ in range(10):
        queue(contact)

    assert send_outbox(now=NOW) == SendReport(sent=3)
    assert send_outbox(now=NOW + timedelta(milliseconds=500)) == SendReport()  # same second
    assert send_outbox(now=NOW + timedelta(seconds=1)) == SendReport(sent=3)

    assert len(stub.requests) == 6
    used = session.scalar(
        sa.select(SendWindow.used).where(SendWindow.second == int(NOW.timestamp()))
    )
    assert used == 3  # what was handed over, not what was asked for
    queued = session.scalar(
        sa.select(sa.func.count())
        .select_from(Message)
        .where(Message.status == MessageStatus.QUEUED)
    )
    assert queued == 4


def test_old_rate_windows_are_deleted(session, stub):
    session.add(SendWindow(second=int(NOW.timestamp()) - 3600, used=10))
    session.add(SendWindow(second=int(NOW.timestamp()) - 5, used=10))
    session.commit()

    send_outbox(now=NOW)

    seconds = session.scalars(sa.select(SendWindow.second)).all()
    assert seconds == [int(NOW.timestamp()) - 5]


def test_a_message_left_submitting_by_a_stopped_sender_is_sent_again_once(
    session, stub, phone, queue, caplog
):
    contact = phone()
    stale = queue(
        contact,
        status=MessageStatus.SUBMITTING,
        attempts=1,
        claimed_at=NOW - timedelta(seconds=121),
        claimed_by="gone-host:4242",
    )
    in_flight = queue(
        contact,
        status=MessageStatus.SUBMITTING,
        attempts=1,
        claimed_at=NOW - timedelta(seconds=30),
        claimed_by="busy-host:7",
    )

    with caplog.at_level(logging.WARNING, logger="engage.messaging"):
        report = send_outbox(now=NOW)

    assert report == SendReport(sent=1, reclaimed=1)
    assert stub.sent_to() == [contact.phone]
    fresh(session, stale)
    assert stale.status is MessageStatus.ACCEPTED
    assert stale.attempts == 2
    assert stale.error_message == RESENT_NOTE
    assert f"message {stale.id} was left submitting by gone-host:4242" in caplog.text
    # Its sender may still be waiting for Twilio: a message within its lease is left alone.
    fresh(session, in_flight)
    assert in_flight.status is MessageStatus.SUBMITTING
    assert in_flight.claimed_by == "busy-host:7"

    assert send_outbox(now=NOW + timedelta(seconds=1)) == SendReport()
    assert len(stub.requests) == 1


def test_max_batches_bounds_one_run(app, stub, phone, queue, monkeypatch):
    contact = phone()
    for _ in range(5):
        queue(contact)

    assert send_outbox(now=NOW, batch_size=2, max_batches=1) == SendReport(sent=2)
    assert send_outbox(now=NOW, batch_size=2) == SendReport(sent=3)


# -- several senders on PostgreSQL --------------------------------------------------------
@pytest.fixture(scope="module")
def pg_app(new_database: Callable[[str], str]) -> Iterator[Flask]:
    """An app on its own PostgreSQL database, whose commits other connections can see."""
    if postgres_server()[0] is None:
        pytest.skip(postgres_server()[1])
    app = make_test_app(new_database("postgresql"), SEND_RATE_PER_SECOND=10_000)
    with app.app_context():
        flask_migrate.upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


PG_NUMBERS = itertools.count(1)  # the database outlives one test: numbers never repeat


@pytest.fixture
def pg_outbox(pg_app: Flask) -> Iterator[Callable[[int], list[int]]]:
    """Commit ``count`` queued messages for a new patient's phone; empty the outbox after."""

    def fill(count: int) -> list[int]:
        n = next(PG_NUMBERS)
        with pg_app.app_context():
            network = db.session.scalar(sa.select(Network).where(Network.slug == "pg"))
            if network is None:
                network = Network(slug="pg", name="PG")
            center = add_center(network, code=f"PG{n}", name="PG", time_zone="America/New_York")
            patient = add_patient(
                center,
                mrn=f"PG-{n}",
                given_name="Pat",
                family_name="Ient",
                date_of_birth=date(2012, 1, 1),
                diagnosis=Diagnosis.CROHNS_DISEASE,
            )
            contact = add_contact(patient, f"+1617555{n:04d}")
            messages = [
                queue_outbound(
                    phone=contact.phone,
                    body=f"message {n}-{i}",
                    contact_id=contact.id,
                    checkin_id=None,
                    purpose="question",
                )
                for i in range(count)
            ]
            db.session.commit()
            return [message.id for message in messages]

    yield fill
    with pg_app.app_context():
        db.session.execute(sa.delete(Message))
        db.session.execute(sa.delete(SendWindow))
        db.session.commit()


def test_two_open_claims_on_postgresql_never_take_the_same_message(pg_app, pg_outbox):
    ids = pg_outbox(10)
    # Two app contexts: two sessions on two connections, both transactions open at once.
    with pg_app.app_context():
        first = claim_batch(NOW, 4, 100, "sender-a")
        with pg_app.app_context():
            # Another second's rate window, so it does not wait for the first's window row.
            second = claim_batch(NOW + timedelta(seconds=1), 4, 100, "sender-b")
            db.session.commit()
        db.session.commit()

    first_ids = [m.id for m in first.claimed]
    second_ids = [m.id for m in second.claimed]
    assert first_ids == ids[:4]
    assert second_ids == ids[4:8]  # the first's locked rows were skipped, not waited for
    with pg_app.app_context():
        holders = dict(db.session.execute(sa.select(Message.id, Message.claimed_by)).all())
    assert {holders[i] for i in first_ids} == {"sender-a"}
    assert {holders[i] for i in second_ids} == {"sender-b"}


def test_concurrent_senders_on_postgresql_send_each_message_once(pg_app, pg_outbox):
    ids = pg_outbox(40)
    stub = StubHttpClient()
    pg_app.extensions[HTTP_CLIENT_KEY] = stub
    start = threading.Barrier(3)
    reports: list[SendReport] = []
    errors: list[BaseException] = []

    def sender() -> None:
        try:
            with pg_app.app_context():
                start.wait()
                reports.append(send_outbox(now=NOW, batch_size=3))
        except BaseException as error:  # reported by the test below
            errors.append(error)

    threads = [threading.Thread(target=sender) for _ in range(3)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        pg_app.extensions.pop(HTTP_CLIENT_KEY, None)

    assert errors == []
    bodies = [request.data["Body"] for request in stub.requests]
    assert len(bodies) == len(set(bodies)) == 40
    assert sum(report.sent for report in reports) == 40
    with pg_app.app_context():
        statuses = db.session.scalars(sa.select(Message.status).where(Message.id.in_(ids))).all()
    assert set(statuses) == {MessageStatus.ACCEPTED}


def test_phones_are_served_side_by_side_and_each_phone_in_order(session, stub, phone, queue, app):
    """With SEND_CONCURRENCY, HTTP calls overlap across phones; one phone's stay in order."""
    in_flight, most = 0, 0
    lock = threading.Lock()
    answer = stub.request

    def slow_request(*args: Any, **kwargs: Any) -> Any:
        nonlocal in_flight, most
        with lock:
            in_flight += 1
            most = max(most, in_flight)
        time.sleep(0.02)  # Twilio's round trip
        try:
            return answer(*args, **kwargs)
        finally:
            with lock:
                in_flight -= 1

    stub.request = slow_request  # type: ignore[method-assign]
    contacts = [phone() for _ in range(6)]
    order = {c.phone: [queue(c, body=f"{c.phone} intro").body, queue(c, body=f"{c.phone} q1").body]
             for c in contacts}  # fmt: skip
    app.config.update(SEND_CONCURRENCY=4, SEND_RATE_PER_SECOND=100)
    try:
        assert send_outbox(now=NOW) == SendReport(sent=12)
    finally:
        app.config.update(SEND_CONCURRENCY=8, SEND_RATE_PER_SECOND=10)
    assert most > 1
    for number, bodies in order.items():
        assert [r.data["Body"] for r in stub.requests if r.data["To"] == number] == bodies
