"""``flask engage outbox`` and the delivery history the review pages read."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engage.messaging.cli import UNREACHABLE_PROBLEM_THRESHOLD, outbox_command
from engage.messaging.history import delivery_history
from engage.messaging.models import Direction, Message, MessageStatus, MessageStatusEvent
from engage.people.models import Patient, Relationship
from engage.people.services import add_caregiver, add_contact, link_caregiver

T0 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)


@pytest.fixture
def family(make_center, make_patient, session) -> dict[str, Any]:
    center = make_center(code="EAST")
    mia = make_patient(center=center, mrn="E-1", given_name="Mia", date_of_birth=date(2020, 3, 14))
    noah = make_patient(center=center, mrn="E-2", given_name="Noah")
    parent = add_caregiver(given_name="Laura", family_name="Parent")
    link_caregiver(parent, mia, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    session.commit()
    return {
        "mia": mia,
        "noah": noah,
        "mia_phone": add_contact(mia, "+16175550111"),
        "noah_phone": add_contact(noah, "+16175550122"),
        "parent_phone": add_contact(parent, "+16175550133"),
    }


@pytest.fixture
def message(session) -> Callable[..., Message]:
    minutes = iter(range(0, 10_000))

    def make(contact, status: MessageStatus, body: str = "How are you today?", **kw) -> Message:
        row = Message(
            direction=Direction.OUTBOUND,
            status=status,
            phone=contact.phone,
            body=body,
            contact_id=contact.id,
            purpose=kw.pop("purpose", "question"),
            created_at=T0 + timedelta(minutes=next(minutes)),
            **kw,
        )
        session.add(row)
        session.commit()
        return row

    return make


def outbox(runner, *args: str) -> str:
    result = runner.invoke(outbox_command, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_lists_queued_failed_and_undelivered_by_default(runner, family, message):
    queued = message(
        family["mia_phone"],
        MessageStatus.QUEUED,
        attempts=2,
        next_attempt_at=T0 + timedelta(minutes=5),
        error_code="20429",
        error_message="HTTP 429: Too Many Requests",
    )
    failed = message(
        family["noah_phone"], MessageStatus.FAILED, error_code="21211", error_message="invalid"
    )
    undelivered = message(family["parent_phone"], MessageStatus.UNDELIVERED, twilio_sid="SM1")
    delivered = message(family["mia_phone"], MessageStatus.DELIVERED, twilio_sid="SM2")
    cancelled = message(family["mia_phone"], MessageStatus.CANCELLED)

    output = outbox(runner)

    assert "3 message(s) (failed, queued, undelivered); showing 3" in output
    for row in (queued, failed, undelivered):
        assert f"#{row.id} " in output
    for row in (delivered, cancelled):
        assert f"#{row.id} " not in output
    line = next(line for line in output.splitlines() if line.startswith(f"#{queued.id} "))
    assert "2026-12-01 17:00Z" in line
    assert "queued" in line
    assert "attempts 2" in line
    assert "next 2026-12-01 17:05Z" in line
    assert "+16175550111" in line
    assert "question" in line
    assert "[20429] HTTP 429: Too Many Requests" in line
    assert '"How are you today?"' in line
    # Newest first.
    assert output.index(f"#{undelivered.id} ") < output.index(f"#{queued.id} ")


def test_status_patient_and_limit_options(runner, family, message):
    mine = message(family["mia_phone"], MessageStatus.CANCELLED, body="x" * 80)
    message(family["noah_phone"], MessageStatus.CANCELLED)

    output = outbox(runner, "--status", "cancelled", "--patient", "E-1")
    assert "1 message(s) (cancelled)" in output
    assert f"#{mine.id} " in output
    assert '"' + "x" * 39 + '…"' in output

    output = outbox(runner, "--status", "all", "--limit", "1")
    assert "2 message(s) (all); showing 1" in output


def test_the_patient_s_caregiver_messages_count_only_on_the_patient_s_check_ins(
    runner, family, message
):
    message(family["parent_phone"], MessageStatus.FAILED)  # no check-in: not Mia's
    output = outbox(runner, "--patient", "E-1")
    assert "0 message(s)" in output


def test_an_unknown_patient_is_refused_without_a_traceback(runner, family):
    result = runner.invoke(outbox_command, ["--patient", "NOPE-9"])
    assert result.exit_code == 1
    assert "patient: 'NOPE-9' is not a known MRN" in result.output
    assert "Traceback" not in result.output


def test_a_bad_status_is_refused(runner, family):
    result = runner.invoke(outbox_command, ["--status", "lost"])
    assert result.exit_code == 2
    assert "'lost' is not one of" in result.output


def test_lists_phones_with_a_delivery_problem(runner, family, session):
    family["noah_phone"].unusable_since = T0
    family["noah_phone"].unusable_reason = "21614: not a mobile number"
    family["parent_phone"].unreachable_failures = UNREACHABLE_PROBLEM_THRESHOLD
    family["mia_phone"].unreachable_failures = UNREACHABLE_PROBLEM_THRESHOLD - 1
    session.commit()

    output = outbox(runner)

    problems = output.split("phones with a delivery problem:")[1]
    assert "+16175550122" in problems
    assert "unusable since 2026-12-01 17:00Z (21614: not a mobile number)" in problems
    assert (
        f"+16175550133  Laura Parent  consent pending  unreachable {UNREACHABLE_PROBLEM_THRESHOLD}"
        in problems
    )
    assert "+16175550111" not in problems

    mias = outbox(runner, "--patient", "E-1").split("phones with a delivery problem:")[1]
    assert "+16175550133" in mias  # her parent's phone
    assert "+16175550122" not in mias  # Noah's


def test_no_problem_phones_is_said(runner, family):
    assert "no phone with a delivery problem" in outbox(runner)


def test_delivery_history_is_newest_first_with_status_events(
    session, family, message, make_patient
):
    old = message(family["mia_phone"], MessageStatus.DELIVERED, twilio_sid="SMold")
    new = message(family["mia_phone"], MessageStatus.UNDELIVERED, twilio_sid="SMnew")
    message(family["noah_phone"], MessageStatus.DELIVERED, twilio_sid="SMnoah")
    inbound = Message(
        direction=Direction.INBOUND,
        status=MessageStatus.RECEIVED,
        phone=family["mia_phone"].phone,
        body="3",
        contact_id=family["mia_phone"].id,
        twilio_sid="SMin",
    )
    session.add(inbound)
    session.add_all(
        [
            MessageStatusEvent(message_id=old.id, status="sent", received_at=T0),
            MessageStatusEvent(
                message_id=old.id, status="delivered", received_at=T0 + timedelta(seconds=3)
            ),
            MessageStatusEvent(
                message_id=new.id,
                status="undelivered",
                error_code="30003",
                received_at=T0 + timedelta(hours=1),
            ),
        ]
    )
    session.commit()

    history = delivery_history(family["mia"].id)

    assert [record.message_id for record in history] == [new.id, old.id]
    assert [(e.status, e.error_code) for e in history[1].events] == [
        ("sent", None),
        ("delivered", None),
    ]
    assert history[0].status is MessageStatus.UNDELIVERED
    assert history[0].events[0].error_code == "30003"
    assert delivery_history(family["mia"].id, limit=1)[0].message_id == new.id
    assert delivery_history(make_patient().id) == []


def test_delivery_history_includes_a_caregiver_s_texts_on_the_patient_s_check_ins(session, family):
    from engage.conversations.services import open_checkin
    from engage.instruments.services import get_instrument

    mia: Patient = family["mia"]
    checkin = open_checkin(mia, get_instrument("ibd-symptoms"), now=T0)
    session.commit()

    history = delivery_history(mia.id)

    assert history
    assert {record.checkin_id for record in history} == {checkin.id}
    assert {record.phone for record in history} == {"+16175550133"}
    assert session.scalar(sa.select(sa.func.count()).select_from(Message)) == len(history)
