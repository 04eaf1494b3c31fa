"""FHIR R4 export: every resource validates against the R4B models and carries real values.

fhir.resources checks structure, not code values, so each check also asserts the codes
against the value sets FHIR binds them to.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from engage.instruments.fhir import (
    CONTENT_HASH_SYSTEM,
    MAX_VALUE_URL,
    MIN_VALUE_URL,
    TRANSLATION_URL,
    fhir_id,
    questionnaire,
    questionnaire_response,
    score_observations,
)
from engage.instruments.loader import parse_instrument
from engage.instruments.model import Instrument
from engage.instruments.scoring import InvalidAnswer, score_answers

BASE = "https://engage.example.org/fhir"
PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
AUTHORED = datetime(2025, 3, 4, 17, 30, tzinfo=timezone(timedelta(hours=-6)))

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
QUESTIONNAIRE_STATUSES = {"draft", "active", "retired", "unknown"}
ITEM_TYPES = {
    "group", "display", "boolean", "decimal", "integer", "date", "dateTime", "time",
    "string", "text", "url", "choice", "open-choice", "attachment", "reference", "quantity",
}  # fmt: skip
ENABLE_WHEN_OPERATORS = {"exists", "=", "!=", ">", "<", ">=", "<="}
ENABLE_BEHAVIORS = {"all", "any"}
RESPONSE_STATUSES = {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
OBSERVATION_STATUSES = {
    "registered", "preliminary", "final", "amended", "corrected", "cancelled",
    "entered-in-error", "unknown",
}  # fmt: skip

DEMO_YAML = """
id: fhir_demo
version: 2026.1
title: {en: Sleep and mood, es: Sueño y ánimo}
languages: [en, es]
respondent: {mode: self, min_age: 12, max_age: 21}
items:
  - id: mood
    type: choice
    text: {en: "How is your mood?", es: "¿Como esta su animo?"}
    options:
      - {code: good, points: 0, label: {en: Good, es: Bueno}}
      - {code: low, points: 1, label: {en: Low, es: Bajo}}
      - {code: very_low, points: 2, label: {en: Very low, es: Muy bajo}}
  - id: tired
    type: yes_no
    text: {en: "Are you tired?", es: "¿Esta cansado/a?"}
    points: {yes: 1, no: 0}
  - id: sleep_hours
    type: integer
    min: 0
    max: 24
    required: false
    text: {en: "Hours of sleep last night?", es: "¿Horas de sueño anoche?"}
  - id: energy
    type: scale
    min: 1
    max: 5
    when: {item: tired, equals: true}
    text: {en: "How much energy?", es: "¿Cuanta energia?"}
    anchors: {en: {1: none, 5: lots}, es: {1: nada, 5: mucha}}
  - id: low_why
    type: text
    max_length: 200
    when: {item: mood, in: [low]}
    text: {en: "What made it low?", es: "¿Que lo puso bajo?"}
  - id: nap
    type: yes_no
    when: {item: sleep_hours, lte: 5}
    text: {en: "Did you nap?", es: "¿Durmio siesta?"}
  - id: overslept
    type: yes_no
    when:
      all:
        - {item: sleep_hours, gte: 10}
        - {item: mood, equals: good}
    text: {en: "Did you oversleep?", es: "¿Durmio de mas?"}
  - id: why_no_hours
    type: text
    when: {item: sleep_hours, answered: false}
    text: {en: "Why no hours?", es: "¿Por que no hay horas?"}
  - id: support
    type: yes_no
    when:
      any:
        - {item: mood, equals: very_low}
        - {item: tired, equals: true}
    text: {en: "Want a call?", es: "¿Quiere una llamada?"}
  - id: worry
    type: text
    text: {en: "Anything worrying you?", es: "¿Algo le preocupa?"}
  - id: worry_more
    type: text
    when: {item: worry, mentions: {en: [scared], es: [miedo]}}
    text: {en: "Tell us more.", es: "Cuentenos mas."}
  - id: mixed
    type: yes_no
    when:
      all:
        - {item: mood, in: [low, very_low]}
        - {item: tired, equals: true}
    text: {en: "Is it both?", es: "¿Son ambos?"}
scores:
  - id: strain
    label: {en: Strain, es: Tension}
    items: [mood, tired]
    lookup: {0: 40, 1: 50.5, 2: 60, 3: 70}
    bands:
      - {id: low, min: 40, max: 55, label: {en: Low strain, es: Tension baja}}
      - {id: high, min: 56, max: 70, label: {en: High strain, es: Tension alta}}
  - id: sleep
    label: {en: Sleep hours, es: Horas de sueño}
    items: [sleep_hours]
"""


@pytest.fixture(scope="module")
def ibd() -> Instrument:
    path = PROMPTS / "ibd-symptoms.yaml"
    return parse_instrument(path.read_text(encoding="utf-8"), str(path))


@pytest.fixture(scope="module")
def demo() -> Instrument:
    return parse_instrument(DEMO_YAML, "<demo>")


def valid_questionnaire(data: dict[str, Any]) -> Questionnaire:
    model = Questionnaire.model_validate(data)
    assert data["resourceType"] == "Questionnaire"
    assert FHIR_ID.match(data["id"])
    assert data["status"] in QUESTIONNAIRE_STATUSES
    assert re.match(r"^[A-Z]([A-Za-z0-9_]){0,254}$", data["name"])
    for item in data["item"]:
        assert item["type"] in ITEM_TYPES
        assert ("enableBehavior" in item) == (len(item.get("enableWhen", [])) > 1)
        assert item.get("enableBehavior", "all") in ENABLE_BEHAVIORS
        for condition in item.get("enableWhen", []):
            assert condition["operator"] in ENABLE_WHEN_OPERATORS
    return model


def valid_response(data: dict[str, Any]) -> QuestionnaireResponse:
    model = QuestionnaireResponse.model_validate(data)
    assert data["resourceType"] == "QuestionnaireResponse"
    assert FHIR_ID.match(data["id"])
    assert data["status"] in RESPONSE_STATUSES
    return model


def valid_observation(data: dict[str, Any]) -> Observation:
    model = Observation.model_validate(data)
    assert data["resourceType"] == "Observation"
    assert FHIR_ID.match(data["id"])
    assert data["status"] in OBSERVATION_STATUSES
    return model


def spanish(element: dict[str, Any], key: str) -> str:
    """The Spanish text of ``key`` from its translation extension."""
    (translation,) = [e for e in element[f"_{key}"]["extension"] if e["url"] == TRANSLATION_URL]
    parts = {part["url"]: part for part in translation["extension"]}
    assert parts["lang"]["valueCode"] == "es"
    text: str = parts["content"]["valueString"]
    return text


def extension_value(item: dict[str, Any], url: str) -> Any:
    (extension,) = [e for e in item.get("extension", []) if e["url"] == url]
    return next(value for key, value in extension.items() if key.startswith("value"))


def by_link(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {item["linkId"]: item for item in data["item"]}


def round_trips(data: Any) -> bool:
    return bool(json.loads(json.dumps(data)) == data)


def response(instrument: Instrument, answers: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    return questionnaire_response(
        instrument,
        answers,
        response_id=kwargs.pop("response_id", "resp-1"),
        subject_reference="Patient/p-42",
        authored=kwargs.pop("authored", AUTHORED),
        canonical_base=BASE,
        **kwargs,
    )


def observations(
    instrument: Instrument, answers: dict[str, Any], response_id: str = "resp-1"
) -> list[dict[str, Any]]:
    return score_observations(
        instrument,
        score_answers(instrument, answers),
        response_id=response_id,
        subject_reference="Patient/p-42",
        effective=AUTHORED,
        canonical_base=BASE,
    )


# -- Questionnaire ------------------------------------------------------------------------
def test_ibd_questionnaire_has_one_item_per_instrument_item_with_its_type(ibd: Instrument) -> None:
    data = questionnaire(ibd, canonical_base=BASE + "/")
    model = valid_questionnaire(data)

    assert model.id == "ibd-symptoms"
    assert data["url"] == f"{BASE}/Questionnaire/ibd-symptoms"
    assert data["version"] == ibd.version
    assert data["title"] == "Weekly IBD symptoms"
    assert data["status"] == "active"
    assert data["language"] == "en"
    assert data["identifier"] == [{"system": CONTENT_HASH_SYSTEM, "value": ibd.content_hash}]
    assert len(ibd.content_hash) == 64
    assert [item["linkId"] for item in data["item"]] == [item.id for item in ibd.items]
    assert {item["linkId"]: item["type"] for item in data["item"]} == {
        "pain": "choice",
        "worst_pain": "integer",
        "bleeding": "choice",
        "consistency": "choice",
        "stools": "integer",
        "night": "boolean",
        "activity": "choice",
    }
    assert all(item["required"] is True for item in data["item"])
    assert all(item["text"] == ibd.item(item["linkId"]).text["en"] for item in data["item"])


def test_ibd_choice_items_list_their_options_as_codings(ibd: Instrument) -> None:
    items = by_link(questionnaire(ibd, canonical_base=BASE))

    bleeding = [option["valueCoding"] for option in items["bleeding"]["answerOption"]]
    assert [(c["system"], c["code"], c["display"]) for c in bleeding] == [
        (f"{BASE}/CodeSystem/ibd-symptoms-bleeding", "none", "No blood"),
        (f"{BASE}/CodeSystem/ibd-symptoms-bleeding", "little_some", "A little, in under half"),
        (f"{BASE}/CodeSystem/ibd-symptoms-bleeding", "little_most", "A little, in most"),
        (f"{BASE}/CodeSystem/ibd-symptoms-bleeding", "large", "A lot, more blood than poop"),
    ]
    assert "answerOption" not in items["stools"]


def test_ibd_numeric_items_carry_their_bounds(ibd: Instrument) -> None:
    items = by_link(questionnaire(ibd, canonical_base=BASE))

    assert extension_value(items["worst_pain"], MIN_VALUE_URL) == 0
    assert extension_value(items["worst_pain"], MAX_VALUE_URL) == 10
    assert extension_value(items["stools"], MIN_VALUE_URL) == 0
    assert extension_value(items["stools"], MAX_VALUE_URL) == 30
    assert "extension" not in items["night"]


def test_ibd_skip_logic_becomes_enable_when(ibd: Instrument) -> None:
    items = by_link(questionnaire(ibd, canonical_base=BASE))

    assert items["worst_pain"]["enableBehavior"] == "any"
    assert items["worst_pain"]["enableWhen"] == [
        {
            "question": "pain",
            "operator": "=",
            "answerCoding": {"system": f"{BASE}/CodeSystem/ibd-symptoms-pain", "code": code},
        }
        for code in ("ignorable", "not_ignorable")
    ]
    assert [link for link, item in items.items() if "enableWhen" in item] == ["worst_pain"]


def test_spanish_translations_are_present(ibd: Instrument) -> None:
    data = questionnaire(ibd, canonical_base=BASE)

    assert spanish(data, "title") == "Síntomas de EII de la semana"
    for item in data["item"]:
        assert spanish(item, "text") == ibd.item(item["linkId"]).text["es"]
    pain_options = [option["valueCoding"] for option in by_link(data)["pain"]["answerOption"]]
    assert [spanish(coding, "display") for coding in pain_options] == [
        "Sin dolor",
        "Algo de dolor, facil de ignorar",
        "Dolor tan fuerte que no se puede ignorar",
    ]


def test_simple_conditions_map_to_enable_when(demo: Instrument) -> None:
    data = questionnaire(demo, canonical_base=BASE)
    valid_questionnaire(data)
    items = by_link(data)

    assert data["id"] == "fhir-demo"
    assert data["url"] == f"{BASE}/Questionnaire/fhir_demo"
    assert data["version"] == "2026.1"
    assert data["name"] == "FhirDemo"
    assert items["energy"]["enableWhen"] == [
        {"question": "tired", "operator": "=", "answerBoolean": True}
    ]
    assert items["low_why"]["enableWhen"] == [
        {
            "question": "mood",
            "operator": "=",
            "answerCoding": {"system": f"{BASE}/CodeSystem/fhir_demo-mood", "code": "low"},
        }
    ]
    assert items["nap"]["enableWhen"] == [
        {"question": "sleep_hours", "operator": "<=", "answerInteger": 5}
    ]
    assert items["why_no_hours"]["enableWhen"] == [
        {"question": "sleep_hours", "operator": "exists", "answerBoolean": False}
    ]
    for single in ("energy", "low_why", "nap", "why_no_hours"):
        assert "enableBehavior" not in items[single]

    assert items["overslept"]["enableBehavior"] == "all"
    assert [(c["question"], c["operator"]) for c in items["overslept"]["enableWhen"]] == [
        ("sleep_hours", ">="),
        ("mood", "="),
    ]
    assert items["overslept"]["enableWhen"][0]["answerInteger"] == 10
    assert items["overslept"]["enableWhen"][1]["answerCoding"]["code"] == "good"

    assert items["support"]["enableBehavior"] == "any"
    assert [c["question"] for c in items["support"]["enableWhen"]] == ["mood", "tired"]


def test_conditions_enable_when_cannot_express_are_described_instead(demo: Instrument) -> None:
    items = by_link(questionnaire(demo, canonical_base=BASE))

    for link in ("worry_more", "mixed"):
        assert "enableWhen" not in items[link]
        assert "enableBehavior" not in items[link]
    ask_when = f"{BASE}/StructureDefinition/ask-when"
    assert extension_value(items["worry_more"], ask_when) == (
        "item worry mentions 'miedo', 'scared'"
    )
    assert extension_value(items["mixed"], ask_when) == (
        "(item mood in 'low', 'very_low') and (item tired = True)"
    )
    assert not any(
        e["url"] == ask_when for item in items.values() for e in item.get("extension", [])
        if item["linkId"] not in ("worry_more", "mixed")
    )  # fmt: skip


def test_scale_text_and_optional_items(demo: Instrument) -> None:
    items = by_link(questionnaire(demo, canonical_base=BASE))

    assert items["energy"]["type"] == "integer"
    assert extension_value(items["energy"], MIN_VALUE_URL) == 1
    assert extension_value(items["energy"], MAX_VALUE_URL) == 5
    control = extension_value(
        items["energy"], "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
    )
    assert control["coding"][0]["code"] == "slider"
    assert items["low_why"]["type"] == "text"
    assert items["low_why"]["maxLength"] == 200
    assert items["worry"]["maxLength"] == 480
    assert items["low_why"]["required"] is False
    assert items["sleep_hours"]["required"] is False
    assert items["tired"]["required"] is True


# -- QuestionnaireResponse ----------------------------------------------------------------
IBD_ANSWERS: dict[str, Any] = {
    "pain": "none",  # so worst_pain is not asked
    "bleeding": "little_some",
    "consistency": "partly_formed",
    "stools": 4,
    "night": False,
    "activity": "sometimes",
}


def test_response_carries_exactly_the_answers_given(ibd: Instrument) -> None:
    data = response(ibd, IBD_ANSWERS, source_reference="RelatedPerson/parent-7")
    valid_response(data)

    assert data["id"] == "resp-1"
    assert data["questionnaire"] == f"{BASE}/Questionnaire/ibd-symptoms|{ibd.version}"
    assert data["status"] == "completed"
    assert data["subject"] == {"reference": "Patient/p-42"}
    assert data["source"] == {"reference": "RelatedPerson/parent-7"}
    assert data["authored"] == "2025-03-04T17:30:00-06:00"
    assert [item["linkId"] for item in data["item"]] == [
        "pain",
        "bleeding",
        "consistency",
        "stools",
        "night",
        "activity",
    ]
    values = {item["linkId"]: item["answer"] for item in data["item"]}
    assert all(len(answer) == 1 for answer in values.values())
    assert values["pain"][0]["valueCoding"]["code"] == "none"
    assert values["pain"][0]["valueCoding"]["system"] == f"{BASE}/CodeSystem/ibd-symptoms-pain"
    assert values["pain"][0]["valueCoding"]["display"] == "No pain"
    assert values["bleeding"][0]["valueCoding"]["code"] == "little_some"
    assert values["consistency"][0]["valueCoding"]["code"] == "partly_formed"
    assert values["stools"] == [{"valueInteger": 4}]
    assert values["night"] == [{"valueBoolean": False}]
    assert values["activity"][0]["valueCoding"]["code"] == "sometimes"


def test_response_answers_follow_instrument_order_not_answer_order(ibd: Instrument) -> None:
    answers = {"activity": "none", "worst_pain": 7, "pain": "ignorable"}
    data = response(ibd, answers, status="in-progress")
    valid_response(data)

    assert data["status"] == "in-progress"
    assert "source" not in data
    assert [item["linkId"] for item in data["item"]] == ["pain", "worst_pain", "activity"]
    assert by_link(data)["worst_pain"]["answer"] == [{"valueInteger": 7}]


def test_response_leaves_out_an_answer_skip_logic_did_not_ask(ibd: Instrument) -> None:
    data = response(ibd, {**IBD_ANSWERS, "worst_pain": 3})
    valid_response(data)

    assert "worst_pain" not in by_link(data)
    assert len(data["item"]) == 6


def test_response_with_text_answers_and_no_answers(demo: Instrument) -> None:
    answers = {"mood": "low", "tired": True, "energy": 2, "low_why": "exams", "worry": ""}
    data = response(demo, answers)
    valid_response(data)
    assert data["questionnaire"] == f"{BASE}/Questionnaire/fhir_demo|2026.1"
    assert by_link(data)["low_why"]["answer"] == [{"valueString": "exams"}]
    assert by_link(data)["energy"]["answer"] == [{"valueInteger": 2}]
    assert "worry" not in by_link(data)

    empty = response(demo, {}, status="stopped")
    valid_response(empty)
    assert "item" not in empty


def test_response_refuses_bad_input(ibd: Instrument) -> None:
    with pytest.raises(InvalidAnswer):
        response(ibd, {"pain": "agony"})
    with pytest.raises(InvalidAnswer):
        response(ibd, {"stools": 31})
    with pytest.raises(InvalidAnswer):
        response(ibd, {"mood": "good"})
    with pytest.raises(ValueError, match="status"):
        response(ibd, IBD_ANSWERS, status="done")
    with pytest.raises(ValueError, match="timezone"):
        response(ibd, IBD_ANSWERS, authored=datetime(2025, 3, 4, 17, 30))


# -- Observations -------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("answers", "points", "band", "display"),
    [
        # 0 + 10 + 5 + 5 (4 stools) + 0 + 5
        (IBD_ANSWERS, 25, "mild", "Mild"),
        # 10 + 30 + 10 + 15 (12 stools) + 10 + 10
        (
            {
                "pain": "not_ignorable",
                "worst_pain": 9,
                "bleeding": "large",
                "consistency": "unformed",
                "stools": 12,
                "night": True,
                "activity": "severely",
            },
            85,
            "severe",
            "Severe",
        ),
        # 5 + 0 + 0 + 0 (2 stools) + 0 + 0
        (
            {
                "pain": "ignorable",
                "worst_pain": 2,
                "bleeding": "none",
                "consistency": "formed",
                "stools": 2,
                "night": False,
                "activity": "none",
            },
            5,
            "remission",
            "Remission",
        ),
    ],
)
def test_ibd_observation_has_the_pucai_points_and_band(
    ibd: Instrument, answers: dict[str, Any], points: int, band: str, display: str
) -> None:
    (data,) = observations(ibd, answers)
    valid_observation(data)

    assert data["id"] == "resp-1-activity-index"
    assert data["status"] == "final"
    assert data["category"][0]["coding"][0]["system"] == (
        "http://terminology.hl7.org/CodeSystem/observation-category"
    )
    assert data["category"][0]["coding"][0]["code"] == "survey"
    coding = data["code"]["coding"][0]
    assert coding["system"] == f"{BASE}/CodeSystem/ibd-symptoms-scores"
    assert coding["code"] == "activity_index"
    assert coding["display"] == "Symptom activity (PUCAI points)"
    assert spanish(coding, "display") == "Actividad de sintomas (puntos PUCAI)"
    assert data["valueQuantity"]["value"] == points
    assert isinstance(data["valueQuantity"]["value"], int)
    interpretation = data["interpretation"][0]["coding"][0]
    assert interpretation["system"] == f"{BASE}/CodeSystem/ibd-symptoms-activity_index-bands"
    assert interpretation["code"] == band
    assert interpretation["display"] == display
    assert data["subject"] == {"reference": "Patient/p-42"}
    assert data["effectiveDateTime"] == "2025-03-04T17:30:00-06:00"
    assert data["derivedFrom"] == [{"reference": "QuestionnaireResponse/resp-1"}]


def test_incomplete_ibd_score_produces_no_observation(ibd: Instrument) -> None:
    answers = {key: value for key, value in IBD_ANSWERS.items() if key != "night"}
    assert score_answers(ibd, answers).scores["activity_index"].complete is False
    assert observations(ibd, answers) == []


def test_only_complete_scores_produce_observations(demo: Instrument) -> None:
    # mood low (1) + tired yes (1) = raw 2 -> standard score 60, band high; sleep unanswered.
    result = observations(demo, {"mood": "low", "tired": True}, response_id="r_9")
    assert [o["code"]["coding"][0]["code"] for o in result] == ["strain"]
    (strain,) = result
    valid_observation(strain)
    assert strain["id"] == "r-9-strain"
    assert strain["derivedFrom"] == [{"reference": "QuestionnaireResponse/r-9"}]
    assert strain["valueQuantity"]["value"] == 60
    assert strain["interpretation"][0]["coding"][0]["code"] == "high"

    both = observations(demo, {"mood": "good", "tired": True, "sleep_hours": 7})
    for observation in both:
        valid_observation(observation)
    values = {o["code"]["coding"][0]["code"]: o["valueQuantity"]["value"] for o in both}
    assert values == {"strain": 50.5, "sleep": 7}
    sleep = next(o for o in both if o["code"]["coding"][0]["code"] == "sleep")
    assert "interpretation" not in sleep


def test_observations_refuse_a_naive_effective_time(ibd: Instrument) -> None:
    with pytest.raises(ValueError, match="timezone"):
        score_observations(
            ibd,
            score_answers(ibd, IBD_ANSWERS),
            response_id="resp-1",
            subject_reference="Patient/p-42",
            effective=datetime(2025, 3, 4),
            canonical_base=BASE,
        )


# -- shared -------------------------------------------------------------------------------
def test_every_resource_survives_a_json_round_trip(ibd: Instrument, demo: Instrument) -> None:
    resources = [
        questionnaire(ibd, canonical_base=BASE),
        questionnaire(demo, canonical_base=BASE),
        response(ibd, IBD_ANSWERS),
        response(demo, {"mood": "very_low", "tired": False, "support": True, "worry": "Daño"}),
        *observations(ibd, IBD_ANSWERS),
        *observations(demo, {"mood": "good", "tired": False, "sleep_hours": 11}),
    ]
    assert len(resources) == 7
    for resource in resources:
        assert round_trips(resource)
        validate = {
            "Questionnaire": valid_questionnaire,
            "QuestionnaireResponse": valid_response,
            "Observation": valid_observation,
        }[resource["resourceType"]]
        validate(json.loads(json.dumps(resource)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ibd-symptoms", "ibd-symptoms"),
        ("resp_1-activity_index", "resp-1-activity-index"),
        ("a b/c:d", "a-b-c-d"),
        ("v1.2", "v1.2"),
    ],
)
def test_fhir_id_maps_characters_fhir_refuses(text: str, expected: str) -> None:
    assert fhir_id(text) == expected


def test_fhir_id_keeps_long_ids_valid_and_distinct() -> None:
    first, second = fhir_id("x" * 80 + "a"), fhir_id("x" * 80 + "b")
    assert FHIR_ID.match(first) and FHIR_ID.match(second)
    assert len(first) == 64
    assert first != second
    with pytest.raises(ValueError):
        fhir_id("")
