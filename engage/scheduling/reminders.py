"""One reminder for a check-in nobody has answered, never at night, never after STOP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from engage.conversations import engine
from engage.conversations.models import CheckIn, CheckInStatus, RespondentRole, opening_was_sent
from engage.conversations.replies import reply
from engage.conversations.services import instrument_by_hash
from engage.db import db, table_of
from engage.instruments.model import Instrument
from engage.instruments.models import InstrumentVersion
from engage.instruments.sms import segment_fit
from engage.messaging.models import Message
from engage.network.models import Center
from engage.people.models import ConsentState, Contact, Patient
from engage.scheduling.dispatcher import caregivers_of_several, outbox_row, queue_outbox_rows
from engage.scheduling.models import Enrollment
from engage.scheduling.quiet_hours import quiet_until

CHECKINS, CONTACTS, PATIENTS = table_of(CheckIn), table_of(Contact), table_of(Patient)
CENTERS, VERSIONS, ENROLLMENTS = table_of(Center), table_of(InstrumentVersion), table_of(Enrollment)
MESSAGES = table_of(Message)

CLAIM_UNANSWERED = (
    sa.select(
        CHECKINS.c.id,
        CHECKINS.c.contact_id,
        CHECKINS.c.state,
        CHECKINS.c.language,
        CHECKINS.c.respondent_role,
        CHECKINS.c.instrument_version_id,
        VERSIONS.c.content_hash,
        CONTACTS.c.phone,
        CONTACTS.c.caregiver_id,
        PATIENTS.c.given_name,
        sa.func.coalesce(ENROLLMENTS.c.time_zone, PATIENTS.c.time_zone, CENTERS.c.time_zone),
        CENTERS.c.quiet_hours_start,
        CENTERS.c.quiet_hours_end,
    )
    .select_from(CHECKINS)
    .join(VERSIONS, VERSIONS.c.id == CHECKINS.c.instrument_version_id)
    .join(CONTACTS, CONTACTS.c.id == CHECKINS.c.contact_id)
    .join(PATIENTS, PATIENTS.c.id == CHECKINS.c.patient_id)
    .join(CENTERS, CENTERS.c.id == PATIENTS.c.center_id)
    .outerjoin(ENROLLMENTS, ENROLLMENTS.c.id == CHECKINS.c.enrollment_id)
    .where(
        # Sent and not answered at all: a check-in in progress needs no reminder.
        CHECKINS.c.status == CheckInStatus.SENT.value,
        CHECKINS.c.reminded_at.is_(None),
        CHECKINS.c.opened_at <= sa.bindparam("opened_before"),
        CHECKINS.c.expires_at > sa.bindparam("now"),
        CONTACTS.c.sms_consent != ConsentState.WITHDRAWN.value,
        CONTACTS.c.unusable_since.is_(None),
        sa.or_(CONTACTS.c.paused_until.is_(None), CONTACTS.c.paused_until <= sa.bindparam("now")),
    )
    .order_by(CHECKINS.c.opened_at)
    .limit(sa.bindparam("limit"))
    .with_for_update(of=CHECKINS, skip_locked=True)
)


def send_reminders(now: datetime, batch_size: int = 500) -> int:
    """Queue one reminder per unanswered check-in; returns how many. The caller commits."""
    after = timedelta(hours=float(current_app.config["REMINDER_AFTER_HOURS"]))
    connection = db.session.connection()
    rows = connection.execute(
        CLAIM_UNANSWERED, {"now": now, "opened_before": now - after, "limit": batch_size}
    ).all()
    several = caregivers_of_several({row.caregiver_id for row in rows if row.caregiver_id})
    messages: list[dict[str, Any]] = []
    reminded: list[dict[str, int]] = []
    for row in rows:
        (checkin_id, contact_id, state, language, role, version_id, content_hash, phone) = row[:8]
        caregiver_id, given_name, time_zone, quiet_start, quiet_end = row[8:]
        if not opening_was_sent(state or {}):
            continue  # still waiting behind another check-in on this phone
        if quiet_until(now, time_zone, quiet_start, quiet_end) is not None:
            continue  # try again in the morning, if it is still open then
        texts = reminder_texts(
            language.value,
            instrument_by_hash(content_hash, version_id),
            state or {},
            proxy=role is RespondentRole.PROXY,
            name=given_name if caregiver_id in several else None,
        )
        messages.extend(
            outbox_row(phone, text, contact_id, checkin_id, "reminder") for text in texts
        )
        reminded.append({"checkin": checkin_id})
    if reminded:
        queue_outbox_rows(messages, now)
        connection.execute(
            sa.update(CHECKINS)
            .where(CHECKINS.c.id == sa.bindparam("checkin"))
            .values(reminded_at=now),
            reminded,
        )
    return len(reminded)


def reminder_texts(
    language: str, instrument: Instrument, state: dict[str, Any], *, proxy: bool, name: str | None
) -> list[str]:
    """The reminder and the question waiting for an answer, in one SMS when they fit."""
    lead = reply(language, "reminder_about", name=name) if name else reply(language, "reminder")
    current = engine.State.from_json(state).current
    if current is None:
        return [lead]
    question = engine.question(instrument.item(current), language, proxy).text
    together = f"{lead}\n{question}"
    return [together] if segment_fit(together).fits else [lead, question]
