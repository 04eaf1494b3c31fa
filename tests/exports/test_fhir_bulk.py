"""FHIR R4 bulk export of one center: every line a valid resource, only that center's
patients, and every reference resolving within the export.

fhir.resources 8 ships R4B (4.3), whose Patient, Questionnaire, QuestionnaireResponse and
Observation are those of R4 (4.0.1); each line is parsed with its R4B class.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient as FhirPatient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from engage.audit.models import AuditEvent
from engage.conversations.models import Answer, AnswerStatus, CheckIn, CheckInScore
from engage.network.models import Center
from engage.people.models import Contact, Patient
from tests.exports.conftest import ZEPHYRINE, Seeded

pytestmark = pytest.mark.usefixtures("identifiable")

BASE = "https://engage.example.org/fhir"
MODELS = {
    "Patient": FhirPatient,
    "Questionnaire": Questionnaire,
    "QuestionnaireResponse": QuestionnaireResponse,
    "Observation": Observation,
}


def export(runner: Any, folder: Path, center: str = "EAST", *extra: str) -> Any:
    result = runner.invoke(
        args=["engage", "export", "fhir", "--center", center, "--out", str(folder), *extra]
    )
    assert result.exit_code == 0, result.output
    return result


def read(folder: Path) -> dict[str, list[dict[str, Any]]]:
    """Every resource by type, each line parsed and validated with its R4 model."""
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{t}.ndjson" for t in MODELS)
    resources: dict[str, list[dict[str, Any]]] = {}
    for kind, model in MODELS.items():
        lines = (folder / f"{kind}.ndjson").read_text(encoding="utf-8").splitlines()
        resources[kind] = []
        for line in lines:
            data = json.loads(line)
            assert data["resourceType"] == kind
            model.model_validate(data)  # raises on anything R4 does not allow
            resources[kind].append(data)
        ids = [r["id"] for r in resources[kind]]
        assert len(ids) == len(set(ids)), f"{kind}: duplicate ids"
    return resources


def references(value: Any) -> list[str]:
    """Every ``reference`` string anywhere inside a resource."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "reference" and isinstance(inner, str):
                found.append(inner)
            else:
                found.extend(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.extend(references(inner))
    return found


def test_every_line_is_a_valid_r4_resource_and_references_resolve(
    runner, session, tmp_path, identifiable: Seeded
):
    result = export(runner, tmp_path / "east", "EAST", "--base-url", BASE)
    resources = read(tmp_path / "east")

    east = session.scalar(sa.select(Center).where(Center.code == "EAST"))
    patients = session.scalars(sa.select(Patient).where(Patient.center_id == east.id)).all()
    assert {r["id"] for r in resources["Patient"]} == {str(p.id) for p in patients}
    responses = resources["QuestionnaireResponse"]
    answered = session.scalar(
        sa.select(sa.func.count(sa.distinct(Answer.checkin_id)))
        .join(CheckIn, CheckIn.id == Answer.checkin_id)
        .join(Patient)
        .where(Patient.center_id == east.id, Answer.status == AnswerStatus.ANSWERED)
    )
    assert len(responses) == answered == 3 * 8 + 1  # the demo's three at EAST, and Zephyrine
    scores = session.scalar(
        sa.select(sa.func.count())
        .select_from(CheckInScore)
        .join(CheckIn)
        .join(Patient)
        .where(Patient.center_id == east.id, CheckInScore.value.is_not(None))
    )
    assert len(resources["Observation"]) == scores == 24

    known = {f"{kind}/{r['id']}" for kind, rs in resources.items() for r in rs}
    canonicals = {f"{q['url']}|{q['version']}" for q in resources["Questionnaire"]}
    for kind, rs in resources.items():
        for resource in rs:
            for reference in references(resource):
                assert reference in known, f"{kind}/{resource['id']} -> {reference}"
    for response in responses:
        assert response["questionnaire"] in canonicals
        assert response["subject"]["reference"].startswith("Patient/")
    for observation in resources["Observation"]:
        assert observation["subject"]["reference"].startswith("Patient/")
        [derived] = observation["derivedFrom"]
        assert derived["reference"].startswith("QuestionnaireResponse/")
    assert {q["url"] for q in resources["Questionnaire"]} == {
        f"{BASE}/Questionnaire/ibd-symptoms",
        f"{BASE}/Questionnaire/previsit",
    }
    for kind in MODELS:
        assert f"{kind}.ndjson: {len(resources[kind])} resources" in result.output


def test_patients_are_identified_with_the_centers_mrn_system(runner, tmp_path, identifiable):
    export(runner, tmp_path / "east", "EAST", "--base-url", BASE)
    patients = read(tmp_path / "east")["Patient"]
    [zephyrine] = [p for p in patients if p["id"] == str(identifiable.zephyrine_id)]
    [mrn] = zephyrine["identifier"]
    assert (mrn["system"], mrn["value"]) == (f"{BASE}/NamingSystem/mrn/EAST", ZEPHYRINE["mrn"])
    assert mrn["type"]["coding"][0]["code"] == "MR"
    assert zephyrine["name"] == [
        {"use": "official", "family": ZEPHYRINE["family_name"], "given": [ZEPHYRINE["given_name"]]}
    ]
    assert zephyrine["birthDate"] == ZEPHYRINE["date_of_birth"].isoformat()
    assert zephyrine["gender"] == "unknown"
    assert zephyrine["telecom"] == [
        {"system": "phone", "value": ZEPHYRINE["phone"], "use": "mobile"}
    ]


def test_free_text_answers_and_the_responding_parent_travel_in_the_identified_export(
    runner, tmp_path, identifiable
):
    export(runner, tmp_path / "east", "EAST", "--base-url", BASE)
    responses = read(tmp_path / "east")["QuestionnaireResponse"]
    subject = f"Patient/{identifiable.zephyrine_id}"
    [previsit] = [r for r in responses if r["subject"]["reference"] == subject]
    assert previsit["status"] == "completed"
    assert previsit["source"] == {"reference": subject}  # she answered herself
    answers = {item["linkId"]: item["answer"][0] for item in previsit["item"]}
    assert answers["changes"] == {"valueBoolean": True}
    assert "Wallaby Way" in answers["what_changed"]["valueString"]
    assert answers["missed_doses"]["valueCoding"]["code"] == "three_plus"
    assert "questions" not in answers  # skipped


def test_another_centers_patients_are_absent(runner, session, tmp_path):
    export(runner, tmp_path / "east", "EAST", "--base-url", BASE)
    export(runner, tmp_path / "west", "WEST", "--base-url", BASE)
    east_text = "".join(p.read_text() for p in (tmp_path / "east").iterdir())
    west = session.scalars(sa.select(Patient).join(Center).where(Center.code == "WEST")).all()
    assert west
    for patient in west:
        for value in (patient.mrn, patient.given_name, patient.family_name):
            assert value not in east_text, value
        assert f'"Patient/{patient.id}"' not in east_text
    west_phones = session.scalars(
        sa.select(Contact.phone).join(Patient).join(Center).where(Center.code == "WEST")
    ).all()
    assert west_phones and not any(phone in east_text for phone in west_phones)
    west_patients = read(tmp_path / "west")["Patient"]
    assert {p["identifier"][0]["value"] for p in west_patients} == {p.mrn for p in west}


def test_the_export_is_audited_with_the_center_and_counts(runner, session, tmp_path):
    export(runner, tmp_path / "east")  # the test app's PUBLIC_BASE_URL gives the base
    [event] = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "export.fhir"))
    assert event.detail.startswith("by ")
    assert "center EAST" in event.detail and "Patient.ndjson 4" in event.detail
    [questionnaire] = [
        json.loads(line)
        for line in (tmp_path / "east" / "Questionnaire.ndjson").read_text().splitlines()
        if "previsit" in line
    ]
    assert questionnaire["url"] == "https://engage.test/fhir/Questionnaire/previsit"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--center", "NOPE"], "Error: --center: 'NOPE' is not the code of a known center"),
        (["--center", "EAST", "--base-url", "engage.example.org"], "is not an http(s) address"),
    ],
)
def test_bad_input_is_one_line_and_nothing_is_written(runner, session, tmp_path, args, message):
    result = runner.invoke(args=["engage", "export", "fhir", "--out", str(tmp_path / "out"), *args])
    assert result.exit_code != 0
    assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
    assert not session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "export.fhir")
    ).all()


def test_a_folder_that_is_not_empty_is_refused(runner, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "Patient.ndjson").write_text("{}\n")
    result = runner.invoke(
        args=["engage", "export", "fhir", "--center", "EAST", "--out", str(tmp_path / "out")]
    )
    assert result.exit_code != 0 and "exists and is not empty" in result.output
    assert (tmp_path / "out" / "Patient.ndjson").read_text() == "{}\n"
