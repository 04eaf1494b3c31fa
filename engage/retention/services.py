"""The retention policy: the families' own words and old sign-in records are not kept forever.

What goes (docs/operations.md, "Retention", says the same for operators):

- the body of an inbound text older than RETENTION_INBOUND_BODY_DAYS, once its check-in is
  closed (completed, expired, missed or cancelled) or when it belongs to no check-in (keywords,
  ideas, strangers): the body is emptied and ``body_purged_at`` set. The row stays (status,
  times, Twilio SID), so a late Twilio retry is still recognised and a stranger still gets
  one reply only. The same words copied elsewhere go with it: an answer's ``raw_text`` (its
  parsed ``value`` stays, and so do scores and alerts) and a reply held for a "which child?"
  question nobody answered.
- one-time sign-in codes, once expired longer than the longest sign-in rate-limit window
  (the limits count these rows, so none that still counts is deleted);
- app tokens expired or revoked, and staff sign-in attempts, older than
  RETENTION_SESSION_DAYS;
- delivery statuses Twilio reported for a SID no message of engage's ever had, after a day.

Everything else stays: outbound texts, ideas (their own text), consent records, audit events,
revoked staff API tokens (the audit log names them).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from engage.audit.services import record_event
from engage.auth.models import SignInAttempt
from engage.conversations.models import Answer, CheckIn, CheckInStatus, ContactConversation
from engage.db import db, table_of, utcnow
from engage.messaging.models import Direction, EarlyStatusCallback, Message
from engage.mobile.models import AppToken, SignInCode
from engage.mobile.signin import ADDRESS_LIMITS, PHONE_LIMITS, WRONG_CODES_PER_ADDRESS

MESSAGES, ANSWERS, CHECKINS = table_of(Message), table_of(Answer), table_of(CheckIn)
CONVERSATIONS = table_of(ContactConversation)
SIGN_IN_CODES, APP_TOKENS = table_of(SignInCode), table_of(AppToken)
SIGN_IN_ATTEMPTS = table_of(SignInAttempt)
EARLY_STATUSES = table_of(EarlyStatusCallback)

CLOSED_STATUSES = (
    CheckInStatus.COMPLETED,
    CheckInStatus.EXPIRED,
    CheckInStatus.MISSED,
    CheckInStatus.CANCELLED,
)
# A code is every row the rate limits count, so it stays as long as the longest window.
SIGN_IN_CODE_GRACE = max(
    window for _, window in (*PHONE_LIMITS, *ADDRESS_LIMITS, WRONG_CODES_PER_ADDRESS)
)
AUDIT_ACTION = "retention.purge"
# A status callback that came before its message's SID waits this long for the SID (seconds
# in practice); after that it was for a message engage never sent.
EARLY_STATUS_GRACE = timedelta(days=1)


@dataclass(frozen=True)
class PurgedKind:
    """One kind of data: how many rows went (or would go), and the cut-off used."""

    kind: str
    label: str
    age: str  # what happened before the cut-off: "received", "expired or revoked"
    cutoff: datetime
    count: int


@dataclass(frozen=True)
class PurgeReport:
    now: datetime
    dry_run: bool
    kinds: tuple[PurgedKind, ...]

    @property
    def counts(self) -> dict[str, int]:
        return {k.kind: k.count for k in self.kinds}

    @property
    def total(self) -> int:
        return sum(k.count for k in self.kinds)


@dataclass(frozen=True)
class Rule:
    """Rows of ``table`` matching ``where`` are deleted, or updated with ``values``."""

    kind: str
    label: str
    age: str
    cutoff: datetime
    table: sa.Table
    where: sa.ColumnElement[bool]
    values: dict[str, Any] | None = None


def retention_rules(now: datetime) -> list[Rule]:
    """The policy as statements, with cut-offs from the RETENTION_* settings."""
    config = current_app.config
    texts_before = now - timedelta(days=int(config["RETENTION_INBOUND_BODY_DAYS"]))
    sessions_before = now - timedelta(days=int(config["RETENTION_SESSION_DAYS"]))
    codes_before = now - SIGN_IN_CODE_GRACE
    closed = sa.select(CHECKINS.c.id).where(CHECKINS.c.status.in_(CLOSED_STATUSES))
    return [
        Rule(
            "inbound_bodies",
            "inbound message bodies",
            "received",
            texts_before,
            MESSAGES,
            sa.and_(
                MESSAGES.c.direction == Direction.INBOUND,
                MESSAGES.c.body_purged_at.is_(None),
                MESSAGES.c.created_at < texts_before,
                sa.or_(MESSAGES.c.checkin_id.is_(None), MESSAGES.c.checkin_id.in_(closed)),
            ),
            {"body": "", "body_purged_at": now},
        ),
        Rule(
            "answer_raw_texts",
            "raw texts of answers",
            "answered",
            texts_before,
            ANSWERS,
            sa.and_(
                ANSWERS.c.raw_text.is_not(None),
                ANSWERS.c.answered_at < texts_before,
                ANSWERS.c.checkin_id.in_(closed),
            ),
            {"raw_text": None},
        ),
        Rule(
            "held_texts",
            "replies held for a which-child question",
            "held",
            texts_before,
            CONVERSATIONS,
            sa.and_(
                CONVERSATIONS.c.held_text.is_not(None),
                CONVERSATIONS.c.updated_at < texts_before,
            ),
            {"held_text": None},
        ),
        Rule(
            "sign_in_codes",
            "one-time sign-in codes",
            "expired",
            codes_before,
            SIGN_IN_CODES,
            # A used code has an expiry too: it never outlives the ten minutes it was given.
            SIGN_IN_CODES.c.expires_at < codes_before,
        ),
        Rule(
            "app_tokens",
            "app tokens",
            "expired or revoked",
            sessions_before,
            APP_TOKENS,
            sa.or_(
                APP_TOKENS.c.expires_at < sessions_before,
                APP_TOKENS.c.revoked_at < sessions_before,
            ),
        ),
        Rule(
            "early_status_callbacks",
            "delivery statuses for messages never found",
            "received",
            now - EARLY_STATUS_GRACE,
            EARLY_STATUSES,
            EARLY_STATUSES.c.received_at < now - EARLY_STATUS_GRACE,
        ),
        Rule(
            "sign_in_attempts",
            "staff sign-in attempts",
            "made",
            sessions_before,
            SIGN_IN_ATTEMPTS,
            SIGN_IN_ATTEMPTS.c.at < sessions_before,
        ),
    ]


def purge_expired_data(
    now: datetime | None = None, *, dry_run: bool = False, by: str = "scheduler"
) -> PurgeReport:
    """Purge what the retention policy no longer keeps; count it only, when ``dry_run``.

    Flushes, never commits. A purge that removed anything adds one audit event with the
    counts and cut-offs (no personal data); ``by`` says who ran it.
    """
    now = now or utcnow()
    session = db.session()
    kinds = []
    for rule in retention_rules(now):
        if dry_run:
            count = session.scalar(
                sa.select(sa.func.count()).select_from(rule.table).where(rule.where)
            )
        elif rule.values is None:
            count = rowcount(session.execute(sa.delete(rule.table).where(rule.where)))
        else:
            count = rowcount(
                session.execute(sa.update(rule.table).where(rule.where).values(**rule.values))
            )
        kinds.append(PurgedKind(rule.kind, rule.label, rule.age, rule.cutoff, int(count or 0)))
    report = PurgeReport(now=now, dry_run=dry_run, kinds=tuple(kinds))
    if not dry_run and report.total:
        record_event(None, AUDIT_ACTION, detail=f"by {by}: {summary(report)}", at=now)
    return report


def rowcount(result: sa.Result[Any]) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def summary(report: PurgeReport) -> str:
    """One line: each kind's count and cut-off, for the audit log and the scheduler's log."""
    return "; ".join(
        f"{k.kind} {k.count} (before {k.cutoff:%Y-%m-%d %H:%M}Z)" for k in report.kinds
    )


def report_lines(report: PurgeReport) -> list[str]:
    """What the purge command prints: one line per kind, with its cut-off."""
    verb = "would purge" if report.dry_run else "purged"
    lines = [
        f"{verb} {k.count:>7} {k.label} ({k.age} before {k.cutoff:%Y-%m-%d %H:%M} UTC)"
        for k in report.kinds
    ]
    if report.dry_run:
        lines.append("dry run: nothing was changed")
    elif not report.total:
        lines.append("nothing to purge")
    return lines
