"""``/api/v1/me…``: the signed-in phone's own page of the app.

Who is signed in, the patients the phone may read, an adult patient's grants to their
caregivers, the ideas the phone sent or follows (and sending one), and its preferences.

Every route needs a live app access token (401 before anything else is read). Every read
or change of a patient's data is audit-logged with the phone as the viewer. Errors are
``application/problem+json`` (see engage/api/problems.py).

Preferences, as the app sees them:

- ``preferred_time`` is not stored apart: it is the local time of the active recurring
  schedules whose texts go to this phone. Setting it moves all of them (their days stay);
  reading it gives that time, or null when there are none or they differ (``check_in_times``
  lists each). null in a change leaves them as the care team set them.
- ``paused_until`` is a date in the phone's time zone (its patient's; a caregiver's first
  linked child's): no check-ins through the end of that day, stored as the next local
  midnight. Today up to 90 days ahead, as PAUSE 1..90 by SMS, which it shares its effect
  with (open check-ins cancelled). A pause set by SMS shows as the date it ends on.
- ``sms_enabled`` false is no withdrawal of consent: check-ins still open in the app.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, ValidationError, fields, validate

from engage.api.pagination import (
    PageQuerySchema,
    PageSchema,
    cut,
    offset_of,
    page_of,
    page_schema,
)
from engage.audit.services import record_event
from engage.codesign.models import IDEA_CATEGORIES, IdeaCredit, IdeaStatus
from engage.codesign.services import MAX_IDEA_LENGTH, MAX_WHO_LENGTH
from engage.conversations.services import MAX_PAUSE_DAYS
from engage.db import unit_of_work
from engage.errors import InvalidInput
from engage.fields import Choice
from engage.mobile.access import AppUser
from engage.mobile.auth import app_routes, current_app_user
from engage.mobile.auth_api import masked
from engage.mobile.services import (
    QuietHours,
    caregiver_choices,
    change_preferences,
    describe_me,
    grant_proxy,
    my_ideas,
    my_patients,
    own_patient,
    read_preferences,
    revoke_proxy,
    send_idea,
)
from engage.people.models import Language

blp = Blueprint(
    "app_api",
    __name__,
    url_prefix="/api/v1",
    description="The signed-in phone: who it is, whose data it reads, its ideas and preferences.",
)

MAX_ID = 2**31 - 1  # ids are 32-bit integers: a larger one is not found, not an error
MAX_PAGE = 100_000  # keeps the row offset within what the databases take
HH_MM = re.compile(r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$")
CATEGORIES_TEXT = ", ".join(IDEA_CATEGORIES)


# -- fields -----------------------------------------------------------------------------------
class StrictBoolean(fields.Boolean):
    """JSON true or false only: not "yes", not 1."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class StrictInteger(fields.Integer):
    """A JSON integer: not "12", not 12.5, not true."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid", input=value)
        return super()._deserialize(value, attr, data, **kwargs)


class LocalTime(fields.String):
    """A local time of day as "HH:MM" (24-hour clock)."""

    def __init__(self, **kwargs: Any) -> None:
        # Checked in _deserialize: a validator would see the time, not the text.
        metadata = kwargs.setdefault("metadata", {})
        metadata.setdefault("pattern", HH_MM.pattern)
        metadata.setdefault("example", "18:30")
        super().__init__(**kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.strftime("%H:%M")

    def _deserialize(  # type: ignore[override]  # a time, from its text
        self, value: Any, attr: str | None, data: Any, **kwargs: Any
    ) -> time:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not HH_MM.match(text):
            raise ValidationError(f"{text!r} is not a time of day as HH:MM, such as '18:30'.")
        return time(int(text[:2]), int(text[3:]))


class MaskedPhone(fields.String):
    """A phone number shown with its last four digits only."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else masked(value)


# -- schemas ----------------------------------------------------------------------------------
class BodySchema(Schema):
    """A request body: a field the API does not know is refused, not ignored."""

    class Meta:
        unknown = RAISE


class AppPageQuerySchema(PageQuerySchema):
    page = fields.Integer(
        load_default=1,
        validate=validate.Range(min=1, max=MAX_PAGE),
        metadata={"description": "from 1"},
    )


class MeSchema(Schema):
    role = fields.String(metadata={"enum": ["patient", "caregiver"]})
    first_name = fields.String()
    language = fields.String(metadata={"enum": [x.value for x in Language]})
    phone = MaskedPhone(metadata={"description": "masked: the last 4 digits only"})
    sms_enabled = fields.Boolean()
    paused_until = fields.Date(
        allow_none=True, metadata={"description": "the last local date check-ins are paused"}
    )
    resumes_at = fields.DateTime(allow_none=True, metadata={"description": "when they resume"})
    patient_id = fields.Integer(
        allow_none=True, metadata={"description": "the patient's own id; null for a caregiver"}
    )


class PatientEntrySchema(Schema):
    id = fields.Integer()
    first_name = fields.String()
    age = fields.Integer()
    center_name = fields.String()
    access = fields.String(
        metadata={
            "enum": ["self", "proxy", "proxy_granted"],
            "description": "self: the patient's own phone; proxy: a caregiver of a child; "
            "proxy_granted: a caregiver an adult patient granted access",
        }
    )


class CaregiverEntrySchema(Schema):
    id = fields.Integer(metadata={"description": "the caregiver's id, for granting"})
    first_name = fields.String()
    relationship = fields.String(metadata={"description": "parent, guardian, ..."})
    may_answer_as_proxy = fields.Boolean(
        metadata={"description": "the care team lets them answer for the patient"}
    )
    has_access = fields.Boolean(metadata={"description": "may read the patient's data now"})
    granted_at = fields.DateTime(
        allow_none=True, metadata={"description": "when the patient's live grant was given"}
    )


class GrantSchema(BodySchema):
    caregiver_id = StrictInteger(required=True, validate=validate.Range(min=1, max=MAX_ID))


PatientPageSchema = page_schema(PatientEntrySchema, "AppPatientPage")
# A patient decides who reads their data only from 18; before, the page shows who does.
ProxyGrantPageSchema = PageSchema.from_dict(
    {
        "items": fields.List(fields.Nested(CaregiverEntrySchema), required=True),
        "may_grant": fields.Boolean(
            required=True,
            metadata={"description": "the patient is 18 or more: they grant and revoke"},
        ),
    },
    name="ProxyGrantPage",
)


class IdeaStepSchema(Schema):
    to_status = Choice(IdeaStatus)
    label = fields.String()
    rationale = fields.String(metadata={"description": "why, as the network texted it"})
    at = fields.DateTime()


class MyIdeaSchema(Schema):
    reference = fields.String(metadata={"example": "I-1042"})
    relation = fields.String(
        metadata={
            "enum": ["submitted", "following"],
            "description": "following: an idea that one of this phone's was merged into",
        }
    )
    text = fields.String(
        metadata={"description": "the family's own words; an idea they follow: redacted"}
    )
    who_it_helps = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    credit = fields.String(allow_none=True, metadata={"enum": [x.value for x in IdeaCredit]})
    may_contact = fields.Boolean(allow_none=True)
    status = Choice(IdeaStatus)
    status_label = fields.String()
    merged_into = fields.String(allow_none=True)
    created_at = fields.DateTime()
    status_changed_at = fields.DateTime()
    history = fields.List(fields.Nested(IdeaStepSchema))


IdeaPageSchema = page_schema(MyIdeaSchema, "MyIdeaPage")


class NewIdeaSchema(BodySchema):
    text = fields.String(
        required=True,
        validate=validate.Length(max=MAX_IDEA_LENGTH),
        metadata={"description": "the idea in the family's words (not blank)"},
    )
    category = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=64),
        metadata={"description": f"one of {CATEGORIES_TEXT}"},
    )
    who_it_helps = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_WHO_LENGTH)
    )
    may_contact = StrictBoolean(
        load_default=None,
        allow_none=True,
        metadata={"description": "the network may contact the family about it"},
    )
    credit = fields.String(
        load_default=IdeaCredit.ANONYMOUS.value,
        validate=validate.OneOf([x.value for x in IdeaCredit]),
        metadata={"description": "how the family is named when the idea is shared"},
    )


class QuietHoursSchema(BodySchema):
    start = LocalTime(
        required=True, metadata={"description": "texts wait from", "example": "21:00"}
    )
    end = LocalTime(required=True, metadata={"description": "until", "example": "08:00"})


class EffectiveQuietHoursSchema(Schema):
    start = LocalTime()
    end = LocalTime()
    source = fields.String(metadata={"enum": ["phone", "center"]})


class PreferencesSchema(Schema):
    preferred_time = LocalTime(
        allow_none=True,
        metadata={
            "description": "the local time recurring check-ins are sent; null when there are "
            "none, or when they go at different times (see check_in_times)"
        },
    )
    check_in_times = fields.List(
        LocalTime(), metadata={"description": "each local time a recurring check-in goes at"}
    )
    time_zone = fields.String(metadata={"description": "the zone these times are read in"})
    quiet_hours = fields.Nested(
        QuietHoursSchema, allow_none=True, metadata={"description": "null: the center's"}
    )
    effective_quiet_hours = fields.Nested(
        EffectiveQuietHoursSchema,
        allow_none=True,
        metadata={"description": "the hours the texts wait out"},
    )
    language = fields.String(metadata={"enum": [x.value for x in Language]})
    paused_until = fields.Date(
        allow_none=True, metadata={"description": "the last local date check-ins are paused"}
    )
    resumes_at = fields.DateTime(allow_none=True)
    sms_enabled = fields.Boolean()


class PreferencesPatchSchema(BodySchema):
    preferred_time = LocalTime(
        allow_none=True,
        metadata={
            "description": "HH:MM: every recurring check-in of this phone goes at this local "
            "time, on its usual days (409 when there are none). null: no change"
        },
    )
    quiet_hours = fields.Nested(
        QuietHoursSchema,
        allow_none=True,
        metadata={"description": "texts wait while it is quiet; null: the center's hours"},
    )
    language = fields.String(validate=validate.OneOf([x.value for x in Language]))
    paused_until = fields.Date(
        allow_none=True,
        metadata={
            "description": "no check-ins through the end of this local date (today to "
            f"{MAX_PAUSE_DAYS} days ahead); open ones are cancelled. null: resume"
        },
    )
    sms_enabled = StrictBoolean(
        metadata={
            "description": "false: check-ins wait in the app, not texted (sign-in codes still "
            "are); not a withdrawal of consent"
        }
    )


# -- the caller -------------------------------------------------------------------------------
problems = app_routes(blp)


def audit(user: AppUser, action: str, patient_id: int | None, detail: str | None = None) -> None:
    record_event(None, action, patient_id=patient_id, detail=detail, contact_id=user.contact.id)


# -- routes -----------------------------------------------------------------------------------
@blp.route("/me")
class MeView(MethodView):
    @blp.response(200, MeSchema)
    @problems()
    def get(self) -> Any:
        """Who is signed in: role, first name, language, the phone (masked) and its pause."""
        with unit_of_work():
            user = current_app_user()
            me = describe_me(user)
            audit(user, "app.view_me", user.contact.patient_id)
        return me


@blp.route("/me/patients")
class MyPatients(MethodView):
    @blp.arguments(AppPageQuerySchema, location="query")
    @blp.response(200, PatientPageSchema)
    @problems(422)
    def get(self, query: dict[str, Any]) -> Any:
        """The patients this phone may read, and why: their own, or a child's as caregiver.

        A caregiver sees a patient of 18 or more only while that patient grants it.
        """
        with unit_of_work():
            user = current_app_user()
            page = cut(my_patients(user), query["page"], query["per_page"])
            for entry in page["items"]:
                audit(user, "app.list_patients", entry.id)
        return page


@blp.route("/me/proxy-grants")
class ProxyGrants(MethodView):
    @blp.arguments(AppPageQuerySchema, location="query")
    @blp.response(200, ProxyGrantPageSchema)
    @problems(403, 422)
    def get(self, query: dict[str, Any]) -> Any:
        """A patient's linked caregivers: whether each may read their data, and the grants.

        From 18 a caregiver reads the patient's data only with the patient's grant.
        403 for a caregiver's phone.
        """
        with unit_of_work():
            user = current_app_user()
            choices = caregiver_choices(user)
            page = cut(choices.caregivers, query["page"], query["per_page"])
            audit(user, "app.view_proxy_grants", own_patient(user).id)
        return {**page, "may_grant": choices.may_grant}

    @blp.arguments(GrantSchema)
    @blp.response(201, CaregiverEntrySchema)
    @problems(403, 404, 409, 422)
    def post(self, body: dict[str, Any]) -> Any:
        """Let a linked caregiver read the patient's data: patients of 18 or more only (403).

        404 for a caregiver not linked to the patient; 409 when already granted, or when
        the care team has not let that caregiver answer for the patient.
        """
        caregiver_id = body["caregiver_id"]
        with unit_of_work():
            user = current_app_user()
            entry = grant_proxy(user, caregiver_id)
            audit(user, "app.grant_proxy", own_patient(user).id, f"caregiver {caregiver_id}")
        return entry


@blp.route(f"/me/proxy-grants/<int(max={MAX_ID}):caregiver_id>")
class ProxyGrantView(MethodView):
    @blp.response(204)
    @problems(403, 404)
    def delete(self, caregiver_id: int) -> None:
        """Revoke a caregiver's grant: from now on they no longer read the patient's data.

        404 when that caregiver is not linked or has no live grant.
        """
        with unit_of_work():
            user = current_app_user()
            revoke_proxy(user, caregiver_id)
            audit(user, "app.revoke_proxy", own_patient(user).id, f"caregiver {caregiver_id}")


@blp.route("/me/ideas")
class MyIdeas(MethodView):
    @blp.arguments(AppPageQuerySchema, location="query")
    @blp.response(200, IdeaPageSchema)
    @problems(422)
    def get(self, query: dict[str, Any]) -> Any:
        """The ideas this phone sent or follows, newest first, with what became of them."""
        page, per_page = query["page"], query["per_page"]
        with unit_of_work():
            user = current_app_user()
            ideas, total = my_ideas(user.contact, offset_of(page, per_page), per_page)
            audit(user, "app.view_ideas", user.contact.patient_id)
        return page_of(ideas, total, page, per_page)

    @blp.arguments(NewIdeaSchema)
    @blp.response(201, MyIdeaSchema)
    @problems(422)
    def post(self, body: dict[str, Any]) -> Any:
        """Send an idea to the network's co-design backlog; its reference acknowledges it.

        422 for a blank or too long text, or an unknown category.
        """
        with unit_of_work():
            user = current_app_user()
            idea = send_idea(
                user,
                body["text"],
                category=body["category"],
                who_it_helps=body["who_it_helps"],
                may_contact=body["may_contact"],
                credit=IdeaCredit(body["credit"]),
            )
            audit(user, "app.submit_idea", user.contact.patient_id, idea.reference)
        return idea


@blp.route("/me/preferences")
class MyPreferences(MethodView):
    @blp.response(200, PreferencesSchema)
    @problems()
    def get(self) -> Any:
        """When and how check-ins reach this phone."""
        with unit_of_work():
            user = current_app_user()
            preferences = read_preferences(user.contact)
            audit(user, "app.view_preferences", user.contact.patient_id)
        return preferences

    @blp.arguments(PreferencesPatchSchema)
    @blp.response(200, PreferencesSchema)
    @problems(409, 422)
    def patch(self, body: dict[str, Any]) -> Any:
        """Change some preferences; a field left out stays as it is. Answers them all.

        409 for a preferred time when no recurring check-ins go to this phone; 422 for
        quiet hours that start when they end, or a pause date in the past or more than
        90 days ahead.
        """
        if not request.get_data(cache=True).strip():
            raise InvalidInput("body", "", "is missing: send the preferences to change, as JSON")
        changes = dict(body)
        if changes.get("quiet_hours") is not None:
            hours = changes["quiet_hours"]
            changes["quiet_hours"] = QuietHours(hours["start"], hours["end"])
        with unit_of_work():
            user = current_app_user()
            moved = change_preferences(user.contact, changes)
            given = sorted(k for k, v in changes.items() if k != "preferred_time" or v is not None)
            detail = "changed: " + (", ".join(given) or "nothing")
            audit(user, "app.change_preferences", user.contact.patient_id, detail)
            # A caregiver's preferred time moves their children's schedules: theirs too.
            for patient_id in sorted({p.id for p in moved} - {user.contact.patient_id}):
                audit(user, "app.change_preferences", patient_id, "changed: preferred_time")
            preferences = read_preferences(user.contact)
        return preferences
