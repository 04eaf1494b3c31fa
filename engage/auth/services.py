"""Passwords and sign-in, with throttling against guessing. Services flush, never commit."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from werkzeug.security import check_password_hash, generate_password_hash

from engage.auth.models import ApiToken, SignInAttempt
from engage.db import db, utcnow
from engage.errors import InvalidInput
from engage.network.models import StaffUser
from engage.network.services import find_staff_user

MIN_PASSWORD_LENGTH = 12
THROTTLE_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5  # then that account waits out the window
FAILURES_PER_ADDRESS = 20  # then that network address waits out the window
PASSWORD_METHOD = "scrypt"
# Checked when the e-mail is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = generate_password_hash("engage-no-such-user", method=PASSWORD_METHOD)


class SignInRefused(Exception):
    """Wrong e-mail or password (the two are not told apart), or an inactive account."""


class SignInThrottled(Exception):
    def __init__(self, retry_after: timedelta) -> None:
        super().__init__(f"too many failed sign-ins; try again in {minutes(retry_after)}")
        self.retry_after = retry_after


def minutes(delta: timedelta) -> str:
    count = max(1, int(delta.total_seconds() + 59) // 60)
    return f"{count} minute{'s' if count != 1 else ''}"


def set_password(user: StaffUser, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password", "(hidden)", f"must be at least {MIN_PASSWORD_LENGTH} characters"
        )
    if password.strip().lower() in (user.email, user.full_name.lower()):
        raise InvalidInput("password", "(hidden)", "must not be the e-mail address or the name")
    user.password_hash = generate_password_hash(password, method=PASSWORD_METHOD)


@dataclass(frozen=True)
class Throttle:
    email_failures: int
    address_failures: int
    oldest_counted: datetime | None


def recent_failures(email: str, remote_addr: str, now: datetime) -> Throttle:
    since = now - THROTTLE_WINDOW
    failed = sa.and_(SignInAttempt.succeeded.is_(False), SignInAttempt.at > since)
    by_email = db.session.execute(
        sa.select(sa.func.count(), sa.func.min(SignInAttempt.at)).where(
            failed, SignInAttempt.email == email
        )
    ).one()
    by_address = db.session.scalar(
        sa.select(sa.func.count()).where(failed, SignInAttempt.remote_addr == remote_addr)
    )
    return Throttle(by_email[0], by_address or 0, by_email[1])


def authenticate(
    email: str, password: str, remote_addr: str, now: datetime | None = None
) -> StaffUser:
    """The staff user these credentials belong to; every attempt is recorded."""
    now = now or utcnow()
    email = email.strip().lower()[:254]
    remote_addr = (remote_addr or "unknown")[:64]
    throttle = recent_failures(email, remote_addr, now)
    if throttle.email_failures >= FAILURES_PER_EMAIL or (
        throttle.address_failures >= FAILURES_PER_ADDRESS
    ):
        # Counted as a failure too: guessing on does not shorten the wait.
        db.session.add(SignInAttempt(email=email, remote_addr=remote_addr, succeeded=False, at=now))
        raise SignInThrottled(THROTTLE_WINDOW)
    user = find_staff_user(email)
    stored = user.password_hash if user is not None and user.password_hash else _DUMMY_HASH
    matches = check_password_hash(stored, password)
    succeeded = bool(user is not None and user.is_active and user.password_hash and matches)
    db.session.add(SignInAttempt(email=email, remote_addr=remote_addr, succeeded=succeeded, at=now))
    if not succeeded or user is None:
        raise SignInRefused("wrong e-mail or password")
    return user


TOKEN_PREFIX = "engage_"


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def issue_api_token(user: StaffUser, name: str, now: datetime | None = None) -> str:
    """A new bearer token for the JSON API; shown once, stored only as its hash."""
    if not name.strip():
        raise InvalidInput("name", name, "say where the token is used, e.g. 'clinic laptop'")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    db.session.add(
        ApiToken(
            staff_user_id=user.id,
            name=name.strip()[:100],
            token_hash=token_digest(token),
            created_at=now or utcnow(),
        )
    )
    return token


def staff_for_token(token: str, now: datetime | None = None) -> StaffUser | None:
    """The active staff user a bearer token belongs to, or None."""
    row = db.session.scalar(
        sa.select(ApiToken).where(
            ApiToken.token_hash == token_digest(token), ApiToken.revoked_at.is_(None)
        )
    )
    if row is None:
        return None
    user = db.session.get(StaffUser, row.staff_user_id)
    if user is None or not user.is_active:
        return None
    row.last_used_at = now or utcnow()
    return user
