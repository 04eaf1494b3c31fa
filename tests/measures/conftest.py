"""Hand-built rows for the measures: check-ins, bands, alerts and ideas at chosen times."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engage.alerts.models import Alert, AlertStatus
from engage.codesign.models import Idea, IdeaChannel, IdeaStatus, IdeaStatusChange
from engage.conversations.models import CheckIn, CheckInScore, CheckInStatus, RespondentRole
from engage.demo.seed import seed_demo
from engage.instruments.model import Severity
from engage.instruments.services import get_instrument, record_instrument_version
from engage.measures.compute import Window, window_before
from engage.network.models import Center
from engage.people.models import Contact, Language, Patient

# Wednesday 17 June 2026: the three complete weeks before it start on 25 May, 1 and 8 June.
NOW = datetime(2026, 6, 17, 12, 0, tzinfo=UTC)
WEEK_0 = datetime(2026, 5, 25, tzinfo=UTC)
WEEK_1 = WEEK_0 + timedelta(weeks=1)
WEEK_2 = WEEK_0 + timedelta(weeks=2)


@pytest.fixture
def window() -> Window:
    return window_before(NOW, weeks=3)


@pytest.fixture
def demo(session: Any) -> None:
    seed_demo()
    session.commit()


class Rows:
    """Add the rows the measures read, with exactly the times and outcomes a test names."""

    def __init__(self, session: Any, make_patient: Callable[..., Patient]) -> None:
        self.session = session
        self.make_patient = make_patient
        self.phones = iter(range(100, 10_000))

    def patient(self, center: Center) -> Patient:
        patient = self.make_patient(center)
        self.session.add(Contact(phone=f"+1617555{next(self.phones):04d}", patient=patient))
        self.session.flush()
        return patient

    def checkin(
        self,
        patient: Patient,
        due_at: datetime,
        status: CheckInStatus = CheckInStatus.COMPLETED,
        *,
        band: str | None = None,
        closed_at: datetime | None = None,
        instrument: str = "ibd-symptoms",
        score: str = "activity_index",
    ) -> CheckIn:
        version = record_instrument_version(get_instrument(instrument))
        contact = self.session.scalar(sa.select(Contact).where(Contact.patient_id == patient.id))
        checkin = CheckIn(
            patient_id=patient.id,
            instrument_version_id=version.id,
            contact_id=contact.id,
            respondent_role=RespondentRole.SELF,
            language=Language.ENGLISH,
            status=status,
            due_at=due_at,
            opened_at=due_at,
            closed_at=closed_at
            or (due_at + timedelta(minutes=20) if status is not CheckInStatus.SENT else None),
            state={},
        )
        self.session.add(checkin)
        self.session.flush()
        if band is not None or status is CheckInStatus.COMPLETED:
            self.session.add(
                CheckInScore(checkin_id=checkin.id, score_id=score, band_id=band, answered=7)
            )
            self.session.flush()
        return checkin

    def alert(
        self, patient: Patient, created_at: datetime, acknowledged_after: timedelta | None = None
    ) -> Alert:
        checkin = self.checkin(patient, created_at - timedelta(minutes=20), band="severe")
        alert = Alert(
            patient_id=patient.id,
            checkin_id=checkin.id,
            red_flag_id="blood_and_pain",
            severity=Severity.HIGH,
            status=AlertStatus.OPEN if acknowledged_after is None else AlertStatus.ACKNOWLEDGED,
            safety_message="Please call the clinic today.",
            created_at=created_at,
            acknowledged_at=None if acknowledged_after is None else created_at + acknowledged_after,
        )
        self.session.add(alert)
        self.session.flush()
        return alert

    def idea(self, center: Center | None, created_at: datetime) -> Idea:
        idea = Idea(
            text="A quieter waiting room",
            redacted_text="A quieter waiting room",
            channel=IdeaChannel.APP,
            center_id=center.id if center else None,
            created_at=created_at,
            status_changed_at=created_at,
        )
        self.session.add(idea)
        self.session.flush()
        return idea

    def adopt(self, idea: Idea, at: datetime) -> None:
        idea.status = IdeaStatus.ADOPTED
        self.session.add(
            IdeaStatusChange(
                idea_id=idea.id,
                from_status=IdeaStatus.TESTING,
                to_status=IdeaStatus.ADOPTED,
                rationale="Worked at both centers",
                changed_at=at,
            )
        )
        self.session.flush()


@pytest.fixture
def rows(session: Any, make_patient: Callable[..., Patient]) -> Rows:
    return Rows(session, make_patient)
