"""The check-in conversation: state and a text in, new state and texts out. Pure.

It knows instruments and the words families type; it knows nothing of Flask,
the database or Twilio. Services load the state, call ``begin`` or ``receive``,
and store what comes back in one unit of work.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from engage.conversations.keywords import Command, read_keyword
from engage.conversations.parsing import Parsed, parse_answer
from engage.instruments.model import Instrument, Item, ItemType, RedFlag
from engage.instruments.render import item_message
from engage.instruments.scoring import Outcome, next_item, score_answers

MAX_TRIES = 2

TEXTS: Mapping[str, Mapping[str, str]] = {
    "en": {
        "number": "Sorry, I didn't get that. Please reply with a number from {low} to {high}.",
        "one_number": "Please send just one number, from {low} to {high}.",
        "choice": "Sorry, I didn't get that. Please reply with a number from 1 to {high}.",
        "yes_no": "Sorry, I didn't get that. Please reply YES or NO.",
        "text": "Please type your answer, or reply SKIP.",
        "move_on": "OK, let's leave that one and go on.",
        "thanks": "Thank you! Your answers were saved.",
    },
    "es": {
        "number": "Perdon, no entendi. Responda con un numero del {low} al {high}.",
        "one_number": "Envie solo un numero, del {low} al {high}.",
        "choice": "Perdon, no entendi. Responda con un numero del 1 al {high}.",
        "yes_no": "Perdon, no entendi. Responda SI o NO.",
        "text": "Escriba su respuesta, o responda SKIP.",
        "move_on": "Bien, dejamos esa pregunta y seguimos.",
        "thanks": "¡Gracias! Sus respuestas se guardaron.",
    },
}


@dataclass(frozen=True)
class State:
    """Where a check-in's conversation stands; stored as JSON on the check-in."""

    current: str | None = None
    tries: int = 0
    asked: tuple[str, ...] = ()
    answers: Mapping[str, Any] = field(default_factory=dict)
    passed: frozenset[str] = frozenset()
    flagged: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "current": self.current,
            "tries": self.tries,
            "asked": list(self.asked),
            "answers": dict(self.answers),
            "passed": sorted(self.passed),
            "flagged": sorted(self.flagged),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> State:
        data = data or {}
        return cls(
            current=data.get("current"),
            tries=int(data.get("tries", 0)),
            asked=tuple(data.get("asked", ())),
            answers=dict(data.get("answers", {})),
            passed=frozenset(data.get("passed", ())),
            flagged=frozenset(data.get("flagged", ())),
        )


@dataclass(frozen=True)
class Outgoing:
    text: str
    purpose: str  # intro, question, reask, move_on, safety, thanks, band


@dataclass(frozen=True)
class Recorded:
    """An answer to store (or clear, when ``status`` is None after BACK)."""

    item_id: str
    status: str | None  # answered, skipped, unanswered; None: forget the earlier answer
    value: Any = None


@dataclass(frozen=True)
class Step:
    state: State
    messages: tuple[Outgoing, ...] = ()
    recorded: tuple[Recorded, ...] = ()
    raised: tuple[RedFlag, ...] = ()
    outcome: Outcome | None = None

    @property
    def completed(self) -> bool:
        return self.outcome is not None


def begin(instrument: Instrument, language: str, *, proxy: bool) -> Step:
    """The opening messages: the intro, then the first question."""
    messages: list[Outgoing] = []
    if instrument.intro:
        messages.append(Outgoing(instrument.intro[language], "intro"))
    return advance(instrument, State(), messages, (), language, proxy)


def receive(instrument: Instrument, state: State, text: str, language: str, *, proxy: bool) -> Step:
    """Read one reply to the current item and move the conversation on."""
    if state.current is None:
        return Step(state)
    item = instrument.item(state.current)
    keyword = read_keyword(text)
    if keyword is not None and keyword.command is Command.SKIP:
        return pass_item(instrument, state, item, "skipped", [], language, proxy)
    if keyword is not None and keyword.command is Command.BACK:
        return go_back(instrument, state, language, proxy)

    parsed = parse_answer(item, text, language)
    if parsed.ok:
        value = fit_text(item, parsed.value)
        answers = {**state.answers, item.id: value}
        new_state = replace(state, answers=answers, passed=state.passed - {item.id}, tries=0)
        return advance(
            instrument, new_state, [], (Recorded(item.id, "answered", value),), language, proxy
        )
    if state.tries + 1 >= MAX_TRIES:
        move_on = Outgoing(TEXTS[language]["move_on"], "move_on")
        return pass_item(instrument, state, item, "unanswered", [move_on], language, proxy)
    return Step(
        replace(state, tries=state.tries + 1), (Outgoing(reask(item, parsed, language), "reask"),)
    )


def pass_item(
    instrument: Instrument,
    state: State,
    item: Item,
    status: str,
    messages: list[Outgoing],
    language: str,
    proxy: bool,
) -> Step:
    answers = {k: v for k, v in state.answers.items() if k != item.id}
    new_state = replace(state, answers=answers, passed=state.passed | {item.id}, tries=0)
    return advance(instrument, new_state, messages, (Recorded(item.id, status),), language, proxy)


def go_back(instrument: Instrument, state: State, language: str, proxy: bool) -> Step:
    """Return to the previous question and forget its answer, so it can be given again."""
    if len(state.asked) < 2:
        item = instrument.item(state.current or instrument.items[0].id)
        return Step(replace(state, tries=0), (question(item, language, proxy),))
    previous = state.asked[-2]
    answers = {k: v for k, v in state.answers.items() if k != previous}
    new_state = replace(
        state,
        current=previous,
        tries=0,
        asked=state.asked[:-1],
        answers=answers,
        passed=state.passed - {previous},
    )
    item = instrument.item(previous)
    return Step(new_state, (question(item, language, proxy),), (Recorded(previous, None),))


def advance(
    instrument: Instrument,
    state: State,
    messages: list[Outgoing],
    recorded: tuple[Recorded, ...],
    language: str,
    proxy: bool,
) -> Step:
    """Raise any new red flags at once, then ask the next question or finish."""
    upcoming = next_item(instrument, state.answers, state.passed)
    outcome = score_answers(instrument, state.answers)
    raised = tuple(flag for flag in outcome.red_flags if flag.id not in state.flagged)
    messages = [*messages, *(Outgoing(flag.message[language], "safety") for flag in raised)]
    state = replace(state, flagged=state.flagged | {flag.id for flag in raised})

    if upcoming is not None:
        state = replace(state, current=upcoming.id, asked=(*state.asked, upcoming.id), tries=0)
        messages.append(question(upcoming, language, proxy))
        return Step(state, tuple(messages), recorded, raised)

    closing = instrument.closing[language] if instrument.closing else TEXTS[language]["thanks"]
    messages.append(Outgoing(closing, "thanks"))
    for score in instrument.scores:
        result = outcome.scores[score.id]
        if result.band is not None:
            summary = score.respondent_summary(result.band, language)
            if summary:
                messages.append(Outgoing(summary, "band"))
    return Step(replace(state, current=None), tuple(messages), recorded, raised, outcome)


def question(item: Item, language: str, proxy: bool) -> Outgoing:
    return Outgoing(item_message(item, language, proxy=proxy), "question")


def reask(item: Item, parsed: Parsed, language: str) -> str:
    """A short re-ask that shows the form of a valid answer."""
    texts = TEXTS[language]
    if item.type in (ItemType.INTEGER, ItemType.SCALE):
        key = "one_number" if parsed.problem == "ambiguous" else "number"
        return texts[key].format(low=item.minimum, high=item.maximum)
    if item.type is ItemType.CHOICE:
        return texts["choice"].format(high=len(item.options))
    if item.type is ItemType.YES_NO:
        return texts["yes_no"]
    return texts["text"]


def fit_text(item: Item, value: Any) -> Any:
    """Keep a long free-text answer within the item's limit; the full text stays in the message."""
    if item.type is ItemType.TEXT and item.max_length and len(value) > item.max_length:
        return value[: item.max_length - 1].rstrip() + "…"
    return value
