"""The weekly digest of the backlog: new ideas and decisions, for the whole network.

It goes out through a signed webhook (IDEAS_DIGEST_WEBHOOK_URL) and/or e-mail
(IDEAS_DIGEST_EMAIL_TO), once a week, by a scheduler job. Weeks run Monday to Monday
in UTC. A row per week in ``idea_digests`` makes several schedulers send it once.
It holds redacted text only: it leaves the service for network-wide readers.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa
from flask import current_app

from engage.alerts.notices import NoticeFailed, post_webhook, send_email
from engage.codesign.models import Idea, IdeaDigest, IdeaStatusChange
from engage.codesign.workflow import LABELS
from engage.db import db, insert_for, table_of, unit_of_work, utcnow
from engage.network.models import Center

MAX_ATTEMPTS = 10


@dataclass(frozen=True)
class DigestIdea:
    reference: str
    text: str
    center: str | None
    category: str | None
    submitter_role: str


@dataclass(frozen=True)
class DigestDecision:
    reference: str
    from_status: str
    to_status: str
    rationale: str
    at: datetime
    centers: list[str]
    merged_into: str | None


@dataclass(frozen=True)
class Digest:
    week_start: datetime
    week_end: datetime
    new_ideas: list[DigestIdea]
    decisions: list[DigestDecision]


def week_of(moment: datetime) -> datetime:
    """The Monday 00:00 UTC that starts the week holding ``moment``."""
    day = moment.astimezone(UTC).date()
    monday = day - timedelta(days=day.weekday())
    return datetime.combine(monday, time(0), tzinfo=UTC)


def last_complete_week(now: datetime) -> datetime:
    return week_of(now) - timedelta(days=7)


def build_digest(week_start: datetime) -> Digest:
    week_end = week_start + timedelta(days=7)
    ideas = db.session.execute(
        sa.select(Idea, Center.code)
        .outerjoin(Center, Center.id == Idea.center_id)
        .where(Idea.created_at >= week_start, Idea.created_at < week_end)
        .order_by(Idea.created_at, Idea.id)
    ).all()
    changes = db.session.execute(
        sa.select(IdeaStatusChange, Idea.reference)
        .join(Idea, Idea.id == IdeaStatusChange.idea_id)
        .where(IdeaStatusChange.changed_at >= week_start, IdeaStatusChange.changed_at < week_end)
        .order_by(IdeaStatusChange.changed_at, IdeaStatusChange.id)
    ).all()
    return Digest(
        week_start=week_start,
        week_end=week_end,
        new_ideas=[
            DigestIdea(
                reference=idea.reference or "",
                text=idea.redacted_text,
                center=code,
                category=idea.category,
                submitter_role=idea.submitter_role,
            )
            for idea, code in ideas
        ],
        decisions=[
            DigestDecision(
                reference=reference or "",
                from_status=LABELS[change.from_status],
                to_status=LABELS[change.to_status],
                rationale=change.rationale,
                at=change.changed_at,
                centers=list(change.centers or []),
                merged_into=change.merged_into.reference if change.merged_into else None,
            )
            for change, reference in changes
        ],
    )


def digest_text(digest: Digest) -> str:
    last_day = digest.week_end - timedelta(days=1)
    lines = [
        f"engage ideas digest: week of {digest.week_start:%a %d %b %Y} to {last_day:%a %d %b %Y}",
        "",
        f"New ideas ({len(digest.new_ideas)})",
    ]
    if not digest.new_ideas:
        lines.append("  none this week")
    for idea in digest.new_ideas:
        where = ", ".join(
            part for part in (idea.center, idea.category, f"from a {idea.submitter_role}") if part
        )
        lines.append(f"  {idea.reference} ({where}): {idea.text}")
    lines += ["", f"Decisions ({len(digest.decisions)})"]
    if not digest.decisions:
        lines.append("  none this week")
    for decision in digest.decisions:
        change = f"{decision.from_status} -> {decision.to_status}"
        if decision.merged_into:
            change += f" {decision.merged_into}"
        if decision.centers:
            change += f" at {', '.join(decision.centers)}"
        lines.append(f"  {decision.reference}: {change}. Why: {decision.rationale}")
    base = current_app.config.get("PUBLIC_BASE_URL") or ""
    lines += ["", f"The backlog: {base}/ideas"]
    return "\n".join(lines) + "\n"


def digest_payload(digest: Digest) -> dict[str, object]:
    return {
        "event": "ideas.digest",
        "week_start": digest.week_start.isoformat(),
        "week_end": digest.week_end.isoformat(),
        "new_ideas": [
            {
                "reference": i.reference,
                "text": i.text,
                "center": i.center,
                "category": i.category,
                "submitter_role": i.submitter_role,
            }
            for i in digest.new_ideas
        ],
        "decisions": [
            {
                "reference": d.reference,
                "from_status": d.from_status,
                "to_status": d.to_status,
                "rationale": d.rationale,
                "at": d.at.isoformat(),
                "centers": d.centers,
                "merged_into": d.merged_into,
            }
            for d in digest.decisions
        ],
    }


def digest_configured() -> bool:
    config = current_app.config
    return bool(config.get("IDEAS_DIGEST_WEBHOOK_URL") or config.get("IDEAS_DIGEST_EMAIL_TO"))


def deliver(digest: Digest) -> None:
    config = current_app.config
    if config.get("IDEAS_DIGEST_WEBHOOK_URL"):
        post_webhook(
            config["IDEAS_DIGEST_WEBHOOK_URL"],
            config["IDEAS_DIGEST_WEBHOOK_SECRET"],
            digest_payload(digest),
        )
    if config.get("IDEAS_DIGEST_EMAIL_TO"):
        send_email(
            subject=f"engage ideas digest, week of {digest.week_start:%d %b %Y}",
            text=digest_text(digest),
            prefix="IDEAS_DIGEST",
        )


def send_weekly_digest(now: datetime | None = None, week_start: datetime | None = None) -> str:
    """Send the digest of the last complete week (or of ``week_start``) once; say what happened."""
    if not digest_configured():
        return "not sent: neither IDEAS_DIGEST_WEBHOOK_URL nor IDEAS_DIGEST_EMAIL_TO is set"
    now = now or utcnow()
    week = week_start or last_complete_week(now)
    with unit_of_work():
        connection = db.session.connection()
        insert = insert_for(connection)
        connection.execute(
            insert(table_of(IdeaDigest))
            .values(week_start=week, attempts=0, created_at=now)
            .on_conflict_do_nothing(index_elements=["week_start"])
        )
        row = db.session.scalars(
            sa.select(IdeaDigest)
            .where(IdeaDigest.week_start == week)
            .with_for_update(skip_locked=True)
        ).first()
        if row is None:
            return "not sent: another scheduler is sending it"
        if row.sent_at is not None:
            return f"already sent at {row.sent_at:%Y-%m-%d %H:%M} UTC"
        if row.attempts >= MAX_ATTEMPTS:
            return f"not sent: gave up after {row.attempts} attempts ({row.error})"
        row.attempts += 1
        try:
            deliver(build_digest(week))
        except NoticeFailed as failure:
            row.error = str(failure)[:500]
            return f"failed: {failure}"
        row.sent_at, row.error = now, None
    return f"sent the digest of the week of {week:%Y-%m-%d}"
