"""Messy SMS replies read as answers to the shipped instruments' items, in English and Spanish."""

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.conversations.parsing import (
    PROBLEMS,
    Parsed,
    normalise,
    parse_answer,
    whole_number,
)
from engage.instruments.loader import answer_problem, load_library
from engage.instruments.model import ItemType

PROMPTS = Path(__file__).resolve().parents[2] / "prompts"
LIBRARY = load_library([PROMPTS])
ALL_ITEMS = [item for instrument in LIBRARY for item in instrument.items]

SYMPTOMS = "ibd-symptoms"
WELLBEING = "ibd-wellbeing"
PREVISIT = "previsit"


def item(instrument_id, item_id):
    return LIBRARY.get(instrument_id).item(item_id)


def problem(name):
    return Parsed(problem=name)


EMPTY = problem("empty")
UNPARSEABLE = problem("unparseable")
AMBIGUOUS = problem("ambiguous")
OUT_OF_RANGE = problem("out_of_range")

# (instrument, item, language, reply as sent, expected)
REPLIES = [
    # stools: integer 0..30
    (SYMPTOMS, "stools", "en", "7", Parsed(7)),
    (SYMPTOMS, "stools", "en", " 4 ", Parsed(4)),
    (SYMPTOMS, "stools", "en", "4!!", Parsed(4)),
    (SYMPTOMS, "stools", "en", "about 5", Parsed(5)),
    (SYMPTOMS, "stools", "en", "maybe 4?", Parsed(4)),
    (SYMPTOMS, "stools", "en", "I'd say 6", Parsed(6)),
    (SYMPTOMS, "stools", "en", "I’d say 6 times today", Parsed(6)),
    (SYMPTOMS, "stools", "en", "seven", Parsed(7)),
    (SYMPTOMS, "stools", "en", "Twenty one", Parsed(21)),
    (SYMPTOMS, "stools", "en", "twenty-one", Parsed(21)),
    (SYMPTOMS, "stools", "en", "none", Parsed(0)),
    (SYMPTOMS, "stools", "en", "once", Parsed(1)),
    (SYMPTOMS, "stools", "en", "twice", Parsed(2)),
    (SYMPTOMS, "stools", "en", "3x", Parsed(3)),
    (SYMPTOMS, "stools", "en", "4️⃣", Parsed(4)),
    (SYMPTOMS, "stools", "en", "５", Parsed(5)),
    (SYMPTOMS, "stools", "en", "7 out of 10", Parsed(7)),
    (SYMPTOMS, "stools", "en", "5 and 5", Parsed(5)),
    (SYMPTOMS, "stools", "en", "2.0", Parsed(2)),
    (SYMPTOMS, "stools", "es", "siete", Parsed(7)),
    (SYMPTOMS, "stools", "es", "¡Siete!", Parsed(7)),
    (SYMPTOMS, "stools", "es", "veintiuno", Parsed(21)),
    (SYMPTOMS, "stools", "es", "veintidós", Parsed(22)),
    (SYMPTOMS, "stools", "es", "veinte y dos", Parsed(22)),
    (SYMPTOMS, "stools", "es", "cero", Parsed(0)),
    (SYMPTOMS, "stools", "es", "ninguna", Parsed(0)),
    (SYMPTOMS, "stools", "es", "ninguno", Parsed(0)),
    (SYMPTOMS, "stools", "es", "nada", Parsed(0)),
    (SYMPTOMS, "stools", "es", "once", Parsed(11)),
    (SYMPTOMS, "stools", "es", "una vez", Parsed(1)),
    (SYMPTOMS, "stools", "es", "3 veces", Parsed(3)),
    (SYMPTOMS, "stools", "es", "tres veces hoy", Parsed(3)),
    (SYMPTOMS, "stools", "es", "٧", Parsed(7)),
    (SYMPTOMS, "stools", "es", "७", Parsed(7)),
    (SYMPTOMS, "stools", "en", "5 or 6", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "5-6", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "5–6", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "5 to 6", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "between 5 and 6", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "five or six", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "2.5", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "7/10", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "more than 10", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "10+", AMBIGUOUS),
    (SYMPTOMS, "stools", "es", "entre 5 y 6", AMBIGUOUS),
    (SYMPTOMS, "stools", "es", "una o dos veces", AMBIGUOUS),
    (SYMPTOMS, "stools", "es", "2,5", AMBIGUOUS),
    (SYMPTOMS, "stools", "en", "45", OUT_OF_RANGE),
    (SYMPTOMS, "stools", "en", "-3", OUT_OF_RANGE),
    (SYMPTOMS, "stools", "en", "−2", OUT_OF_RANGE),
    (SYMPTOMS, "stools", "es", "treinta y uno", OUT_OF_RANGE),
    (SYMPTOMS, "stools", "en", "99999999999999999999999", OUT_OF_RANGE),
    (SYMPTOMS, "stools", "en", "lots", UNPARSEABLE),
    (SYMPTOMS, "stools", "en", "too many to count", UNPARSEABLE),
    (SYMPTOMS, "stools", "en", "no", UNPARSEABLE),
    (SYMPTOMS, "stools", "en", "", EMPTY),
    (SYMPTOMS, "stools", "en", "   \n ", EMPTY),
    (SYMPTOMS, "stools", "en", "😩😩", EMPTY),
    (SYMPTOMS, "stools", "es", "¿?", EMPTY),
    # worst_pain: scale 0..10
    (SYMPTOMS, "worst_pain", "en", "7/10", Parsed(7)),
    (SYMPTOMS, "worst_pain", "en", "8 out of 10", Parsed(8)),
    (SYMPTOMS, "worst_pain", "en", "10/10 awful", Parsed(10)),
    (SYMPTOMS, "worst_pain", "en", "it was a 7", Parsed(7)),
    (SYMPTOMS, "worst_pain", "en", "0", Parsed(0)),
    (SYMPTOMS, "worst_pain", "en", "no pain", Parsed(0)),
    (SYMPTOMS, "worst_pain", "en", "Worst pain ever", Parsed(10)),
    (SYMPTOMS, "worst_pain", "es", "7 de 10", Parsed(7)),
    (SYMPTOMS, "worst_pain", "es", "fue un 8", Parsed(8)),
    (SYMPTOMS, "worst_pain", "es", "ocho", Parsed(8)),
    (SYMPTOMS, "worst_pain", "es", "sin dolor", Parsed(0)),
    (SYMPTOMS, "worst_pain", "en", "11", OUT_OF_RANGE),
    (SYMPTOMS, "worst_pain", "en", "11/10", OUT_OF_RANGE),
    (SYMPTOMS, "worst_pain", "en", "6 or 7", AMBIGUOUS),
    (SYMPTOMS, "worst_pain", "en", "7.5", AMBIGUOUS),
    (SYMPTOMS, "worst_pain", "en", "bad", UNPARSEABLE),
    (SYMPTOMS, "worst_pain", "en", "0-10", UNPARSEABLE),
    # night: yes/no
    (SYMPTOMS, "night", "en", "y", Parsed(True)),
    (SYMPTOMS, "night", "en", "Yes", Parsed(True)),
    (SYMPTOMS, "night", "en", "YES!!!", Parsed(True)),
    (SYMPTOMS, "night", "en", "yeah", Parsed(True)),
    (SYMPTOMS, "night", "en", "yep", Parsed(True)),
    (SYMPTOMS, "night", "en", "yup", Parsed(True)),
    (SYMPTOMS, "night", "en", "ya", Parsed(True)),
    (SYMPTOMS, "night", "en", "sure", Parsed(True)),
    (SYMPTOMS, "night", "en", "correct", Parsed(True)),
    (SYMPTOMS, "night", "en", "affirmative", Parsed(True)),
    (SYMPTOMS, "night", "en", "yesss", Parsed(True)),
    (SYMPTOMS, "night", "en", "yes he did", Parsed(True)),
    (SYMPTOMS, "night", "en", "yes, but not much", Parsed(True)),
    (SYMPTOMS, "night", "en", "of course", Parsed(True)),
    (SYMPTOMS, "night", "en", "n", Parsed(False)),
    (SYMPTOMS, "night", "en", "No.", Parsed(False)),
    (SYMPTOMS, "night", "en", "nope", Parsed(False)),
    (SYMPTOMS, "night", "en", "nah", Parsed(False)),
    (SYMPTOMS, "night", "en", "not really", Parsed(False)),
    (SYMPTOMS, "night", "en", "no he did not", Parsed(False)),
    (SYMPTOMS, "night", "en", "no, slept fine", Parsed(False)),
    (SYMPTOMS, "night", "en", "noooo", Parsed(False)),
    (SYMPTOMS, "night", "es", "si", Parsed(True)),
    (SYMPTOMS, "night", "es", "Sí", Parsed(True)),
    (SYMPTOMS, "night", "es", "claro", Parsed(True)),
    (SYMPTOMS, "night", "es", "si tuvo", Parsed(True)),
    (SYMPTOMS, "night", "es", "siii 😩", Parsed(True)),
    (SYMPTOMS, "night", "es", "nop", Parsed(False)),
    (SYMPTOMS, "night", "es", "no se levanto", Parsed(False)),
    (SYMPTOMS, "night", "es", "para nada", Parsed(False)),
    (SYMPTOMS, "night", "en", "yes no", AMBIGUOUS),
    (SYMPTOMS, "night", "en", "yes/no", AMBIGUOUS),
    (SYMPTOMS, "night", "en", "yes and no", AMBIGUOUS),
    (SYMPTOMS, "night", "es", "si o no", AMBIGUOUS),
    (SYMPTOMS, "night", "en", "maybe", UNPARSEABLE),
    (SYMPTOMS, "night", "en", "not sure", UNPARSEABLE),
    (SYMPTOMS, "night", "en", "ok", UNPARSEABLE),
    (SYMPTOMS, "night", "en", "1", UNPARSEABLE),
    (SYMPTOMS, "night", "en", "he did", UNPARSEABLE),
    (SYMPTOMS, "night", "es", "no sé", UNPARSEABLE),
    (SYMPTOMS, "night", "es", "no se, creo que si", UNPARSEABLE),
    (SYMPTOMS, "night", "es", "👍", EMPTY),
    # pain and bleeding: choice
    (SYMPTOMS, "pain", "en", "1", Parsed("none")),
    (SYMPTOMS, "pain", "en", "2.", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "#2", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "option 2", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "I think 2", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "2nd", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "２", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "b", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "C)", Parsed("not_ignorable")),
    (SYMPTOMS, "pain", "en", "some", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "Some pain", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "some pain, easy to ignore", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "2 Some pain, easy to ignore", Parsed("ignorable")),
    (SYMPTOMS, "pain", "en", "NO PAIN", Parsed("none")),
    (SYMPTOMS, "pain", "en", "none", Parsed("none")),
    (SYMPTOMS, "pain", "en", "not_ignorable", Parsed("not_ignorable")),
    (SYMPTOMS, "pain", "en", "pain too bad", Parsed("not_ignorable")),
    (SYMPTOMS, "pain", "es", "opcion 2", Parsed("ignorable")),
    (SYMPTOMS, "pain", "es", "opción 3", Parsed("not_ignorable")),
    (SYMPTOMS, "pain", "es", "٢", Parsed("ignorable")),
    (SYMPTOMS, "pain", "es", "sin dolor", Parsed("none")),
    (SYMPTOMS, "pain", "es", "Algo de dolor", Parsed("ignorable")),
    (SYMPTOMS, "pain", "es", "dolor tan fuerte", Parsed("not_ignorable")),
    (SYMPTOMS, "pain", "en", "0", OUT_OF_RANGE),
    (SYMPTOMS, "pain", "en", "4", OUT_OF_RANGE),
    (SYMPTOMS, "pain", "en", "2 or 3", AMBIGUOUS),
    (SYMPTOMS, "pain", "en", "1 pain too bad", AMBIGUOUS),
    (SYMPTOMS, "pain", "en", "d", UNPARSEABLE),
    (SYMPTOMS, "pain", "en", "no", Parsed("none")),  # the one option that says "No pain"
    (SYMPTOMS, "bleeding", "es", "no", Parsed("none")),  # "Nada de sangre"
    (SYMPTOMS, "bleeding", "en", "nope", Parsed("none")),
    (SYMPTOMS, "activity", "es", "para nada", Parsed("none")),
    (SYMPTOMS, "bleeding", "es", "una b", Parsed("little_some")),
    (WELLBEING, "overall", "en", "no", UNPARSEABLE),  # no option says "no ..."
    (SYMPTOMS, "pain", "en", "meh", UNPARSEABLE),
    (SYMPTOMS, "bleeding", "en", "a little", AMBIGUOUS),
    (SYMPTOMS, "bleeding", "en", "A little, in most", Parsed("little_most")),
    (SYMPTOMS, "bleeding", "en", "a lot", Parsed("large")),
    (SYMPTOMS, "bleeding", "en", "No blood", Parsed("none")),
    (SYMPTOMS, "bleeding", "en", "3 days", AMBIGUOUS),
    (SYMPTOMS, "bleeding", "es", "poca", AMBIGUOUS),
    (SYMPTOMS, "bleeding", "es", "Mucha", Parsed("large")),
    (SYMPTOMS, "bleeding", "es", "nada de sangre", Parsed("none")),
    (SYMPTOMS, "activity", "en", "sometimes", Parsed("sometimes")),
    (SYMPTOMS, "activity", "es", "a veces", Parsed("sometimes")),
    (SYMPTOMS, "consistency", "es", "liquidas", Parsed("unformed")),
    (WELLBEING, "missed", "en", "2", Parsed("one")),
    (WELLBEING, "missed", "en", "two days", Parsed("two")),
    (WELLBEING, "missed", "en", "I missed 3 days", AMBIGUOUS),
    (WELLBEING, "sleep", "es", "bien", Parsed("well")),
    (WELLBEING, "sleep", "es", "Muy bien", Parsed("very_well")),
    (WELLBEING, "overall", "en", "ok", Parsed("okay")),
    (WELLBEING, "friends", "es", "nada", Parsed("not_at_all")),
    (WELLBEING, "friends", "es", "no", UNPARSEABLE),
    (PREVISIT, "missed_doses", "es", "una o dos", Parsed("one_two")),
    (PREVISIT, "missed_doses", "en", "No", UNPARSEABLE),
    # yes/no and text on the other instruments
    (PREVISIT, "changes", "es", "sí, tiene más dolor", Parsed(True)),
    (WELLBEING, "note", "en", "  Can we talk about diet?  ", Parsed("Can we talk about diet?")),
    (
        WELLBEING,
        "note",
        "es",
        "¿Puede comer pizza?\r\nGracias",
        Parsed("¿Puede comer pizza?\nGracias"),
    ),
    (WELLBEING, "note", "en", "He's been tired 😴", Parsed("He's been tired 😴")),
    (WELLBEING, "note", "en", " \t ", EMPTY),
    (WELLBEING, "note", "en", "🙏", EMPTY),
    (WELLBEING, "note", "en", "x" * 481, OUT_OF_RANGE),
    (PREVISIT, "questions", "es", "\x00¿cuándo es la cita?\x07 ", Parsed("¿cuándo es la cita?")),
]


@pytest.mark.parametrize(
    ("instrument_id", "item_id", "language", "text", "expected"),
    REPLIES,
    ids=[f"{row[1]}-{row[2]}-{row[3][:24]!r}" for row in REPLIES],
)
def test_messy_replies(instrument_id, item_id, language, text, expected):
    assert parse_answer(item(instrument_id, item_id), text, language) == expected


def test_the_table_covers_every_item_type_in_both_languages():
    covered = {(item(row[0], row[1]).type, row[2]) for row in REPLIES}
    assert covered >= {(kind, language) for kind in ItemType for language in ("en", "es")}
    assert len(REPLIES) >= 60


def test_ok_means_no_problem():
    assert Parsed(3).ok
    assert Parsed(False).ok
    assert not Parsed(problem="empty").ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  ＨＥＬＬＯ\u200b  world!! 👍 ", "HELLO world"),
        ("¿siete?", "siete"),
        ("٧", "7"),
        ("७ times", "7 times"),
        ("4️⃣", "4"),
        ("#2", "2"),
        ("yes\n\the did...", "yes he did"),
        ("\x00o\x07k\x1b", "ok"),
        ("🙂🙂", ""),
    ],
)
def test_normalise(text, expected):
    assert normalise(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", 7),
        ("siete", 7),
        ("twenty-one", 21),
        ("veinte y dos", 22),
        ("7 days", None),
        ("", None),
    ],
)
def test_whole_number(text, expected):
    assert whole_number(text) == expected


@settings(max_examples=400, deadline=None)
@given(text=st.text(), item=st.sampled_from(ALL_ITEMS), language=st.sampled_from(["en", "es"]))
def test_any_text_parses_to_a_valid_answer_or_a_known_problem(text, item, language):
    parsed = parse_answer(item, text, language)
    if parsed.ok:
        assert answer_problem(item, parsed.value) is None
    else:
        assert parsed.problem in PROBLEMS and parsed.value is None


PIECES = [
    "5", "10", "-", "/", ".", ",", " ", "seven", "veinte", "y", "one", "un", "or", "out", "of",
    "de", "yes", "no", "si", "some", "pain", "a", "b", "#", "٧", "２", "+", "more", "than",
    "none", "nada", "😀", "\u200b", "99999999999", "once", "0",
]  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    pieces=st.lists(st.sampled_from(PIECES), max_size=8),
    item=st.sampled_from(ALL_ITEMS),
    language=st.sampled_from(["en", "es"]),
)
def test_replies_built_from_tricky_pieces_never_break_the_parser(pieces, item, language):
    parsed = parse_answer(item, "".join(pieces), language)
    assert parsed.ok or parsed.problem in PROBLEMS
    if parsed.ok:
        assert answer_problem(item, parsed.value) is None
