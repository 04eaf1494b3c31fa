"""Networks, care centers and staff users."""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from engage.db import Base, enum_column_type, utcnow
from engage.timezones import check_time_zone

if TYPE_CHECKING:
    from engage.people.models import Patient


class StaffRole(enum.StrEnum):
    CLINICIAN = "clinician"
    NETWORK_REVIEWER = "network_reviewer"
    ADMIN = "admin"


class Network(Base):
    """A learning health network: the community that shares measures and ideas."""

    __tablename__ = "networks"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    centers: Mapped[list[Center]] = relationship(back_populates="network")


center_memberships = sa.Table(
    "center_memberships",
    Base.metadata,
    sa.Column(
        "staff_user_id", sa.ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("center_id", sa.ForeignKey("centers.id", ondelete="CASCADE"), primary_key=True),
)


class Center(Base):
    """A care site; its time zone decides what 'today' and 'tonight' mean there."""

    __tablename__ = "centers"

    id: Mapped[int] = mapped_column(primary_key=True)
    network_id: Mapped[int] = mapped_column(sa.ForeignKey("networks.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(16), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    family_phone: Mapped[str | None] = mapped_column(sa.String(16))
    # No scheduled message reaches a family between these local times.
    quiet_hours_start: Mapped[time] = mapped_column(
        sa.Time, default=time(21, 0), server_default="21:00:00"
    )
    quiet_hours_end: Mapped[time] = mapped_column(
        sa.Time, default=time(8, 0), server_default="08:00:00"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    network: Mapped[Network] = relationship(back_populates="centers")
    staff: Mapped[list[StaffUser]] = relationship(
        secondary=center_memberships, back_populates="centers"
    )
    patients: Mapped[list[Patient]] = relationship(back_populates="center")

    @validates("time_zone")
    def _check_time_zone(self, _key: str, value: str) -> str:
        return check_time_zone(value, field="time_zone")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def __repr__(self) -> str:
        return f"<Center {self.code}>"


class StaffUser(Base):
    """A clinician, network reviewer or administrator."""

    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    full_name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[StaffRole] = mapped_column(enum_column_type(StaffRole, "staff_role"))
    is_active: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # A clinician or administrator who also reviews the ideas backlog (network reviewers do).
    reviews_ideas: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    # A scrypt hash (werkzeug); None until a password is set: no sign-in without one.
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    centers: Mapped[list[Center]] = relationship(
        secondary=center_memberships, back_populates="staff"
    )

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        # Addresses are compared case-insensitively, so store one spelling.
        return value.strip().lower()

    @property
    def may_review_ideas(self) -> bool:
        return self.is_active and (self.role is StaffRole.NETWORK_REVIEWER or self.reviews_ideas)

    def __repr__(self) -> str:
        return f"<StaffUser {self.email} {self.role.value}>"
