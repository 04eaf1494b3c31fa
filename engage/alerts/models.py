"""Alerts raised by red flags, for the care team to acknowledge."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from engage.db import Base, enum_column_type, utcnow
from engage.instruments.model import Severity


class AlertStatus(enum.StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        sa.UniqueConstraint("checkin_id", "red_flag_id"),
        sa.Index("ix_alerts_patient_id_status", "patient_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patients.id", ondelete="CASCADE"))
    checkin_id: Mapped[int] = mapped_column(sa.ForeignKey("checkins.id", ondelete="CASCADE"))
    red_flag_id: Mapped[str] = mapped_column(sa.String(64))
    severity: Mapped[Severity] = mapped_column(enum_column_type(Severity, "severity"))
    status: Mapped[AlertStatus] = mapped_column(
        enum_column_type(AlertStatus, "alert_status"), default=AlertStatus.OPEN
    )
    # The safety message the respondent received at once, as sent.
    safety_message: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    acknowledgement_note: Mapped[str | None] = mapped_column(sa.String(1000))
    # The center's webhook and e-mail, when configured: when told, or what went wrong.
    notified_at: Mapped[datetime | None]
    notify_attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    notify_error: Mapped[str | None] = mapped_column(sa.String(500))
