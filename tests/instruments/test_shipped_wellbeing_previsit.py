"""The shipped ibd-wellbeing and previsit instruments: scores, bands, red flags, skip logic.

Expected scores are worked out by hand in the tables (points after reverse coding,
then the 0-100 rescale round-half-up(raw * 100 / 24)); nothing here recomputes them
with the engine's helpers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engage.instruments.loader import Library, load_library
from engage.instruments.model import AnyOf, Instrument, ItemTest, Severity
from engage.instruments.render import script
from engage.instruments.scoring import next_item, score_answers
from engage.instruments.sms import segment_fit

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"

WELLBEING_ITEMS = ("overall", "missed", "sleep", "worry", "energy", "friends")


@pytest.fixture(scope="module")
def library() -> Library:
    return load_library([PROMPTS])


@pytest.fixture(scope="module")
def wellbeing(library: Library) -> Instrument:
    return library.get("ibd-wellbeing")


@pytest.fixture(scope="module")
def previsit(library: Library) -> Instrument:
    return library.get("previsit")


def wellbeing_answers(*codes: str | None) -> dict[str, Any]:
    """Answers in item order (overall, missed, sleep, worry, energy, friends); None = skipped."""
    assert len(codes) == len(WELLBEING_ITEMS)
    return {item: code for item, code in zip(WELLBEING_ITEMS, codes, strict=True) if code}


def flag_ids(instrument: Instrument, answers: dict[str, Any]) -> set[str]:
    return {flag.id for flag in score_answers(instrument, answers).red_flags}


# -- ibd-wellbeing: the total, its bands and the two subscales -------------------------------

# Points towards "better" per answer (reverse coding already applied for missed, worry, friends):
#   overall  great 4, good 3, okay 2, not_great 1, bad 0
#   missed   none 4, one 3, two 2, three_four 1, five_plus 0
#   sleep    very_well 4, well 3, okay 2, poorly 1, very_poorly 0
#   worry    not_at_all 4, a_little 3, some 2, a_lot 1, all_the_time 0
#   energy   lots 4, most_things 3, some_things 2, very_little 1, none 0
#   friends  not_at_all 4, a_little 3, some 2, a_lot 1, completely 0
# physical = overall + sleep + energy; social_emotional = worry + friends + missed.
BAND_EDGES = [
    # id, answers, raw, wellbeing 0-100, band, physical, social_emotional
    (
        "many_concerns lowest",
        ("bad", "five_plus", "very_poorly", "all_the_time", "none", "completely"),
        0, 0, "many_concerns", 0, 0,
    ),
    (
        "raw 3 rounds half up to 13",
        ("not_great", "three_four", "poorly", "all_the_time", "none", "completely"),
        3, 13, "many_concerns", 2, 1,
    ),
    (
        "many_concerns highest reachable",
        ("okay", "two", "okay", "some", "some_things", "a_lot"),
        11, 46, "many_concerns", 6, 5,
    ),
    (
        "some_concerns lowest",
        ("okay", "two", "okay", "some", "some_things", "some"),
        12, 50, "some_concerns", 6, 6,
    ),
    (
        "raw 15 rounds half up to 63",
        ("great", "none", "very_well", "a_lot", "some_things", "completely"),
        15, 63, "some_concerns", 10, 5,
    ),
    (
        "some_concerns highest reachable",
        ("good", "one", "well", "a_little", "most_things", "some"),
        17, 71, "some_concerns", 9, 8,
    ),
    (
        "doing_well lowest",
        ("good", "one", "well", "a_little", "most_things", "a_little"),
        18, 75, "doing_well", 9, 9,
    ),
    (
        "doing_well highest",
        ("great", "none", "very_well", "not_at_all", "lots", "not_at_all"),
        24, 100, "doing_well", 12, 12,
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("codes", "raw", "value", "band", "physical", "social"),
    [row[1:] for row in BAND_EDGES],
    ids=[row[0] for row in BAND_EDGES],
)
def test_wellbeing_band_edges(wellbeing, codes, raw, value, band, physical, social):
    scores = score_answers(wellbeing, wellbeing_answers(*codes)).scores
    total = scores["wellbeing"]
    assert (total.answered, total.raw, total.value) == (6, raw, value)
    assert total.band is not None and total.band.id == band
    assert scores["physical"].value == physical
    assert scores["social_emotional"].value == social


def test_wellbeing_bands_are_as_declared(wellbeing):
    bands = wellbeing.score("wellbeing").bands
    assert [(b.id, b.minimum, b.maximum) for b in bands] == [
        ("many_concerns", 0, 49),
        ("some_concerns", 50, 74),
        ("doing_well", 75, 100),
    ]
    assert (wellbeing.score("wellbeing").minimum, wellbeing.score("wellbeing").maximum) == (0, 100)


def test_the_lookup_is_the_plain_rescale_rounded_half_up(wellbeing):
    assert wellbeing.score("wellbeing").lookup == {
        0: 0, 1: 4, 2: 8, 3: 13, 4: 17, 5: 21, 6: 25, 7: 29, 8: 33, 9: 38, 10: 42, 11: 46,
        12: 50, 13: 54, 14: 58, 15: 63, 16: 67, 17: 71, 18: 75, 19: 79, 20: 83, 21: 88,
        22: 92, 23: 96, 24: 100,
    }  # fmt: skip


def test_negatively_worded_items_are_reverse_coded(wellbeing):
    assert wellbeing.score("wellbeing").reverse == {"missed", "worry", "friends"}
    assert wellbeing.score("social_emotional").reverse == {"missed", "worry", "friends"}
    assert wellbeing.score("physical").reverse == frozenset()
    # Stored points follow the wording: the most worry is the most points...
    assert wellbeing.item("worry").option("all_the_time").points == 4
    assert wellbeing.item("missed").option("five_plus").points == 4


@pytest.mark.parametrize(
    ("worry", "raw", "value", "social"),
    [
        # Every other item at its best (4 points each = 20); worry adds 4 - its stored points.
        ("not_at_all", 24, 100, 12),
        ("a_little", 23, 96, 11),
        ("some", 22, 92, 10),
        ("a_lot", 21, 88, 9),
        ("all_the_time", 20, 83, 8),
    ],
)
def test_more_worry_lowers_the_scores(wellbeing, worry, raw, value, social):
    answers = wellbeing_answers("great", "none", "very_well", worry, "lots", "not_at_all")
    scores = score_answers(wellbeing, answers).scores
    assert (scores["wellbeing"].raw, scores["wellbeing"].value) == (raw, value)
    assert scores["social_emotional"].value == social
    assert scores["physical"].value == 12


PRORATED = [
    # id, answers (None = skipped), prorated raw, wellbeing 0-100, band
    (
        "friends skipped: 15 x 6/5 = 18",
        ("good", "one", "well", "a_little", "most_things", None),
        18, 75, "doing_well",
    ),
    (
        "overall skipped: 14 x 6/5 = 16.8 -> 17",
        (None, "one", "well", "a_little", "some_things", "a_little"),
        17, 71, "some_concerns",
    ),
    (
        "sleep skipped: 9 x 6/5 = 10.8 -> 11",
        ("okay", "two", None, "some", "some_things", "a_lot"),
        11, 46, "many_concerns",
    ),
    (
        "worry skipped: 0 x 6/5 = 0",
        ("bad", "five_plus", "very_poorly", None, "none", "completely"),
        0, 0, "many_concerns",
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("codes", "raw", "value", "band"),
    [row[1:] for row in PRORATED],
    ids=[row[0] for row in PRORATED],
)
def test_five_of_six_answers_are_prorated(wellbeing, codes, raw, value, band):
    total = score_answers(wellbeing, wellbeing_answers(*codes)).scores["wellbeing"]
    assert (total.answered, total.raw, total.value) == (5, raw, value)
    assert total.band is not None and total.band.id == band


@pytest.mark.parametrize(
    ("codes", "physical", "social"),
    [
        # Subscales need all three of their items: no proration from two.
        (("good", "one", "well", "a_little", "most_things", None), 9, None),
        ((None, "one", "well", "a_little", "most_things", "a_little"), None, 9),
        (("good", "one", "well", "a_little", None, None), None, None),
    ],
    ids=["friends skipped", "overall skipped", "energy and friends skipped"],
)
def test_a_skipped_item_leaves_its_subscale_without_a_score(wellbeing, codes, physical, social):
    scores = score_answers(wellbeing, wellbeing_answers(*codes)).scores
    assert scores["physical"].value == physical
    assert scores["social_emotional"].value == social


@pytest.mark.parametrize(
    "codes",
    [
        ("bad", "five_plus", "very_poorly", "all_the_time", None, None),
        (None, None, "very_poorly", "all_the_time", "none", "completely"),
        (None, None, None, None, None, None),
    ],
    ids=["4 of 6", "another 4 of 6", "none"],
)
def test_too_few_answers_give_no_total_and_no_band_flag(wellbeing, codes):
    outcome = score_answers(wellbeing, {**wellbeing_answers(*codes), "note": "ok"})
    total = outcome.scores["wellbeing"]
    assert (total.raw, total.value, total.band, total.complete) == (None, None, None, False)
    assert "many_concerns" not in {flag.id for flag in outcome.red_flags}


# -- ibd-wellbeing: the many_concerns red flag --------------------------------------------------


@pytest.mark.parametrize(
    ("codes", "fires"),
    [
        (("okay", "two", "okay", "some", "some_things", "a_lot"), True),  # raw 11 -> 46
        (("bad", "five_plus", "very_poorly", "all_the_time", "none", "completely"), True),  # 0
        (("okay", "two", None, "some", "some_things", "a_lot"), True),  # prorated 11 -> 46
        (("okay", "two", "okay", "some", "some_things", "some"), False),  # raw 12 -> 50
        (("great", "none", "very_well", "not_at_all", "lots", "not_at_all"), False),  # 100
        (("bad", "five_plus", "very_poorly", "all_the_time", None, None), False),  # no score
    ],
    ids=["46", "0", "prorated 46", "50", "100", "4 answers"],
)
def test_many_concerns_flag(wellbeing, codes, fires):
    assert ("many_concerns" in flag_ids(wellbeing, wellbeing_answers(*codes))) is fires


# -- the closing idea question -----------------------------------------------------------------


def test_wellbeing_ends_with_an_optional_idea_question(wellbeing):
    assert wellbeing.version == "2"
    last = wellbeing.items[-1]
    assert (last.id, last.type.value, last.required, last.becomes_idea) == (
        "improve",
        "text",
        False,
        True,
    )
    assert last.max_length == 480
    assert [item.id for item in wellbeing.items if item.becomes_idea] == ["improve"]
    for language in ("en", "es"):
        assert "SKIP" in last.text[language] and "SKIP" in last.proxy_text[language]


# -- self-harm mentions, in every free-text item of both instruments ---------------------------

FREE_TEXT_PLACES = [
    ("ibd-wellbeing", "note"),
    ("ibd-wellbeing", "improve"),
    ("previsit", "what_changed"),
    ("previsit", "topics"),
    ("previsit", "questions"),
]

SELF_HARM_TEXTS = [
    "I want to kill myself",
    "ive been feeling SUICIDAL lately",
    "sometimes I think about Ending My Life",
    "I don’t want to live anymore",  # a phone's curly apostrophe
    "i dont want to live like this",
    "I want to hurt myself",
    "been thinking about self-harm again",
    "i wanna unalive myself",
    "Quiero suicidarme",
    "Pienso en hacerme dano",  # no tilde
    "A VECES QUIERO QUITARME LA VIDA",
    "Ya no quiero vivir así",
    "me quiero morir",
    "He pensado en matarme",
    "habla de suicidio",
]

BENIGN_TEXTS = [
    "I killed it at my soccer game",
    "I hurt myself playing soccer, my knee is sore",
    "I'm dying to go back to basketball",
    "¿La leche puede hacerme daño?",
    "Mi mamá va a matarme si pierdo otra clase",
    "Me muero de ganas de volver a la escuela",
    "Quiero vivir sin dolor",
    "Can we talk about ending the steroids?",
]


def free_text_answers(item_id: str, text: str) -> dict[str, Any]:
    answers: dict[str, Any] = {item_id: text}
    if item_id == "what_changed":
        answers["changes"] = True  # asked only after YES
    return answers


@pytest.mark.parametrize("text", SELF_HARM_TEXTS)
@pytest.mark.parametrize(("instrument_id", "item_id"), FREE_TEXT_PLACES)
def test_self_harm_mentions_raise_the_urgent_flag(library, instrument_id, item_id, text):
    instrument = library.get(instrument_id)
    flags = score_answers(instrument, free_text_answers(item_id, text)).red_flags
    assert [(flag.id, flag.severity) for flag in flags] == [("self_harm_mention", Severity.URGENT)]


@pytest.mark.parametrize("text", BENIGN_TEXTS)
@pytest.mark.parametrize(("instrument_id", "item_id"), FREE_TEXT_PLACES)
def test_benign_texts_raise_no_flag(library, instrument_id, item_id, text):
    instrument = library.get(instrument_id)
    assert flag_ids(instrument, free_text_answers(item_id, text)) == set()


@pytest.mark.parametrize("instrument_id", ["ibd-wellbeing", "previsit"])
def test_no_free_text_raises_no_self_harm_flag(library, instrument_id):
    assert "self_harm_mention" not in flag_ids(library.get(instrument_id), {})


def test_what_changed_is_ignored_when_skip_logic_did_not_ask_it(previsit):
    answers = {"changes": False, "what_changed": "I want to kill myself"}
    assert flag_ids(previsit, answers) == set()


def self_harm_phrases(instrument: Instrument) -> list[tuple[str, ...]]:
    flag = next(f for f in instrument.red_flags if f.id == "self_harm_mention")
    tests = flag.when.conditions if isinstance(flag.when, AnyOf) else (flag.when,)
    assert all(isinstance(t, ItemTest) and t.operator == "mentions" for t in tests)
    return [t.value for t in tests]  # type: ignore[union-attr]


def test_both_instruments_look_for_the_same_self_harm_phrases(wellbeing, previsit):
    in_wellbeing, in_improve = self_harm_phrases(wellbeing)
    in_previsit = self_harm_phrases(previsit)
    assert in_improve == in_wellbeing
    assert len(in_previsit) == 3
    assert all(phrases == in_wellbeing for phrases in in_previsit)


@pytest.mark.parametrize("instrument_id", ["ibd-wellbeing", "previsit"])
def test_the_self_harm_message_gives_988_and_911(library, instrument_id):
    flag = next(f for f in library.get(instrument_id).red_flags if f.id == "self_harm_mention")
    for language in ("en", "es"):
        assert "988" in flag.message[language] and "911" in flag.message[language]
    assert "español" in flag.message["es"]


# -- previsit: skip logic and missed doses ------------------------------------------------------

PREVISIT_REPLIES: dict[str, Any] = {
    "what_changed": "more belly pain after meals",
    "missed_doses": "none",
    "topics": "school trip",
    "questions": "can I play football?",
}


def asked_in_order(instrument: Instrument, changes: bool | None) -> list[str]:
    """Walk the check-in; ``changes`` None means the respondent passed on that question."""
    answers: dict[str, Any] = {}
    passed: set[str] = set()
    order: list[str] = []
    while (item := next_item(instrument, answers, frozenset(passed))) is not None:
        order.append(item.id)
        if item.id == "changes":
            if changes is None:
                passed.add("changes")
            else:
                answers["changes"] = changes
        else:
            answers[item.id] = PREVISIT_REPLIES[item.id]
    return order


@pytest.mark.parametrize(
    ("changes", "order"),
    [
        (True, ["changes", "what_changed", "missed_doses", "topics", "questions"]),
        (False, ["changes", "missed_doses", "topics", "questions"]),
        (None, ["changes", "missed_doses", "topics", "questions"]),
    ],
    ids=["yes", "no", "passed"],
)
def test_what_changed_is_asked_only_after_yes(previsit, changes, order):
    assert asked_in_order(previsit, changes) == order


def test_next_item_after_each_answer_to_changes(previsit):
    assert next_item(previsit, {}).id == "changes"
    assert next_item(previsit, {"changes": True}).id == "what_changed"
    assert next_item(previsit, {"changes": False}).id == "missed_doses"
    assert next_item(previsit, {"changes": True}, frozenset({"what_changed"})).id == (
        "missed_doses"
    )


@pytest.mark.parametrize(
    ("code", "fires"),
    [("none", False), ("one_two", False), ("three_plus", True), ("not_taking", False)],
)
def test_many_missed_doses_flag(previsit, code, fires):
    flags = score_answers(previsit, {"missed_doses": code}).red_flags
    assert [(f.id, f.severity) for f in flags] == (
        [("many_missed_doses", Severity.MODERATE)] if fires else []
    )


def test_previsit_is_not_scored(previsit):
    assert previsit.scores == ()
    assert all(option.points is None for option in previsit.item("missed_doses").options)


# -- the SMS texts -----------------------------------------------------------------------------


@pytest.mark.parametrize("proxy", [False, True], ids=["self", "proxy"])
@pytest.mark.parametrize("language", ["en", "es"])
@pytest.mark.parametrize("instrument_id", ["ibd-wellbeing", "previsit"])
def test_every_message_is_one_gsm7_segment(library, instrument_id, language, proxy):
    for label, text in script(library.get(instrument_id), language, proxy=proxy):
        fit = segment_fit(text)
        assert (fit.encoding, fit.fits) == ("GSM-7", True), (label, text)


@pytest.mark.parametrize(
    ("instrument_id", "items", "en", "es"),
    [
        ("ibd-wellbeing", 8, "8 short questions", "8 preguntas cortas"),
        ("previsit", 5, "up to 5 short questions", "hasta 5 preguntas cortas"),
    ],
)
def test_the_intro_counts_the_questions_and_names_stop_and_help(
    library, instrument_id, items, en, es
):
    instrument = library.get(instrument_id)
    assert len(instrument.items) == items
    assert en in instrument.intro["en"] and es in instrument.intro["es"]
    for language in ("en", "es"):
        assert "STOP" in instrument.intro[language] and "HELP" in instrument.intro[language]
        assert instrument.closing[language]


def test_respondents(wellbeing, previsit):
    for instrument, max_age in ((wellbeing, 21), (previsit, 25)):
        respondent = instrument.respondent
        assert (respondent.mode, respondent.min_age, respondent.max_age) == ("either", 2, max_age)
        assert respondent.self_from_age == 12
        assert all(item.proxy_text for item in instrument.items)
