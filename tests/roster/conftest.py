"""Rosters: the two example exports, copied where a test may change them, imported at a fixed time."""

from __future__ import annotations

import csv
import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.people.models import Caregiver, CaregiverLink, ConsentChange, Contact, Patient
from engage.scheduling.models import Enrollment
from engage.visits.models import Visit

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "rosters"
# The examples' visits are in March 2027; the import runs "now", in December 2026.
NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
MODELS = {
    "patients": Patient,
    "caregivers": Caregiver,
    "caregiver_links": CaregiverLink,
    "contacts": Contact,
    "consent_changes": ConsentChange,
    "visits": Visit,
    "enrollments": Enrollment,
    "audit_events": AuditEvent,
}


@pytest.fixture(autouse=True)
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> datetime:
    monkeypatch.setattr("engage.roster.importer.utcnow", lambda: NOW)
    return NOW


@pytest.fixture
def centers(make_center: Callable[..., Any]) -> dict[str, Any]:
    return {
        "EAST": make_center(code="EAST", time_zone="America/New_York"),
        "WEST": make_center(code="WEST", time_zone="America/Los_Angeles"),
    }


@pytest.fixture
def example(tmp_path: Path) -> Callable[[str], tuple[Path, Path]]:
    """Copy an example roster and its mapping to tmp_path: (roster, mapping)."""

    def copy(name: str) -> tuple[Path, Path]:
        roster = shutil.copy(EXAMPLES / f"{name}.csv", tmp_path / f"{name}.csv")
        mapping = shutil.copy(EXAMPLES / f"{name}.yaml", tmp_path / f"{name}.yaml")
        return Path(roster), Path(mapping)

    return copy


@pytest.fixture
def run_import(runner: Any) -> Callable[..., Any]:
    def run(roster: Path, *args: str, center: str = "EAST", mapping: Path | None = None) -> Any:
        options = ["--center", center, *(["--mapping", str(mapping)] if mapping else [])]
        result = runner.invoke(args=["engage", "import", str(roster), *options, *args])
        assert "Traceback" not in result.output, result.output
        return result

    return run


def count_rows(session: Any) -> dict[str, int]:
    return {
        name: session.scalar(sa.select(sa.func.count()).select_from(model))
        for name, model in MODELS.items()
    }


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as source:
        return list(csv.DictReader(source))


def write_csv(path: Path, rows: list[dict[str, str]], header: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=header or list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def patient(session: Any, mrn: str) -> Patient:
    return session.scalars(sa.select(Patient).where(Patient.mrn == mrn)).one()
