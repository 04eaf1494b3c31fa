"""Sign-in codes, app tokens and the grants that let a parent keep reading an adult's data."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from engage.db import Base, enum_column_type, utcnow
from engage.people.models import Caregiver, Contact, Patient


class SignInCode(Base):
    """A 6-digit code texted for signing in. Only an HMAC of it is kept.

    A row is written for every request, known phone or not, so rate limits count
    both alike and the answer never tells whether a number is known.
    """

    __tablename__ = "sign_in_codes"
    __table_args__ = (
        sa.Index("ix_sign_in_codes_phone_created_at", "phone", "created_at"),
        sa.Index("ix_sign_in_codes_client_address_created_at", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(sa.String(32))
    # None when the phone is not a known contact: nothing is texted then.
    contact_id: Mapped[int | None] = mapped_column(sa.ForeignKey("contacts.id", ondelete="CASCADE"))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    client_address: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TokenKind(enum.StrEnum):
    ACCESS = "access"
    REFRESH = "refresh"


class AppToken(Base):
    """An access or refresh token of one signed-in app; only its SHA-256 is stored.

    Tokens of one sign-in share a ``family``. A refresh token is used once: using it
    again means it was stolen, and the whole family is revoked.
    """

    __tablename__ = "app_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    contact_id: Mapped[int] = mapped_column(
        sa.ForeignKey("contacts.id", ondelete="CASCADE"), index=True
    )
    family: Mapped[str] = mapped_column(sa.String(32), index=True)
    kind: Mapped[TokenKind] = mapped_column(enum_column_type(TokenKind, "token_kind"))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]  # a refresh token, when it was exchanged
    revoked_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    contact: Mapped[Contact] = relationship()


class ProxyGrant(Base):
    """A patient of 18 or more letting a caregiver keep access to their data."""

    __tablename__ = "proxy_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patients.id", ondelete="CASCADE"), index=True
    )
    caregiver_id: Mapped[int] = mapped_column(
        sa.ForeignKey("caregivers.id", ondelete="CASCADE"), index=True
    )
    granted_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]

    patient: Mapped[Patient] = relationship()
    caregiver: Mapped[Caregiver] = relationship()
