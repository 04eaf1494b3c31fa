"""The scoring engine: answers in, scores, bands and red flags out. Pure, no database.

Answers map item ids to values: an option code for choice items, an int for
integer and scale items, a bool for yes/no, a str for free text. An item that
was skipped, or not asked because of skip logic, is simply absent.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engage.instruments.loader import answer_problem, point_bounds
from engage.instruments.model import (
    AllOf,
    AnyOf,
    Band,
    Condition,
    Instrument,
    Item,
    ItemTest,
    ItemType,
    RedFlag,
    Score,
    ScoreTest,
)

Answers = Mapping[str, Any]


class InvalidAnswer(ValueError):
    """An answer that the instrument does not allow (out of range, unknown option...)."""


@dataclass(frozen=True)
class ScoreResult:
    score: Score
    raw: int | None  # sum of points, prorated when the score allows it
    value: float | None  # the raw sum, or its standard score from the lookup table
    band: Band | None
    answered: int

    @property
    def complete(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Outcome:
    scores: Mapping[str, ScoreResult]
    red_flags: tuple[RedFlag, ...]


def score_answers(instrument: Instrument, answers: Answers) -> Outcome:
    """Score a set of answers and find the red flags they raise."""
    check_answers(instrument, answers)
    asked, not_asked = asked_answers(instrument, answers)
    scores = {
        score.id: compute_score(instrument, score, asked, not_asked) for score in instrument.scores
    }
    flags = tuple(
        flag for flag in instrument.red_flags if condition_holds(flag.when, asked, scores)
    )
    return Outcome(scores=scores, red_flags=flags)


def check_answers(instrument: Instrument, answers: Answers) -> None:
    for item_id, answer in answers.items():
        try:
            item = instrument.item(item_id)
        except KeyError:
            raise InvalidAnswer(f"{instrument.label} has no item {item_id!r}") from None
        problem = answer_problem(item, answer)
        if problem:
            raise InvalidAnswer(problem)


def is_asked(item: Item, earlier_answers: Answers) -> bool:
    """Skip logic: an item is asked unless its condition over earlier answers fails."""
    return item.ask_when is None or condition_holds(item.ask_when, earlier_answers, {})


def next_item(
    instrument: Instrument, answers: Answers, passed: frozenset[str] = frozenset()
) -> Item | None:
    """The next item to ask, given the answers so far and items the respondent passed on."""
    asked, _ = asked_answers(instrument, answers)
    for item in instrument.items:
        if item.id in answers or item.id in passed:
            continue
        if is_asked(item, asked):
            return item
    return None


def asked_answers(instrument: Instrument, answers: Answers) -> tuple[dict[str, Any], set[str]]:
    """Answers to items that skip logic asks, and the ids of items it did not ask."""
    asked: dict[str, Any] = {}
    not_asked: set[str] = set()
    for item in instrument.items:
        if not is_asked(item, asked):
            not_asked.add(item.id)
        elif item.id in answers:
            asked[item.id] = answers[item.id]
    return asked, not_asked


def item_points(item: Item, answer: Any) -> int:
    if item.type is ItemType.CHOICE:
        option = item.option(answer)
        assert option is not None and option.points is not None
        return option.points
    if item.type is ItemType.YES_NO:
        return int(item.yes_points if answer else item.no_points)  # type: ignore[arg-type]
    for point_range in item.point_ranges:
        if point_range.low <= answer <= point_range.high:
            return point_range.points
    return int(answer)


def compute_score(
    instrument: Instrument, score: Score, asked: Answers, not_asked: set[str]
) -> ScoreResult:
    points: list[int] = []
    for item_id in score.items:
        item = instrument.item(item_id)
        if item_id in asked:
            value = item_points(item, asked[item_id])
        elif item_id in not_asked and item.points_when_not_asked is not None:
            value = item.points_when_not_asked
        else:
            continue
        if item_id in score.reverse:
            low, high = point_bounds(item)
            value = low + high - value
        points.append(value)

    answered = len(points)
    if answered < score.min_answered:
        return ScoreResult(score, None, None, None, answered)
    raw = sum(points)
    if score.prorate and answered < len(score.items):
        raw = math.floor(raw * len(score.items) / answered + 0.5)
        # Items of unequal weight can prorate past the ends; keep within the declared range.
        raw = min(max(raw, score.raw_minimum), score.raw_maximum)
    reported = float(score.lookup[raw]) if score.lookup is not None else float(raw)
    return ScoreResult(score, raw, reported, score.band_for(reported), answered)


def condition_holds(
    condition: Condition, answers: Answers, scores: Mapping[str, ScoreResult]
) -> bool:
    if isinstance(condition, AllOf):
        return all(condition_holds(c, answers, scores) for c in condition.conditions)
    if isinstance(condition, AnyOf):
        return any(condition_holds(c, answers, scores) for c in condition.conditions)
    if isinstance(condition, ScoreTest):
        result = scores.get(condition.score)
        if result is None or result.value is None:
            return False
        if condition.operator == "band":
            return result.band is not None and result.band.id in condition.value
        if condition.operator == "gte":
            return result.value >= condition.value
        return result.value <= condition.value
    return item_test_holds(condition, answers)


def item_test_holds(test: ItemTest, answers: Answers) -> bool:
    answered = test.item in answers and answers[test.item] is not None
    if test.operator == "answered":
        return answered is test.value
    if not answered:
        return False
    answer = answers[test.item]
    if test.operator == "equals":
        return bool(answer == test.value)
    if test.operator == "in":
        return answer in test.value
    if test.operator == "gte":
        return bool(answer >= test.value)
    if test.operator == "lte":
        return bool(answer <= test.value)
    if test.operator == "mentions":
        return mentions_any(str(answer), test.value)
    raise ValueError(f"unknown operator {test.operator!r}")


# Phones type curly quotes and people write "self-harm" or "self harm": read them alike.
_SAME_AS_APOSTROPHE = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})
_WORD_JOINERS = re.compile(r"[-\u2010-\u2015_/]+")


def fold(text: str) -> str:
    """Lower-case, strip accents, unify apostrophes and dashes, squeeze spaces."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_SAME_AS_APOSTROPHE))
    without_marks = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", _WORD_JOINERS.sub(" ", without_marks)).strip()


def phrase_pattern(phrase: str) -> re.Pattern[str]:
    """Whole words; a trailing ``*`` lets the last word go on ('suicid*' finds 'suicidal')."""
    stem = phrase.endswith("*")
    body = re.escape(fold(phrase.rstrip("*")))
    return re.compile(r"(?<!\w)" + body + ("" if stem else r"(?!\w)"))


def mentions_any(text: str, phrases: tuple[str, ...]) -> bool:
    """True when ``text`` contains one of the phrases, read as whole words."""
    folded = fold(text)
    return any(phrase_pattern(phrase).search(folded) for phrase in phrases)
