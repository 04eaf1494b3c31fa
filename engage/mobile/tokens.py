"""App tokens: a short-lived access token and a rotating refresh token per sign-in.

Both are random strings shown once; only their SHA-256 is stored. A refresh token
is exchanged once for a new pair in the same family. Presenting a refresh token that
was already exchanged means someone else holds a copy: the whole family is revoked,
so the thief and the family's app both have to sign in again by SMS code.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from engage.auth.services import token_digest
from engage.db import db, utcnow
from engage.mobile.models import AppToken, TokenKind
from engage.people.models import Contact

ACCESS_LIFETIME = timedelta(minutes=15)
REFRESH_LIFETIME = timedelta(days=30)
ACCESS_PREFIX, REFRESH_PREFIX = "eat_", "ert_"


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds the access token lives
    family: str


class RefreshRefused(Exception):
    """The refresh token is unknown, expired, revoked or already used (then: family revoked)."""


def issue_tokens(
    contact: Contact, *, family: str | None = None, now: datetime | None = None
) -> TokenPair:
    now = now or utcnow()
    family = family or uuid.uuid4().hex
    access = ACCESS_PREFIX + secrets.token_urlsafe(32)
    refresh = REFRESH_PREFIX + secrets.token_urlsafe(32)
    for token, kind, lifetime in (
        (access, TokenKind.ACCESS, ACCESS_LIFETIME),
        (refresh, TokenKind.REFRESH, REFRESH_LIFETIME),
    ):
        db.session.add(
            AppToken(
                contact_id=contact.id,
                family=family,
                kind=kind,
                token_hash=token_digest(token),
                expires_at=now + lifetime,
                created_at=now,
            )
        )
    db.session.flush()
    return TokenPair(access, refresh, int(ACCESS_LIFETIME.total_seconds()), family)


def find_token(token: str, kind: TokenKind) -> AppToken | None:
    return db.session.scalar(
        sa.select(AppToken).where(AppToken.token_hash == token_digest(token), AppToken.kind == kind)
    )


def access_token_owner(token: str, now: datetime | None = None) -> AppToken | None:
    """The live access token row (with its contact), or None: unknown, expired or revoked."""
    now = now or utcnow()
    row = find_token(token, TokenKind.ACCESS)
    if row is None or row.revoked_at is not None or row.expires_at <= now:
        return None
    return row


def refresh_tokens(token: str, now: datetime | None = None) -> TokenPair:
    """Exchange a refresh token for a new pair; a second use revokes the whole family."""
    now = now or utcnow()
    row = find_token(token, TokenKind.REFRESH)
    if row is None:
        raise RefreshRefused("unknown refresh token")
    if row.used_at is not None:
        revoke_family(row.family, now)
        raise RefreshRefused("refresh token used twice: every token of this sign-in is revoked")
    if row.revoked_at is not None:
        raise RefreshRefused("refresh token revoked: sign in again")
    if row.expires_at <= now:
        raise RefreshRefused("refresh token expired: sign in again")
    # Marked used only if nobody else did meanwhile: of two requests racing with one
    # token, the second is a reuse (the row's read above took no lock).
    claimed = db.session.execute(
        sa.update(AppToken)
        .where(AppToken.id == row.id, AppToken.used_at.is_(None))
        .values(used_at=now)
    )
    if not getattr(claimed, "rowcount", 0):
        revoke_family(row.family, now)
        raise RefreshRefused("refresh token used twice: every token of this sign-in is revoked")
    # The access tokens issued before go too: one live pair per sign-in.
    db.session.execute(
        sa.update(AppToken)
        .where(
            AppToken.family == row.family,
            AppToken.kind == TokenKind.ACCESS,
            AppToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
    return issue_tokens(row.contact, family=row.family, now=now)


def revoke_family(family: str, now: datetime | None = None) -> int:
    """Sign out one app (one sign-in)."""
    return revoke(AppToken.family == family, now)


def revoke_contact(contact_id: int, now: datetime | None = None) -> int:
    """Sign out everywhere: every app signed in with this phone."""
    return revoke(AppToken.contact_id == contact_id, now)


def revoke(which: sa.ColumnElement[bool], now: datetime | None) -> int:
    result = db.session.execute(
        sa.update(AppToken)
        .where(which, AppToken.revoked_at.is_(None))
        .values(revoked_at=now or utcnow())
    )
    return int(getattr(result, "rowcount", 0) or 0)
