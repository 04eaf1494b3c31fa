"""Audit events. Nothing in the service updates or deletes them."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, utcnow


class AuditEvent(Base):
    """Who did what to (or saw) whose data, when, in which request."""

    __tablename__ = "audit_events"
    __table_args__ = (
        sa.Index("ix_audit_events_patient_id_at", "patient_id", "at"),
        sa.Index("ix_audit_events_staff_user_id_at", "staff_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    # A patient or parent using the app (the phone they signed in with), when not staff.
    contact_id: Mapped[int | None]
    # No foreign key: the record of a view outlives the patient's row.
    patient_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(sa.String(64))
    detail: Mapped[str | None] = mapped_column(sa.String(500))
    request_id: Mapped[str | None] = mapped_column(sa.String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)
