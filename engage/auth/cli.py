"""``flask engage staff …`` and ``flask engage audit``: accounts and the audit log."""

from __future__ import annotations

import sys
from dataclasses import replace
from datetime import UTC, datetime

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from engage.audit.services import AuditFilter, list_events
from engage.auth.services import issue_api_token, set_password
from engage.cli import command_unit_of_work
from engage.conversations.cli import find_patient_by_reference
from engage.db import db
from engage.errors import InvalidInput
from engage.network.models import StaffRole, StaffUser
from engage.network.services import add_staff_user, find_center, find_staff_user

staff_cli = AppGroup("staff", help="Staff accounts.")
audit_cli = AppGroup("audit", help="The audit log (read only).")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


@staff_cli.command("add")
@click.argument("email")
@click.option("--name", "full_name", required=True, help="Full name, as colleagues know it.")
@click.option(
    "--role", type=click.Choice([r.value for r in StaffRole]), required=True, help="What they do."
)
@click.option("--center", "center_codes", multiple=True, help="A center they work at (repeat).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.option(
    "--reviews-ideas", is_flag=True, help="A clinician or admin who also reviews the ideas backlog."
)
def add_command(
    email: str,
    full_name: str,
    role: str,
    center_codes: tuple[str, ...],
    password_stdin: bool,
    reviews_ideas: bool,
) -> None:
    """Create a staff account; the password is asked for twice (or read from stdin)."""
    password = read_password(password_stdin)
    with command_unit_of_work():
        centers = []
        for code in center_codes:
            center = find_center(code)
            if center is None:
                raise InvalidInput("center", code, "is not a known center")
            centers.append(center)
        if StaffRole(role) is StaffRole.CLINICIAN and not centers:
            raise InvalidInput("center", "", "a clinician needs at least one --center")
        user = add_staff_user(
            email=email, full_name=full_name, role=StaffRole(role), centers=centers
        )
        user.reviews_ideas = reviews_ideas
        set_password(user, password)
        where = f" at {', '.join(c.code for c in centers)}" if centers else ""
        also = ", reviews ideas" if reviews_ideas else ""
        click.echo(f"staff user {user.email} added ({user.role.value}{where}{also})")


@staff_cli.command("reviews-ideas")
@click.argument("email")
@click.argument("answer", type=click.Choice(["yes", "no"]))
def reviews_ideas_command(email: str, answer: str) -> None:
    """Let a clinician or admin review the ideas backlog too (yes), or stop (no)."""
    with command_unit_of_work():
        user = find_staff_user(email)
        if user is None:
            raise InvalidInput("email", email, "is not a staff user")
        user.reviews_ideas = answer == "yes"
        state = "reviews" if user.may_review_ideas else "does not review"
        click.echo(f"{user.email} ({user.role.value}) {state} ideas")


@staff_cli.command("set-password")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def set_password_command(email: str, password_stdin: bool) -> None:
    """Set a staff user's password."""
    password = read_password(password_stdin)
    with command_unit_of_work():
        user = find_staff_user(email)
        if user is None:
            raise InvalidInput("email", email, "is not a staff user")
        set_password(user, password)
        click.echo(f"password set for {user.email}")


@staff_cli.command("token")
@click.argument("email")
@click.option("--name", required=True, help="Where it is used, e.g. 'clinic laptop'.")
def token_command(email: str, name: str) -> None:
    """Issue a bearer token for the JSON API; it is shown once, and only its hash is kept."""
    with command_unit_of_work():
        user = find_staff_user(email)
        if user is None:
            raise InvalidInput("email", email, "is not a staff user")
        token = issue_api_token(user, name)
    click.echo(token)


@staff_cli.command("list")
def list_command() -> None:
    """List staff accounts."""
    with command_unit_of_work():
        for user in db.session.scalars(sa.select(StaffUser).order_by(StaffUser.email)):
            centers = ",".join(c.code for c in user.centers) or "-"
            state = "active" if user.is_active else "inactive"
            has_password = "password set" if user.password_hash else "no password"
            click.echo(f"{user.email}  {user.role.value}  {centers}  {state}  {has_password}")


@audit_cli.command("list")
@click.option("--patient", "patient_reference", help="MRN or CENTER/MRN.")
@click.option("--staff", "staff_email", help="A staff user's e-mail.")
@click.option("--action", help="e.g. view_patient, acknowledge_alert, sign_in.")
@click.option("--since", help="YYYY-MM-DD (UTC).")
@click.option("--limit", default=200, show_default=True, type=int)
def audit_list_command(
    patient_reference: str | None,
    staff_email: str | None,
    action: str | None,
    since: str | None,
    limit: int,
) -> None:
    """Audit events, newest first."""
    with command_unit_of_work():
        criteria = AuditFilter(action=action, limit=limit)
        if patient_reference:
            criteria = replace(criteria, patient_id=find_patient_by_reference(patient_reference).id)
        if staff_email:
            user = find_staff_user(staff_email)
            if user is None:
                raise InvalidInput("staff", staff_email, "is not a staff user")
            criteria = replace(criteria, staff_user_id=user.id)
        if since:
            try:
                moment = datetime.fromisoformat(since).replace(tzinfo=None)
            except ValueError:
                raise InvalidInput("since", since, "is not a date in the form YYYY-MM-DD") from None
            criteria = replace(criteria, since=moment.replace(tzinfo=UTC))
        staff_by_id = {u.id: u.email for u in db.session.scalars(sa.select(StaffUser))}
        for event in list_events(criteria):
            who = staff_by_id.get(event.staff_user_id or -1, "-")
            about = event.patient_id if event.patient_id is not None else "-"
            click.echo(
                f"{event.at:%Y-%m-%d %H:%M:%S}Z  {who}  {event.action}  patient={about}  "
                f"request={event.request_id or '-'}  {event.detail or ''}".rstrip()
            )
