"""Instruments as plain, immutable Python: what the loader builds and the engine reads."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, TypeAlias, TypeVar

# A phone of whatever shape the caller holds (a Contact row, the roster import's picture).
Phone = TypeVar("Phone")

Translations: TypeAlias = Mapping[str, str]  # language code -> text


class ItemType(enum.StrEnum):
    INTEGER = "integer"
    SCALE = "scale"
    CHOICE = "choice"
    YES_NO = "yes_no"
    TEXT = "text"


class RespondentMode(enum.StrEnum):
    SELF = "self"
    PROXY = "proxy"
    EITHER = "either"


class Severity(enum.StrEnum):
    MODERATE = "moderate"
    HIGH = "high"
    URGENT = "urgent"


@dataclass(frozen=True)
class Option:
    """A numbered choice; ``code`` is what is stored, so renumbering never changes meaning."""

    code: str
    label: Translations
    points: int | None = None


@dataclass(frozen=True)
class PointRange:
    """Answers from ``low`` to ``high`` (inclusive) are worth ``points``."""

    low: int
    high: int
    points: int


# Conditions: over answers (skip logic, red flags) and scores (red flags).
@dataclass(frozen=True)
class ItemTest:
    item: str
    operator: str  # equals, in, gte, lte, answered, mentions
    value: Any


@dataclass(frozen=True)
class ScoreTest:
    score: str
    operator: str  # gte, lte, band
    value: Any


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


Condition: TypeAlias = ItemTest | ScoreTest | AllOf | AnyOf


@dataclass(frozen=True)
class Item:
    id: str
    type: ItemType
    text: Translations
    proxy_text: Translations | None = None
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    anchors: Mapping[str, Mapping[int, str]] | None = None  # scale: language -> value -> label
    options: tuple[Option, ...] = ()
    point_ranges: tuple[PointRange, ...] = ()
    yes_points: int | None = None
    no_points: int | None = None
    max_length: int | None = None
    ask_when: Condition | None = None
    # Points counted when skip logic did not ask the item (e.g. "how much blood" after "no blood").
    points_when_not_asked: int | None = None
    # A free-text answer that also goes to the co-design backlog as an idea.
    becomes_idea: bool = False

    def option(self, code: str) -> Option | None:
        return next((o for o in self.options if o.code == code), None)


@dataclass(frozen=True)
class Band:
    """An interpretation band, inclusive at both ends (e.g. mild: 10 to 34)."""

    id: str
    label: Translations
    minimum: float
    maximum: float

    def contains(self, value: float) -> bool:
        return self.minimum <= value <= self.maximum


@dataclass(frozen=True)
class Score:
    id: str
    label: Translations
    items: tuple[str, ...]
    reverse: frozenset[str] = frozenset()
    min_answered: int = 1
    prorate: bool = False
    lookup: Mapping[int, float] | None = None  # raw sum -> standard score
    bands: tuple[Band, ...] = ()
    minimum: float = 0  # of the reported value (standard score when there is a lookup)
    maximum: float = 0
    raw_minimum: int = 0  # of the sum of points
    raw_maximum: int = 0
    # When set, the respondent is told the band at the end: "This week: {band}".
    tell_respondent: Translations | None = None

    def respondent_summary(self, band: Band, language: str) -> str | None:
        if self.tell_respondent is None:
            return None
        return self.tell_respondent[language].replace("{band}", band.label[language])

    def band_for(self, value: float) -> Band | None:
        return next((band for band in self.bands if band.contains(value)), None)


@dataclass(frozen=True)
class RedFlag:
    id: str
    severity: Severity
    when: Condition
    message: Translations


@dataclass(frozen=True)
class Respondent:
    mode: RespondentMode
    min_age: int
    max_age: int
    # With mode "either": patients this old or older answer for themselves by default.
    self_from_age: int | None = None

    def choose(
        self, age: int, own: Phone | None, proxies: Sequence[Phone]
    ) -> tuple[Phone, bool] | None:
        """Which phone answers: the patient's own, or the first caregiver's that may answer
        for them (then ``True``: a proxy answers); None when neither may."""
        prefer_self = self.mode is RespondentMode.SELF or (
            self.mode is RespondentMode.EITHER
            and (self.self_from_age is None or age >= self.self_from_age)
        )
        if prefer_self and own is not None:
            return own, False
        if self.mode is not RespondentMode.SELF and proxies:
            return proxies[0], True
        if self.mode is RespondentMode.EITHER and own is not None:
            return own, False
        return None


@dataclass(frozen=True)
class Instrument:
    id: str
    version: str
    title: Translations
    languages: tuple[str, ...]
    respondent: Respondent
    items: tuple[Item, ...]
    scores: tuple[Score, ...] = ()
    red_flags: tuple[RedFlag, ...] = ()
    intro: Translations | None = None
    closing: Translations | None = None
    content_hash: str = ""
    source: str = field(default="", repr=False, compare=False)
    path: str = field(default="", compare=False)

    @cached_property
    def items_by_id(self) -> Mapping[str, Item]:
        """Every reply looks items up by id, several times per step: index them once."""
        return {item.id: item for item in self.items}

    def item(self, item_id: str) -> Item:
        return self.items_by_id[item_id]

    def score(self, score_id: str) -> Score:
        for score in self.scores:
            if score.id == score_id:
                return score
        raise KeyError(score_id)

    @property
    def label(self) -> str:
        return f"{self.id} v{self.version}"
