"""The mapping format and the row readers, without a database."""

import random

import pytest
import yaml

from engage.errors import InvalidInput
from engage.people.models import ConsentState, Diagnosis
from engage.phones import normalise_phone
from engage.roster.mapping import (
    DEFAULT_MAPPING,
    ValueTable,
    default_mapping,
    describe_format,
    load_mapping,
    parse_mapping,
)
from engage.roster.problems import RosterRefused
from engage.roster.reading import read_phone
from tests.roster.conftest import EXAMPLES


@pytest.mark.parametrize(
    ("code", "diagnosis"),
    [
        ("K50.00", Diagnosis.CROHNS_DISEASE),
        ("K50.90", Diagnosis.CROHNS_DISEASE),
        ("k50.111", Diagnosis.CROHNS_DISEASE),
        (" K51.50 ", Diagnosis.ULCERATIVE_COLITIS),
        ("K51.90", Diagnosis.ULCERATIVE_COLITIS),
        ("K52.3", Diagnosis.IBD_UNCLASSIFIED),
        ("K52.9", None),  # noninfective colitis, unspecified: not IBD
        ("K52.31", None),
        ("ulcerative_colitis", Diagnosis.ULCERATIVE_COLITIS),
    ],
)
def test_icd10_codes_by_prefix_in_the_default_mapping(code, diagnosis):
    assert default_mapping().diagnosis.lookup(code) is diagnosis


def test_an_exact_key_wins_over_a_pattern_and_a_longer_pattern_over_a_shorter():
    table = ValueTable({"K5*": "any", "K50*": "crohn", "K50.9": "exact"})
    assert [table.lookup(v) for v in ("K50.9", "K50.91", "K51", "X")] == [
        "exact",
        "crohn",
        "any",
        None,
    ]


def test_formats_are_described_as_people_write_them():
    assert describe_format("%d/%m/%Y") == "DD/MM/YYYY"
    assert describe_format("%m/%d/%Y %I:%M %p") == "MM/DD/YYYY hh:mm AM/PM"


def test_both_example_mappings_are_valid():
    east = load_mapping(EXAMPLES / "east-epic.yaml")
    west = load_mapping(EXAMPLES / "west-cerner.yaml")
    assert east.columns["visit_at"] == "NEXT_APPT_DTTM"
    assert east.schedules["ibd-wellbeing"]["on_days"] == "sat"  # YAML reads `on:` as true
    assert east.consent.lookup("n") is ConsentState.WITHDRAWN
    assert west.visit_time_format == "%I:%M %p"
    assert west.default_instruments == ("ibd-symptoms", "previsit")
    assert [slot.proxy for slot in west.caregivers] == [
        "Guardian 1 May Answer",
        "Guardian 2 May Answer",
    ]


def test_unquoted_yes_and_no_keys_still_mean_yes_and_no():
    data = yaml.safe_load(
        "columns: {mrn: a, given_name: b, family_name: c, date_of_birth: d, diagnosis: e}\n"
        "values:\n  consent: {yes: granted, no: withdrawn}\n  proxy: {1: true, 0: false}\n"
    )
    mapping = parse_mapping("m.yaml", data)
    assert mapping.consent.lookup("YES") is ConsentState.GRANTED
    assert mapping.proxy.lookup("0") is False


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"delimiter": ";;"}, "delimiter: Length must be 1."),
        ({"encoding": "klingon"}, "encoding: 'klingon' is not a known text encoding"),
        ({"formats": {"visit_at": "%Y-%m-%d"}}, "formats.visit_at: '%Y-%m-%d' needs hours and minutes"),
        ({"formats": {"visit_time": "%I:%M"}}, "formats.visit_time: '%I:%M': %I (12-hour clock) needs %p"),
        ({"enrollments": {"default": ["ibd-symptoms"]}}, "enrollments.default: 'ibd-symptoms' has no schedule"),
        ({"enrollments": {"schedules": {"previsit": {"before_visit": "90d"}}}},
         "enrollments.schedules.previsit.before_visit: '90d' must be between 1 minute and 60 days"),
        ({"caregivers": [{"given_name": "A"}]}, "caregivers.0.family_name: Missing data for required field."),
        ({"columns": {**DEFAULT_MAPPING["columns"], "visit_date": "D"}}, "columns.visit_at: give either visit_at"),
    ],
)  # fmt: skip
def test_a_mapping_problem_names_its_place(change, problem):
    data = {"columns": DEFAULT_MAPPING["columns"], **change}
    with pytest.raises(RosterRefused) as refused:
        parse_mapping("m.yaml", data)
    assert any(line.startswith(f"mapping m.yaml: {problem}") for line in refused.value.problems), (
        refused.value.problems
    )


def test_a_mapping_must_be_a_yaml_mapping():
    with pytest.raises(RosterRefused, match="expected a YAML mapping of settings at the top"):
        parse_mapping("m.yaml", ["columns"])


def test_reading_a_phone_gives_what_the_normaliser_gives():
    """The shortcut for plain US numbers may never disagree with ``normalise_phone``."""
    rng = random.Random(9)
    samples = [
        "(617) 555-0101", "617.555.0101", "+1 617 555 0101", "1-617-555-0101", "16175550101",
        "617-555-01011", "011 44 20 7946 0958", "+44 20 7946 0958", "(416) 555-0123",
        "+1 416 555 0123", "+1 268 464 1234", "555-0101", "000-000-0000", "123-456-7890",
        "1 800 flowers", "617 555 0101 x12", "+ 1 617 555 0101", "(787) 555-0101", "+1617555010",
    ]  # fmt: skip
    for _ in range(3000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((10, 11))))
        samples.append(rng.choice(("{}", "+{}", "1 {}")).format(digits))

    def outcome(read, text):
        try:
            return read(text, "phone", "US")
        except InvalidInput as error:
            return error.reason

    for text in samples:
        assert outcome(read_phone, text) == outcome(normalise_phone.__wrapped__, text), text
