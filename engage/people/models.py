"""Patients, caregivers, contacts and the history of SMS consent."""

from __future__ import annotations

import enum
from datetime import date, datetime, time
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from engage.db import Base, enum_column_type, utcnow
from engage.errors import InvalidInput
from engage.phones import is_e164
from engage.timezones import check_time_zone

if TYPE_CHECKING:
    from engage.network.models import Center, StaffUser
    from engage.visits.models import Visit


class Diagnosis(enum.StrEnum):
    CROHNS_DISEASE = "crohns_disease"
    ULCERATIVE_COLITIS = "ulcerative_colitis"
    IBD_UNCLASSIFIED = "ibd_unclassified"


class Language(enum.StrEnum):
    ENGLISH = "en"
    SPANISH = "es"


class Relationship(enum.StrEnum):
    PARENT = "parent"
    GUARDIAN = "guardian"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER = "other"


class ConsentState(enum.StrEnum):
    """Whether a number may receive check-ins by SMS."""

    PENDING = "pending"
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class ConsentMethod(enum.StrEnum):
    """How a consent change reached us."""

    KEYWORD = "keyword"
    STAFF = "staff"
    IMPORT = "import"
    APP = "app"
    CARRIER = "carrier"  # Twilio reported that the recipient replied STOP to the carrier (21610)


def age_on(born: date, day: date) -> int:
    """Age in whole years on ``day`` (a birthday on 29 February counts from 1 March)."""
    had_birthday = (day.month, day.day) >= (born.month, born.day)
    return day.year - born.year - (0 if had_birthday else 1)


class Patient(Base):
    """A child, teen or young adult cared for at a center."""

    __tablename__ = "patients"
    __table_args__ = (sa.UniqueConstraint("center_id", "mrn"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    center_id: Mapped[int] = mapped_column(sa.ForeignKey("centers.id"), index=True)
    mrn: Mapped[str] = mapped_column(sa.String(64))
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    date_of_birth: Mapped[date]
    diagnosis: Mapped[Diagnosis] = mapped_column(enum_column_type(Diagnosis, "diagnosis"))
    preferred_language: Mapped[Language] = mapped_column(
        enum_column_type(Language, "patient_language"), default=Language.ENGLISH
    )
    # None means "the center's time zone", so a center that moves takes its patients along.
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    center: Mapped[Center] = relationship(back_populates="patients")
    caregiver_links: Mapped[list[CaregiverLink]] = relationship(
        back_populates="patient", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(back_populates="patient")
    visits: Mapped[list[Visit]] = relationship(back_populates="patient")

    @validates("time_zone")
    def _check_time_zone(self, _key: str, value: str | None) -> str | None:
        return None if value is None else check_time_zone(value, field="time_zone")

    @property
    def effective_time_zone(self) -> str:
        return self.time_zone or self.center.time_zone

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.effective_time_zone)

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"

    def age_on(self, day: date) -> int:
        return age_on(self.date_of_birth, day)

    def __repr__(self) -> str:
        return f"<Patient {self.id} mrn={self.mrn}>"


class Caregiver(Base):
    """A parent or guardian who may answer for a child."""

    __tablename__ = "caregivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    given_name: Mapped[str] = mapped_column(sa.String(100))
    family_name: Mapped[str] = mapped_column(sa.String(100))
    preferred_language: Mapped[Language] = mapped_column(
        enum_column_type(Language, "caregiver_language"), default=Language.ENGLISH
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient_links: Mapped[list[CaregiverLink]] = relationship(
        back_populates="caregiver", cascade="all, delete-orphan"
    )
    contacts: Mapped[list[Contact]] = relationship(back_populates="caregiver")

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class CaregiverLink(Base):
    """A caregiver's tie to one patient; one caregiver may care for several children."""

    __tablename__ = "caregiver_links"
    __table_args__ = (sa.UniqueConstraint("patient_id", "caregiver_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    caregiver_id: Mapped[int] = mapped_column(
        sa.ForeignKey("caregivers.id", ondelete="CASCADE"), index=True
    )
    relationship_to_patient: Mapped[Relationship] = mapped_column(
        enum_column_type(Relationship, "relationship")
    )
    may_answer_as_proxy: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient] = relationship(back_populates="caregiver_links")
    caregiver: Mapped[Caregiver] = relationship(back_populates="patient_links")


class Contact(Base):
    """One phone number, owned by exactly one patient or caregiver."""

    __tablename__ = "contacts"
    __table_args__ = (
        sa.CheckConstraint(
            "(patient_id IS NULL) <> (caregiver_id IS NULL)", name="exactly_one_owner"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(16), unique=True)
    patient_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    caregiver_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("caregivers.id", ondelete="CASCADE"), index=True
    )
    # The latest entry of consent_history, kept here so senders can filter on it.
    sms_consent: Mapped[ConsentState] = mapped_column(
        enum_column_type(ConsentState, "consent_state"), default=ConsentState.PENDING
    )
    # PAUSE 7 by SMS: no new check-ins before this time.
    paused_until: Mapped[datetime | None]
    # Twilio said the number cannot take SMS (invalid, not mobile, landline): never sent to.
    unusable_since: Mapped[datetime | None]
    unusable_reason: Mapped[str | None] = mapped_column(sa.String(100))
    # Consecutive "unreachable" failures (30003, 30005); reset by a delivered message.
    unreachable_failures: Mapped[int] = mapped_column(default=0, server_default="0")
    # App preferences. SMS off: check-ins wait in the app and are not texted (sign-in codes
    # still are). Quiet hours, when set, replace the center's for this phone.
    sms_enabled: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    quiet_hours_start: Mapped[time | None] = mapped_column(sa.Time)
    quiet_hours_end: Mapped[time | None] = mapped_column(sa.Time)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    patient: Mapped[Patient | None] = relationship(back_populates="contacts")
    caregiver: Mapped[Caregiver | None] = relationship(back_populates="contacts")
    consent_history: Mapped[list[ConsentChange]] = relationship(
        back_populates="contact",
        order_by="ConsentChange.changed_at, ConsentChange.id",
        cascade="all, delete-orphan",
    )

    @validates("phone")
    def _check_phone(self, _key: str, value: str) -> str:
        if not is_e164(value):
            raise InvalidInput("phone", value, "is not a phone number in E.164 form")
        return value

    @property
    def owner_name(self) -> str:
        owner = self.patient or self.caregiver
        return owner.display_name if owner else ""

    def __repr__(self) -> str:
        return f"<Contact {self.id} {self.sms_consent.value}>"


class ConsentChange(Base):
    """One change of SMS consent: when, how, and under which consent text. Never edited."""

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[ConsentState] = mapped_column(enum_column_type(ConsentState, "consent_state"))
    method: Mapped[ConsentMethod] = mapped_column(enum_column_type(ConsentMethod, "consent_method"))
    consent_text_version: Mapped[str] = mapped_column(sa.String(32))
    changed_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("staff_users.id"))
    note: Mapped[str | None] = mapped_column(sa.String(500))

    contact: Mapped[Contact] = relationship(back_populates="consent_history")
    recorded_by: Mapped[StaffUser | None] = relationship()
