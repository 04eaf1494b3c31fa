"""The clinician's pages: clinic day, patient summary, alert inbox. Thin: load, check, render.

Every page that shows a patient's data writes an audit event in the same transaction.
A patient outside the clinician's centers is "not found": nothing about them leaks.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from engage.alerts.models import Alert
from engage.alerts.services import acknowledge_alert, open_alerts
from engage.audit.services import record_event
from engage.auth.access import patient_center_ids
from engage.auth.web import current_staff, staff_required
from engage.db import db, unit_of_work
from engage.errors import InvalidInput
from engage.network.models import StaffRole, StaffUser
from engage.people.models import Patient
from engage.review.charts import Point, band_zones, score_chart
from engage.review.summaries import PatientSummary, ScoreSeries, clinic_day, patient_summary

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
    patient = db.session.get(Patient, patient_id)
    if patient is None or patient.center_id not in patient_center_ids(signed_in()):
        abort(404)
    return patient


@bp.get("/alerts")
@staff_required(StaffRole.CLINICIAN)
def alerts() -> str:
    user = signed_in()
    with unit_of_work():
        inbox = open_alerts(patient_center_ids(user))
        for item in inbox:
            record_event(
                user, "view_alert", patient_id=item.patient.id, detail=f"alert {item.alert.id}"
            )
        page = render_template("review/alerts.html", inbox=inbox)
    return page


@bp.post("/alerts/<int:alert_id>/acknowledge")
@staff_required(StaffRole.CLINICIAN)
def acknowledge(alert_id: int) -> Response:
    user = signed_in()
    with unit_of_work():
        alert = db.session.get(Alert, alert_id)
        if alert is None:
            abort(404)
        visible_patient(alert.patient_id)
        try:
            acknowledge_alert(alert, user, request.form.get("note", ""))
        except InvalidInput as problem:
            flash(f"Alert {alert_id}: {problem.reason}", "problem")
            return redirect(url_for("review.alerts"))
        record_event(
            user, "acknowledge_alert", patient_id=alert.patient_id, detail=f"alert {alert.id}"
        )
    flash(f"Alert {alert_id} acknowledged.", "done")
    return redirect(request.form.get("back") or url_for("review.alerts"))


@bp.get("/clinic-day", endpoint="clinic_day")
@staff_required(StaffRole.CLINICIAN)
def clinic_day_page() -> str:
    user = signed_in()
    centers = sorted(user.centers, key=lambda c: c.code)
    day = chosen_day(request.args.get("date"), centers[0].time_zone if centers else "UTC")
    with unit_of_work():
        visits = clinic_day([c.id for c in centers if c.id in patient_center_ids(user)], day)
        for visit in visits:
            record_event(
                user, "view_clinic_day", patient_id=visit.patient_id, detail=day.isoformat()
            )
        page = render_template("review/clinic_day.html", day=day, visits=visits, centers=centers)
    return page


def chosen_day(text: str | None, time_zone: str) -> date:
    """The date asked for, or today where the clinic is."""
    if text:
        try:
            return date.fromisoformat(text)
        except ValueError:
            flash(f"date: {text!r} is not a date in the form YYYY-MM-DD; showing today", "problem")
    return datetime.now(ZoneInfo(time_zone)).date()


@bp.get("/patients/<int:patient_id>")
@staff_required(StaffRole.CLINICIAN)
def patient(patient_id: int) -> str:
    user = signed_in()
    printing = request.args.get("print") == "1"
    with unit_of_work():
        visible_patient(patient_id)
        summary = patient_summary(patient_id)
        record_event(user, "print_patient" if printing else "view_patient", patient_id=patient_id)
        page = render_template(
            "review/patient.html",
            summary=summary,
            charts=[chart_of(series, summary) for series in summary.series],
            printing=printing,
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
