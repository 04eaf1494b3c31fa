"""Past weekly check-ins for the demo families, answered by text through the real engine.

So that the review pages have something to draw on a fresh machine: eight weeks of
``ibd-symptoms`` per demo patient, moving between bands, each one opened and answered
the way a family's texts would be (``handle_inbound`` at the time of each reply).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.conversations.services import InboundSms, handle_inbound, open_checkin
from engage.db import db, utcnow
from engage.instruments.services import get_instrument
from engage.messaging.models import Message, MessageStatus
from engage.network.models import Center
from engage.people.models import Patient
from engage.scheduling.models import Enrollment

DEMO_CENTERS = ("EAST", "WEST")
# Replies to ibd-symptoms (pain, [worst pain], bleeding, consistency, stools, night, activity).
REMISSION = ("1", "1", "1", "2", "no", "1")
MILD = ("2", "3", "1", "2", "4", "no", "2")
MODERATE = ("3", "6", "1", "3", "6", "yes", "2")
# Oldest first: a flare that settles.
WEEKS = (MODERATE, MODERATE, MILD, MILD, MILD, REMISSION, MILD, REMISSION)


def seed_history(now: datetime | None = None) -> Counter[str]:
    """Add the past check-ins to demo patients who have none yet; idempotent."""
    now = now or utcnow()
    instrument = get_instrument("ibd-symptoms")
    added: Counter[str] = Counter()
    enrollments = db.session.scalars(
        sa.select(Enrollment)
        .join(Patient)
        .join(Center, Center.id == Patient.center_id)
        .where(Enrollment.instrument_id == instrument.id, Center.code.in_(DEMO_CENTERS))
        .order_by(Enrollment.id)
    ).all()
    # One calendar for every center: the Mondays of the earliest local date among the
    # patients' zones (it is still Sunday in Los Angeles when Monday starts in New York),
    # so each past week holds every patient's check-in and none lies in the future.
    today = min(
        (now.astimezone(enrollment.patient.zone).date() for enrollment in enrollments),
        default=now.date(),
    )
    last_monday = today - timedelta(days=today.weekday())
    for enrollment in enrollments:
        patient = enrollment.patient
        has_any = db.session.scalar(
            sa.select(sa.func.count()).select_from(CheckIn).where(CheckIn.patient_id == patient.id)
        )
        if has_any:
            continue
        zone = patient.zone
        for weeks_ago, replies in zip(range(len(WEEKS), 0, -1), WEEKS, strict=True):
            day = last_monday - timedelta(weeks=weeks_ago)
            opened = datetime.combine(day, time(18, 0), tzinfo=zone)
            checkin = open_checkin(patient, instrument, now=opened)
            db.session.execute(
                sa.update(Message)
                .where(Message.checkin_id == checkin.id, Message.status == MessageStatus.QUEUED)
                .values(status=MessageStatus.ACCEPTED, sent_at=opened, status_changed_at=opened)
            )
            for n, text in enumerate(replies, 1):
                sms = InboundSms(
                    message_sid=f"DEMO{checkin.id:08d}{n:02d}",
                    from_phone=enrollment.contact.phone,
                    body=text,
                )
                handle_inbound(sms, now=opened + timedelta(minutes=3 * n))
            added["past check-ins"] += 1
    return added
