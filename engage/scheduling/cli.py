"""``flask engage enroll …`` and ``flask engage visit …``: schedules and visits from the shell."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from engage.cli import command_unit_of_work
from engage.conversations.cli import find_patient_by_reference
from engage.db import db
from engage.errors import InvalidInput
from engage.people.models import Patient
from engage.people.services import find_contact
from engage.phones import normalise_phone
from engage.scheduling.input import build_schedule, parse_local_datetime
from engage.scheduling.models import Enrollment
from engage.scheduling.schedules import Schedule, describe
from engage.scheduling.services import (
    add_visit,
    cancel_visit,
    change_schedule,
    end_enrollment,
    enroll,
    move_visit,
    pause_enrollment,
    resume_enrollment,
    with_time_zone,
)
from engage.visits.models import Visit

enroll_cli = AppGroup("enroll", help="Enroll patients in instruments on a schedule.")
visit_cli = AppGroup("visit", help="Visits (pre-visit check-ins are scheduled from them).")


def schedule_options(command: Any) -> Any:
    """The options that describe a schedule, shared by ``add`` and ``change``."""
    options = [
        click.option("--daily", is_flag=True, help="Every day at --at."),
        click.option("--weekly", metavar="DAYS", help="On these weekdays at --at: mon,thu."),
        click.option("--every-weeks", type=int, metavar="N", help="Every N weeks (--on, --at)."),
        click.option("--on", "on_days", metavar="DAYS", help="Weekdays for --every-weeks."),
        click.option("--at", "at_time", metavar="HH:MM", help="Local time of day: 18:00, 6pm."),
        click.option("--before-visit", metavar="DURATION", help="Before each visit: 2d, 36h."),
        click.option("--once", metavar="'YYYY-MM-DD HH:MM'", help="Once, at this local time."),
        click.option("--starts", metavar="YYYY-MM-DD", help="First day (default today)."),
        click.option("--ends", metavar="YYYY-MM-DD", help="Last day."),
        click.option("--time-zone", help="The respondent's IANA time zone (default: patient's)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def get_enrollment(enrollment_id: int) -> Enrollment:
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        raise InvalidInput("enrollment", str(enrollment_id), "is not a known enrollment")
    return enrollment


def summary(enrollment: Enrollment) -> str:
    due = enrollment.next_due_at
    when = (
        due.astimezone(ZoneInfo(enrollment.time_zone)).strftime("%Y-%m-%d %H:%M %Z")
        if due
        else "nothing due"
    )
    return (
        f"enrollment {enrollment.id}: {enrollment.patient.mrn} {enrollment.instrument_id} "
        f"({enrollment.status.value}), {describe(Schedule.from_enrollment(enrollment))}, "
        f"answered by {enrollment.contact.phone} ({enrollment.respondent_role.value}); "
        f"next: {when}"
    )


@enroll_cli.command("add")
@click.argument("patient_reference", metavar="PATIENT")
@click.argument("instrument_id", metavar="INSTRUMENT")
@click.option("--respondent", metavar="PHONE", help="The phone that answers (default: chosen).")
@schedule_options
def add_command(
    patient_reference: str, instrument_id: str, respondent: str | None, **options: Any
) -> None:
    """Enroll PATIENT (MRN or CENTER/MRN) in INSTRUMENT on a schedule."""
    with command_unit_of_work():
        patient = find_patient_by_reference(patient_reference)
        time_zone = options.pop("time_zone") or patient.effective_time_zone
        schedule = build_schedule(time_zone, **options)
        contact = None
        if respondent:
            contact = find_contact(normalise_phone(respondent, "respondent"))
            if contact is None:
                raise InvalidInput("respondent", respondent, "is not a known phone")
        enrollment = enroll(patient, instrument_id, schedule, respondent=contact)
        click.echo(summary(enrollment))


@enroll_cli.command("change")
@click.argument("enrollment_id", type=int)
@schedule_options
def change_command(enrollment_id: int, **options: Any) -> None:
    """Give an enrollment a new schedule or time zone; its next due time is recomputed."""
    with command_unit_of_work():
        enrollment = get_enrollment(enrollment_id)
        time_zone = options.pop("time_zone") or enrollment.time_zone
        kinds = ("daily", "weekly", "every_weeks", "before_visit", "once")
        if any(options.get(kind) for kind in kinds):
            schedule = build_schedule(time_zone, **options)
        else:
            # Only the time zone changes: the same schedule, in the new zone.
            schedule = with_time_zone(Schedule.from_enrollment(enrollment), time_zone)
        click.echo(summary(change_schedule(enrollment, schedule)))


@enroll_cli.command("list")
@click.argument("patient_reference", metavar="[PATIENT]", required=False)
def list_command(patient_reference: str | None) -> None:
    """List enrollments, of one patient or of everyone."""
    with command_unit_of_work():
        query = sa.select(Enrollment).order_by(Enrollment.id)
        if patient_reference:
            patient = find_patient_by_reference(patient_reference)
            query = query.where(Enrollment.patient_id == patient.id)
        enrollments = list(db.session.scalars(query))
        for enrollment in enrollments:
            click.echo(summary(enrollment))
        if not enrollments:
            click.echo("no enrollments")


def enrollment_action(name: str, action: Any, help_text: str) -> None:
    @enroll_cli.command(name, help=help_text)
    @click.argument("enrollment_id", type=int)
    def command(enrollment_id: int) -> None:
        with command_unit_of_work():
            click.echo(summary(action(get_enrollment(enrollment_id))))


enrollment_action("pause", pause_enrollment, "Pause an enrollment: nothing falls due.")
enrollment_action(
    "resume", resume_enrollment, "Resume an enrollment from now (nothing is sent late)."
)
enrollment_action("end", end_enrollment, "End an enrollment; an open check-in may still finish.")


# -- visits ----------------------------------------------------------------------------------
def get_visit(visit_id: int) -> Visit:
    visit = db.session.get(Visit, visit_id)
    if visit is None:
        raise InvalidInput("visit", str(visit_id), "is not a known visit")
    return visit


def visit_line(visit: Visit) -> str:
    local = visit.starts_at.astimezone(visit.center.zone).strftime("%Y-%m-%d %H:%M %Z")
    where = f"{visit.patient.mrn} at {visit.center.code}"
    return f"visit {visit.id}: {where} {local} ({visit.status.value})"


@visit_cli.command("add")
@click.argument("patient_reference", metavar="PATIENT")
@click.option("--at", "at_text", required=True, metavar="'YYYY-MM-DD HH:MM'", help="Center time.")
@click.option("--ref", "external_ref", help="The center's own id for the visit.")
def visit_add_command(patient_reference: str, at_text: str, external_ref: str | None) -> None:
    """Add a visit; pre-visit check-ins are scheduled from it."""
    with command_unit_of_work():
        patient: Patient = find_patient_by_reference(patient_reference)
        starts_at = parse_local_datetime(at_text, patient.center.zone, "at")
        click.echo(visit_line(add_visit(patient, starts_at, external_ref=external_ref)))


@visit_cli.command("move")
@click.argument("visit_id", type=int)
@click.option("--at", "at_text", required=True, metavar="'YYYY-MM-DD HH:MM'", help="Center time.")
def visit_move_command(visit_id: int, at_text: str) -> None:
    """Move a visit; its pre-visit check-ins move with it."""
    with command_unit_of_work():
        visit = get_visit(visit_id)
        starts_at = parse_local_datetime(at_text, visit.center.zone, "at")
        click.echo(visit_line(move_visit(visit, starts_at)))


@visit_cli.command("cancel")
@click.argument("visit_id", type=int)
def visit_cancel_command(visit_id: int) -> None:
    """Cancel a visit and its pre-visit check-ins."""
    with command_unit_of_work():
        click.echo(visit_line(cancel_visit(get_visit(visit_id))))


@visit_cli.command("list")
@click.argument("patient_reference", metavar="PATIENT")
def visit_list_command(patient_reference: str) -> None:
    """List a patient's visits."""
    with command_unit_of_work():
        patient = find_patient_by_reference(patient_reference)
        visits = db.session.scalars(
            sa.select(Visit).where(Visit.patient_id == patient.id).order_by(Visit.starts_at)
        )
        for visit in visits:
            click.echo(visit_line(visit))
