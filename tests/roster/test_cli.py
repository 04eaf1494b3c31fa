"""The command around the import: the audit log, output fit for a log file, the default mapping."""

import getpass

import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.people.models import Caregiver, Patient
from tests.roster.conftest import count_rows, write_csv


def test_each_import_and_dry_run_is_one_audit_event(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, "--dry-run", mapping=mapping).exit_code == 0
    assert run_import(roster, mapping=mapping).exit_code == 0

    events = list(session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["roster.dry_run", "roster.import"]
    assert all(e.staff_user_id is None and e.patient_id is None for e in events)
    assert events[1].detail == (
        f"by {getpass.getuser()}: east-epic.csv into EAST (mapping east-epic.yaml): "
        "6 rows: 6 created, 0 updated, 0 unchanged, 0 rejected"
    )


def test_a_refused_import_is_not_an_import(run_import, example, centers, session):
    roster, mapping = example("east-epic")
    assert run_import(roster, center="NORTH", mapping=mapping).exit_code == 1
    assert count_rows(session)["audit_events"] == 0


def test_output_without_a_terminal_has_no_progress_bar(run_import, example, centers):
    roster, mapping = example("east-epic")
    result = run_import(roster, mapping=mapping)
    assert result.stderr == ""
    assert "\r" not in result.output
    assert len(result.stdout.splitlines()) == 3
    assert result.stdout.splitlines()[2].startswith("  took ")
    assert result.stdout.startswith("imported east-epic.csv into EAST")


def test_verbose_prints_each_row(run_import, example, centers):
    roster, mapping = example("west-cerner")
    result = run_import(roster, "--verbose", center="WEST", mapping=mapping)
    assert (
        "  row 3 (W-55102) created: linked to caregiver María García; "
        "caregiver Jorge García added; phone +12135550153 added for Jorge García (pending); "
        "visit 88002 2027-03-04 14:00 added; enrolled in ibd-symptoms (proxy, +12135550152); "
        "enrolled in previsit (proxy, +12135550152)"
    ) in result.stdout


def test_without_a_mapping_engage_column_names_are_read(run_import, tmp_path, centers, session):
    """The default mapping: its optional columns may be absent; spellings and ICD-10 both read."""
    roster = write_csv(
        tmp_path / "plain.csv",
        [
            {"mrn": "P-1", "given_name": "Ana", "family_name": "Ruiz",
             "date_of_birth": "2015-01-01", "diagnosis": "ulcerative_colitis", "language": "Spanish",
             "caregiver1_given_name": "Marta", "caregiver1_family_name": "Ruiz",
             "caregiver1_relationship": "mother", "caregiver1_phone": "617-555-0160",
             "instruments": "ibd-symptoms", "visit_at": "2027-01-20 10:00"},
            {"mrn": "P-2", "given_name": "Eva", "family_name": "Ruiz",
             "date_of_birth": "2017-01-01", "diagnosis": "K50.90", "language": "",
             "caregiver1_given_name": "Marta", "caregiver1_family_name": "Ruiz",
             "caregiver1_relationship": "", "caregiver1_phone": "+1 617 555 0160",
             "instruments": "", "visit_at": ""},
        ],
    )  # fmt: skip

    result = run_import(roster)

    assert result.exit_code == 0, result.output
    assert "plain.csv into EAST (mapping (default)): 2 rows: 2 created" in result.stdout
    ana, eva = session.scalars(sa.select(Patient).order_by(Patient.mrn))
    assert (ana.preferred_language.value, eva.preferred_language.value) == ("es", "en")
    assert eva.diagnosis.value == "crohns_disease"
    assert session.scalar(sa.select(sa.func.count()).select_from(Caregiver)) == 1
    # No visit id: a re-import matches the visit by its time.
    again = run_import(roster)
    assert "2 rows: 0 created, 0 updated, 2 unchanged" in again.stdout


def test_help_names_the_options(runner):
    result = runner.invoke(args=["engage", "import", "--help"])
    for option in ("--center", "--mapping", "--dry-run", "--rejects", "--verbose"):
        assert option in result.output


def test_a_patient_no_phone_can_answer_for_is_imported_but_not_enrolled(
    run_import, tmp_path, centers, session
):
    roster = write_csv(
        tmp_path / "young.csv",
        [{"mrn": "Y-1", "given_name": "Tim", "family_name": "Lee", "date_of_birth": "2021-05-01",
          "diagnosis": "K50.90", "instruments": "ibd-symptoms"}],
    )  # fmt: skip

    result = run_import(roster)

    assert "1 rows: 1 created" in result.stdout
    assert "enrollments not possible 1" in result.stdout
    assert (
        "row 2 (Y-1): not enrolled in ibd-symptoms: no phone can answer it (either)"
        in result.stdout
    )
