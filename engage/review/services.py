"""What a clinician reads and does, with its audit events: one place for pages and API.

Each function runs inside the caller's unit of work, so a view and its audit event
commit together. A patient the clinician may not see is "not found".
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from werkzeug.exceptions import NotFound

from engage.alerts.models import Alert
from engage.alerts.services import InboxAlert, acknowledge_alert, count_open_alerts, open_alerts
from engage.audit.services import record_event
from engage.auth.access import patient_center_ids, visible_patient
from engage.db import db
from engage.network.models import StaffUser
from engage.review.summaries import ClinicVisit, PatientSummary, clinic_day, patient_summary


def clinic_today(user: StaffUser) -> date:
    """Today where the clinic is (the first of the user's centers, by code)."""
    centers = sorted(user.centers, key=lambda c: c.code)
    return datetime.now(ZoneInfo(centers[0].time_zone if centers else "UTC")).date()


def read_clinic_day(user: StaffUser, day: date) -> list[ClinicVisit]:
    visits = clinic_day(sorted(patient_center_ids(user)), day)
    for visit in visits:
        record_event(user, "view_clinic_day", patient_id=visit.patient_id, detail=day.isoformat())
    return visits


def read_patient_summary(
    user: StaffUser, patient_id: int, action: str = "view_patient", detail: str | None = None
) -> PatientSummary:
    visible_patient(user, patient_id)
    summary = patient_summary(patient_id)
    record_event(user, action, patient_id=patient_id, detail=detail)
    return summary


def read_alert_inbox(user: StaffUser, *, limit: int = 200, offset: int = 0) -> list[InboxAlert]:
    """Open alerts at the user's centers, most urgent first; each one shown is audited."""
    inbox = open_alerts(patient_center_ids(user), limit=limit, offset=offset)
    for item in inbox:
        record_event(
            user, "view_alert", patient_id=item.patient.id, detail=f"alert {item.alert.id}"
        )
    return inbox


def count_alert_inbox(user: StaffUser) -> int:
    return count_open_alerts(patient_center_ids(user))


def acknowledge_visible_alert(user: StaffUser, alert_id: int, note: str) -> Alert:
    """Acknowledge an alert of a patient the user may see; InvalidInput says why not."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        raise NotFound()
    visible_patient(user, alert.patient_id)
    acknowledge_alert(alert, user, note)
    record_event(user, "acknowledge_alert", patient_id=alert.patient_id, detail=f"alert {alert.id}")
    return alert
