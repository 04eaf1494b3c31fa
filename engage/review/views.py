"""The clinician's pages: clinic day, patient summary, alert inbox. Thin: load, check, render.

Every page that shows a patient's data writes an audit event in the same transaction.
A patient outside the clinician's centers is "not found": nothing about them leaks.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from engage.audit.services import record_event
from engage.auth.access import visible_patient as patient_visible_to
from engage.auth.web import current_staff, staff_required
from engage.db import db, unit_of_work
from engage.errors import InvalidInput
from engage.instruments.services import current_library
from engage.network.models import StaffRole, StaffUser
from engage.people.models import Contact, Patient
from engage.review.charts import Point, band_zones, score_chart
from engage.review.services import (
    acknowledge_visible_alert,
    clinic_today,
    read_alert_inbox,
    read_clinic_day,
    read_patient_summary,
)
from engage.review.summaries import PatientSummary, ScoreSeries
from engage.scheduling.input import build_schedule, parse_local_datetime
from engage.scheduling.models import Enrollment
from engage.scheduling.schedules import describe
from engage.scheduling.services import (
    add_visit,
    cancel_visit,
    end_enrollment,
    enroll,
    move_visit,
    pause_enrollment,
    resume_enrollment,
)
from engage.visits.models import Visit

bp = Blueprint("review", __name__, url_prefix="/review")


@bp.app_template_filter("local_time")
def local_time(moment: datetime | None, time_zone: str, pattern: str = "%a %d %b %Y %H:%M") -> str:
    """A stored UTC time as the clock on the wall where the patient lives."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(time_zone)).strftime(pattern)


def signed_in() -> StaffUser:
    user = current_staff()
    assert user is not None  # staff_required ran first
    return user


def visible_patient(patient_id: int) -> Patient:
    return patient_visible_to(signed_in(), patient_id)


@bp.get("/alerts")
@staff_required(StaffRole.CLINICIAN)
def alerts() -> str:
    with unit_of_work():
        inbox = read_alert_inbox(signed_in())
        page = render_template("review/alerts.html", inbox=inbox)
    return page


@bp.post("/alerts/<int:alert_id>/acknowledge")
@staff_required(StaffRole.CLINICIAN)
def acknowledge(alert_id: int) -> Response:
    try:
        with unit_of_work():
            acknowledge_visible_alert(signed_in(), alert_id, request.form.get("note", ""))
    except InvalidInput as problem:
        flash(f"Alert {alert_id}: {problem.reason}", "problem")
        return redirect(url_for("review.alerts"))
    flash(f"Alert {alert_id} acknowledged.", "done")
    return redirect(request.form.get("back") or url_for("review.alerts"))


@bp.get("/clinic-day", endpoint="clinic_day")
@staff_required(StaffRole.CLINICIAN)
def clinic_day_page() -> str:
    user = signed_in()
    day = chosen_day(request.args.get("date"), user)
    with unit_of_work():
        visits = read_clinic_day(user, day)
        centers = sorted(user.centers, key=lambda c: c.code)
        page = render_template("review/clinic_day.html", day=day, visits=visits, centers=centers)
    return page


def chosen_day(text: str | None, user: StaffUser) -> date:
    """The date asked for, or today where the clinic is."""
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            flash(f"date: {text!r} is not a date in the form YYYY-MM-DD; showing today", "problem")
    return clinic_today(user)


@bp.get("/patients/<int:patient_id>")
@staff_required(StaffRole.CLINICIAN)
def patient(patient_id: int) -> str:
    printing = request.args.get("print") == "1"
    with unit_of_work():
        action = "print_patient" if printing else "view_patient"
        summary = read_patient_summary(signed_in(), patient_id, action)
        page = render_template(
            "review/patient.html",
            summary=summary,
            charts=[chart_of(series, summary) for series in summary.series],
            printing=printing,
            instruments=list(current_library()),
        )
    return page


def chart_of(series: ScoreSeries, summary: PatientSummary) -> Markup:
    """One score's SVG chart; everything inside is escaped by the chart itself."""
    points = [
        Point(point.at, point.value, label=point.status.value if point.value is None else None)
        for point in series.points
    ]
    visits = [v.starts_at for v in (*summary.recent_visits[:1], *summary.upcoming_visits[:1])]
    return Markup(  # score_chart escapes every text it draws
        score_chart(
            points,
            minimum=series.minimum,
            maximum=series.maximum,
            bands=band_zones(series.bands),
            title=f"{series.instrument_title}: {series.label}",
            time_zone=summary.patient.time_zone,
            visits=visits,
        )
    )


# -- managing a patient's check-ins -----------------------------------------------------------
def back_to(patient_id: int) -> Response:
    return redirect(url_for("review.patient", patient_id=patient_id) + "#manage")


def managed(patient_id: int, action: str, change: Callable[[Patient], str]) -> Response:
    """Run one change for a visible patient in one unit of work; say what happened."""
    user = signed_in()
    try:
        with unit_of_work():
            target = visible_patient(patient_id)
            done = change(target)
            record_event(user, action, patient_id=patient_id, detail=done)
    except InvalidInput as problem:
        flash(f"{problem.field}: {problem.reason}", "problem")
    else:
        flash(done, "done")
    return back_to(patient_id)


SCHEDULE_FIELDS = ("weekly", "every_weeks", "on_days", "at_time", "before_visit", "once")


@bp.post("/patients/<int:patient_id>/enroll")
@staff_required(StaffRole.CLINICIAN)
def enroll_patient(patient_id: int) -> Response:
    form = request.form

    def change(target: Patient) -> str:
        kind = form.get("kind", "")
        options: dict[str, object] = {name: form.get(name) or None for name in SCHEDULE_FIELDS}
        options["daily"] = kind == "daily"
        for name in ("weekly", "every_weeks", "before_visit", "once"):
            if name != kind:
                options[name] = None
        if kind == "every_weeks":
            options["every_weeks"] = whole_number(form.get("every_weeks"), "every_weeks")
        schedule = build_schedule(target.effective_time_zone, **options)
        respondent = chosen_respondent(target, form.get("respondent"))
        enrollment = enroll(target, form.get("instrument", ""), schedule, respondent=respondent)
        return f"Enrolled in {enrollment.instrument_id}: {describe(schedule)}."

    return managed(patient_id, "enroll", change)


def whole_number(text: str | None, field: str) -> int:
    try:
        return int(text or "")
    except ValueError:
        raise InvalidInput(field, text, "is not a whole number") from None


def chosen_respondent(target: Patient, choice: str | None) -> Contact | None:
    if not choice or choice == "auto":
        return None
    contact = db.session.get(Contact, whole_number(choice, "respondent"))
    family = {c.id for c in target.contacts} | {
        c.id for link in target.caregiver_links for c in link.caregiver.contacts
    }
    if contact is None or contact.id not in family:
        raise InvalidInput("respondent", choice, "is not one of this family's phones")
    return contact


ENROLLMENT_ACTIONS = {
    "pause": (pause_enrollment, "Paused"),
    "resume": (resume_enrollment, "Resumed"),
    "end": (end_enrollment, "Ended"),
}


@bp.post("/enrollments/<int:enrollment_id>/<action>")
@staff_required(StaffRole.CLINICIAN)
def change_enrollment(enrollment_id: int, action: str) -> Response:
    if action not in ENROLLMENT_ACTIONS:
        abort(404)
    enrollment = db.session.get(Enrollment, enrollment_id)
    if enrollment is None:
        abort(404)
    apply, said = ENROLLMENT_ACTIONS[action]

    def change(_target: Patient) -> str:
        apply(enrollment)
        return f"{said} {enrollment.instrument_id}."

    return managed(enrollment.patient_id, f"{action}_enrollment", change)


@bp.post("/patients/<int:patient_id>/visits")
@staff_required(StaffRole.CLINICIAN)
def add_patient_visit(patient_id: int) -> Response:
    def change(target: Patient) -> str:
        starts_at = parse_local_datetime(request.form.get("at", ""), target.center.zone, "at")
        visit = add_visit(target, starts_at)
        return f"Visit added for {local_time(visit.starts_at, target.center.time_zone)}."

    return managed(patient_id, "add_visit", change)


@bp.post("/visits/<int:visit_id>/<action>")
@staff_required(StaffRole.CLINICIAN)
def change_visit(visit_id: int, action: str) -> Response:
    visit = db.session.get(Visit, visit_id)
    if visit is None or action not in ("move", "cancel"):
        abort(404)

    def change(target: Patient) -> str:
        if action == "cancel":
            cancel_visit(visit)
            return "Visit cancelled; its pre-visit check-ins are cancelled too."
        starts_at = parse_local_datetime(request.form.get("at", ""), target.center.zone, "at")
        move_visit(visit, starts_at)
        return f"Visit moved to {local_time(visit.starts_at, target.center.time_zone)}."

    return managed(visit.patient_id, f"{action}_visit", change)
