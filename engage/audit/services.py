"""Writing and reading the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask import g, has_request_context

from engage.audit.models import AuditEvent
from engage.db import db, utcnow
from engage.network.models import StaffUser


def record_event(
    staff: StaffUser | None,
    action: str,
    *,
    patient_id: int | None = None,
    detail: str | None = None,
    at: datetime | None = None,
    contact_id: int | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction: a view and its record commit together.

    ``contact_id``: the phone a patient or parent signed in to the app with, when the
    viewer is not staff.
    """
    event = AuditEvent(
        staff_user_id=staff.id if staff is not None else None,
        contact_id=contact_id,
        patient_id=patient_id,
        action=action,
        detail=detail[:500] if detail else None,
        request_id=g.get("request_id") if has_request_context() else None,
        at=at or utcnow(),
    )
    db.session.add(event)
    return event


@dataclass(frozen=True)
class AuditFilter:
    staff_user_id: int | None = None
    patient_id: int | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int = 200


def list_events(criteria: AuditFilter) -> list[AuditEvent]:
    """Newest first."""
    query = sa.select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if criteria.staff_user_id is not None:
        query = query.where(AuditEvent.staff_user_id == criteria.staff_user_id)
    if criteria.patient_id is not None:
        query = query.where(AuditEvent.patient_id == criteria.patient_id)
    if criteria.action:
        query = query.where(AuditEvent.action == criteria.action)
    if criteria.since is not None:
        query = query.where(AuditEvent.at >= criteria.since)
    if criteria.until is not None:
        query = query.where(AuditEvent.at < criteria.until)
    return list(db.session.scalars(query.limit(criteria.limit)))
