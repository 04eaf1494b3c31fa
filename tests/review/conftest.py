"""The demo network on a fixed week, and check-ins answered through the conversation code."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.conversations.services import (
    InboundSms,
    close_checkin,
    expired_status,
    expiry_window,
    handle_inbound,
    open_checkin,
)
from engage.demo.seed import seed_demo
from engage.instruments.services import get_instrument
from engage.network.models import Center
from engage.people.models import Patient
from engage.scheduling.services import add_visit
from engage.visits.models import Visit

SEEDED_ON = date(2026, 5, 4)  # a Monday; demo visits fall from 5 to 10 May
DAY = date(2026, 5, 6)  # the clinic day most tests look at (a Wednesday)
NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

# Replies to ibd-symptoms, each giving one band of its activity index.
REMISSION = ["1", "1", "1", "1", "no", "1"]  # 0 points
MILD = ["2", "3", "1", "2", "4", "no", "1"]  # 5 + 0 + 5 + 5 + 0 + 0 = 15
MODERATE = ["3", "5", "2", "2", "4", "yes", "2"]  # 10 + 10 + 5 + 5 + 10 + 5 = 45
# 10 + 20 + 10 + 10 + 10 + 10 = 70, with blood in most of 7 stools: two alerts
SEVERE = ["3", "7", "3", "3", "7", "yes", "3"]


def at(day: date, hour: int, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(day, time(hour, minute), zone)


@pytest.fixture
def demo(session: Any) -> None:
    seed_demo(today=SEEDED_ON)
    session.commit()


@pytest.fixture
def patient(demo: None, session: Any) -> Callable[[str], Patient]:
    def find(mrn: str) -> Patient:
        return session.scalar(sa.select(Patient).where(Patient.mrn == mrn))

    return find


@pytest.fixture
def center(demo: None, session: Any) -> Callable[[str], Center]:
    def find(code: str) -> Center:
        return session.scalar(sa.select(Center).where(Center.code == code))

    return find


@pytest.fixture
def visit(session: Any) -> Callable[..., Visit]:
    """Book a visit through the scheduling service, as a roster import does."""

    def book(patient: Patient, starts_at: datetime) -> Visit:
        booked = add_visit(patient, starts_at, now=starts_at - timedelta(days=30))
        session.commit()
        return booked

    return book


@pytest.fixture
def answer(session: Any) -> Callable[..., CheckIn]:
    """Open a check-in at ``when`` and answer it by SMS, one reply a minute.

    ``close`` ends it unfinished at the end of its window (expired with answers,
    missed without); ``visit`` makes it the pre-visit check-in of that visit.
    """

    def run(
        patient: Patient,
        instrument_id: str,
        replies: Sequence[str],
        *,
        when: datetime,
        visit: Visit | None = None,
        close: bool = False,
    ) -> CheckIn:
        checkin = open_checkin(patient, get_instrument(instrument_id), now=when)
        if visit is not None:
            checkin.visit_id = visit.id
        phone = checkin.contact.phone
        session.flush()
        for minute, text in enumerate(replies, start=1):
            inbound = InboundSms(f"SM{uuid.uuid4().hex}", phone, text)
            handle_inbound(inbound, now=when + timedelta(minutes=minute))
        session.commit()
        session.expire_all()
        if close:
            close_checkin(checkin, expired_status(checkin), when + expiry_window())
            session.commit()
        return checkin

    return run
