"""The weekly digest: what it says, that it goes once, and the dry run."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa

from engage.alerts.notices import SIGNATURE_HEADER, TIMESTAMP_HEADER, sign
from engage.codesign.digest import build_digest, digest_text, send_weekly_digest, week_of
from engage.codesign.models import IdeaDigest, IdeaStatus
from engage.codesign.workflow import change_status
from engage.db import db
from engage.scheduler import SYSTEM_JOBS
from tests.codesign.conftest import NOON

SECRET = "digest-secret-for-tests"
WEEK = week_of(NOON)  # Monday 23 November 2026, 00:00 UTC
NEXT_MONDAY = WEEK + timedelta(days=7, hours=9)


@pytest.fixture(autouse=True)
def clean_config(app):
    keys = ("IDEAS_DIGEST_WEBHOOK_URL", "IDEAS_DIGEST_WEBHOOK_SECRET", "IDEAS_DIGEST_EMAIL_TO",
            "IDEAS_DIGEST_EMAIL_FROM", "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")  # fmt: skip
    saved = {key: app.config.get(key) for key in keys}
    yield
    app.config.update(saved)


@pytest.fixture
def week_of_ideas(send_idea, reviewer, family):
    before = send_idea("From the week before", now=WEEK - timedelta(hours=1))
    idea = send_idea("Mateo wants lab results by text", category="communication", now=NOON)
    change_status(before, S.UNDER_REVIEW, rationale="Worth testing.", by=reviewer, now=NOON)
    return before, idea


S = IdeaStatus


def test_the_digest_lists_the_weeks_new_ideas_and_decisions_redacted(week_of_ideas):
    before, idea = week_of_ideas
    assert WEEK == datetime.fromisoformat("2026-11-23T00:00:00+00:00")
    digest = build_digest(WEEK)
    assert [i.reference for i in digest.new_ideas] == [idea.reference]
    assert [(d.reference, d.to_status) for d in digest.decisions] == [
        (before.reference, "under review")
    ]
    text = digest_text(digest)
    assert "week of Mon 23 Nov 2026 to Sun 29 Nov 2026" in text
    assert (
        f"{idea.reference} (EAST, communication, from a parent): [name] wants lab results by text"
        in text
    )
    assert f"{before.reference}: new -> under review. Why: Worth testing." in text
    assert "Mateo" not in text
    assert build_digest(WEEK + timedelta(days=7)).new_ideas == []


def test_it_goes_once_by_signed_webhook(app, week_of_ideas, webhook):
    app.config.update(IDEAS_DIGEST_WEBHOOK_URL=webhook.url, IDEAS_DIGEST_WEBHOOK_SECRET=SECRET)
    assert send_weekly_digest(NEXT_MONDAY) == "sent the digest of the week of 2026-11-23"
    assert send_weekly_digest(NEXT_MONDAY + timedelta(hours=1)).startswith("already sent")
    [(headers, body)] = webhook.received
    assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
    payload = json.loads(body)
    assert payload["event"] == "ideas.digest" and len(payload["new_ideas"]) == 1
    assert "Mateo" not in body.decode()


def test_a_failed_digest_is_tried_again(app, week_of_ideas, webhook):
    app.config.update(IDEAS_DIGEST_WEBHOOK_URL=webhook.url, IDEAS_DIGEST_WEBHOOK_SECRET=SECRET)
    webhook.answers = [503]
    assert send_weekly_digest(NEXT_MONDAY) == "failed: webhook answered HTTP 503"
    row = db.session.scalar(sa.select(IdeaDigest))
    assert row.sent_at is None and row.attempts == 1 and "503" in row.error
    assert send_weekly_digest(NEXT_MONDAY + timedelta(hours=1)).startswith("sent")
    assert len(webhook.received) == 2


def test_it_goes_by_e_mail(app, week_of_ideas, smtp):
    inbox, port = smtp
    app.config.update(
        IDEAS_DIGEST_EMAIL_TO="network-team@example.org",
        IDEAS_DIGEST_EMAIL_FROM="engage@example.org",
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_STARTTLS=False,
    )
    assert send_weekly_digest(NEXT_MONDAY).startswith("sent")
    [envelope] = inbox.messages
    assert envelope.rcpt_tos == ["network-team@example.org"]
    content = envelope.content.decode()
    assert "engage ideas digest" in content and "Mateo" not in content


def test_nothing_is_sent_or_recorded_without_a_destination(week_of_ideas):
    assert send_weekly_digest(NEXT_MONDAY).startswith("not sent: neither")
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdeaDigest)) == 0


def test_dry_run_prints_and_records_nothing(runner, week_of_ideas):
    _, idea = week_of_ideas
    result = runner.invoke(args=["engage", "ideas", "digest", "--dry-run", "--week", "2026-11-25"])
    assert result.exit_code == 0, result.output
    assert idea.reference in result.output and "Decisions (1)" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IdeaDigest)) == 0
    bad = runner.invoke(args=["engage", "ideas", "digest", "--dry-run", "--week", "last week"])
    assert bad.exit_code != 0 and "'last week' is not a date like 2026-11-23" in bad.output


def test_the_scheduler_runs_the_digest_job():
    [job] = [job for job in SYSTEM_JOBS if job.id == "send_ideas_digest"]
    assert job.every_seconds == 3600
