"""FHIR R4 export: instruments as Questionnaires, answers as QuestionnaireResponses, scores
as Observations. Pure functions returning plain JSON-able dicts, so callers choose how to
send or store them and nothing here needs a database or an app.

English is the base language of every resource; other languages travel in the standard
translation extension, so one resource serves every respondent.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeAlias

from engage.instruments.model import (
    AllOf,
    AnyOf,
    Condition,
    Instrument,
    Item,
    ItemTest,
    ItemType,
    Translations,
)
from engage.instruments.scoring import Answers, Outcome, asked_answers, check_answers

JSON: TypeAlias = dict[str, Any]

BASE_LANGUAGE = "en"
CONTENT_HASH_SYSTEM = "urn:engage:instrument-content-hash"
TRANSLATION_URL = "http://hl7.org/fhir/StructureDefinition/translation"
MIN_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/minValue"
MAX_VALUE_URL = "http://hl7.org/fhir/StructureDefinition/maxValue"
ITEM_CONTROL_URL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
ITEM_CONTROL_SYSTEM = "http://hl7.org/fhir/questionnaire-item-control"
SLIDER_STEP_URL = "http://hl7.org/fhir/StructureDefinition/questionnaire-sliderStepValue"
OBSERVATION_CATEGORY_SYSTEM = "http://terminology.hl7.org/CodeSystem/observation-category"
UCUM_SYSTEM = "http://unitsofmeasure.org"

ITEM_TYPES: Mapping[ItemType, str] = {
    ItemType.INTEGER: "integer",
    ItemType.SCALE: "integer",
    ItemType.CHOICE: "choice",
    ItemType.YES_NO: "boolean",
    ItemType.TEXT: "text",
}
RESPONSE_STATUSES = frozenset(
    {"in-progress", "completed", "amended", "entered-in-error", "stopped"}
)
FHIR_ID_LENGTH = 64

_NOT_IN_ID = re.compile(r"[^A-Za-z0-9.-]")


# -- Questionnaire ------------------------------------------------------------------------
def questionnaire(instrument: Instrument, *, canonical_base: str) -> JSON:
    """The instrument as a FHIR R4 Questionnaire, identified by url, version and content hash."""
    base = canonical_base.rstrip("/")
    resource: JSON = {
        "resourceType": "Questionnaire",
        "id": fhir_id(instrument.id),
        "language": BASE_LANGUAGE,
        "url": questionnaire_url(instrument, base),
    }
    if instrument.content_hash:
        resource["identifier"] = [{"system": CONTENT_HASH_SYSTEM, "value": instrument.content_hash}]
    resource["version"] = instrument.version
    resource["name"] = computable_name(instrument.id)
    put_text(resource, "title", instrument.title)
    resource["status"] = "active"
    resource["subjectType"] = ["Patient"]
    resource["item"] = [questionnaire_item(instrument, item, base) for item in instrument.items]
    return resource


def questionnaire_url(instrument: Instrument, base: str) -> str:
    return f"{base}/Questionnaire/{instrument.id}"


def computable_name(instrument_id: str) -> str:
    """``ibd-symptoms`` -> ``IbdSymptoms``: FHIR wants names usable as code identifiers."""
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[-_]+", instrument_id))


def questionnaire_item(instrument: Instrument, item: Item, base: str) -> JSON:
    entry: JSON = {"linkId": item.id}
    put_text(entry, "text", item.text)
    entry["type"] = ITEM_TYPES[item.type]
    entry["required"] = item.required
    extensions: list[JSON] = []
    if item.type in (ItemType.INTEGER, ItemType.SCALE):
        if item.minimum is not None:
            extensions.append({"url": MIN_VALUE_URL, "valueInteger": item.minimum})
        if item.maximum is not None:
            extensions.append({"url": MAX_VALUE_URL, "valueInteger": item.maximum})
    if item.type is ItemType.SCALE:
        extensions.append(slider_control())
        extensions.append({"url": SLIDER_STEP_URL, "valueInteger": 1})
    if item.type is ItemType.CHOICE:
        system = option_system(instrument, item, base)
        entry["answerOption"] = [
            {"valueCoding": coding(system, option.code, option.label)} for option in item.options
        ]
    if item.type is ItemType.TEXT and item.max_length is not None:
        entry["maxLength"] = item.max_length
    if item.ask_when is not None:
        mapped = enable_when(instrument, item.ask_when, base)
        if mapped is not None:
            entries, behavior = mapped
            entry["enableWhen"] = entries
            if behavior is not None:
                entry["enableBehavior"] = behavior
        else:
            # Beyond what enableWhen can say (free-text mentions, any-of inside all-of):
            # a renderer shows the item always, so say in words when the service asks it.
            extensions.append(
                {
                    "url": f"{base}/StructureDefinition/ask-when",
                    "valueString": describe_condition(item.ask_when),
                }
            )
    if extensions:
        entry["extension"] = extensions
    return entry


def slider_control() -> JSON:
    return {
        "url": ITEM_CONTROL_URL,
        "valueCodeableConcept": {
            "coding": [{"system": ITEM_CONTROL_SYSTEM, "code": "slider", "display": "Slider"}]
        },
    }


def option_system(instrument: Instrument, item: Item, base: str) -> str:
    return f"{base}/CodeSystem/{instrument.id}-{item.id}"


def enable_when(
    instrument: Instrument, condition: Condition, base: str
) -> tuple[list[JSON], str | None] | None:
    """enableWhen entries and enableBehavior for ``condition``, or None when FHIR's flat
    list cannot express it. The behavior is None for a single entry, as FHIR requires."""
    if isinstance(condition, ItemTest):
        entries = item_test_entries(instrument, condition, base)
        if entries is None:
            return None
        return entries, "any" if len(entries) > 1 else None
    if isinstance(condition, AllOf | AnyOf):
        behavior = "all" if isinstance(condition, AllOf) else "any"
        combined: list[JSON] = []
        for part in condition.conditions:
            mapped = enable_when(instrument, part, base)
            if mapped is None or mapped[1] not in (None, behavior):
                return None
            combined.extend(mapped[0])
        return combined, behavior if len(combined) > 1 else None
    return None


def item_test_entries(instrument: Instrument, test: ItemTest, base: str) -> list[JSON] | None:
    item = instrument.item(test.item)
    if test.operator == "answered":
        return [{"question": item.id, "operator": "exists", "answerBoolean": test.value}]
    if test.operator in ("gte", "lte"):
        operator = ">=" if test.operator == "gte" else "<="
        return [{"question": item.id, "operator": operator, "answerInteger": test.value}]
    if test.operator == "equals":
        return [equals_entry(instrument, item, test.value, base)]
    if test.operator == "in":
        return [equals_entry(instrument, item, value, base) for value in test.value]
    return None


def equals_entry(instrument: Instrument, item: Item, value: Any, base: str) -> JSON:
    entry: JSON = {"question": item.id, "operator": "="}
    if item.type is ItemType.CHOICE:
        entry["answerCoding"] = {"system": option_system(instrument, item, base), "code": value}
    elif item.type is ItemType.YES_NO:
        entry["answerBoolean"] = value
    elif item.type is ItemType.TEXT:
        entry["answerString"] = value
    else:
        entry["answerInteger"] = value
    return entry


def describe_condition(condition: Condition) -> str:
    if isinstance(condition, AllOf | AnyOf):
        joiner = " and " if isinstance(condition, AllOf) else " or "
        return joiner.join(f"({describe_condition(part)})" for part in condition.conditions)
    if isinstance(condition, ItemTest):
        subject = f"item {condition.item}"
    else:
        subject = f"score {condition.score}"
    value = condition.value
    if condition.operator == "answered":
        return f"{subject} is {'answered' if value else 'not answered'}"
    if isinstance(value, tuple):
        value = ", ".join(repr(v) for v in value)
    else:
        value = repr(value)
    symbol = {"equals": "=", "gte": ">=", "lte": "<="}.get(condition.operator)
    if symbol:
        return f"{subject} {symbol} {value}"
    return f"{subject} {condition.operator} {value}"


# -- QuestionnaireResponse ----------------------------------------------------------------
def questionnaire_response(
    instrument: Instrument,
    answers: Answers,
    *,
    response_id: str,
    subject_reference: str,
    authored: datetime,
    canonical_base: str,
    status: str = "completed",
    source_reference: str | None = None,
) -> JSON:
    """The answers as a FHIR R4 QuestionnaireResponse, items in instrument order.

    Answers are checked as the scoring engine checks them (``InvalidAnswer``). An answer to
    an item that skip logic did not ask is left out, as scoring leaves it out: a FHIR
    response must not answer a disabled item, and the exported answers then match the
    Observations derived from them.
    """
    if status not in RESPONSE_STATUSES:
        known = ", ".join(sorted(RESPONSE_STATUSES))
        raise ValueError(f"{status!r} is not a QuestionnaireResponse status ({known})")
    require_aware(authored, "authored")
    check_answers(instrument, answers)
    asked, _ = asked_answers(instrument, answers)
    base = canonical_base.rstrip("/")
    resource: JSON = {
        "resourceType": "QuestionnaireResponse",
        "id": fhir_id(response_id),
        "questionnaire": f"{questionnaire_url(instrument, base)}|{instrument.version}",
        "status": status,
        "subject": {"reference": subject_reference},
        "authored": authored.isoformat(),
    }
    if source_reference is not None:
        resource["source"] = {"reference": source_reference}
    items = [
        response_item(instrument, item, asked[item.id], base)
        for item in instrument.items
        if item.id in asked and asked[item.id] != ""
    ]
    if items:
        resource["item"] = items
    return resource


def response_item(instrument: Instrument, item: Item, answer: Any, base: str) -> JSON:
    if item.type is ItemType.CHOICE:
        option = item.option(answer)
        assert option is not None
        value: JSON = {
            "valueCoding": coding(option_system(instrument, item, base), option.code, option.label)
        }
    elif item.type is ItemType.YES_NO:
        value = {"valueBoolean": answer}
    elif item.type is ItemType.TEXT:
        value = {"valueString": answer}
    else:
        value = {"valueInteger": answer}
    return {"linkId": item.id, "text": item.text[BASE_LANGUAGE], "answer": [value]}


# -- Observations -------------------------------------------------------------------------
def score_observations(
    instrument: Instrument,
    outcome: Outcome,
    *,
    response_id: str,
    subject_reference: str,
    effective: datetime,
    canonical_base: str,
) -> list[JSON]:
    """One FHIR R4 Observation per score that has a value, derived from the response.

    Incomplete scores are left out rather than sent without a value: a missing score is
    no finding, and an Observation without a value would need a dataAbsentReason.
    """
    require_aware(effective, "effective")
    base = canonical_base.rstrip("/")
    observations: list[JSON] = []
    for score in instrument.scores:
        result = outcome.scores.get(score.id)
        if result is None or result.value is None:
            continue
        observation: JSON = {
            "resourceType": "Observation",
            "id": fhir_id(f"{response_id}-{score.id}"),
            "status": "final",
            "category": [
                {
                    "coding": [
                        {
                            "system": OBSERVATION_CATEGORY_SYSTEM,
                            "code": "survey",
                            "display": "Survey",
                        }
                    ]
                }
            ],
            "code": {
                "coding": [
                    coding(f"{base}/CodeSystem/{instrument.id}-scores", score.id, score.label)
                ],
                "text": score.label[BASE_LANGUAGE],
            },
            "subject": {"reference": subject_reference},
            "effectiveDateTime": effective.isoformat(),
            "valueQuantity": {
                "value": fhir_number(result.value),
                "unit": "{score}",
                "system": UCUM_SYSTEM,
                "code": "{score}",
            },
        }
        if result.band is not None:
            band_system = f"{base}/CodeSystem/{instrument.id}-{score.id}-bands"
            observation["interpretation"] = [
                {
                    "coding": [coding(band_system, result.band.id, result.band.label)],
                    "text": result.band.label[BASE_LANGUAGE],
                }
            ]
        observation["derivedFrom"] = [
            {"reference": f"QuestionnaireResponse/{fhir_id(response_id)}"}
        ]
        observations.append(observation)
    return observations


# -- shared -------------------------------------------------------------------------------
def fhir_id(text: str) -> str:
    """A valid FHIR id ([A-Za-z0-9-.]{1,64}) for ``text``: other characters become '-', and
    an overlong id keeps a hash of the whole text so that distinct long ids stay distinct."""
    if not text:
        raise ValueError("a FHIR id cannot be empty")
    candidate = _NOT_IN_ID.sub("-", text)
    if len(candidate) <= FHIR_ID_LENGTH:
        return candidate
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{candidate[: FHIR_ID_LENGTH - len(digest) - 1]}-{digest}"


def coding(system: str, code: str, label: Translations) -> JSON:
    result: JSON = {"system": system, "code": code}
    put_text(result, "display", label)
    return result


def put_text(target: JSON, key: str, texts: Translations) -> None:
    """Set ``key`` to the English text and ``_key`` to the translations of the others."""
    target[key] = texts[BASE_LANGUAGE]
    others = sorted(
        (language, text) for language, text in texts.items() if language != BASE_LANGUAGE
    )
    if others:
        target[f"_{key}"] = {
            "extension": [
                {
                    "url": TRANSLATION_URL,
                    "extension": [
                        {"url": "lang", "valueCode": language},
                        {"url": "content", "valueString": text},
                    ],
                }
                for language, text in others
            ]
        }


def fhir_number(value: float) -> int | float:
    """Whole numbers as ints, so JSON says 25 rather than 25.0."""
    return int(value) if float(value).is_integer() else value


def require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(
            f"{name} must be timezone-aware: FHIR dateTimes with a time need an offset"
        )
