"""``/api/v1/review/…``: the clinic day, a patient summary and the alert inbox as JSON.

The same rules as the pages: clinicians of a patient's center only (403 for other staff),
404 for anyone else's patient, and an audit event for every view and acknowledgement.
Errors are problem details (engage/api/problems.py). The alert inbox is a list, so it
comes a page at a time; a clinic day is one bounded day and a patient summary one
document, so neither is paged.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import g
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from engage.api import api_staff, problems
from engage.api.pagination import PageQuerySchema, offset_of, page_of, page_schema
from engage.db import unit_of_work
from engage.network.models import StaffRole, StaffUser
from engage.review.services import (
    acknowledge_visible_alert,
    clinic_today,
    count_alert_inbox,
    read_alert_inbox,
    read_clinic_day,
    read_patient_summary,
)

blp = Blueprint(
    "review_api",
    __name__,
    url_prefix="/api/v1/review",
    description="What a clinician reads before clinic.",
)


def enum_value(value: Any) -> Any:
    return getattr(value, "value", value)


class EnumValue(fields.String):
    """An enum member as its value (a string, in the document too)."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return enum_value(value)


# -- schemas ----------------------------------------------------------------------------------
class ScoreReadingSchema(Schema):
    checkin_id = fields.Integer()
    at = fields.DateTime()
    value = fields.Float(allow_none=True)
    band_id = fields.String(allow_none=True)
    band_label = fields.String(allow_none=True)


class ClinicVisitSchema(Schema):
    visit_id = fields.Integer()
    starts_at = fields.DateTime()
    local_start = fields.DateTime()
    center_code = fields.String()
    patient_id = fields.Integer()
    patient_name = fields.String()
    mrn = fields.String()
    age = fields.Integer()
    previsit = EnumValue(metadata={"description": "completed, partial, not_returned or none"})
    latest_score = fields.Nested(ScoreReadingSchema, allow_none=True)
    change = EnumValue(allow_none=True, metadata={"description": "better, worse or same"})
    open_alerts = fields.Integer()
    highest_open_severity = EnumValue(allow_none=True)


class ClinicDaySchema(Schema):
    date = fields.Date()
    visits = fields.List(fields.Nested(ClinicVisitSchema))


class ClinicDayQuerySchema(Schema):
    date = fields.Date(load_default=None, metadata={"description": "default: today at the clinic"})


class BandSchema(Schema):
    id = fields.String()
    label = fields.String()
    minimum = fields.Float()
    maximum = fields.Float()


class SeriesPointSchema(Schema):
    checkin_id = fields.Integer()
    at = fields.DateTime()
    status = EnumValue()
    value = fields.Float(allow_none=True)
    band_id = fields.String(allow_none=True)
    respondent_role = EnumValue()


class ScoreSeriesSchema(Schema):
    instrument_id = fields.String()
    instrument_title = fields.String()
    score_id = fields.String()
    label = fields.String()
    minimum = fields.Float()
    maximum = fields.Float()
    bands = fields.List(fields.Nested(BandSchema))
    points = fields.List(fields.Nested(SeriesPointSchema))


class AnswerLineSchema(Schema):
    item_id = fields.String()
    question = fields.String()
    answer = fields.String()
    status = EnumValue()
    respondent_role = EnumValue()
    respondent_name = fields.String(allow_none=True)
    answered_at = fields.DateTime()


class CheckInAnswersSchema(Schema):
    checkin_id = fields.Integer()
    instrument_id = fields.String()
    instrument_title = fields.String()
    status = EnumValue()
    opened_at = fields.DateTime(allow_none=True)
    respondent_role = EnumValue()
    answers = fields.List(fields.Nested(AnswerLineSchema))


class CommentSchema(Schema):
    question = fields.String()
    text = fields.String()
    respondent_role = EnumValue()
    answered_at = fields.DateTime()


class PrevisitSchema(Schema):
    checkin_id = fields.Integer()
    visit_id = fields.Integer(allow_none=True)
    comments = fields.List(fields.Nested(CommentSchema))


class MissedSchema(Schema):
    checkin_id = fields.Integer()
    instrument_id = fields.String()
    status = EnumValue()
    at = fields.DateTime()
    close_reason = fields.String(allow_none=True)


class AlertRecordSchema(Schema):
    alert_id = fields.Integer()
    instrument_id = fields.String()
    red_flag_id = fields.String()
    severity = EnumValue()
    status = EnumValue()
    safety_message = fields.String()
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    acknowledged_by_name = fields.String(allow_none=True)


class ConsentSchema(Schema):
    state = EnumValue()
    method = EnumValue()
    changed_at = fields.DateTime()


class PhoneSchema(Schema):
    phone = fields.String()
    owner = fields.String()
    owner_name = fields.String()
    consent = EnumValue()
    consent_history = fields.List(fields.Nested(ConsentSchema))
    paused_until = fields.DateTime(allow_none=True)
    unusable_reason = fields.String(allow_none=True)
    unreachable_failures = fields.Integer()


class HeaderSchema(Schema):
    patient_id = fields.Integer()
    name = fields.String()
    mrn = fields.String()
    age = fields.Integer()
    diagnosis = EnumValue()
    center_code = fields.String()
    time_zone = fields.String()


class PatientSummarySchema(Schema):
    patient = fields.Nested(HeaderSchema)
    series = fields.List(fields.Nested(ScoreSeriesSchema))
    latest_checkins = fields.List(fields.Nested(CheckInAnswersSchema))
    previsit = fields.Nested(PrevisitSchema, allow_none=True)
    missed = fields.List(fields.Nested(MissedSchema))
    alerts = fields.List(fields.Nested(AlertRecordSchema))
    phones = fields.List(fields.Nested(PhoneSchema))


class InboxAlertSchema(Schema):
    alert_id = fields.Integer(attribute="alert.id")
    severity = EnumValue(attribute="alert.severity")
    red_flag_id = fields.String(attribute="alert.red_flag_id")
    safety_message = fields.String(attribute="alert.safety_message")
    created_at = fields.DateTime(attribute="alert.created_at")
    patient_id = fields.Integer(attribute="patient.id")
    patient_name = fields.String(attribute="patient.display_name")
    mrn = fields.String(attribute="patient.mrn")


InboxAlertPageSchema = page_schema(InboxAlertSchema, "InboxAlertPage")


class AcknowledgeSchema(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=1000))


class AcknowledgedSchema(Schema):
    alert_id = fields.Integer(attribute="id")
    status = EnumValue()
    acknowledged_at = fields.DateTime()
    acknowledgement_note = fields.String()


# -- routes -----------------------------------------------------------------------------------
@blp.before_request
def authenticate() -> None:
    """Every route: a clinician's token or session (401, 403), before the arguments are read,
    so a stranger learns nothing from a 422."""
    api_staff(StaffRole.CLINICIAN)


def clinician() -> StaffUser:
    user: StaffUser = g.staff
    return user


@blp.route("/clinic-day")
class ClinicDay(MethodView):
    @blp.arguments(ClinicDayQuerySchema, location="query")
    @blp.response(200, ClinicDaySchema)
    @problems(blp, 403)
    def get(self, query: dict[str, Any]) -> dict[str, Any]:
        """The day's visits at the caller's centers.

        Not paged: one day of one clinician's centers is a bounded list.
        """
        user = clinician()
        day: date = query["date"] or clinic_today(user)
        with unit_of_work():
            visits = read_clinic_day(user, day)
        return {"date": day, "visits": visits}


@blp.route("/patients/<int:patient_id>")
class PatientSummaryView(MethodView):
    @blp.response(200, PatientSummarySchema)
    @problems(blp, 403)
    def get(self, patient_id: int) -> Any:
        """Everything the pre-visit summary shows about one patient."""
        user = clinician()
        with unit_of_work():
            summary = read_patient_summary(user, patient_id, detail="api")
        return summary


@blp.route("/alerts")
class Alerts(MethodView):
    @blp.arguments(PageQuerySchema, location="query")
    @blp.response(200, InboxAlertPageSchema)
    @problems(blp, 403)
    def get(self, query: dict[str, Any]) -> Any:
        """Open red-flag alerts at the caller's centers, most severe and oldest first.

        A page at a time; each alert on the page is an audited view.
        """
        user = clinician()
        page, per_page = query["page"], query["per_page"]
        with unit_of_work():
            total = count_alert_inbox(user)
            inbox = read_alert_inbox(user, limit=per_page, offset=offset_of(page, per_page))
        return page_of(inbox, total, page, per_page)


@blp.route("/alerts/<int:alert_id>/acknowledge")
class Acknowledge(MethodView):
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, AcknowledgedSchema)
    @problems(blp, 403, 409)
    def post(self, body: dict[str, Any], alert_id: int) -> Any:
        """Acknowledge an alert with a note saying what was done.

        409 ``conflict`` when it was already acknowledged; 422 for a blank note.
        """
        user = clinician()
        with unit_of_work():
            alert = acknowledge_visible_alert(user, alert_id, body["note"])
        return alert
