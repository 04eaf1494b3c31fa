"""``/api/v1``: a patient's check-ins in the app, answering them item by item, and the history.

Patients read their own; caregivers the children they may answer for (see ``access.py``).
Anyone else's patient or check-in is 404. Errors are problem details: a stale item is
``check-in-moved-on`` (409), a check-in no longer open ``check-in-closed`` (409).
"""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from engage.api.pagination import PageQuerySchema, page_of, page_schema
from engage.api.problems import ApiProblem
from engage.conversations.models import CheckInStatus, RespondentRole
from engage.db import unit_of_work
from engage.instruments.model import Severity
from engage.mobile.auth import app_routes, current_app_user
from engage.mobile.checkins import (
    ACTIONS,
    LISTED,
    OUTCOMES,
    AnswerRefused,
    AppAnswer,
    Page,
    answer_checkin,
    list_checkins,
    read_checkin,
    read_history,
)

blp = Blueprint(
    "app_checkins_api",
    __name__,
    url_prefix="/api/v1",
    description="Check-ins for patients and parents: open ones, answering them, history.",
)

# Ids are PostgreSQL integers: a larger number names nothing (404), not a database error.
MAX_ID = 2**31 - 1
MAX_PAGE = 100_000  # keeps the row offset within what the databases take
MAX_ANSWER_LENGTH = 1600  # what one SMS reply can carry


def readable_text(text: str) -> str:
    """What the database can store: NUL and lone surrogates become U+FFFD, as on the webhook."""
    return "".join("\ufffd" if c == "\x00" or "\ud800" <= c <= "\udfff" else c for c in text)


# -- schemas ----------------------------------------------------------------------------------
class AppPageQuerySchema(PageQuerySchema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "from 1"},
    )


class CheckInListQuerySchema(AppPageQuerySchema):
    status = fields.String(
        load_default="open",
        validate=validate.OneOf(LISTED),
        metadata={"description": "open (default), closed or all"},
    )


class HistoryQuerySchema(AppPageQuerySchema):
    instrument = fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "an instrument id, e.g. ibd-symptoms"},
    )


class AppOptionSchema(Schema):
    code = fields.String(metadata={"description": "what is stored"})
    number = fields.Integer(metadata={"description": "the number an SMS reply would use"})
    label = fields.String()


class AppAnchorSchema(Schema):
    value = fields.Integer()
    label = fields.String()


class AppQuestionSchema(Schema):
    item_id = fields.String(metadata={"description": "send it back with the answer"})
    type = fields.String(metadata={"description": "scale, choice, yes_no, integer or text"})
    text = fields.String(metadata={"description": "worded for the app user (proxy or self)"})
    options = fields.List(fields.Nested(AppOptionSchema))
    min = fields.Integer(attribute="minimum", allow_none=True)
    max = fields.Integer(attribute="maximum", allow_none=True)
    anchors = fields.List(fields.Nested(AppAnchorSchema), metadata={"description": "scale ends"})
    required = fields.Boolean()
    position = fields.Integer(metadata={"description": "this is the n-th question asked"})
    at_most = fields.Integer(metadata={"description": "questions in all; skip logic may ask fewer"})


class AppScoreSchema(Schema):
    score_id = fields.String()
    label = fields.String()
    value = fields.Float(allow_none=True)
    band_id = fields.String(allow_none=True)
    band_label = fields.String(allow_none=True)
    answered = fields.Integer(metadata={"description": "items answered that it counts"})


class AppInstrumentSchema(Schema):
    id = fields.String()
    title = fields.String()


class AppCheckInSchema(Schema):
    id = fields.Integer()
    patient_id = fields.Integer()
    instrument = fields.Nested(AppInstrumentSchema)
    status = fields.String(
        validate=validate.OneOf([s.value for s in CheckInStatus]),
        metadata={
            "description": "sent or in_progress: open, answer current_question; due: not "
            "opened yet; completed, expired, missed or cancelled: closed"
        },
    )
    respondent_role = fields.String(
        validate=validate.OneOf([r.value for r in RespondentRole]),
        metadata={"description": "whom it was sent to: the patient (self) or a caregiver (proxy)"},
    )
    due_at = fields.DateTime()
    opened_at = fields.DateTime(allow_none=True)
    expires_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    current_question = fields.Nested(
        AppQuestionSchema, allow_none=True, metadata={"description": "null unless open"}
    )
    scores = fields.List(fields.Nested(AppScoreSchema), metadata={"description": "once completed"})


AppCheckInPageSchema = page_schema(AppCheckInSchema, "AppCheckInPage")


class AppHistoryEntrySchema(Schema):
    checkin_id = fields.Integer()
    completed_at = fields.DateTime(allow_none=True)
    instrument = fields.Nested(AppInstrumentSchema)
    respondent_role = fields.String(validate=validate.OneOf([r.value for r in RespondentRole]))
    scores = fields.List(fields.Nested(AppScoreSchema))


AppHistoryPageSchema = page_schema(AppHistoryEntrySchema, "AppHistoryPage")


class AppAnswerBodySchema(Schema):
    class Meta:
        unknown = RAISE

    item_id = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "the current question's item_id, as last read", "example": "pain"},
    )
    answer = fields.String(
        validate=validate.Length(max=MAX_ANSWER_LENGTH),
        metadata={
            "description": "the answer as typed or picked: read as an SMS reply would be",
            "example": "2",
        },
    )
    action = fields.String(
        validate=validate.OneOf(list(ACTIONS)),
        metadata={"description": "skip, or back to the previous question"},
    )

    @validates_schema
    def one_of_answer_or_action(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("answer" in data) == ("action" in data):
            raise ValidationError("Send either answer or action, not both.", "_schema")


class AppRaisedFlagSchema(Schema):
    id = fields.String()
    severity = fields.String(validate=validate.OneOf([s.value for s in Severity]))
    message = fields.String(metadata={"description": "the safety message, also in messages"})


class AppAnswerResultSchema(Schema):
    outcome = fields.String(
        validate=validate.OneOf(OUTCOMES),
        metadata={
            "description": "recorded (or skipped, or back a question), asked_again (not "
            "understood: see messages), moved_on (not understood again: left unanswered), "
            "completed"
        },
    )
    messages = fields.List(
        fields.String(),
        metadata={
            "description": "what SMS would have said: re-asks, safety messages, thanks, the "
            "band; the next question is check_in.current_question"
        },
    )
    red_flags = fields.List(fields.Nested(AppRaisedFlagSchema))
    check_in = fields.Nested(AppCheckInSchema)


def page_body(page: Page) -> dict[str, Any]:
    return page_of(page.items, page.total, page.page, page.per_page)


problems = app_routes(blp)


# -- routes -----------------------------------------------------------------------------------
@blp.route(f"/patients/<int(max={MAX_ID}):patient_id>/checkins")
class PatientCheckIns(MethodView):
    @blp.arguments(CheckInListQuerySchema, location="query")
    @blp.response(200, AppCheckInPageSchema)
    @problems(404, 422)
    def get(self, query: dict[str, Any], patient_id: int) -> dict[str, Any]:
        """A patient's check-ins, newest first; open ones carry their current question."""
        user = current_app_user()
        with unit_of_work():
            page = list_checkins(user, patient_id, **query)
            return page_body(page)


@blp.route(f"/checkins/<int(max={MAX_ID}):checkin_id>")
class OneCheckIn(MethodView):
    @blp.response(200, AppCheckInSchema)
    @problems(404)
    def get(self, checkin_id: int) -> Any:
        """One check-in: its current question while open, its scores once completed."""
        user = current_app_user()
        with unit_of_work():
            return read_checkin(user, checkin_id)


@blp.route(f"/checkins/<int(max={MAX_ID}):checkin_id>/answers")
class CheckInAnswers(MethodView):
    @blp.arguments(AppAnswerBodySchema)
    @blp.response(200, AppAnswerResultSchema)
    @problems(403, 404, 409, 422)
    def post(self, body: dict[str, Any], checkin_id: int) -> AppAnswer:
        """Answer the current question, skip it, or go back one, as an SMS reply would.

        An answer that cannot be read is no error: the outcome is asked_again with the
        re-ask in messages, and after the engine's tries the question is left unanswered.
        """
        user = current_app_user()
        answer = body.get("answer")
        refused: AnswerRefused | None = None
        with unit_of_work():
            try:
                result = answer_checkin(
                    user,
                    checkin_id,
                    body["item_id"],
                    answer=readable_text(answer) if answer is not None else None,
                    action=body.get("action"),
                )
            except AnswerRefused as error:
                refused = error  # committed: a check-in past its window was closed on the way
        if refused is not None:
            raise ApiProblem(refused.slug, refused.detail)
        return result


@blp.route(f"/patients/<int(max={MAX_ID}):patient_id>/history")
class PatientHistory(MethodView):
    @blp.arguments(HistoryQuerySchema, location="query")
    @blp.response(200, AppHistoryPageSchema)
    @problems(404, 422)
    def get(self, query: dict[str, Any], patient_id: int) -> dict[str, Any]:
        """Completed check-ins with their scores and bands, newest first."""
        user = current_app_user()
        with unit_of_work():
            page = read_history(
                user,
                patient_id,
                instrument_id=query["instrument"],
                page=query["page"],
                per_page=query["per_page"],
            )
            return page_body(page)
