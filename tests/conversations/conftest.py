"""Demo families and check-ins opened for them, inside the test's transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.conversations.services import open_checkin
from engage.demo.seed import seed_demo
from engage.instruments.services import get_instrument
from engage.network.models import Center
from engage.people.models import Patient

NOAH = "+16175550102"  # 14, answers for himself (EAST, English)
SOFIA = "+16175550103"  # 17, answers for herself in Spanish
LAURA = "+16175550101"  # parent of Mia (6) and Noah, one phone for two children
CARMEN = "+16175550113"  # Sofia's mother, Spanish
DAVID = "+12135550121"  # parent of Ethan (8), WEST
STRANGER = "+16175550188"


@pytest.fixture
def demo(session: Any) -> None:
    seed_demo()
    session.commit()


@pytest.fixture
def patient(demo: None, session: Any) -> Callable[[str], Patient]:
    def find(mrn: str) -> Patient:
        return session.scalar(sa.select(Patient).join(Center).where(Patient.mrn == mrn))

    return find


@pytest.fixture
def start(patient: Callable[[str], Patient], session: Any) -> Callable[..., CheckIn]:
    """Open a check-in now, as the scheduler will."""

    def open_(mrn: str, instrument_id: str = "ibd-symptoms", **kw: Any) -> CheckIn:
        checkin = open_checkin(patient(mrn), get_instrument(instrument_id), **kw)
        session.commit()
        return checkin

    return open_
