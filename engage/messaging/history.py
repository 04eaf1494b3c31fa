"""What became of the texts sent about a patient: for the review pages and the CLI."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.db import db, table_of
from engage.messaging.models import Direction, Message, MessageStatus, MessageStatusEvent
from engage.people.models import Contact

MESSAGES, EVENTS = table_of(Message), table_of(MessageStatusEvent)
CONTACTS, CHECKINS = table_of(Contact), table_of(CheckIn)


@dataclass(frozen=True)
class StatusEventRecord:
    status: str
    error_code: str | None
    received_at: datetime


@dataclass(frozen=True)
class DeliveryRecord:
    """One outbound message with every status Twilio reported for it, oldest first."""

    message_id: int
    created_at: datetime
    phone: str
    purpose: str | None
    body: str
    checkin_id: int | None
    status: MessageStatus
    attempts: int
    twilio_sid: str | None
    sent_at: datetime | None
    status_changed_at: datetime | None
    error_code: str | None
    error_message: str | None
    events: tuple[StatusEventRecord, ...]


def about_patient(patient_id: int) -> sa.ColumnElement[bool]:
    """Outbound messages to the patient's own phones or on the patient's check-ins.

    The ids are found through each index separately and united: PostgreSQL cannot
    turn an OR of two IN-subqueries into index lookups, and scanned every message
    (1.4 s on a network's two years of texts, against 5 ms this way).
    """
    own_phones = sa.select(CONTACTS.c.id).where(CONTACTS.c.patient_id == patient_id)
    by_phone = sa.select(MESSAGES.c.id).where(MESSAGES.c.contact_id.in_(own_phones))
    by_checkin = (
        sa.select(MESSAGES.c.id)
        .join(CHECKINS, CHECKINS.c.id == MESSAGES.c.checkin_id)
        .where(CHECKINS.c.patient_id == patient_id)
    )
    return sa.and_(
        MESSAGES.c.direction == Direction.OUTBOUND.value,
        MESSAGES.c.id.in_(sa.union_all(by_phone, by_checkin)),
    )


def delivery_history(patient_id: int, *, limit: int | None = None) -> list[DeliveryRecord]:
    """The patient's outbound messages, newest first, each with its status events."""
    query = (
        sa.select(
            MESSAGES.c.id.label("message_id"),
            MESSAGES.c.created_at,
            MESSAGES.c.phone,
            MESSAGES.c.purpose,
            MESSAGES.c.body,
            MESSAGES.c.checkin_id,
            MESSAGES.c.status,
            MESSAGES.c.attempts,
            MESSAGES.c.twilio_sid,
            MESSAGES.c.sent_at,
            MESSAGES.c.status_changed_at,
            MESSAGES.c.error_code,
            MESSAGES.c.error_message,
        )
        .where(about_patient(patient_id))
        .order_by(MESSAGES.c.created_at.desc(), MESSAGES.c.id.desc())
    )
    if limit is not None:
        query = query.limit(limit)
    rows = db.session.execute(query).all()
    events: defaultdict[int, list[StatusEventRecord]] = defaultdict(list)
    if rows:
        event_rows = db.session.execute(
            sa.select(
                EVENTS.c.message_id, EVENTS.c.status, EVENTS.c.error_code, EVENTS.c.received_at
            )
            .where(EVENTS.c.message_id.in_([row[0] for row in rows]))
            .order_by(EVENTS.c.received_at, EVENTS.c.id)
        )
        for message_id, status, error_code, received_at in event_rows:
            events[message_id].append(StatusEventRecord(status, error_code, received_at))
    return [DeliveryRecord(**row._mapping, events=tuple(events[row[0]])) for row in rows]
