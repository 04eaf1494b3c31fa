"""Fixtures for the app API (/api/v1 for patients and parents), on the seeded demo.

``demo`` seeds the demo network and commits it; ``app_tokens(phone)`` signs a demo phone
in directly (no SMS code), the way a finished code sign-in would; ``bearer(token)`` is
the header an app sends with its access token.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from sqlalchemy.orm import Session

from engage.demo.seed import seed_demo
from engage.mobile.tokens import TokenPair, issue_tokens
from engage.people.services import find_contact

LAURA = "+16175550101"  # caregiver of Mia (6) and Noah (14), EAST
NOAH = "+16175550102"  # patient, 14, his own phone
SOFIA = "+16175550103"  # patient, 17, Spanish
CARMEN = "+16175550113"  # Spanish caregiver of Sofia
DANIEL = "+12135550103"  # patient, 20, WEST, no caregiver


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of an app's request."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def demo(session: Session) -> None:
    """The demo network, seeded for today and committed."""
    seed_demo()
    session.commit()


@pytest.fixture
def app_tokens(session: Session, demo: None) -> Callable[..., TokenPair]:
    """Sign a demo phone in (a new sign-in, i.e. token family, each call); ``now`` backdates."""

    def sign_in(phone: str, now: datetime | None = None) -> TokenPair:
        contact = find_contact(phone)
        assert contact is not None, f"{phone} is not a demo phone"
        pair = issue_tokens(contact, now=now)
        session.commit()
        return pair

    return sign_in
