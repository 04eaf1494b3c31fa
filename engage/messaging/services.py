"""Storing messages: inbound once per MessageSid, outbound as replies or outbox rows."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from engage.db import db, utcnow
from engage.messaging.models import Direction, Message, MessageStatus


def find_inbound(twilio_sid: str) -> Message | None:
    return db.session.scalar(sa.select(Message).where(Message.twilio_sid == twilio_sid))


def replies_to(message: Message) -> list[str]:
    """The texts sent in answer to ``message``, in order: what a retry must get again."""
    return list(
        db.session.scalars(
            sa.select(Message.body)
            .where(Message.reply_to_id == message.id, Message.status == MessageStatus.REPLIED)
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
    num_media: int = 0,
    at: datetime | None = None,
) -> Message:
    message = Message(
        direction=Direction.INBOUND,
        status=MessageStatus.RECEIVED,
        twilio_sid=twilio_sid,
        phone=phone,
        service_phone=service_phone,
        body=body,
        contact_id=contact_id,
        num_media=num_media,
        created_at=at or utcnow(),
    )
    db.session.add(message)
    db.session.flush()
    return message


def store_replies(inbound: Message, replies: list[tuple[str, str, int | None]]) -> None:
    """Record the TwiML replies (text, purpose, check-in) sent in answer to ``inbound``."""
    for text, purpose, checkin_id in replies:
        db.session.add(
            Message(
                direction=Direction.OUTBOUND,
                status=MessageStatus.REPLIED,
                phone=inbound.phone,
                service_phone=inbound.service_phone,
                body=text,
                contact_id=inbound.contact_id,
                checkin_id=checkin_id,
                reply_to_id=inbound.id,
                purpose=purpose,
                created_at=inbound.created_at,
            )
        )


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


def cancel_queued(*, contact_id: int, checkin_ids: list[int] | None = None) -> int:
    """Withdraw outbox messages not yet sent, for a phone or for some of its check-ins."""
    statement = sa.update(Message).where(
        Message.contact_id == contact_id, Message.status == MessageStatus.QUEUED
    )
    if checkin_ids is not None:
        statement = statement.where(Message.checkin_id.in_(checkin_ids))
    result = db.session.execute(statement.values(status=MessageStatus.CANCELLED))
    return int(getattr(result, "rowcount", 0) or 0)
