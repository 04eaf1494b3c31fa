"""A family with a phone, enrolled on a schedule, and a dispatcher run at a chosen time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.db import unit_of_work
from engage.messaging.models import Message, MessageStatus
from engage.people.models import Contact, Patient
from engage.scheduling.dispatcher import DispatchReport, open_due_checkins, start_waiting_checkins
from engage.scheduling.models import Enrollment, ScheduleKind
from engage.scheduling.schedules import Schedule
from engage.scheduling.services import enroll
from tests.conftest import consenting_phone

NEW_YORK = ZoneInfo("America/New_York")


def local(*parts: int, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


@pytest.fixture
def teen(make_patient: Callable[..., Patient], session: Any) -> Patient:
    """A 14-year-old in New York who answers on her own phone."""
    patient = make_patient(given_name="Maya", date_of_birth=date(2012, 5, 17))
    consenting_phone(patient, "+16175550141")
    session.flush()
    return patient


def phone_of(patient: Patient) -> Contact:
    return patient.contacts[0]


@pytest.fixture
def weekly(session: Any) -> Callable[..., Enrollment]:
    """Enroll a patient in ibd-symptoms on Mondays at a local time (18:00 by default)."""

    def make(
        patient: Patient,
        at: time = time(18, 0),
        days: tuple[str, ...] | None = ("mon",),
        now: datetime | None = None,
        instrument_id: str = "ibd-symptoms",
    ) -> Enrollment:
        schedule = Schedule(
            kind=ScheduleKind.RECURRING,
            time_zone=patient.effective_time_zone,
            weekdays=days,
            local_time=at,
        )
        enrollment = enroll(patient, instrument_id, schedule, now=now or local(2026, 11, 29, 12, 0))
        session.flush()
        return enrollment

    return make


@pytest.fixture
def dispatch(app: Any, session: Any) -> Callable[[datetime], DispatchReport]:
    """Run both dispatcher passes at ``now``, each in its own unit of work, as the job does."""

    def run(now: datetime) -> DispatchReport:
        report = DispatchReport()
        with unit_of_work():
            report.add(open_due_checkins(now))
        with unit_of_work():
            report.add(start_waiting_checkins(now))
        session.expire_all()
        return report

    return run


def checkins_of(session: Any, patient: Patient) -> list[CheckIn]:
    return list(
        session.scalars(
            sa.select(CheckIn).where(CheckIn.patient_id == patient.id).order_by(CheckIn.due_at)
        )
    )


def queued_to(session: Any, contact: Contact) -> list[Message]:
    return list(
        session.scalars(
            sa.select(Message)
            .where(Message.contact_id == contact.id, Message.status == MessageStatus.QUEUED)
            .order_by(Message.id)
        )
    )
