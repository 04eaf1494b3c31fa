"""Ideas as families text them, with identifiers taken out before the network reads them."""

from __future__ import annotations

import random

import pytest

from engage.codesign.redaction import COMMON_WORD_NAMES, NameMatcher, fold, redact, redact_with

KNOWN = ["Sofia", "Rivera", "Mateo", "Hernández", "Noah", "Laura", "Chen", "Ethan", "Carmen"]

CASES = [
    # Nothing to take out: small numbers and words that are also names.
    (
        "Could the clinic text us lab results instead of making us wait 2 weeks for the portal?",
        [],
        "Could the clinic text us lab results instead of making us wait 2 weeks for the portal?",
    ),
    (
        "my pain is like 7/10 most days and he takes the pills 3 times a day",
        ["Will"],
        "my pain is like 7/10 most days and he takes the pills 3 times a day",
    ),
    (
        "I will ask the nurse but maybe kids age 12 and up could check in alone for 10 minutes",
        ["Will"],
        "I will ask the nurse but maybe kids age 12 and up could check in alone for 10 minutes",
    ),
    (
        "May we have a quiet room for infusions? we hope so, the waiting room is loud",
        ["May", "Hope"],
        "May we have a quiet room for infusions? we hope so, the waiting room is loud",
    ),
    (
        "by the grace of god we got through 2024. the hardest part was missing school on Mondays",
        ["Grace"],
        "by the grace of god we got through 2024. the hardest part was missing school on Mondays",
    ),
    (
        "Mi hijo tiene dolores de panza 2 o 3 veces por semana, la luz del consultorio le molesta",
        ["Dolores", "Luz"],
        "Mi hijo tiene dolores de panza 2 o 3 veces por semana, la luz del consultorio le molesta",
    ),
    (
        "Since March 2025 we drive 2 hours each way, 1 in 4 visits could be by video",
        [],
        "Since March 2025 we drive 2 hours each way, 1 in 4 visits could be by video",
    ),
    (
        "Ojalá haya recetas fáciles. Vale la pena esperar 20 minutos si el doctor explica bien",
        ["Peña"],
        "Ojalá haya recetas fáciles. Vale la pena esperar 20 minutos si el doctor explica bien",
    ),
    (
        "her calprotectin went from 250-1200 in 6 months, a chart of it in the app would help",
        [],
        "her calprotectin went from 250-1200 in 6 months, a chart of it in the app would help",
    ),
    # Names of the family and of other known families.
    (
        "hi its laura, noah's mom. Noah would love a teen group",
        ["Laura", "Noah"],
        "hi its [name], [name]'s mom. [name] would love a teen group",
    ),
    (
        "My son Will gets so tired after infusions, could school get a note",
        ["Will", "Parker"],
        "My son [name] gets so tired after infusions, could school get a note",
    ),
    (
        "Soy Carmen, la mamá de Sofía. A Sofia le gustaría hablar con otras chicas",
        ["Carmen", "Sofía"],
        "Soy [name], la mamá de [name]. A [name] le gustaría hablar con otras chicas",
    ),
    (
        "Ethan and Mateo met at infusion and now they text every week, more of that please",
        ["Ethan"],
        "[name] and [name] met at infusion and now they text every week, more of that please",
    ),
    (
        "Mi hija Luz tiene 14 años y le da vergüenza pedir ir al baño en clase",
        ["Luz"],
        "Mi hija [name] tiene 14 años y le da vergüenza pedir ir al baño en clase",
    ),
    (
        "Sam Rivera's dad here. The portal never shows his calprotectin",
        ["Sam", "Rivera"],
        "[name] [name]'s dad here. The portal never shows his calprotectin",
    ),
    (
        "I'm Grace's mom and I hope the clinic adds evening hours",
        ["Grace", "Hope"],
        "I'm [name]'s mom and I hope the clinic adds evening hours",
    ),
    # Phone numbers.
    (
        "text me at 617-555-0101 if you want to hear more",
        ["Laura"],
        "text me at [phone] if you want to hear more",
    ),
    (
        "our home phone is 555-0101, no cell",
        [],
        "our home phone is [phone], no cell",
    ),
    (
        "call (617) 555 0101 or my husband 617.555.0199 after 5pm",
        [],
        "call [phone] or my husband [phone] after 5pm",
    ),
    (
        "my number changed, its +1 617 555 0101 now. or 6175550102",
        [],
        "my number changed, its [phone] now. or [phone]",
    ),
    (
        "We are in London until June, reach us on +44 20 7946 0958",
        [],
        "We are in London until June, reach us on [phone]",
    ),
    (
        "Pueden llamarme al 55 1234 5678 o al (55) 1234-5678, mi esposo tiene el 612 34 56 78",
        [],
        "Pueden llamarme al [phone] o al [phone], mi esposo tiene el [phone]",
    ),
    (
        "Mi cel es +52 1 55 1234 5678, escríbanme por WhatsApp",
        [],
        "Mi cel es [phone], escríbanme por WhatsApp",
    ),
    # E-mail.
    (
        "send the diet handout to laura.chen82@gmail.com pls",
        ["Laura", "Chen"],
        "send the diet handout to [email] pls",
    ),
    # Record and account numbers.
    (
        "his MRN 12345678 is on every form, why do we fill the forms again",
        [],
        "his [number] is on every form, why do we fill the forms again",
    ),
    (
        "billing mixed up MR#00123456 with another kid, account #A1234567",
        [],
        "billing mixed up [number] with another kid, [number]",
    ),
    (
        "the medical record number 1234567 was wrong on the lab slip and my insurance id is XHB99812345",
        [],
        "the [number] was wrong on the lab slip and my insurance id is [number]",
    ),
    (
        "Su número de expediente 4471203 no aparece en el portal",
        [],
        "Su [number] no aparece en el portal",
    ),
    # Dates.
    (
        "her scope was on 3/14/2025 and nobody called with results until 03-28-25",
        [],
        "her scope was on [date] and nobody called with results until [date]",
    ),
    (
        "Diagnosed March 14th, 2023 at age 9. Infusion on 2025-03-14 was moved twice",
        [],
        "Diagnosed [date] at age 9. Infusion on [date] was moved twice",
    ),
    (
        "Le diagnosticaron el 14 de marzo de 2025 y la cita es el 2 de abril",
        [],
        "Le diagnosticaron el [date] y la cita es el [date]",
    ),
    (
        "pain went from 5/10 to 8/10 after the dose change on 3/14, and again since 4/2",
        [],
        "pain went from 5/10 to 8/10 after the dose change on [date], and again since [date]",
    ),
    (
        "Desde el 1° de mayo falta a la escuela 2 días por semana",
        [],
        "Desde el [date] falta a la escuela 2 días por semana",
    ),
    (
        "the next clinic day is 14 March, and we missed school on Monday the whole month",
        [],
        "the next clinic day is [date], and we missed school on Monday the whole month",
    ),
    # Street addresses.
    (
        "we live at 45 Elm Avenue Apt 2 and parking at 300 Longwood Ave costs $30",
        [],
        "we live at [address] and parking at [address] costs $30",
    ),
    (
        "mail it to 123 Main St, Boston, MA 02115 please",
        [],
        "mail it to [address], Boston, MA [number] please",
    ),
    (
        "Vivimos en Calle Mayor 5, y la clínica de Av. Reforma 222 queda lejos",
        [],
        "Vivimos en [address], y la clínica de [address] queda lejos",
    ),
    (
        "we take 2 buses down the road and walk 10 blocks to 12 Oak Rd.",
        [],
        "we take 2 buses down the road and walk 10 blocks to [address].",
    ),
    # Several at once.
    (
        "This is Carmen Hernández (617-555-0113), Sofia's mom. On 4/2/2025 at 1600 Pennsylvania Ave NW the nurse was great",
        ["Carmen", "Hernández", "Sofia"],
        "This is [name] [name] ([phone]), [name]'s mom. On [date] at [address] the nurse was great",
    ),
]


@pytest.mark.parametrize(("text", "family", "expected"), CASES)
def test_redact(text: str, family: list[str], expected: str) -> None:
    assert redact(text, family_names=family, known_names=KNOWN) == expected


def test_enough_cases_and_enough_left_alone() -> None:
    assert len(CASES) >= 30
    assert sum(text == expected for text, _, expected in CASES) >= 6


def test_possessive_keeps_apostrophe_s() -> None:
    assert (
        redact("Sam's school nurse", family_names=["Sam"], known_names=[])
        == "[name]'s school nurse"
    )
    assert redact("Sam’s nurse", family_names=["Sam"], known_names=[]) == "[name]’s nurse"


def test_accents_and_case_do_not_matter() -> None:
    text = "José, JOSE, jose y Jose\u0301 (decomposed) and Sofía"
    result = redact(text, family_names=[], known_names=["Jose", "SOFIA"])
    assert result == "[name], [name], [name] y [name] (decomposed) and [name]"


def test_name_with_accent_matches_text_without() -> None:
    assert redact("hablen con jose", family_names=["José"], known_names=[]) == "hablen con [name]"


def test_multi_word_family_name_is_one_placeholder() -> None:
    family = ["Ana", "De la Cruz", "Van Buren"]
    text = "Ana De la Cruz and the van buren kids; also written Delacruz"
    assert (
        redact(text, family_names=family, known_names=[])
        == "[name] [name] and the [name] kids; also written [name]"
    )


def test_multi_word_name_of_common_words_needs_capitals() -> None:
    family = ["De la Cruz"]
    assert redact("hizo la señal de la cruz", family_names=family, known_names=[]) == (
        "hizo la señal de la cruz"
    )
    assert redact("la familia De la Cruz", family_names=family, known_names=[]) == (
        "la familia [name]"
    )


def test_common_word_name_mid_sentence_versus_sentence_start() -> None:
    family = ["Will"]
    assert redact("Will is 12. I think Will is scared.", family_names=family, known_names=[]) == (
        "Will is 12. I think [name] is scared."
    )
    assert redact("it will help\nWill said so", family_names=family, known_names=[]) == (
        "it will help\nWill said so"
    )
    assert redact("we saw Dr. Will today", family_names=[], known_names=["Will"]) == (
        "we saw Dr. [name] today"
    )


def test_common_word_name_in_capitals_is_shouting() -> None:
    assert redact("I WILL ASK", family_names=["Will"], known_names=[]) == "I WILL ASK"


def test_common_word_names_cover_english_and_spanish() -> None:
    for word in ("will", "may", "hope", "grace", "june", "luz", "dolores", "rosa", "paz", "sol"):
        assert word in COMMON_WORD_NAMES


def test_ordinary_name_matches_in_lower_case() -> None:
    assert redact("my son mateo", family_names=["Mateo"], known_names=[]) == "my son [name]"


def test_one_letter_names_are_ignored() -> None:
    assert redact("plan A or plan B", family_names=["A", "B"], known_names=[]) == "plan A or plan B"


def test_names_are_whole_words() -> None:
    assert redact("Samantha and Sam", family_names=["Sam"], known_names=[]) == "Samantha and [name]"


def test_placeholders_are_not_matched_again() -> None:
    text = "[name] and [phone] and Name"
    assert (
        redact(text, family_names=["Name", "Phone"], known_names=[])
        == "[name] and [phone] and [name]"
    )
    once = redact(CASES[-1][0], family_names=CASES[-1][1], known_names=KNOWN)
    assert redact(once, family_names=CASES[-1][1], known_names=KNOWN) == once


def test_names_inside_an_email_go_with_the_email() -> None:
    assert (
        redact("sam.rivera@example.org", family_names=["Sam"], known_names=["Rivera"]) == "[email]"
    )


def test_long_text() -> None:
    paragraph = (
        "Noah was diagnosed on 3/14/2023 and we drive 2 hours to clinic. "
        "Call 617-555-0102 or write to noah.parent@example.com. "
        "He takes his medicine 3 times a day and his pain is 4/10 on good days. "
    )
    text = (paragraph * 30)[:5000]
    result = redact(text, family_names=["Noah"], known_names=KNOWN)
    assert len(text) == 5000
    assert "Noah" not in result
    assert "617-555-0102" not in result and "@example.com" not in result
    assert "3 times a day" in result and "4/10" in result
    assert result.count("[date]") == text.count("3/14/2023")


def test_twenty_thousand_known_names() -> None:
    rng = random.Random(7)
    letters = "abcdefghijklmnopqrstuvwxyz"
    names = ["".join(rng.choices(letters, k=rng.randint(4, 9))).title() for _ in range(20_000)]
    names += ["Rivera", "Hernández"]
    text = "Mateo Rivera and Ana Hernandez want evening clinics. " * 10
    result = redact(text, family_names=["Mateo"], known_names=names)
    assert result == "[name] [name] and Ana [name] want evening clinics. " * 10


def test_matcher_can_be_built_once_and_reused() -> None:
    matcher = NameMatcher(["Sofia", "Mateo"])
    assert redact_with("Sofia and Mateo", [matcher]) == "[name] and [name]"
    assert matcher.find("call Sofia") == [(5, 10)]


def test_fold() -> None:
    assert fold("José Peña ÁNGEL") == "jose pena angel"
