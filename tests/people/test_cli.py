import sqlalchemy as sa

from engage.people.models import Caregiver, Contact, Patient


def add_patient(runner, *extra):
    return runner.invoke(
        args=[
            "engage", "patient", "add",
            "--center", "east",
            "--mrn", "E-1001",
            "--given-name", "Mia",
            "--family-name", "Thompson",
            "--date-of-birth", "2020-03-14",
            "--diagnosis", "crohns_disease",
            *extra,
        ]
    )  # fmt: skip


def test_patient_add_stores_the_patient_and_phone(runner, session, make_center):
    make_center(code="EAST")
    result = add_patient(runner, "--phone", "(617) 555-0101", "--language", "es")
    assert result.exit_code == 0, result.output
    assert "patient E-1001 added at EAST" in result.output

    patient = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1001"))
    assert patient.preferred_language.value == "es"
    assert [c.phone for c in patient.contacts] == ["+16175550101"]


def test_patient_add_refuses_a_duplicate_mrn_without_a_traceback(runner, session, make_center):
    make_center(code="EAST")
    assert add_patient(runner).exit_code == 0
    result = add_patient(runner)
    assert result.exit_code == 1
    assert "mrn: 'E-1001' is already the MRN of another patient at EAST" in result.output
    assert "Traceback" not in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 1


def test_patient_add_reports_every_bad_field_and_stores_nothing(runner, session, make_center):
    make_center(code="EAST")
    result = add_patient(runner, "--phone", "555-0101", "--time-zone", "Eastern")
    assert result.exit_code == 1
    assert "phone: '555-0101' is not a valid phone number" in result.output
    assert "time_zone: 'Eastern' is not a known IANA time zone" in result.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0


def test_patient_add_names_an_unknown_center(runner, session):
    result = add_patient(runner)
    assert result.exit_code == 1
    assert "center: 'east' is not the code of a known center" in result.output


def test_a_failure_after_the_patient_rolls_the_patient_back(runner, session, make_patient):
    """One unit of work: the patient is not kept when their phone is refused."""
    owner = make_patient()
    from engage.people.services import add_contact

    add_contact(owner, "+16175550101")
    session.commit()
    runner.invoke(args=["engage", "center", "add", "EAST", "--name", "East",
                        "--time-zone", "America/New_York"])  # fmt: skip
    result = add_patient(runner, "--phone", "+16175550101")
    assert result.exit_code == 1
    assert "phone: '+16175550101' already belongs to another patient" in result.output
    assert session.scalar(sa.select(Patient).where(Patient.mrn == "E-1001")) is None


def test_caregiver_add_links_one_phone_to_two_children(runner, session, make_center):
    make_center(code="EAST")
    assert add_patient(runner).exit_code == 0
    second = runner.invoke(
        args=["engage", "patient", "add", "--center", "EAST", "--mrn", "E-1002",
              "--given-name", "Noah", "--family-name", "Thompson",
              "--date-of-birth", "2012-07-02", "--diagnosis", "ulcerative_colitis"]
    )  # fmt: skip
    assert second.exit_code == 0, second.output
    for mrn in ("E-1001", "E-1002"):
        result = runner.invoke(
            args=["engage", "caregiver", "add", "--center", "EAST", "--mrn", mrn,
                  "--given-name", "Laura", "--family-name", "Thompson",
                  "--relationship", "parent", "--phone", "617-555-0111"]
        )  # fmt: skip
        assert result.exit_code == 0, result.output

    [caregiver] = session.scalars(sa.select(Caregiver)).all()
    assert sorted(link.patient.mrn for link in caregiver.patient_links) == ["E-1001", "E-1002"]
    assert all(link.may_answer_as_proxy for link in caregiver.patient_links)
    assert session.scalar(sa.select(sa.func.count()).select_from(Contact)) == 1


def test_caregiver_add_refuses_a_patients_own_phone(runner, session, make_center):
    make_center(code="EAST")
    assert add_patient(runner, "--phone", "+16175550101").exit_code == 0
    result = runner.invoke(
        args=["engage", "caregiver", "add", "--center", "EAST", "--mrn", "E-1001",
              "--given-name", "Laura", "--family-name", "Thompson",
              "--relationship", "parent", "--phone", "+16175550101"]
    )  # fmt: skip
    assert result.exit_code == 1
    assert "phone: '+16175550101' already belongs to a patient" in result.output
