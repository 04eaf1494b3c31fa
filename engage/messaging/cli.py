"""``flask engage outbox``: what waits to be sent, what failed, and which phones have trouble."""

from __future__ import annotations

from datetime import datetime

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy.orm import selectinload

from engage.cli import InputRefused
from engage.conversations.cli import find_patient_by_reference
from engage.db import db
from engage.errors import InvalidInput, describe_problems
from engage.messaging.history import about_patient
from engage.messaging.models import Direction, Message, MessageStatus
from engage.people.models import CaregiverLink, Contact

# A phone this many "unreachable" failures in a row (30003, 30005) is shown as a problem.
UNREACHABLE_PROBLEM_THRESHOLD = 3
PREVIEW_LENGTH = 40

STATUS_CHOICES = {
    # A message being handed to Twilio right now is still in the outbox.
    "queued": (MessageStatus.QUEUED, MessageStatus.SUBMITTING),
    "failed": (MessageStatus.FAILED,),
    "undelivered": (MessageStatus.UNDELIVERED,),
    "cancelled": (MessageStatus.CANCELLED,),
}
DEFAULT_STATUSES = ("queued", "failed", "undelivered")


@click.command("outbox")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice([*STATUS_CHOICES, "all"]),
    help="Messages in this state (repeatable; default: queued, failed and undelivered).",
)
@click.option("--patient", "patient_reference", help="Only this patient: MRN or CENTER/MRN.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1))
@with_appcontext
def outbox_command(statuses: tuple[str, ...], patient_reference: str | None, limit: int) -> None:
    """List outbound messages waiting, failed or undelivered, newest first, then the phones
    with a delivery problem."""
    wanted = set(statuses or DEFAULT_STATUSES)
    condition: sa.ColumnElement[bool] = Message.direction == Direction.OUTBOUND
    if "all" not in wanted:
        condition = sa.and_(
            condition,
            Message.status.in_([status for name in wanted for status in STATUS_CHOICES[name]]),
        )
    patient_id = None
    if patient_reference:
        try:
            patient_id = find_patient_by_reference(patient_reference).id
        except InvalidInput as error:
            raise InputRefused(describe_problems(error.as_messages())) from None
        condition = sa.and_(condition, about_patient(patient_id))

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Message).where(condition))
    messages = db.session.scalars(
        sa.select(Message).where(condition).order_by(Message.id.desc()).limit(limit)
    ).all()
    shown = "all" if "all" in wanted else ", ".join(sorted(wanted))
    click.echo(f"{total} message(s) ({shown}); showing {len(messages)}")
    for message in messages:
        click.echo(message_line(message))

    problems = problem_contacts(patient_id, limit)
    click.echo("")
    if not problems:
        click.echo("no phone with a delivery problem")
        return
    click.echo("phones with a delivery problem:")
    for contact in problems:
        click.echo(contact_line(contact))


def message_line(message: Message) -> str:
    error = ""
    if message.error_code or message.error_message:
        error = f"  [{message.error_code or '-'}] {message.error_message or ''}".rstrip()
    return (
        f"#{message.id}  {when(message.created_at)}  {message.status.value}"
        f"  attempts {message.attempts}  next {when(message.next_attempt_at)}"
        f"  {message.phone}  {message.purpose or '-'}{error}  {preview(message.body)}"
    )


def problem_contacts(patient_id: int | None, limit: int) -> list[Contact]:
    """Phones Twilio called unusable, or unreachable too often in a row."""
    query = (
        sa.select(Contact)
        .where(
            sa.or_(
                Contact.unusable_since.is_not(None),
                Contact.unreachable_failures >= UNREACHABLE_PROBLEM_THRESHOLD,
            )
        )
        .options(selectinload(Contact.patient), selectinload(Contact.caregiver))
        .order_by(Contact.id)
        .limit(limit)
    )
    if patient_id is not None:
        caregivers = sa.select(CaregiverLink.caregiver_id).where(
            CaregiverLink.patient_id == patient_id
        )
        query = query.where(
            sa.or_(Contact.patient_id == patient_id, Contact.caregiver_id.in_(caregivers))
        )
    return list(db.session.scalars(query))


def contact_line(contact: Contact) -> str:
    problems = []
    if contact.unusable_since is not None:
        problems.append(
            f"unusable since {when(contact.unusable_since)} ({contact.unusable_reason or '-'})"
        )
    if contact.unreachable_failures >= UNREACHABLE_PROBLEM_THRESHOLD:
        problems.append(f"unreachable {contact.unreachable_failures} time(s) in a row")
    return f"{contact.phone}  {contact.owner_name}  consent {contact.sms_consent.value}  " + (
        "; ".join(problems)
    )


def when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%MZ") if moment is not None else "-"


def preview(body: str) -> str:
    text = " ".join(body.split())
    if len(text) > PREVIEW_LENGTH:
        text = text[: PREVIEW_LENGTH - 1] + "…"
    return f'"{text}"'
