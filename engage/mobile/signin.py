"""Signing in to the app by phone: a 6-digit code by SMS, exchanged once for tokens.

Nothing here tells a caller whether a number belongs to a patient or a parent: every
request writes a ``SignInCode`` row (known phone or not), is rate-limited alike, and gets
the same answer; every refusal of a code has the same words. Only an HMAC of a code is
kept, keyed with the app's secret key, so a copy of the database does not sign anyone in.

Limits (counted from ``sign_in_codes`` rows, so several web workers share them):
codes per phone, 3 per 15 minutes and 10 per 24 hours; codes per client address, 10 per
15 minutes; wrong codes per client address, 30 per 15 minutes, charged to the address
that asked for the code (the table keeps no other address); 5 wrong tries kill a code.
Services flush, never commit: the caller's unit of work commits, also when a wrong code
is refused (its attempt must count).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from engage.api.problems import ApiProblem
from engage.db import db, utcnow
from engage.messaging.services import queue_outbound
from engage.mobile.models import SignInCode
from engage.mobile.tokens import TokenPair, issue_tokens
from engage.people.models import ConsentState, Contact, Language
from engage.people.services import find_contact
from engage.phones import normalise_phone

CODE_LIFETIME = timedelta(minutes=10)
CODE_DIGITS = 6
MAX_ATTEMPTS = 5  # wrong tries; then the code is dead
# (how many, within how long)
PHONE_LIMITS = ((3, timedelta(minutes=15)), (10, timedelta(hours=24)))
ADDRESS_LIMITS = ((10, timedelta(minutes=15)),)
WRONG_CODES_PER_ADDRESS = (30, timedelta(minutes=15))
PURPOSE = "sign_in_code"

CODE_SENT = "If this number can sign in, a code is on its way by text."
CODE_REFUSED = "This code is wrong, expired or used up. Ask for a new code."
SLOW_DOWN = "Too many sign-in attempts. Try again later."
CODE_TEXTS = {
    Language.ENGLISH: (
        "Your engage code is {code}. It expires in {minutes} minutes. "
        "If you did not ask for it, ignore this text."
    ),
    Language.SPANISH: (
        "Tu código de engage es {code}. Vence en {minutes} minutos. "
        "Si no lo pediste, ignora este mensaje."
    ),
}


def request_code(phone_text: str, client_address: str | None, now: datetime | None = None) -> int:
    """Text a new sign-in code to a known phone; return how many seconds codes live.

    Unknown and opted-out phones get a row too (with a hash of nothing anyone was told)
    and the same answer, so neither the answer nor the rate limits tell them apart.
    """
    now = now or utcnow()
    phone = normalise_phone(phone_text, "phone")
    address = address_of(client_address)
    by_phone, by_address = SignInCode.phone == phone, SignInCode.client_address == address
    wait = max(
        [retry_after(by_phone, limit, now) for limit in PHONE_LIMITS]
        + [retry_after(by_address, limit, now) for limit in ADDRESS_LIMITS]
    )
    if wait:
        raise rate_limited(wait)

    retire_codes(phone, now)
    contact = find_contact(phone)
    textable = contact is not None and may_text(contact)
    code = new_code()
    # A code nobody is told hashes a long random secret: no 6 digits can ever match it.
    secret = code if textable else secrets.token_urlsafe(32)
    db.session.add(
        SignInCode(
            phone=phone,
            contact_id=contact.id if contact is not None else None,
            code_hash=code_digest(phone, secret),
            client_address=address,
            expires_at=now + CODE_LIFETIME,
            created_at=now,
        )
    )
    if textable:
        assert contact is not None
        queue_outbound(
            phone=phone,
            body=code_text(contact, code),
            contact_id=contact.id,
            checkin_id=None,
            purpose=PURPOSE,
        )
    db.session.flush()
    return int(CODE_LIFETIME.total_seconds())


def verify_code(
    phone_text: str, code: str, client_address: str | None, now: datetime | None = None
) -> TokenPair:
    """Exchange the phone's live code for tokens; refuse anything else alike (401).

    A wrong try is recorded before the refusal is raised: the caller commits it.
    """
    now = now or utcnow()
    phone = normalise_phone(phone_text, "phone")
    address = address_of(client_address)
    wait = wrong_codes_retry_after(address, now)
    if wait:
        raise rate_limited(wait)

    row = db.session.scalar(
        sa.select(SignInCode)
        .where(
            SignInCode.phone == phone,
            SignInCode.used_at.is_(None),
            SignInCode.expires_at > now,
        )
        .order_by(SignInCode.created_at.desc(), SignInCode.id.desc())
        .limit(1)
        .with_for_update()  # two guesses at once both count
    )
    if row is None:
        raise ApiProblem("sign-in-code-refused", CODE_REFUSED)
    matches = hmac.compare_digest(row.code_hash, code_digest(phone, code))
    contact = db.session.get(Contact, row.contact_id) if row.contact_id is not None else None
    if not matches or row.attempts >= MAX_ATTEMPTS or contact is None:
        row.attempts += 1
        db.session.flush()
        raise ApiProblem("sign-in-code-refused", CODE_REFUSED)
    row.used_at = now
    return issue_tokens(contact, now=now)


# -- codes --------------------------------------------------------------------------------
def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def code_digest(phone: str, code: str) -> str:
    """HMAC-SHA256 of phone and code under the app's secret key (hex)."""
    key = str(current_app.config["SECRET_KEY"]).encode("utf-8")
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def retire_codes(phone: str, now: datetime) -> None:
    """A newer code replaces the phone's older ones: they expire now."""
    db.session.execute(
        sa.update(SignInCode)
        .where(
            SignInCode.phone == phone,
            SignInCode.used_at.is_(None),
            SignInCode.expires_at > now,
        )
        .values(expires_at=now)
    )


def may_text(contact: Contact) -> bool:
    """Not to a phone that opted out, nor to one Twilio said cannot take SMS."""
    return contact.sms_consent is not ConsentState.WITHDRAWN and contact.unusable_since is None


def code_text(contact: Contact, code: str) -> str:
    owner = contact.patient or contact.caregiver
    language = owner.preferred_language if owner is not None else Language.ENGLISH
    minutes = int(CODE_LIFETIME.total_seconds() // 60)
    return CODE_TEXTS[language].format(code=code, minutes=minutes)


# -- rate limits --------------------------------------------------------------------------
def address_of(client_address: str | None) -> str:
    return (client_address or "unknown")[:64]


def retry_after(
    counted: sa.ColumnElement[bool], limit: tuple[int, timedelta], now: datetime
) -> int:
    """Seconds until one more code may be asked for under this limit; 0 when it may now."""
    most, window = limit
    times = db.session.scalars(
        sa.select(SignInCode.created_at)
        .where(counted, SignInCode.created_at > now - window)
        .order_by(SignInCode.created_at.desc())
        .limit(most)
    ).all()
    if len(times) < most:
        return 0
    # The oldest of the last `most` codes must leave the window first.
    return seconds_until(times[-1] + window, now)


def wrong_codes_retry_after(address: str, now: datetime) -> int:
    """Seconds until this address may try a code again; 0 when it may now."""
    most, window = WRONG_CODES_PER_ADDRESS
    rows = db.session.execute(
        sa.select(SignInCode.created_at, SignInCode.attempts)
        .where(
            SignInCode.client_address == address,
            SignInCode.created_at > now - window,
            SignInCode.attempts > 0,
        )
        .order_by(SignInCode.created_at.desc())
    ).all()
    counted = 0
    for created_at, attempts in rows:
        counted += attempts
        if counted >= most:
            # Once this code leaves the window, the newer ones count fewer than `most`.
            return seconds_until(created_at + window, now)
    return 0


def seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def rate_limited(seconds: int) -> ApiProblem:
    return ApiProblem("rate-limited", SLOW_DOWN, headers={"Retry-After": str(seconds)})
