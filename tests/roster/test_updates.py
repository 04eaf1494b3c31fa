"""A changed roster updates only what changed; phones reach one person."""

from datetime import UTC, datetime

import sqlalchemy as sa

from engage.people.models import Caregiver, ConsentMethod, Contact, Patient, Relationship
from engage.people.services import add_caregiver, add_contact, link_caregiver
from engage.scheduling.models import Enrollment, ScheduleKind
from engage.visits.models import Visit
from tests.roster.conftest import count_rows, patient, read_csv, write_csv


def changed(roster, edits):
    """Rewrite the roster with ``edits``: {MRN: {column: value}}."""
    rows = read_csv(roster)
    for row in rows:
        row.update(edits.get(row["MRN"], {}))
    return write_csv(roster, rows)


def test_an_updated_roster_changes_only_what_differs(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    untouched = patient(session, "100200303").updated_at
    before = count_rows(session)
    changed(
        roster,
        {
            "100200302": {"PAT_FIRST_NAME": "Leonardo"},  # a changed name
            "100200301": {"PAT_MOBILE": "617-555-0151", "PAT_SMS_OPT_IN": "Y"},  # a new phone
            "100200306": {"NEXT_APPT_CSN": "5006", "NEXT_APPT_DTTM": "2027-03-23 13:00"},
        },
    )

    result = run_import(roster, "--verbose", mapping=mapping)

    assert result.exit_code == 0, result.output
    assert "6 rows: 0 created, 3 updated, 3 unchanged, 0 rejected" in result.stdout
    assert "patients updated 1, phones added 1, visits created 1" in result.stdout
    assert "row 3 (100200302) updated: given_name 'Leo' -> 'Leonardo'" in result.stdout
    assert "row 2 (100200301) updated: phone +16175550151 added (granted)" in result.stdout
    assert "row 7 (100200306) updated: visit 5006 2027-03-23 13:00 added" in result.stdout
    after = count_rows(session)
    assert after == {
        **before,
        "contacts": before["contacts"] + 1,
        "consent_changes": before["consent_changes"] + 1,
        "visits": before["visits"] + 1,
        "audit_events": before["audit_events"] + 1,
    }
    session.expire_all()
    assert patient(session, "100200302").given_name == "Leonardo"
    assert patient(session, "100200303").updated_at == untouched
    ava = patient(session, "100200301")
    [own] = ava.contacts
    assert own.phone == "+16175550151"
    assert [c.method for c in own.consent_history] == [ConsentMethod.IMPORT]
    # Jacob's pre-visit enrollment, due nowhere before, now waits for the new visit.
    jacob = patient(session, "100200306")
    previsit = session.scalars(sa.select(Enrollment).where(Enrollment.patient_id == jacob.id)).one()
    visit = session.scalars(sa.select(Visit).where(Visit.external_ref == "5006")).one()
    assert previsit.next_visit_id == visit.id
    assert previsit.next_due_at == datetime(2027, 3, 21, 17, 0, tzinfo=UTC)


def test_a_dry_run_of_an_update_lists_each_change(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    changed(roster, {"100200304": {"DX_CODE": "K50.90", "LANGUAGE": "es"}})

    result = run_import(roster, "--dry-run", mapping=mapping)

    assert "would give 6 rows: 0 created, 1 updated, 5 unchanged, 0 rejected" in result.stdout
    assert (
        "row 5 (100200304) updated: diagnosis 'ibd_unclassified' -> 'crohns_disease'; "
        "language 'en' -> 'es'" in result.stdout
    )
    session.expire_all()
    assert patient(session, "100200304").diagnosis.value == "ibd_unclassified"


def test_a_moved_visit_keeps_its_row_and_moves_its_previsit_checkin(
    run_import, example, centers, session
):
    roster, mapping = example("east-epic")
    assert run_import(roster, mapping=mapping).exit_code == 0
    visit_id = session.scalars(sa.select(Visit.id).where(Visit.external_ref == "5001")).one()
    changed(roster, {"100200301": {"NEXT_APPT_DTTM": "2027-03-05 15:45"}})

    result = run_import(roster, "-v", mapping=mapping)

    assert "visits moved 1" in result.stdout
    assert "visit 5001 moved 2027-03-02 09:30 -> 2027-03-05 15:45" in result.stdout
    session.expire_all()
    visit = session.get(Visit, visit_id)
    assert visit.starts_at == datetime(2027, 3, 5, 20, 45, tzinfo=UTC)
    previsit = session.scalars(
        sa.select(Enrollment).where(
            Enrollment.patient_id == visit.patient_id,
            Enrollment.kind == ScheduleKind.BEFORE_VISIT,
        )
    ).one()
    assert previsit.next_due_at == datetime(2027, 3, 3, 20, 45, tzinfo=UTC)


def test_a_phone_of_another_patient_rejects_the_row(
    run_import, example, centers, session, make_patient
):
    other = make_patient(center=centers["WEST"], mrn="W-1")
    add_contact(other, "+16175550143")  # Leo's phone in the roster
    session.commit()
    roster, mapping = example("east-epic")

    result = run_import(roster, mapping=mapping)

    assert result.exit_code == 0, result.output
    assert "6 rows: 5 created, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    reason = (
        "row 3, column PAT_MOBILE: '+16175550143' already belongs to patient W-1 at WEST: "
        "a phone reaches one person"
    )
    assert "1 ROW REJECTED, not imported" in result.stderr
    assert reason in result.stderr
    assert session.scalar(sa.select(Patient).where(Patient.mrn == "100200302")) is None
    [rejected] = read_csv(roster.with_name("east-epic.rejects.csv"))
    assert (rejected["row"], rejected["column"], rejected["MRN"]) == (
        "3",
        "PAT_MOBILE",
        "100200302",
    )
    assert rejected["reason"] == reason.split(": ", 1)[1]


def test_a_caregiver_phone_of_someone_else_rejects_the_row(
    run_import, example, centers, session, make_patient
):
    stranger = add_caregiver(given_name="Pat", family_name="Smith")
    add_contact(stranger, "+16175550145")  # Rosa's phone in the roster
    teen = make_patient(center=centers["EAST"], mrn="E-9")
    add_contact(teen, "+16175550147")  # Wei's phone in the roster
    session.commit()
    roster, mapping = example("east-epic")

    result = run_import(roster, mapping=mapping)

    assert "6 rows: 4 created, 0 updated, 0 unchanged, 2 rejected" in result.stdout
    assert (
        "row 4, column CG1_MOBILE: '+16175550145' already belongs to another caregiver "
        "(Pat Smith): a phone reaches one person" in result.stderr
    )
    assert (
        "row 6, column CG1_MOBILE: '+16175550147' already belongs to patient E-9 at EAST: "
        "a phone reaches one person" in result.stderr
    )


def test_a_known_caregiver_is_found_by_phone_and_linked(
    run_import, example, centers, session, make_patient
):
    sibling = make_patient(center=centers["EAST"], mrn="E-5")
    wei = add_caregiver(given_name="wei", family_name="CHEN")
    add_contact(wei, "+16175550147")
    link_caregiver(wei, sibling, relationship=Relationship.PARENT, may_answer_as_proxy=True)
    session.commit()
    roster, mapping = example("east-epic")

    result = run_import(roster, "-v", mapping=mapping)

    assert "0 rejected" in result.stdout
    assert "linked to caregiver Wei Chen" in result.stdout
    session.expire_all()
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(Caregiver).where(Caregiver.family_name == "Chen")
        )
        == 2
    )  # Wei (respelled as the roster writes him) and Lin
    assert {link.patient.mrn for link in wei.patient_links} == {"E-5", "100200305"}


def test_one_phone_in_two_rows_for_two_different_people_rejects_the_second(
    run_import, tmp_path, centers, session
):
    roster = write_csv(
        tmp_path / "roster.csv",
        [
            {"mrn": "A1", "given_name": "Ana", "family_name": "Ruiz", "date_of_birth": "2015-01-01",
             "diagnosis": "K50.90", "caregiver1_given_name": "Marta", "caregiver1_family_name": "Ruiz",
             "caregiver1_phone": "617-555-0160"},
            {"mrn": "A2", "given_name": "Ben", "family_name": "Cole", "date_of_birth": "2014-01-01",
             "diagnosis": "K51.90", "caregiver1_given_name": "Dana", "caregiver1_family_name": "Cole",
             "caregiver1_phone": "617-555-0160"},
            {"mrn": "A3", "given_name": "Eva", "family_name": "Ruiz", "date_of_birth": "2017-01-01",
             "diagnosis": "crohns_disease", "caregiver1_given_name": "Marta",
             "caregiver1_family_name": "Ruiz", "caregiver1_phone": "(617) 555-0160"},
        ],
    )  # fmt: skip

    result = run_import(roster)

    assert "3 rows: 2 created, 0 updated, 0 unchanged, 1 rejected" in result.stdout
    assert (
        "row 3, column caregiver1_phone: '+16175550160' already belongs to another caregiver "
        "(Marta Ruiz): a phone reaches one person" in result.stderr
    )
    marta = session.scalars(sa.select(Contact).where(Contact.phone == "+16175550160")).one()
    assert {link.patient.mrn for link in marta.caregiver.patient_links} == {"A1", "A3"}
