"""Shapes of patient data coming in from the CLI, HTTP and files."""

from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as ma

from engage import fields
from engage.people.models import Diagnosis, Language, Relationship


class NewPatientSchema(Schema):
    """A patient to add, with an optional phone of their own."""

    center = fields.Text(required=True, max_length=16)
    mrn = fields.Text(required=True, max_length=64)
    given_name = fields.Text(required=True, max_length=100)
    family_name = fields.Text(required=True, max_length=100)
    date_of_birth = fields.Day(required=True)
    diagnosis = fields.Choice(Diagnosis, required=True)
    preferred_language = fields.Choice(Language, load_default=Language.ENGLISH)
    time_zone = fields.TimeZone(load_default=None, allow_none=True)
    phone = fields.Phone(load_default=None, allow_none=True)


class NewCaregiverSchema(Schema):
    """A caregiver to add and link to a patient (by center and MRN)."""

    center = fields.Text(required=True, max_length=16)
    mrn = fields.Text(required=True, max_length=64)
    given_name = fields.Text(required=True, max_length=100)
    family_name = fields.Text(required=True, max_length=100)
    relationship = fields.Choice(Relationship, required=True)
    may_answer_as_proxy = ma.Boolean(load_default=True)
    preferred_language = fields.Choice(Language, load_default=Language.ENGLISH)
    phone = fields.Phone(required=True)
