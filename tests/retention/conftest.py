"""Fixtures for retention: the demo network with weeks of answered check-ins long ago.

``demo`` seeds the demo network; ``old_history`` adds its eight answered weeks as of
``SEEDED``. A purge is then run at a chosen ``now`` to make that history as old as a test needs.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from engage.demo.history import seed_history
from engage.demo.seed import seed_demo

# The history runs from about 62 days before SEEDED to a week before it.
SEEDED = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def demo(session: Session) -> None:
    """The demo network alone (its phones), for tests that need no texts."""
    seed_demo()
    session.commit()


@pytest.fixture
def old_history(session: Session, demo: None) -> datetime:
    seed_history(now=SEEDED)
    session.commit()
    return SEEDED
