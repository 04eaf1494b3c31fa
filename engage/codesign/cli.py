"""``flask engage ideas …``: the backlog from a terminal, and the weekly digest."""

from __future__ import annotations

from datetime import UTC, datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from engage.cli import command_unit_of_work
from engage.codesign.digest import (
    build_digest,
    digest_text,
    last_complete_week,
    send_weekly_digest,
    week_of,
)
from engage.codesign.models import Idea, IdeaStatus
from engage.codesign.workflow import LABELS
from engage.db import db, utcnow
from engage.errors import InvalidInput

ideas_cli = AppGroup("ideas", help="The co-design backlog of ideas.")


@ideas_cli.command("list")
@click.option(
    "--status", "statuses", multiple=True, type=click.Choice([s.value for s in IdeaStatus])
)
@click.option("--limit", default=50, show_default=True, type=int)
def list_command(statuses: tuple[str, ...], limit: int) -> None:
    """Newest ideas first, with their redacted text."""
    query = sa.select(Idea).order_by(Idea.created_at.desc(), Idea.id.desc()).limit(limit)
    if statuses:
        query = query.where(Idea.status.in_([IdeaStatus(s) for s in statuses]))
    ideas = db.session.scalars(query).all()
    if not ideas:
        click.echo("no ideas")
    for idea in ideas:
        click.echo(
            f"{idea.reference}  {idea.created_at:%Y-%m-%d}  {LABELS[idea.status]:<20}  "
            f"{idea.redacted_text[:80]}"
        )


@ideas_cli.command("digest")
@click.option("--dry-run", is_flag=True, help="Print the digest; send and record nothing.")
@click.option("--week", help="A date (YYYY-MM-DD) in the week to digest; default: last week.")
def digest_command(dry_run: bool, week: str | None) -> None:
    """The weekly digest of new ideas and decisions (weeks run Monday to Monday, UTC)."""
    with command_unit_of_work():
        start = week_start(week)
    if dry_run:
        click.echo(digest_text(build_digest(start)), nl=False)
        return
    click.echo(send_weekly_digest(week_start=start))


def week_start(value: str | None) -> datetime:
    if value is None:
        return last_complete_week(utcnow())
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("week", value, "is not a date like 2026-11-23") from None
    return week_of(day)
