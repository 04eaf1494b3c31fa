"""FHIR R4 bulk export of one center: identified, one NDJSON file per resource type.

Patient.ndjson (name, MRN as an identifier in the center's own system, birth date,
language, phones), QuestionnaireResponse.ndjson (one per check-in with at least one
answer), Observation.ndjson (one per stored score, derived from its response) and
Questionnaire.ndjson (each instrument version those responses answered). Resources
reference each other by ``Patient/<id>``, ``QuestionnaireResponse/<id>`` and the
Questionnaire's canonical ``url|version``. The instrument resources come from
engage/instruments/fhir.py; rows are read a chunk at a time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from engage.audit.services import record_event
from engage.conversations.models import (
    Answer,
    AnswerStatus,
    CheckIn,
    CheckInScore,
    CheckInStatus,
    RespondentRole,
)
from engage.db import db, utcnow
from engage.exports.output import AnyRow, AnySelect, NdjsonWriter, chunked_rows
from engage.instruments.fhir import (
    JSON,
    fhir_id,
    questionnaire,
    questionnaire_response,
    score_observations,
)
from engage.instruments.model import Instrument
from engage.instruments.models import InstrumentVersion
from engage.instruments.scoring import InvalidAnswer, Outcome, ScoreResult
from engage.instruments.services import instrument_of
from engage.network.models import Center
from engage.people.models import Contact, Patient

RESOURCE_TYPES = ("Patient", "Questionnaire", "QuestionnaireResponse", "Observation")
IDENTIFIER_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v2-0203"
LANGUAGE_SYSTEM = "urn:ietf:bcp:47"
RESPONSE_STATUS = {
    CheckInStatus.COMPLETED: "completed",
    CheckInStatus.SENT: "in-progress",
    CheckInStatus.IN_PROGRESS: "in-progress",
}  # anything else that has answers (expired, cancelled) was "stopped"


@dataclass
class FhirExport:
    resources: dict[str, int]  # file name -> resources written
    skipped_responses: int  # check-ins whose stored answers the instrument refuses


def export_fhir(
    center: Center,
    folder: Path,
    *,
    canonical_base: str,
    exported_by: str,
    now: datetime | None = None,
) -> FhirExport:
    """Write the center's resources into ``folder``; record the export in the caller's
    transaction."""
    base = canonical_base.rstrip("/")
    writers = {kind: NdjsonWriter(folder / f"{kind}.ndjson") for kind in RESOURCE_TYPES}
    try:
        for chunk in chunked_rows(patient_statement(center)):
            for resource in patient_resources(chunk, center, base):
                writers["Patient"].write(resource)
        versions, skipped = write_responses(center, base, writers)
        for version_id in sorted(versions):
            writers["Questionnaire"].write(questionnaire_resource(versions[version_id], base))
    finally:
        for writer in writers.values():
            writer.close()
    counts = {writer.path.name: writer.rows for writer in writers.values()}
    summary = ", ".join(f"{name} {rows}" for name, rows in counts.items())
    record_event(
        None,
        "export.fhir",
        detail=f"by {exported_by}: center {center.code}; {summary}",
        at=now or utcnow(),
    )
    return FhirExport(resources=counts, skipped_responses=skipped)


# -- Patient ------------------------------------------------------------------------------
def patient_statement(center: Center) -> AnySelect:
    return sa.select(
        Patient.id,
        Patient.mrn,
        Patient.given_name,
        Patient.family_name,
        Patient.date_of_birth,
        Patient.preferred_language,
    ).where(Patient.center_id == center.id)


def mrn_system(center: Center, base: str) -> str:
    """The center's own MRN namespace: MRNs are unique within a center only."""
    return f"{base}/NamingSystem/mrn/{center.code}"


def patient_resources(chunk: Sequence[AnyRow], center: Center, base: str) -> Iterator[JSON]:
    ids = [row[0] for row in chunk]
    phones: dict[int | None, list[str]] = defaultdict(list)
    for patient_id, phone in db.session.execute(
        sa.select(Contact.patient_id, Contact.phone)
        .where(Contact.patient_id.in_(ids))
        .order_by(Contact.id)
    ):
        phones[patient_id].append(phone)
    for patient_id, mrn, given, family, born, language in chunk:
        yield patient_resource(
            patient_id, mrn, given, family, born, str(language), phones[patient_id], center, base
        )


def patient_resource(
    patient_id: int,
    mrn: str,
    given: str,
    family: str,
    born: date,
    language: str,
    phones: list[str],
    center: Center,
    base: str,
) -> JSON:
    resource: JSON = {
        "resourceType": "Patient",
        "id": str(patient_id),
        "identifier": [
            {
                "use": "usual",
                "type": {
                    "coding": [
                        {
                            "system": IDENTIFIER_TYPE_SYSTEM,
                            "code": "MR",
                            "display": "Medical record number",
                        }
                    ]
                },
                "system": mrn_system(center, base),
                "value": mrn,
                "assigner": {"display": center.name},
            }
        ],
        "name": [{"use": "official", "family": family, "given": [given]}],
    }
    if phones:
        resource["telecom"] = [
            {"system": "phone", "value": phone, "use": "mobile"} for phone in phones
        ]
    # engage does not record sex or gender.
    resource["gender"] = "unknown"
    resource["birthDate"] = born.isoformat()
    resource["communication"] = [
        {
            "language": {"coding": [{"system": LANGUAGE_SYSTEM, "code": language}]},
            "preferred": True,
        }
    ]
    resource["managingOrganization"] = {"display": center.name}
    return resource


# -- QuestionnaireResponse and Observation ------------------------------------------------
def checkin_statement(center: Center) -> AnySelect:
    return (
        sa.select(
            CheckIn.id,
            CheckIn.patient_id,
            CheckIn.instrument_version_id,
            CheckIn.status,
            CheckIn.respondent_role,
            CheckIn.closed_at,
        )
        .join(Patient, Patient.id == CheckIn.patient_id)
        .where(Patient.center_id == center.id)
    )


def write_responses(
    center: Center, base: str, writers: dict[str, NdjsonWriter]
) -> tuple[dict[int, Instrument], int]:
    """Responses and their Observations; return the instrument versions they answered."""
    instruments: dict[int, Instrument] = {}
    used: dict[int, Instrument] = {}
    skipped = 0
    for chunk in chunked_rows(checkin_statement(center)):
        ids = [row[0] for row in chunk]
        answers: dict[int, dict[str, Any]] = defaultdict(dict)
        last_answer: dict[int, datetime] = {}
        for checkin_id, item_id, value, answered_at in db.session.execute(
            sa.select(Answer.checkin_id, Answer.item_id, Answer.value, Answer.answered_at)
            .where(Answer.checkin_id.in_(ids), Answer.status == AnswerStatus.ANSWERED)
            .order_by(Answer.id)
        ):
            answers[checkin_id][item_id] = value
            last_answer[checkin_id] = max(answered_at, last_answer.get(checkin_id, answered_at))
        scores: dict[int, list[AnyRow]] = defaultdict(list)
        for row in db.session.execute(
            sa.select(
                CheckInScore.checkin_id,
                CheckInScore.score_id,
                CheckInScore.raw,
                CheckInScore.value,
                CheckInScore.band_id,
                CheckInScore.answered,
            ).where(CheckInScore.checkin_id.in_(ids))
        ):
            scores[row[0]].append(tuple(row))
        for checkin_id, patient_id, version_id, status, role, closed_at in chunk:
            if not answers[checkin_id]:
                continue
            if version_id not in instruments:
                version = db.session.get(InstrumentVersion, version_id)
                assert version is not None  # a foreign key: the row exists
                instruments[version_id] = instrument_of(version)
            instrument = instruments[version_id]
            authored = closed_at if status is CheckInStatus.COMPLETED and closed_at else None
            authored = authored or last_answer[checkin_id]
            response_id = f"checkin-{checkin_id}"
            subject = f"Patient/{patient_id}"
            try:
                response = questionnaire_response(
                    instrument,
                    answers[checkin_id],
                    response_id=response_id,
                    subject_reference=subject,
                    authored=authored,
                    canonical_base=base,
                    status=RESPONSE_STATUS.get(status, "stopped"),
                    source_reference=subject if role is RespondentRole.SELF else None,
                )
            except InvalidAnswer:
                skipped += 1
                continue
            writers["QuestionnaireResponse"].write(response)
            used[version_id] = instrument
            for observation in score_observations(
                instrument,
                stored_outcome(instrument, scores[checkin_id]),
                response_id=response_id,
                subject_reference=subject,
                effective=authored,
                canonical_base=base,
            ):
                writers["Observation"].write(observation)
    return used, skipped


def stored_outcome(instrument: Instrument, rows: list[AnyRow]) -> Outcome:
    """The scores as stored when the check-in completed, as the FHIR builders take them."""
    results: dict[str, ScoreResult] = {}
    for _, score_id, raw, value, band_id, answered in rows:
        try:
            score = instrument.score(score_id)
        except KeyError:
            continue
        band = next((band for band in score.bands if band.id == band_id), None)
        results[score_id] = ScoreResult(
            score=score, raw=raw, value=value, band=band, answered=answered
        )
    return Outcome(scores=results, red_flags=())


# -- Questionnaire ------------------------------------------------------------------------
def questionnaire_resource(instrument: Instrument, base: str) -> JSON:
    """One resource per stored version: responses name it by canonical url|version, and
    the id carries the content hash so two versions never share an id."""
    resource = questionnaire(instrument, canonical_base=base)
    resource["id"] = fhir_id(f"{instrument.id}-{instrument.version}-{instrument.content_hash[:12]}")
    return resource
