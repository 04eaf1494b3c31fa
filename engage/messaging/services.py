"""Storing messages: inbound once per MessageSid, outbound as replies or outbox rows.

The inbound path runs for every text a family sends, so it writes with single
Core statements rather than ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engage.db import db, table_of, utcnow
from engage.messaging.models import Direction, Message, MessageStatus

MESSAGES = table_of(Message)


@dataclass(frozen=True)
class Reply:
    """A text sent back inside the webhook's TwiML answer."""

    text: str
    purpose: str
    checkin_id: int | None = None


@dataclass(frozen=True)
class StoredInbound:
    id: int
    body: str
    contact_id: int | None


def find_inbound_id(twilio_sid: str) -> int | None:
    return db.session.scalar(sa.select(Message.id).where(Message.twilio_sid == twilio_sid))


def replies_to_id(message_id: int) -> list[str]:
    """The texts sent in answer to a message, in order: what a retry must get again."""
    return list(
        db.session.scalars(
            sa.select(Message.body)
            .where(Message.reply_to_id == message_id, Message.status == MessageStatus.REPLIED)
            .order_by(Message.id)
        )
    )


def store_inbound(
    *,
    twilio_sid: str,
    phone: str,
    service_phone: str | None,
    body: str,
    contact_id: int | None,
    checkin_id: int | None = None,
    num_media: int = 0,
    at: datetime | None = None,
) -> StoredInbound:
    message_id = db.session.connection().scalar(
        sa.insert(MESSAGES)
        .values(
            direction=Direction.INBOUND,
            status=MessageStatus.RECEIVED,
            twilio_sid=twilio_sid,
            phone=phone,
            service_phone=service_phone,
            body=body,
            contact_id=contact_id,
            checkin_id=checkin_id,
            num_media=num_media,
            created_at=at or utcnow(),
        )
        .returning(MESSAGES.c.id)
    )
    assert message_id is not None
    return StoredInbound(message_id, body, contact_id)


def store_replies(
    inbound_id: int,
    phone: str,
    service_phone: str | None,
    contact_id: int | None,
    replies: Iterable[Reply],
    at: datetime,
) -> None:
    """Record the TwiML replies sent in answer to a message."""
    rows = [
        {
            "direction": Direction.OUTBOUND,
            "status": MessageStatus.REPLIED,
            "phone": phone,
            "service_phone": service_phone,
            "body": reply.text,
            "contact_id": contact_id,
            "checkin_id": reply.checkin_id,
            "reply_to_id": inbound_id,
            "purpose": reply.purpose,
            "num_media": 0,
            "created_at": at,
        }
        for reply in replies
    ]
    if rows:
        db.session.connection().execute(sa.insert(MESSAGES), rows)


def queue_outbound(
    *, phone: str, body: str, contact_id: int, checkin_id: int | None, purpose: str
) -> Message:
    """Put a message in the outbox; the sender takes it from there after the commit."""
    message = Message(
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        phone=phone,
        body=body,
        contact_id=contact_id,
        checkin_id=checkin_id,
        purpose=purpose,
    )
    db.session.add(message)
    return message


def cancel_queued(
    *, contact_id: int, checkin_ids: list[int] | None = None, keep: frozenset[str] = frozenset()
) -> int:
    """Withdraw outbox messages not yet sent, for a phone or for some of its check-ins.

    ``keep``: purposes to leave queued (PAUSE keeps ``WAIT_OUT_PAUSE``).
    """
    statement = sa.update(Message).where(
        Message.contact_id == contact_id, Message.status == MessageStatus.QUEUED
    )
    if checkin_ids is not None:
        statement = statement.where(Message.checkin_id.in_(checkin_ids))
    if keep:
        statement = statement.where(
            sa.or_(Message.purpose.is_(None), Message.purpose.not_in(sorted(keep)))
        )
    result = db.session.execute(statement.values(status=MessageStatus.CANCELLED))
    return int(getattr(result, "rowcount", 0) or 0)
