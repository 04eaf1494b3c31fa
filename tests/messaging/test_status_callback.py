"""``POST /twilio/status``: delivery statuses, signed by Twilio, only ever moving forward."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engage.messaging.models import Direction, Message, MessageStatus, MessageStatusEvent
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentChange, ConsentMethod, ConsentState, Contact, Patient
from engage.people.services import add_contact, record_consent
from tests.twilio_helpers import send_signed_status, signed_headers, status_params


@pytest.fixture
def contact(make_patient: Callable[..., Patient], session: Any) -> Contact:
    phone = add_contact(make_patient(), "+16175550102")
    record_consent(
        phone,
        ConsentState.GRANTED,
        method=ConsentMethod.IMPORT,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
    )
    session.commit()
    return phone


@pytest.fixture
def outbound(session: Any, contact: Contact) -> Callable[..., Message]:
    """A message the sender handed to Twilio (or one still in the outbox)."""
    sids = iter(range(1, 10_000))

    def make(status: MessageStatus = MessageStatus.ACCEPTED, sid: str | None = "auto") -> Message:
        message = Message(
            direction=Direction.OUTBOUND,
            status=status,
            phone=contact.phone,
            body="How many stools today?",
            contact_id=contact.id,
            twilio_sid=f"SM{next(sids):032d}" if sid == "auto" else sid,
            attempts=1,
        )
        session.add(message)
        session.commit()
        return message

    return make


@pytest.fixture
def report(client, app) -> Callable[..., Any]:
    def post(message: Message, status: str, error_code: str | None = None) -> Any:
        return send_signed_status(client, app, message.twilio_sid, status, error_code)

    return post


def events_of(session: Any, message: Message) -> list[tuple[str, str | None]]:
    return [
        (event.status, event.error_code)
        for event in session.scalars(
            sa.select(MessageStatusEvent)
            .where(MessageStatusEvent.message_id == message.id)
            .order_by(MessageStatusEvent.id)
        )
    ]


def fresh(session: Any, row: Any) -> Any:
    session.refresh(row)
    return row


def count_events(session: Any) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(MessageStatusEvent))


# -- signatures and shape ---------------------------------------------------------------
def test_a_signed_callback_is_stored_and_moves_the_status(session, outbound, report):
    message = outbound()

    response = report(message, "delivered")

    assert response.status_code == 204
    fresh(session, message)
    assert message.status is MessageStatus.DELIVERED
    assert message.status_changed_at is not None
    assert events_of(session, message) == [("delivered", None)]


def test_an_unsigned_callback_is_refused_and_nothing_stored(client, session, outbound):
    message = outbound()
    response = client.post("/twilio/status", data=status_params(message.twilio_sid, "delivered"))
    assert response.status_code == 403
    assert count_events(session) == 0
    assert fresh(session, message).status is MessageStatus.ACCEPTED


def test_a_tampered_callback_is_refused(client, app, session, outbound):
    message = outbound()
    params = status_params(message.twilio_sid, "undelivered", "30003")
    headers = signed_headers(app, "/twilio/status", params)
    params["ErrorCode"] = "21610"  # changed after signing
    assert client.post("/twilio/status", data=params, headers=headers).status_code == 403
    assert count_events(session) == 0


@pytest.mark.parametrize(
    ("drop", "problem"),
    [
        ("MessageSid", "MessageSid: Missing data for required field."),
        ("MessageStatus", "MessageStatus: Missing data for required field."),
    ],
)
def test_a_signed_callback_without_a_required_field_is_a_clear_400(
    client, app, session, outbound, drop, problem
):
    params = status_params(outbound().twilio_sid, "sent")
    del params[drop]
    response = client.post(
        "/twilio/status", data=params, headers=signed_headers(app, "/twilio/status", params)
    )
    assert response.status_code == 400
    assert problem in response.get_data(as_text=True)
    assert count_events(session) == 0


def test_a_status_for_an_unknown_sid_waits_and_is_applied_when_the_sender_records_it(
    client, app, session, outbound, caplog
):
    """Twilio can call back before the sender has stored the SID of its answer."""
    from engage.messaging.models import EarlyStatusCallback
    from engage.messaging.sender import settle_early_statuses

    message = outbound(status=MessageStatus.SUBMITTING, sid=None)
    with caplog.at_level(logging.INFO, logger="engage.messaging"):
        response = send_signed_status(client, app, "SM" + "e" * 32, "undelivered", "30003")
    assert response.status_code == 200
    assert "kept until the message is known" in caplog.text
    assert count_events(session) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(EarlyStatusCallback)) == 1

    # The sender stores the SID, then settles what waited for it (as send_outbox does).
    message.twilio_sid, message.status = "SM" + "e" * 32, MessageStatus.ACCEPTED
    session.commit()
    settled = settle_early_statuses(sa.select(Message.twilio_sid).where(Message.id == message.id))
    session.commit()
    session.refresh(message)
    assert settled == 1
    assert (message.status, message.error_code) == (MessageStatus.UNDELIVERED, "30003")
    assert count_events(session) == 1
    assert session.scalar(sa.select(sa.func.count()).select_from(EarlyStatusCallback)) == 0


def test_a_status_that_raced_the_sender_is_applied_by_the_callback_itself(
    client, app, session, outbound, monkeypatch
):
    """The sender committed the SID between the callback's look-up and its early row."""
    import engage.messaging.views as views

    message = outbound(status=MessageStatus.SUBMITTING, sid=None)
    real_keep = views.keep_early_status

    def keep_then_sender_commits(sid, status, code, now=None):
        real_keep(sid, status, code, now)
        message.twilio_sid, message.status = sid, MessageStatus.ACCEPTED

    monkeypatch.setattr(views, "keep_early_status", keep_then_sender_commits)
    response = send_signed_status(client, app, "SM" + "f" * 32, "delivered")
    assert response.status_code == 200
    session.refresh(message)
    assert message.status == MessageStatus.DELIVERED
    assert count_events(session) == 1


def test_a_status_for_a_sid_that_never_appears_is_acknowledged_and_kept_aside(client, app, session):
    from engage.messaging.models import EarlyStatusCallback

    response = send_signed_status(client, app, "SMnot-ours", "delivered")
    assert response.status_code == 200
    assert count_events(session) == 0
    kept = session.scalars(sa.select(EarlyStatusCallback)).one()
    assert (kept.twilio_sid, kept.status) == ("SMnot-ours", "delivered")


# -- statuses -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ("queued", MessageStatus.ACCEPTED),
        ("accepted", MessageStatus.ACCEPTED),
        ("scheduled", MessageStatus.ACCEPTED),
        ("sending", MessageStatus.SENDING),
        ("sent", MessageStatus.SENT),
        ("delivered", MessageStatus.DELIVERED),
        ("undelivered", MessageStatus.UNDELIVERED),
        ("failed", MessageStatus.FAILED),
        ("read", MessageStatus.READ),
        ("canceled", MessageStatus.CANCELLED),
    ],
)
def test_every_twilio_status_maps_to_ours(session, outbound, report, reported, expected):
    message = outbound(MessageStatus.ACCEPTED)
    assert report(message, reported).status_code == 204
    assert fresh(session, message).status is expected
    assert events_of(session, message) == [(reported, None)]


def test_an_unknown_status_is_kept_as_an_event_only(session, outbound, report):
    message = outbound(MessageStatus.SENT)
    assert report(message, "partially_delivered").status_code == 204
    assert fresh(session, message).status is MessageStatus.SENT
    assert events_of(session, message) == [("partially_delivered", None)]


def test_a_late_callback_never_moves_a_message_back(session, outbound, report):
    message = outbound()
    for status in ("delivered", "sent", "sending", "queued"):
        assert report(message, status).status_code == 204
    assert fresh(session, message).status is MessageStatus.DELIVERED
    assert [status for status, _ in events_of(session, message)] == [
        "delivered",
        "sent",
        "sending",
        "queued",
    ]


def test_a_replayed_callback_is_harmless(session, contact, outbound, report):
    message = outbound()
    for _ in range(3):
        assert report(message, "undelivered", "30003").status_code == 204
    assert events_of(session, message) == [("undelivered", "30003")]
    assert fresh(session, contact).unreachable_failures == 1


# -- error codes ----------------------------------------------------------------------------
def test_21610_in_a_callback_withdraws_consent_and_cancels_the_outbox(
    session, contact, outbound, report
):
    message = outbound()
    waiting = outbound(MessageStatus.QUEUED, sid=None)

    assert report(message, "failed", "21610").status_code == 204

    fresh(session, message)
    assert message.status is MessageStatus.FAILED
    assert message.error_code == "21610"
    assert fresh(session, contact).sms_consent is ConsentState.WITHDRAWN
    methods = session.scalars(
        sa.select(ConsentChange.method).where(ConsentChange.contact_id == contact.id)
    ).all()
    assert methods[-1] is ConsentMethod.CARRIER
    fresh(session, waiting)
    assert waiting.status is MessageStatus.CANCELLED
    assert "21610" in waiting.error_message


@pytest.mark.parametrize("code", ["21211", "21614", "30006"])
def test_an_unusable_number_in_a_callback_marks_the_phone(session, contact, outbound, report, code):
    message = outbound()
    waiting = outbound(MessageStatus.QUEUED, sid=None)

    assert report(message, "undelivered", code).status_code == 204

    fresh(session, contact)
    assert contact.unusable_since is not None
    assert contact.unusable_reason.startswith(f"{code}: ")
    assert fresh(session, message).error_code == code
    assert fresh(session, waiting).status is MessageStatus.CANCELLED


@pytest.mark.parametrize("code", ["30003", "30005"])
def test_unreachable_failures_are_counted_and_a_delivery_resets_them(
    session, contact, outbound, report, code
):
    first, second, third = outbound(), outbound(), outbound()
    assert report(first, "undelivered", code).status_code == 204
    assert report(second, "failed", code).status_code == 204
    # The same message failing twice over (undelivered, then failed) counts once.
    assert report(second, "undelivered", code).status_code == 204
    assert fresh(session, contact).unreachable_failures == 2
    assert contact.unusable_since is None

    assert report(third, "delivered").status_code == 204
    assert fresh(session, contact).unreachable_failures == 0
