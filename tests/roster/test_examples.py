"""The two example rosters import, re-import with no change, and a dry run writes nothing."""

from datetime import UTC, date, datetime

import sqlalchemy as sa

from engage.people.models import (
    CaregiverLink,
    ConsentMethod,
    ConsentState,
    Contact,
    Diagnosis,
    Language,
    Patient,
    Relationship,
)
from engage.scheduling.models import Enrollment, ScheduleKind
from engage.scheduling.services import recompute_next_due
from engage.visits.models import Visit
from tests.roster.conftest import NOW, count_rows, patient


def test_east_epic_imports_every_row(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    result = run_import(roster, mapping=mapping)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "imported east-epic.csv into EAST (mapping east-epic.yaml): "
        "6 rows: 6 created, 0 updated, 0 unchanged, 0 rejected"
    )
    assert result.stdout.splitlines()[1] == (
        "  patients created 6, caregivers created 6, caregiver links created 7, phones added 10, "
        "visits created 5, enrollments created 10"
    )
    counts = count_rows(session)
    assert {k: v for k, v in counts.items() if k != "audit_events"} == {
        "patients": 6,
        "caregivers": 6,
        "caregiver_links": 7,
        "contacts": 10,
        "consent_changes": 10,
        "visits": 5,
        "enrollments": 10,
    }


def test_icd10_codes_map_to_diagnoses(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    expected = {
        "100200301": Diagnosis.CROHNS_DISEASE,  # K50.00
        "100200302": Diagnosis.ULCERATIVE_COLITIS,  # K51.50
        "100200303": Diagnosis.CROHNS_DISEASE,  # K50.90
        "100200304": Diagnosis.IBD_UNCLASSIFIED,  # K52.3
        "100200305": Diagnosis.ULCERATIVE_COLITIS,  # K51.90
        "100200306": Diagnosis.CROHNS_DISEASE,  # K50.111
    }
    assert {mrn: patient(session, mrn).diagnosis for mrn in expected} == expected


def test_east_values_land_as_engage_reads_them(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0

    sofia = patient(session, "100200303")
    assert (sofia.given_name, sofia.family_name) == ("Sofía", "Hernández")
    assert sofia.date_of_birth == date(2010, 1, 30)
    assert sofia.preferred_language is Language.SPANISH
    assert sofia.time_zone is None  # the center's
    [rosa] = [link.caregiver for link in sofia.caregiver_links]
    assert rosa.preferred_language is Language.SPANISH  # no column: the child's language

    # One phone, two children: Elena is one caregiver, linked to Ava and to Leo.
    elena = session.scalars(sa.select(Contact).where(Contact.phone == "+16175550141")).one()
    linked = {link.patient.mrn for link in elena.caregiver.patient_links}
    assert linked == {"100200301", "100200302"}
    assert all(
        link.relationship_to_patient is Relationship.PARENT and link.may_answer_as_proxy
        for link in elena.caregiver.patient_links
    )
    karen = session.scalars(sa.select(Contact).where(Contact.phone == "+16175550150")).one()
    assert karen.caregiver.patient_links[0].relationship_to_patient is Relationship.GRANDPARENT

    # Consent from the opt-in column, recorded as an import; N is withdrawn.
    lin = session.scalars(sa.select(Contact).where(Contact.phone == "+16175550148")).one()
    assert lin.sms_consent is ConsentState.WITHDRAWN
    [change] = lin.consent_history
    assert (change.method, change.state, change.recorded_by) == (
        ConsentMethod.IMPORT,
        ConsentState.WITHDRAWN,
        None,
    )

    # Visit times are the center's local time, stored in UTC, with Epic's id.
    visit = session.scalars(sa.select(Visit).where(Visit.external_ref == "5001")).one()
    assert visit.starts_at == datetime(2027, 3, 2, 14, 30, tzinfo=UTC)  # 09:30 EST
    assert visit.patient.mrn == "100200301"

    # Who answers: Maya (7) through her father, the first caregiver; Ethan (18) himself.
    maya = session.scalars(
        sa.select(Enrollment)
        .join(Enrollment.patient)
        .where(Enrollment.instrument_id == "ibd-symptoms", sa.text("patients.mrn = '100200305'"))
    ).one()
    assert (maya.contact.phone, maya.respondent_role.value) == ("+16175550147", "proxy")
    ethan = patient(session, "100200304")
    roles = {e.instrument_id: e.respondent_role.value for e in session.scalars(
        sa.select(Enrollment).where(Enrollment.patient_id == ethan.id))}  # fmt: skip
    assert roles == {"ibd-symptoms": "self", "previsit": "self"}


def test_west_cerner_imports_every_row(run_import, example, centers, session):
    roster, mapping = example("west-cerner")
    result = run_import(roster, center="WEST", mapping=mapping)

    assert result.exit_code == 0, result.output
    assert "5 rows: 5 created, 0 updated, 0 unchanged, 0 rejected" in result.stdout
    isabella = patient(session, "W-55101")
    assert isabella.date_of_birth == date(2014, 3, 15)  # 03/15/2014
    assert isabella.diagnosis is Diagnosis.ULCERATIVE_COLITIS  # UC
    assert isabella.preferred_language is Language.SPANISH  # Spanish
    assert patient(session, "W-55102").preferred_language is Language.SPANISH  # spa
    assert patient(session, "W-55103").diagnosis is Diagnosis.IBD_UNCLASSIFIED  # IBD-U
    phones = set(session.scalars(sa.select(Contact.phone)))
    # (213) 555-0151, 213.555.0154, 213-555-0155
    assert {"+12135550151", "+12135550154", "+12135550155"} <= phones
    # No consent column: pending, recorded as an import.
    contact = session.scalars(sa.select(Contact).where(Contact.phone == "+12135550151")).one()
    assert contact.sms_consent is ConsentState.PENDING
    assert [c.method for c in contact.consent_history] == [ConsentMethod.IMPORT]
    # "May answer: N".
    priya = session.scalars(
        sa.select(CaregiverLink).join(CaregiverLink.patient).where(sa.text("mrn = 'W-55104'"))
    ).one()
    assert priya.may_answer_as_proxy is False
    assert priya.relationship_to_patient is Relationship.PARENT
    # Date and time in two columns: 03/04/2027 1:30 PM in Los Angeles.
    visit = session.scalars(sa.select(Visit).where(Visit.external_ref == "88001")).one()
    assert visit.starts_at == datetime(2027, 3, 4, 21, 30, tzinfo=UTC)
    # No instrument column: everyone gets the mapping's defaults, on WEST's schedule.
    enrollments = list(session.scalars(sa.select(Enrollment)))
    assert len(enrollments) == 10
    weekly = [e for e in enrollments if e.kind is ScheduleKind.RECURRING]
    assert {(e.weekdays, e.local_time.isoformat(), e.time_zone) for e in weekly} == {
        ("thu", "17:30:00", "America/Los_Angeles")
    }


def test_imported_schedules_match_what_the_services_compute(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    west_roster, west_mapping = example("west-cerner")
    assert run_import(west_roster, center="WEST", mapping=west_mapping).exit_code == 0

    enrollments = list(session.scalars(sa.select(Enrollment)))
    stored = {e.id: (e.next_due_at, e.next_visit_id) for e in enrollments}
    for enrollment in enrollments:
        recompute_next_due(enrollment, NOW, catch_up=True)
    assert {e.id: (e.next_due_at, e.next_visit_id) for e in enrollments} == stored
    # Monday 18:00 in New York, the first after now; two days before Ava's 09:30 visit.
    ava_weekly = next(
        e for e in enrollments if e.patient.mrn == "100200301" and e.kind.value == "recurring"
    )
    assert ava_weekly.next_due_at == datetime(2026, 12, 7, 23, 0, tzinfo=UTC)
    ava_visit = next(
        e for e in enrollments if e.patient.mrn == "100200301" and e.kind.value == "before_visit"
    )
    assert ava_visit.next_due_at == datetime(2027, 2, 28, 14, 30, tzinfo=UTC)


def test_importing_the_same_file_again_changes_nothing(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    before = count_rows(session)
    updated_at = {p.mrn: p.updated_at for p in session.scalars(sa.select(Patient))}

    again = run_import(roster, mapping=mapping)

    assert again.exit_code == 0, again.output
    assert "6 rows: 0 created, 0 updated, 6 unchanged, 0 rejected" in again.stdout
    after = count_rows(session)
    assert after == {**before, "audit_events": before["audit_events"] + 1}
    session.expire_all()
    assert {p.mrn: p.updated_at for p in session.scalars(sa.select(Patient))} == updated_at


def test_west_imports_again_without_change(run_import, example, centers, session):
    roster, mapping = example("west-cerner")
    assert run_import(roster, center="WEST", mapping=mapping).exit_code == 0
    before = count_rows(session)
    again = run_import(roster, center="WEST", mapping=mapping)
    assert "5 rows: 0 created, 0 updated, 5 unchanged, 0 rejected" in again.stdout
    assert count_rows(session)["enrollments"] == before["enrollments"]
    assert {k: v for k, v in count_rows(session).items() if k != "audit_events"} == {
        k: v for k, v in before.items() if k != "audit_events"
    }


def test_a_dry_run_writes_nothing_and_says_what_would_change(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    before = count_rows(session)

    result = run_import(roster, "--dry-run", mapping=mapping)

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0] == (
        "DRY RUN, nothing was written. east-epic.csv into EAST (mapping east-epic.yaml) "
        "would give 6 rows: 6 created, 0 updated, 0 unchanged, 0 rejected"
    )
    assert "patients created 6" in result.stdout
    after = count_rows(session)
    assert after == {**before, "audit_events": before["audit_events"] + 1}
