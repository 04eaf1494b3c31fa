from datetime import date

import pytest
from marshmallow import ValidationError

from engage.errors import describe_problems
from engage.people.models import Diagnosis, Language
from engage.people.schemas import NewCaregiverSchema, NewPatientSchema

VALID = {
    "center": "EAST",
    "mrn": "E-1",
    "given_name": "Mia",
    "family_name": "Thompson",
    "date_of_birth": "2020-03-14",
    "diagnosis": "crohns_disease",
}


def problems(schema, data):
    with pytest.raises(ValidationError) as refused:
        schema.load(data)
    return describe_problems(refused.value.messages)


def test_a_valid_patient_loads_to_plain_python():
    loaded = NewPatientSchema().load(
        {**VALID, "phone": "617 555 0101", "diagnosis": "Ulcerative_Colitis"}
    )
    assert loaded["date_of_birth"] == date(2020, 3, 14)
    assert loaded["diagnosis"] is Diagnosis.ULCERATIVE_COLITIS
    assert loaded["preferred_language"] is Language.ENGLISH
    assert loaded["phone"] == "+16175550101"
    assert loaded["time_zone"] is None


@pytest.mark.parametrize("field", ["center", "mrn", "given_name", "family_name", "date_of_birth"])
def test_a_missing_required_field_is_named(field):
    data = {k: v for k, v in VALID.items() if k != field}
    assert problems(NewPatientSchema(), data) == [f"{field}: Missing data for required field."]


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("phone", "555-0101", "phone: '555-0101' is not a valid phone number"),
        ("time_zone", "Mars/Olympus", "time_zone: 'Mars/Olympus' is not a known IANA time zone"),
        ("date_of_birth", "14/03/2020", "date_of_birth: '14/03/2020' is not a date"),
        ("diagnosis", "crohns", "diagnosis: 'crohns' is not one of: crohns_disease"),
        ("preferred_language", "fr", "preferred_language: 'fr' is not one of: en, es"),
        ("mrn", "   ", "mrn: must not be blank."),
    ],
)
def test_bad_values_are_refused_with_field_and_value(field, value, expected):
    [line] = problems(NewPatientSchema(), {**VALID, field: value})
    assert line.startswith(expected), line


def test_every_problem_is_reported_at_once():
    lines = problems(NewPatientSchema(), {**VALID, "phone": "x", "time_zone": "y"})
    assert len(lines) == 2


def test_a_caregiver_needs_a_phone():
    data = {
        "center": "EAST",
        "mrn": "E-1",
        "given_name": "Laura",
        "family_name": "Thompson",
        "relationship": "parent",
    }
    assert problems(NewCaregiverSchema(), data) == ["phone: Missing data for required field."]
