"""The scoring engine on hand-made instruments: reverse coding, proration, lookups, conditions."""

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage.instruments.loader import load_library, parse_instrument
from engage.instruments.model import Instrument, ItemType
from engage.instruments.scoring import (
    InvalidAnswer,
    fold,
    mentions_any,
    next_item,
    score_answers,
)

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


def build(document) -> Instrument:
    return parse_instrument(yaml.safe_dump(document, allow_unicode=True), "test.yaml")


def test_reverse_coding_and_lookup(tiny):
    tiny["scores"][0]["reverse"] = ["pain"]
    tiny["scores"][0]["lookup"] = {raw: 20.0 + raw * 2.5 for raw in range(0, 17)}
    tiny["scores"][0]["bands"] = [
        {"id": "low", "min": 20, "max": 39.9, "label": {"en": "Low", "es": "Baja"}},
        {"id": "high", "min": 40, "max": 60, "label": {"en": "High", "es": "Alta"}},
    ]
    instrument = build(tiny)
    # pain 10 reversed on 0..10 is 0 points; blood some 2; stools 3 -> 3; night yes 1: raw 6.
    result = score_answers(
        instrument, {"pain": 10, "blood": "some", "stools": 3, "night": True}
    ).scores["total"]
    assert (result.raw, result.value, result.band.id) == (6, 35.0, "low")


def test_proration_fills_in_missing_items(tiny):
    tiny["scores"][0]["min_answered"] = 3
    tiny["scores"][0]["prorate"] = True
    instrument = build(tiny)
    # pain 4 + blood 2 + stools 3 = 9 points over 3 of 4 items -> 9 * 4 / 3 = 12.
    result = score_answers(instrument, {"pain": 4, "blood": "some", "stools": 3}).scores["total"]
    assert (result.raw, result.answered) == (12, 3)
    too_few = score_answers(instrument, {"pain": 4, "blood": "some"}).scores["total"]
    assert too_few.value is None


def test_proration_never_passes_the_declared_maximum(tiny):
    tiny["scores"][0]["min_answered"] = 1
    tiny["scores"][0]["prorate"] = True
    instrument = build(tiny)
    result = score_answers(instrument, {"pain": 10}).scores["total"]
    assert result.raw == 16  # 10 * 4 would be 40; the most the four items give is 16


def test_points_when_not_asked(tiny):
    tiny["items"][1]["when"] = {"item": "pain", "gte": 1}
    tiny["items"][1]["points_when_not_asked"] = 0
    instrument = build(tiny)
    answers = {"pain": 0, "stools": 0, "night": False}
    assert score_answers(instrument, answers).scores["total"].value == 0
    # An answer to an item that skip logic did not ask is ignored.
    assert score_answers(instrument, {**answers, "blood": "some"}).scores["total"].value == 0


def test_all_any_and_score_conditions(tiny):
    tiny["red_flags"] = [
        {
            "id": "combo",
            "severity": "urgent",
            "when": {
                "all": [
                    {
                        "any": [
                            {"item": "blood", "equals": "some"},
                            {"item": "night", "equals": True},
                        ]
                    },
                    {"score": "total", "band": "high"},
                ]
            },
            "message": {"en": "Call us.", "es": "Llamenos."},
        },
        {
            "id": "silent",
            "severity": "moderate",
            "when": {"item": "note", "answered": False},
            "message": {"en": "ok", "es": "ok"},
        },
    ]
    instrument = build(tiny)

    def fired(answers):
        return {f.id for f in score_answers(instrument, answers).red_flags}

    assert fired({"pain": 9, "blood": "none", "stools": 0, "night": True}) == {"combo", "silent"}
    assert fired({"pain": 2, "blood": "some", "stools": 0, "night": False, "note": "hi"}) == set()


@pytest.mark.parametrize(
    ("answers", "problem"),
    [
        ({"pain": 11}, "11 is outside 0..10 for item 'pain'"),
        ({"blood": "lots"}, "'lots' is not an option of item 'blood'"),
        ({"night": "yes"}, "'yes' is not an answer to yes/no item 'night'"),
        ({"stools": 2.5}, "2.5 is not a whole number for item 'stools'"),
        ({"note": "x" * 201}, "item 'note' takes at most 200 characters"),
        ({"fever": True}, "has no item 'fever'"),
    ],
)
def test_invalid_answers_are_refused(tiny, answers, problem):
    with pytest.raises(InvalidAnswer, match=problem.replace("(", r"\(").replace(")", r"\)")):
        score_answers(build(tiny), answers)


def test_next_item_walks_the_instrument_and_respects_passes(tiny):
    instrument = build(tiny)
    assert next_item(instrument, {}).id == "pain"
    assert next_item(instrument, {"pain": 1}).id == "blood"
    assert next_item(instrument, {"pain": 1}, passed=frozenset({"blood"})).id == "stools"
    everything = {"pain": 1, "blood": "none", "stools": 1, "night": False, "note": "ok"}
    assert next_item(instrument, everything) is None


@pytest.mark.parametrize(
    ("text", "phrases", "expected"),
    [
        ("I feel SUICIDAL lately", ("suicid*",), True),
        ("I feel suicidal", ("suicid",), False),  # without * the phrase is a whole word
        ("I want to diet", ("want to die",), False),
        ("I don’t want to live", ("don't want to live",), True),
        ("thoughts of self-harm", ("self harm",), True),
        ("quiero hacerme dano", ("hacerme daño",), True),
        ("Quiero hacerme  DAÑO", ("hacerme daño",), True),
        ("presuicide is not a word", ("suicid*",), False),
        ("I killed it at soccer", ("kill myself",), False),
    ],
)
def test_mentions_fold_case_accents_and_spaces(text, phrases, expected):
    assert mentions_any(text, phrases) is expected


def test_fold():
    assert fold("  Ñandú   Está ") == "nandu esta"
    assert fold("Don’t self–harm") == "don't self harm"


# -- properties over every shipped instrument -----------------------------------------------


def shipped() -> list[Instrument]:
    return list(load_library([PROMPTS]))


def answer_strategy(item):
    if item.type is ItemType.CHOICE:
        return st.sampled_from([option.code for option in item.options])
    if item.type in (ItemType.INTEGER, ItemType.SCALE):
        return st.integers(item.minimum, item.maximum)
    if item.type is ItemType.YES_NO:
        return st.booleans()
    return st.text(max_size=item.max_length or 0)


def answer_sets(instrument):
    """Any subset of items answered with in-range values (skipped items are absent)."""
    return st.fixed_dictionaries(
        {},
        optional={item.id: answer_strategy(item) for item in instrument.items},
    )


@pytest.mark.parametrize("instrument", shipped(), ids=lambda i: i.id)
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_any_in_range_answers_score_within_bounds(instrument, data):
    answers = data.draw(answer_sets(instrument))
    outcome = score_answers(instrument, answers)
    for score in instrument.scores:
        result = outcome.scores[score.id]
        if result.value is None:
            assert result.answered < score.min_answered
            continue
        assert score.raw_minimum <= result.raw <= score.raw_maximum
        assert score.minimum <= result.value <= score.maximum
        if score.bands:
            assert result.band is not None and result.band.contains(result.value)


@pytest.mark.parametrize("instrument", shipped(), ids=lambda i: i.id)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_next_item_always_finishes(instrument, data):
    answers: dict = {}
    for _ in range(len(instrument.items) + 1):
        item = next_item(instrument, answers)
        if item is None:
            break
        assert item.id not in answers
        answers[item.id] = data.draw(answer_strategy(item))
    assert next_item(instrument, answers) is None
