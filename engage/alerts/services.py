"""The alert inbox: open red-flag alerts for a clinician's centers, and acknowledging them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from engage.alerts.models import Alert, AlertStatus
from engage.db import db, utcnow
from engage.errors import Conflict, InvalidInput
from engage.instruments.model import Severity
from engage.network.models import StaffUser
from engage.people.models import Patient

# Most severe first; within a severity, the one waiting longest first.
SEVERITY_ORDER = sa.case(
    {Severity.URGENT.value: 0, Severity.HIGH.value: 1, Severity.MODERATE.value: 2},
    value=Alert.severity,
    else_=3,
)


@dataclass(frozen=True)
class InboxAlert:
    alert: Alert
    patient: Patient


def open_alerts(center_ids: Iterable[int], limit: int = 200, offset: int = 0) -> list[InboxAlert]:
    ids = list(center_ids)
    if not ids:
        return []
    rows = db.session.execute(
        sa.select(Alert, Patient)
        .join(Patient, Patient.id == Alert.patient_id)
        .where(Alert.status == AlertStatus.OPEN, Patient.center_id.in_(ids))
        .order_by(SEVERITY_ORDER, Alert.created_at, Alert.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return [InboxAlert(alert, patient) for alert, patient in rows]


def count_open_alerts(center_ids: Iterable[int]) -> int:
    ids = list(center_ids)
    if not ids:
        return 0
    return (
        db.session.scalar(
            sa.select(sa.func.count(Alert.id))
            .join(Patient, Patient.id == Alert.patient_id)
            .where(Alert.status == AlertStatus.OPEN, Patient.center_id.in_(ids))
        )
        or 0
    )


def acknowledge_alert(
    alert: Alert, staff: StaffUser, note: str, *, now: datetime | None = None
) -> Alert:
    """Record who acknowledged an alert, when, and what they did about it."""
    note = note.strip()
    if not note:
        raise InvalidInput("note", note, "say what was done (a call, a plan, nothing needed)")
    if alert.status is AlertStatus.ACKNOWLEDGED:
        raise Conflict("alert", str(alert.id), "was already acknowledged")
    alert.status = AlertStatus.ACKNOWLEDGED
    alert.acknowledged_at = now or utcnow()
    alert.acknowledged_by_id = staff.id
    alert.acknowledgement_note = note[:1000]
    return alert
