"""Read one SMS reply as the answer to one item: forgiving, English and Spanish, pure.

Families answer check-ins the way they text friends ("about 5", "siete", "yes he
did", "some"), so a strict parser would make them repeat themselves. When a reply
could mean two things the parser says so instead of guessing: a wrong answer in a
clinical record is worse than asking again.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from engage.instruments.model import Item, ItemType
from engage.instruments.scoring import fold

EMPTY = "empty"
UNPARSEABLE = "unparseable"
AMBIGUOUS = "ambiguous"
OUT_OF_RANGE = "out_of_range"
PROBLEMS = frozenset({EMPTY, UNPARSEABLE, AMBIGUOUS, OUT_OF_RANGE})


@dataclass(frozen=True)
class Parsed:
    """A usable ``value``, or the ``problem`` that keeps the reply from being one."""

    value: Any = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


# --- Normalising -----------------------------------------------------------------

# Phones and keyboards send several minus signs and dashes; read them all as "-".
_DASHES = {ord(c): "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63"}
_VARIATION_SELECTORS = frozenset("\ufe0e\ufe0f")


def _clean(text: str) -> str:
    """NFKC, ASCII digits, no control or invisible format characters, single spaces."""
    kept: list[str] = []
    for char in unicodedata.normalize("NFKC", text):
        if char.isspace():
            kept.append(" ")
            continue
        if unicodedata.category(char) in ("Cc", "Cf", "Cs"):
            continue
        if not "0" <= char <= "9":
            digit = unicodedata.digit(char, None)
            if digit is not None:
                kept.append(str(digit))
                continue
        kept.append(char.translate(_DASHES))
    return " ".join("".join(kept).split())


def _is_letter_or_digit(char: str) -> bool:
    return unicodedata.category(char)[0] in "LN"


def normalise(text: str) -> str:
    """The reply with its wording kept but the phone's noise gone.

    Full-width and non-Latin digits become ASCII, invisible characters go, spaces
    are squeezed, and punctuation or emoji around the reply ("¿siete?", "4!!",
    "yes 👍") are dropped; what is inside is left alone.
    """
    cleaned = _clean(text)
    start = 0
    while start < len(cleaned) and not _is_letter_or_digit(cleaned[start]):
        start += 1
    end = len(cleaned)
    while end > start and not _is_letter_or_digit(cleaned[end - 1]):
        end -= 1
    # Combining marks belong to the letter before them (scripts NFKC does not compose).
    while (
        end < len(cleaned)
        and unicodedata.category(cleaned[end]) in ("Mn", "Mc")
        and cleaned[end] not in _VARIATION_SELECTORS
    ):
        end += 1
    return cleaned[start:end]


def _words(text: str) -> list[str]:
    """Folded words and numbers, punctuation dropped: what labels are compared on."""
    return re.findall(r"[0-9]+|[^\W\d_]+", fold(text))


# --- Numbers ---------------------------------------------------------------------

_UNITS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "uno": 1, "un": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "siete": 7, "ocho": 8, "nueve": 9,
}  # fmt: skip
_WORDS = {
    **_UNITS,
    "zero": 0, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twice": 2, "hundred": 100,
    "cero": 0, "diez": 10, "doce": 12, "trece": 13, "catorce": 14, "quince": 15,
    "dieciseis": 16, "diecisiete": 17, "dieciocho": 18, "diecinueve": 19,
    "veintiun": 21, "veintiuno": 21, "veintiuna": 21, "veintidos": 22, "veintitres": 23,
    "veinticuatro": 24, "veinticinco": 25, "veintiseis": 26, "veintisiete": 27,
    "veintiocho": 28, "veintinueve": 29, "cien": 100, "ciento": 100,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "veinte": 20, "treinta": 30, "cuarenta": 40,
    "cincuenta": 50, "sesenta": 60, "setenta": 70, "ochenta": 80, "noventa": 90,
    "veinti": 20,
}  # fmt: skip
# Articles that are also "one": "fue un 7" is a 7, but "una vez" alone is once.
_WEAK = frozenset({"un", "una", "one"})
_NONE_WORDS = frozenset({"none", "nothing", "ninguna", "ninguno", "ningun", "nada"})
_CONNECTORS = frozenset({"or", "o", "u", "to", "a", "-", "/", "y", "and", "through", "hasta"})
_RANGE_CONNECTORS = frozenset({"-", "to", "a", "through", "hasta"})
_OUT_OF = (("out", "of"), ("of",), ("de",), ("sobre",))
_COMPARATORS_BEFORE = (
    ("more", "than"), ("less", "than"), ("fewer", "than"), ("at", "least"), ("at", "most"),
    ("mas", "de"), ("menos", "de"), ("mas", "que"), ("menos", "que"), (">",), ("<",),
)  # fmt: skip
_COMPARATORS_AFTER = (("+",), ("or", "more"), ("or", "less"), ("o", "mas"), ("o", "menos"))
_TOO_BIG = 10**9  # any longer run of digits is read as "very large", never converted


@dataclass(frozen=True)
class _Token:
    text: str  # folded for words
    start: int  # character offsets, to tell "-5" from "- 5" and "2.5" from "2. 5"
    end: int


@dataclass(frozen=True)
class _Number:
    value: int
    first: int  # token indexes, end exclusive
    end: int
    weak: bool = False


def _tokens(text: str) -> list[_Token]:
    return [
        _Token(fold(m.group()) if m.group()[0].isalpha() else m.group(), m.start(), m.end())
        for m in re.finditer(r"[0-9]+|[^\W\d_]+|\S", _clean(text))
    ]


def _digits_value(digits: str) -> int:
    significant = digits.lstrip("0") or "0"
    return int(significant) if len(significant) < 10 else _TOO_BIG


def _number_at(tokens: Sequence[_Token], i: int, language: str | None) -> _Number | None:
    word = tokens[i].text
    if word.isascii() and word.isdigit():
        return _Number(_digits_value(word), i, i + 1)
    following = [t.text for t in tokens[i + 1 : i + 3]]
    if word in _TENS:
        unit_at = i + 2 if following[:1] in (["-"], ["y"], ["and"]) else i + 1
        if unit_at < len(tokens) and tokens[unit_at].text in _UNITS:
            return _Number(_TENS[word] + _UNITS[tokens[unit_at].text], i, unit_at + 1)
        return None if word == "veinti" else _Number(_TENS[word], i, i + 1)
    if word == "diez" and len(following) == 2 and following[0] == "y":
        unit = _UNITS.get(following[1], 0)
        if unit >= 6:
            return _Number(10 + unit, i, i + 3)
    if word == "once":  # Spanish eleven, English "one time"
        return _Number(1 if language == "en" else 11, i, i + 1)
    if word in _WORDS:
        return _Number(_WORDS[word], i, i + 1, weak=word in _WEAK)
    return None


def _numbers(
    tokens: Sequence[_Token], language: str | None, *, none_is_zero: bool = False
) -> list[_Number]:
    found: list[_Number] = []
    i = 0
    while i < len(tokens):
        number = _number_at(tokens, i, language)
        if number is None and none_is_zero and tokens[i].text in _NONE_WORDS:
            number = _Number(0, i, i + 1)
        if number is None:
            i += 1
            continue
        found.append(number)
        i = number.end
    return found


def _between(tokens: Sequence[_Token], a: _Number, b: _Number) -> tuple[str, ...]:
    return tuple(t.text for t in tokens[a.end : b.first])


def _glued(tokens: Sequence[_Token], left: int, right: int) -> bool:
    return tokens[left].end == tokens[right].start


def _is_negative(tokens: Sequence[_Token], number: _Number, previous: _Number | None) -> bool:
    """A minus sign stuck to the number, not a dash between two numbers ("5-6")."""
    sign = number.first - 1
    return (
        sign >= 0
        and tokens[sign].text == "-"
        and _glued(tokens, sign, number.first)
        and (previous is None or previous.end != sign)
    )


def _has_comparator(tokens: Sequence[_Token], number: _Number) -> bool:
    before = tuple(t.text for t in tokens[max(0, number.first - 2) : number.first])
    after = tuple(t.text for t in tokens[number.end : number.end + 2])
    return any(before[-len(c) :] == c for c in _COMPARATORS_BEFORE) or any(
        after[: len(c)] == c for c in _COMPARATORS_AFTER
    )


def _is_decimal(tokens: Sequence[_Token], a: _Number, b: _Number) -> bool:
    return (
        b.first == a.end + 1
        and tokens[a.end].text in (".", ",")
        and tokens[a.first].text.isdigit()
        and tokens[b.first].text.isdigit()
        and _glued(tokens, a.end - 1, a.end)
        and _glued(tokens, a.end, b.first)
    )


def _linked(tokens: Sequence[_Token], numbers: Sequence[_Number], k: int) -> bool:
    """True when number ``k`` is tied to a neighbour by "or", "to", "-"...: "one or two"."""
    neighbours = [numbers[j] for j in (k - 1, k + 1) if 0 <= j < len(numbers)]
    return any(
        len(between) == 1 and between[0] in _CONNECTORS
        for between in (
            _between(tokens, *sorted((numbers[k], other), key=lambda n: n.first))
            for other in neighbours
        )
    )


def _read_integer(item: Item, text: str, language: str) -> Parsed:
    tokens = _tokens(text)
    numbers = _numbers(tokens, language, none_is_zero=item.minimum == 0)

    values: list[int] = []
    dropped: set[int] = set()
    for k, number in enumerate(numbers):
        if k in dropped:
            continue
        following = numbers[k + 1] if k + 1 < len(numbers) else None
        if following is not None and _is_decimal(tokens, number, following):
            if set(tokens[following.first].text) != {"0"}:
                return Parsed(problem=AMBIGUOUS)
            dropped.add(k + 1)
        if _has_comparator(tokens, number):
            return Parsed(problem=AMBIGUOUS)
        if following is not None:
            between = _between(tokens, number, following)
            if between in _OUT_OF or (between == ("/",) and following.value == item.maximum):
                dropped.add(k + 1)
            elif between in {(c,) for c in _RANGE_CONNECTORS} and (
                (number.value, following.value) == (item.minimum, item.maximum)
            ):
                dropped.update((k, k + 1))
                continue
        if number.weak and any(not n.weak for n in numbers) and not _linked(tokens, numbers, k):
            continue
        previous = numbers[k - 1] if k > 0 else None
        values.append(-number.value if _is_negative(tokens, number, previous) else number.value)

    distinct = set(values)
    if not distinct:
        anchored = _anchor_value(item, text)
        return Parsed(anchored) if anchored is not None else Parsed(problem=UNPARSEABLE)
    if len(distinct) > 1:
        return Parsed(problem=AMBIGUOUS)
    value = distinct.pop()
    if (item.minimum is not None and value < item.minimum) or (
        item.maximum is not None and value > item.maximum
    ):
        return Parsed(problem=OUT_OF_RANGE)
    return Parsed(value)


def _anchor_value(item: Item, text: str) -> int | None:
    """A scale answered with an anchor's own words ("no pain", "sin dolor")."""
    words = _words(normalise(text))
    matches = {
        value
        for anchors in (item.anchors or {}).values()
        for value, label in anchors.items()
        if words and words == _words(label)
    }
    return matches.pop() if len(matches) == 1 else None


def whole_number(text: str, language: str | None = None) -> int | None:
    """The number when ``text`` is one number and nothing else ("7", "siete", "twenty-one")."""
    tokens = _tokens(text)
    numbers = _numbers(tokens, language)
    if len(numbers) == 1 and numbers[0].first == 0 and numbers[0].end == len(tokens):
        value = numbers[0].value
        return value if value < _TOO_BIG else None
    return None


# --- Yes / no --------------------------------------------------------------------


def _squash(word: str) -> str:
    """'yesss', 'noooo', 'siii' read as 'yes', 'no', 'si'."""
    return re.sub(r"(.)\1+", r"\1", word)


_YES = frozenset(
    _squash(w)
    for w in (
        "y", "yes", "yeah", "yea", "yep", "yup", "ya", "yah", "yas", "sure", "si", "claro",
        "correct", "correcto", "affirmative", "afirmativo", "simon", "ofc",
    )
)  # fmt: skip
_NO = frozenset(
    _squash(w)
    for w in (
        "n", "no", "nope", "nah", "nop", "naw", "nel", "negative", "negativo", "never", "nunca",
    )
)  # fmt: skip
_YES_PHRASES = (("of", "course"), ("por", "supuesto"), ("you", "bet"))
_NO_PHRASES = (("not", "really"), ("not", "at", "all"), ("para", "nada"), ("en", "absoluto"),
               ("de", "ninguna", "manera"))  # fmt: skip
_BETWEEN_ANSWERS = frozenset({"or", "o", "u", "and", "y", "but", "pero", "wait", "i", "mean"})
# "No sé" starts with "no" but answers nothing; "no se levantó" is a plain no.
_UNSURE = re.compile(
    r"^(?:no se(?:$|[^\w ]| si\b)|no lo se|no sabemos|no lo sabemos|no estoy segur[oa]"
    r"|no recuerdo|no me acuerdo|not sure|unsure|i'?m not sure|i don'?t know|don'?t know"
    r"|idk|dunno|no idea|maybe|tal vez|quizas?|kind of|sort of|kinda|sorta|mas o menos"
    r"|a veces|sometimes|i don'?t remember|can'?t remember)(?:\W|$)"
)


def _yes_no_at(words: Sequence[str], i: int, *, alone: bool) -> tuple[bool, int] | None:
    for phrases, value in ((_YES_PHRASES, True), (_NO_PHRASES, False)):
        for phrase in phrases:
            if tuple(words[i : i + len(phrase)]) == phrase:
                return value, len(phrase)
    if i >= len(words):
        return None
    word = _squash(words[i])
    # A lone "y" or "n" is an answer; inside a sentence "y" is Spanish "and".
    if len(word) == 1 and not alone:
        return None
    if word in _YES:
        return True, 1
    if word in _NO:
        return False, 1
    return None


def read_yes_no(text: str) -> Parsed:
    """Yes or no in English or Spanish ("yep", "sí claro", "nope"); also outside check-ins."""
    folded = fold(normalise(text))
    words = re.findall(r"[^\W_]+(?:'[^\W_]+)*", folded)
    if _UNSURE.match(folded) or not words:
        return Parsed(problem=UNPARSEABLE)
    first = _yes_no_at(words, 0, alone=len(words) == 1)
    if first is None:
        return Parsed(problem=UNPARSEABLE)
    value, used = first
    rest = list(words[used:])
    while rest and rest[0] in _BETWEEN_ANSWERS:
        rest.pop(0)
    second = _yes_no_at(rest, 0, alone=False)
    if second is not None and second[0] != value:
        return Parsed(problem=AMBIGUOUS)
    return Parsed(value)


# --- Choice ----------------------------------------------------------------------

# Words around an option number that do not change it: "option 2", "I think 2", "2nd".
_NUMBER_FILLER = frozenset({
    "i", "think", "guess", "say", "d", "id", "please", "pls", "plz", "thanks", "thank", "you",
    "thx", "gracias", "creo", "que", "por", "favor", "maybe", "probably", "option", "opcion",
    "choice", "number", "numero", "num", "answer", "respuesta", "is", "es", "its", "it", "s",
    "the", "la", "el", "my", "mi", "would", "be", "seria", "st", "nd", "rd", "th", "o", "ok",
    "okay", "um", "umm", "hmm", "just", "like", "about", "yo", "digo", "pienso", "opt", "sera",
})  # fmt: skip
_LETTER_PREFIX = frozenset(
    {"option", "opcion", "letter", "letra", "choice", "la", "el", "un", "una"}
)
# A bare "no" to "Any blood?" means the first option when it, and only it, says there
# was none ("No blood", "Nada de sangre"); never a later one such as "Not great".
_NEGATIVE_REPLIES = frozenset({
    ("no",), ("nope",), ("nah",), ("none",), ("nothing",), ("nada",), ("ninguno",),
    ("ninguna",), ("not", "at", "all"), ("para", "nada"), ("no", "nada"), ("nunca",), ("never",),
})  # fmt: skip
_NEGATIVE_LABEL_STARTS = frozenset(
    {
        "no",
        "none",
        "not",
        "nothing",
        "never",
        "nada",
        "sin",
        "ningun",
        "ninguno",
        "ninguna",
        "nunca",
    }
)
# Too small to pick an option by a start of its label on their own: "no" must not
# choose "No pudo ver a sus amigos" (the worst answer) for someone meaning "not at all".
_FUNCTION_WORDS = frozenset({
    "no", "not", "a", "an", "the", "of", "in", "to", "de", "en", "el", "la", "los", "las", "un",
    "una", "y", "and", "or", "o", "muy", "very", "so", "for", "para", "con", "with", "sin",
})  # fmt: skip


def _pick(item: Item, hits: Iterable[tuple[int, str]], language: str) -> Parsed | None:
    """One option from label matches, preferring the respondent's language on a tie."""
    hits = list(hits)
    indexes = {index for index, _ in hits}
    if not indexes:
        return None
    if len(indexes) > 1:
        indexes = {index for index, lang in hits if lang == language}
    if len(indexes) != 1:
        return Parsed(problem=AMBIGUOUS)
    return Parsed(item.options[indexes.pop()].code)


def _label_words(item: Item) -> list[tuple[int, str, list[str]]]:
    return [
        (index, lang, words)
        for index, option in enumerate(item.options)
        for lang, label in option.label.items()
        if (words := _words(label))
    ]


def _starts_label(words: Sequence[str], label: Sequence[str]) -> bool:
    """``words`` begin ``label``; the last one may be cut short ("some pa", "sometime")."""
    if not words or len(words) > len(label) or list(words[:-1]) != list(label[: len(words) - 1]):
        return False
    last, against = words[-1], label[len(words) - 1]
    return last == against or (len(last) >= 3 and against.startswith(last))


def _match_label(item: Item, words: Sequence[str], language: str) -> Parsed | None:
    labels = _label_words(item)
    exact = _pick(item, ((i, lang) for i, lang, label in labels if label == words), language)
    if exact is not None:
        return exact
    codes = [i for i, option in enumerate(item.options) if _words(option.code) == list(words)]
    if len(codes) == 1:
        return Parsed(item.options[codes[0]].code)
    if not any(word not in _FUNCTION_WORDS for word in words):
        return None
    return _pick(
        item, ((i, lang) for i, lang, label in labels if _starts_label(words, label)), language
    )


def _read_choice(item: Item, text: str, language: str) -> Parsed:
    words = _words(normalise(text))
    if not words:
        return Parsed(problem=UNPARSEABLE)
    by_label = _match_label(item, words, language)
    if by_label is not None and by_label.ok:
        return by_label

    numbers = {_digits_value(w) for w in words if w.isdigit()}
    if len(numbers) > 1:
        return Parsed(problem=AMBIGUOUS)
    if numbers:
        number = numbers.pop()
        if not 1 <= number <= len(item.options):
            return Parsed(problem=OUT_OF_RANGE)
        chosen = item.options[number - 1].code
        others = [w for w in words if not w.isdigit() and w not in _NUMBER_FILLER]
        if not others:
            return Parsed(chosen)
        # "2 some pain" agrees with itself; "1 pain too bad" or "3 days" do not.
        said = _match_label(item, others, language)
        return Parsed(chosen) if said == Parsed(chosen) else Parsed(problem=AMBIGUOUS)

    if tuple(words) in _NEGATIVE_REPLIES:
        negative = {i for i, _, label in _label_words(item) if label[0] in _NEGATIVE_LABEL_STARTS}
        if negative == {0}:
            return Parsed(item.options[0].code)

    letter = words[-1]
    if (
        len(letter) == 1
        and "a" <= letter <= "z"
        and all(w in _LETTER_PREFIX for w in words[:-1])
        and ord(letter) - ord("a") < len(item.options)
    ):
        return Parsed(item.options[ord(letter) - ord("a")].code)
    return by_label if by_label is not None else Parsed(problem=UNPARSEABLE)


# --- Text ------------------------------------------------------------------------


def tidy_text(text: str) -> str:
    """Free text as written, minus control characters and surrounding blanks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))
    start, end = 0, len(kept)
    while start < end and (kept[start].isspace() or unicodedata.category(kept[start]) == "Cf"):
        start += 1
    while end > start and (kept[end - 1].isspace() or unicodedata.category(kept[end - 1]) == "Cf"):
        end -= 1
    return kept[start:end]


def _read_text(item: Item, text: str) -> Parsed:
    value = tidy_text(text)
    if item.max_length is not None and len(value) > item.max_length:
        return Parsed(problem=OUT_OF_RANGE)
    return Parsed(value)


# --- Entry point -----------------------------------------------------------------


def parse_answer(item: Item, text: str, language: str) -> Parsed:
    """Read ``text`` as the answer to ``item``; never raises, whatever was sent."""
    if not normalise(text):
        return Parsed(problem=EMPTY)
    if item.type in (ItemType.INTEGER, ItemType.SCALE):
        return _read_integer(item, text, language)
    if item.type is ItemType.YES_NO:
        return read_yes_no(text)
    if item.type is ItemType.CHOICE:
        return _read_choice(item, text, language)
    if item.type is ItemType.TEXT:
        return _read_text(item, text)
    return Parsed(problem=UNPARSEABLE)
