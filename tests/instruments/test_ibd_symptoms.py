"""The shipped ibd-symptoms instrument scores like the published PUCAI, edge by edge."""

from pathlib import Path

import pytest

from engage.instruments.loader import load_library
from engage.instruments.scoring import next_item, score_answers

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"


@pytest.fixture(scope="module")
def symptoms():
    return load_library([PROMPTS]).get("ibd-symptoms")


def answers(pain, bleeding, consistency, stools, night, activity, **extra):
    given = {
        "pain": pain,
        "bleeding": bleeding,
        "consistency": consistency,
        "stools": stools,
        "night": night,
        "activity": activity,
    }
    given.update(extra)
    return given


# Every PUCAI point is a multiple of 5, so these are the lowest and highest
# reachable totals of each band (remission < 10, mild 10-34, moderate 35-64, severe >= 65).
BAND_EDGES = [
    (answers("none", "none", "formed", 0, False, "none"), 0, "remission"),
    (answers("ignorable", "none", "formed", 2, False, "none"), 5, "remission"),
    (answers("none", "little_some", "formed", 0, False, "none"), 10, "mild"),
    (answers("not_ignorable", "little_some", "partly_formed", 5, False, "none"), 30, "mild"),
    (answers("not_ignorable", "little_some", "partly_formed", 3, False, "sometimes"), 35, "moderate"),
    (answers("not_ignorable", "little_most", "unformed", 6, True, "none"), 60, "moderate"),
    (answers("not_ignorable", "little_most", "unformed", 9, True, "none"), 65, "severe"),
    (answers("not_ignorable", "large", "unformed", 30, True, "severely"), 85, "severe"),
]  # fmt: skip


@pytest.mark.parametrize(("given", "total", "band"), BAND_EDGES)
def test_band_edges(symptoms, given, total, band):
    result = score_answers(symptoms, given).scores["activity_index"]
    assert result.value == total
    assert result.band.id == band


@pytest.mark.parametrize(
    ("stools", "points"),
    [(0, 0), (2, 0), (3, 5), (5, 5), (6, 10), (8, 10), (9, 15), (30, 15)],
)
def test_stool_count_points(symptoms, stools, points):
    given = answers("none", "none", "formed", stools, False, "none")
    assert score_answers(symptoms, given).scores["activity_index"].value == points


def test_one_unanswered_item_means_no_score(symptoms):
    given = answers("none", "none", "formed", 0, False, "none")
    del given["night"]
    result = score_answers(symptoms, given).scores["activity_index"]
    assert (result.value, result.band, result.answered) == (None, None, 5)


def flags(symptoms, given):
    return {flag.id for flag in score_answers(symptoms, given).red_flags}


RED_FLAGS = [
    # blood in most stools and 6 or more stools a day
    (answers("none", "little_most", "formed", 6, False, "none"), {"bleeding_with_frequent_stools"}),
    (answers("none", "large", "formed", 30, False, "none"), {"bleeding_with_frequent_stools"}),
    (answers("none", "little_most", "formed", 5, False, "none"), set()),
    (answers("none", "little_some", "formed", 12, False, "none"), set()),
    # worst pain 8 or more of 10 (asked only when there was pain)
    (answers("ignorable", "none", "formed", 0, False, "none", worst_pain=8), {"severe_pain"}),
    (answers("not_ignorable", "none", "formed", 0, False, "none", worst_pain=10), {"severe_pain"}),
    (answers("ignorable", "none", "formed", 0, False, "none", worst_pain=7), set()),
    (answers("none", "none", "formed", 0, False, "none", worst_pain=10), set()),
    # a severe total
    (answers("not_ignorable", "little_most", "unformed", 9, True, "none"),
     {"severe_activity", "bleeding_with_frequent_stools"}),
    (answers("not_ignorable", "little_most", "unformed", 5, True, "none"), set()),  # 55
]  # fmt: skip


@pytest.mark.parametrize(("given", "expected"), RED_FLAGS)
def test_red_flags(symptoms, given, expected):
    assert flags(symptoms, given) == expected


def test_worst_pain_is_asked_only_after_pain(symptoms):
    assert next_item(symptoms, {}).id == "pain"
    assert next_item(symptoms, {"pain": "none"}).id == "bleeding"
    assert next_item(symptoms, {"pain": "ignorable"}).id == "worst_pain"


def test_every_red_flag_message_is_a_safety_message_in_both_languages(symptoms):
    for flag in symptoms.red_flags:
        assert "ER" in flag.message["en"] or "911" in flag.message["en"], flag.id
        assert "urgencias" in flag.message["es"] or "911" in flag.message["es"], flag.id
