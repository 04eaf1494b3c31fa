"""Identifiers taken out of an idea before the whole network reads it.

An idea a family sends by SMS or through the app is read by reviewers at every
center of the network, far beyond the care team that knows the family. The copy
the network reads therefore loses the identifiers from HIPAA's Safe Harbor list
that families actually type: names, phone numbers, e-mail addresses, record and
account numbers (and any run of five or more digits), dates finer than a month,
and street addresses. Each becomes a placeholder -- ``[name]``, ``[phone]``,
``[email]``, ``[number]``, ``[date]``, ``[address]`` -- and every other character
is kept as written, spacing, punctuation and casing included.

Kept on purpose, because an idea means little without them: small numbers (doses,
ages, "7/10" pain scores, "2 weeks"), a month alone or a year alone ("in March",
"since 2024", "March 2025"), weekdays, cities and states, money amounts, and words
that are also names ("I will ask", "we hope", "tiene dolores") unless written as a
name: capitalised, and not merely because a sentence starts with them.

Each name becomes its own ``[name]``: "Sam Rivera" reads "[name] [name]". A name of
several words given as one entry ("De la Cruz") becomes a single ``[name]``.
This is a careful filter, not a proof: it cannot know a name it was not given.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from functools import lru_cache

Span = tuple[int, int, str]  # start, end, placeholder label

PLACEHOLDER = re.compile(r"\[(?:name|phone|email|number|date|address)\]")


def _words(*texts: str) -> frozenset[str]:
    return frozenset(word for text in texts for word in text.split())


# Given names and surnames that are also everyday English or Spanish words, and
# the short function words some surnames spell ("He", "An", "So", "Do", "Ma").
# Such a name is removed only when it is written as a name.
COMMON_WORD_NAMES: frozenset[str] = _words(
    # English given names
    """will may mark bill rose june april august summer winter autumn sky art guy pat dawn
    sunny hope joy faith grace mercy charity patience prudence honor honour chance chase
    hunter ray don sue rob bob nick max jack frank earl dean drew grant glen gene carol
    holly iris ivy lily daisy jade amber ruby pearl crystal jewel heather hazel olive
    violet poppy robin wren rocky rusty buddy cash christian major miles reed rich
    sterling storm river rain brook forest clay cliff dale heath sage star true noble
    justice liberty destiny harmony serenity trinity unity haven penny sandy misty candy
    honey ginger brandy cherry kit ash bud dot royal melody lucky bliss blessing
    precious promise pepper ocean echo baby""",
    # English surnames
    """brown green black white gray grey long young king hill wood woods stone price rice
    hall bell little case day ward page park lane love moon cook baker mason fisher
    miller walker fox wolf bird bush field fields gold golden silver sharp strong short
    small swift wise good best bishop booth burns cross fair free house lamb land law
    lord marsh moss meek north south east west pierce pike pope porter pound powers
    pride prince rivers root sands savage shields shore snow spring stout street sweet
    tanner temple thorn tower waters wells wild wing hand key sun song chin pan hang
    sang wall walls flowers blood bland gross carpenter farmer hunt cole bloom banks
    bank bond gay glass hay hood lake marshall mayor mills money parks salt sparks steel
    vale vine wade weaver""",
    # Spanish given names
    """luz rosa rosario angel angeles dolores mercedes consuelo soledad amparo socorro
    pilar rocio esperanza caridad fe paz sol cielo estrella paloma perla flor luna mar
    alma clara dulce linda bella blanca nieves milagros remedios angustias aurora
    victoria gloria gracia reina rey reyes cruz jesus salvador santos justo modesto
    feliz primo benigno severo casto constante inocente sereno serena amor bienvenido
    natividad encarnacion concepcion asuncion trinidad belen domingo leal franco alegria
    celeste marina ventura norma pura vida abril""",
    # Spanish surnames
    """flores rios campos campo vega torres castillo guerra delgado moreno blanco rubio
    calvo bravo cano nieto pastor fuentes valle casas ramos costa mata toro gallo
    cordero lobo leon pardo parra prieto mesa sierra montes arroyo cuevas puente
    iglesias palacios barrios salas caballero serrano paredes pena rosales olivo pino
    roble manzano garza duran mora cortes rico rojas rojo prado calle bueno parada
    cabello llanos lago villa cuesta pozo hoyos""",
    # Short words that are also surnames (Chinese, Korean, Vietnamese, Spanish, ...)
    "he an so do no oh on ma ha ho bo ye hu yu you lo le ly la lu li mi ni su tu ya se si ti to",
)

# Words that join the parts of a surname ("De la Cruz", "Van Buren").
PARTICLES: frozenset[str] = _words(
    "de del la las los el y e van von der den da di du le st san santa mc mac bin ibn al dos das"
)

# English and Spanish function words: a street name is never made of these, so
# "2 blocks down the road" is no address.
_FUNCTION_WORDS: frozenset[str] = _words(
    """a an the and or but if of to in on at by for from with without about into onto over
    under up down out off near past through around across along behind beside between this
    that these those same next other another each every some any all more most less few
    many much very too so just only also even still again then than there here where when
    my our your his her their its i we you he she they it me us him them is are was were be
    been am do does did have has had will would can could should may might must not no yes
    what who how why which way one two three
    el la los las un una unos unas y o pero si de del al a en con sin por para sobre bajo
    entre hacia hasta desde cerca lejos este esta estos estas ese esa esos esas aquel
    aquella mismo misma otro otra otros otras cada todo toda todos todas mas menos muy
    tambien solo casi ya aun luego entonces donde cuando como que quien cual mi mis tu tus
    su sus nuestro nuestra yo tu el ella nosotros ellos ellas me te se nos le les lo es
    son era fue ser estar esta estan estaba hay tiene tengo tenemos no"""
)

# What a number counts when it is no house number ("3 hours", "5 años").
_UNIT_WORDS: frozenset[str] = _words(
    """second seconds minute minutes min mins hour hours hr hrs day days night nights week
    weeks month months year years yr yrs time times am pm mg ml kg lb lbs g oz cm mm mile
    miles km block blocks house houses door doors floor floors stop stops kid kids child
    children people visit visits pill pills dose doses step steps percent
    segundo segundos minuto minutos hora horas dia dias noche noches semana semanas mes
    meses ano anos vez veces cuadra cuadras casa casas piso pisos nino ninos nina ninas
    persona personas visita visitas pastilla pastillas dosis paso pasos por ciento"""
)


def fold(text: str) -> str:
    """Lower case without accents: "José" and "JOSE" both read "jose"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


# --- dates -----------------------------------------------------------------

_MONTH = (
    r"(?:(?:january|february|march|april|may|june|july|august|september|october|november"
    r"|december|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|setiembre"
    r"|octubre|noviembre|diciembre)\b"
    r"|(?:jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec|ene|abr|dic)\b\.?)"
)
_DAY = r"(?P<day>[0-3]?\d)(?:st|nd|rd|th|º|°|ro|er)?(?!\w)"
_YEAR = r"(?:,?[ \t]+(?:de[ \t]+|del[ \t]+|of[ \t]+)?\d{4}\b)?"

_MONTH_DAY = re.compile(rf"\b{_MONTH}[ \t]+(?:the[ \t]+)?{_DAY}{_YEAR}", re.IGNORECASE)
_DAY_MONTH = re.compile(
    rf"(?<![\w/.\-]){_DAY}[ \t]+(?:of[ \t]+|de[ \t]+)?{_MONTH}{_YEAR}", re.IGNORECASE
)
_NUMERIC_DATE = re.compile(
    r"(?<![\w/.\-])(?:"
    r"(?P<a>\d{1,2})(?P<sep>[/.\-])(?P<b>\d{1,2})(?P=sep)(?:\d{4}|\d{2})"
    r"|(?P<year>\d{4})(?P<sep2>[/.\-])(?P<month>\d{1,2})(?P=sep2)(?P<mday>\d{1,2})"
    r")(?![\w/\-]|\.\d)"
)
# "7/10" is a pain score; "on 3/14" is a day.
_SHORT_DATE = re.compile(
    r"\b(?:on|since|until|till|before|after|el|desde|hasta|antes\s+del|despu[eé]s\s+del)"
    r"[ \t]+(?P<date>(?P<a>\d{1,2})/(?P<b>\d{1,2}))(?![\w/]|[ \t]+(?:pain|dolor|scale|escala))",
    re.IGNORECASE,
)


def _month_day_ok(a: str, b: str) -> bool:
    x, y = int(a), int(b)
    return (1 <= x <= 12 and 1 <= y <= 31) or (1 <= y <= 12 and 1 <= x <= 31)


def _dates(text: str) -> Iterator[Span]:
    for pattern in (_MONTH_DAY, _DAY_MONTH):
        for m in pattern.finditer(text):
            if 1 <= int(m["day"]) <= 31:
                yield m.start(), m.end(), "date"
    for m in _NUMERIC_DATE.finditer(text):
        if m["a"] is not None:
            plausible = _month_day_ok(m["a"], m["b"])
        else:
            plausible = 1 <= int(m["month"]) <= 12 and 1 <= int(m["mday"]) <= 31
        if plausible:
            yield m.start(), m.end(), "date"
    for m in _SHORT_DATE.finditer(text):
        if _month_day_ok(m["a"], m["b"]):
            yield m.start("date"), m.end("date"), "date"


# --- e-mail, phones, numbers -------------------------------------------------

_EMAIL = re.compile(
    r"(?<![\w.+\-])[\w.+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}(?![\w\-])"
)
_SSN = re.compile(r"(?<![\w\-])\d{3}-\d{2}-\d{4}(?![\w\-])")
_PHONE_INTERNATIONAL = re.compile(
    r"(?<![\w+])\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,4})){2,7}(?!\w)"
)
_PHONE_US = re.compile(r"(?<![\w+])(?:1[ .\-]?)?(?:\(\d{3}\)|\d{3})[ .\-]?\d{3}[ .\-]?\d{4}(?!\w)")
# A local US number without its area code, "555-0101", counts only after a word
# about phones: "250-1200" is as likely a range of lab values.
_PHONE_LOCAL = re.compile(r"(?<![\w+/.\-])\d{3}[.\-]\d{4}(?![\w/\-]|\.\d)")
_PHONE_WORD = re.compile(
    r"\b(?:call|text|phone|cell|tel|mobile|number|reach|llam\w*|cel\w*|m[oó]vil|whats\w*"
    r"|n[uú]mero)\b",
    re.IGNORECASE,
)
# Grouped the Mexican or Spanish way: "55 1234 5678", "612 34 56 78", "(55) 1234-5678".
_PHONE_GROUPED = re.compile(
    r"(?<![\w+/.\-])(?:\(\d{2,4}\)|\d{2,4})(?:[ .\-]\d{2,4}){2,4}(?![\w/]|[.\-]\d)"
)
_RECORD = re.compile(
    r"\b(?:MRN|MR|medical[ \t]+record|record|account|acct|chart|patient[ \t]+id|member[ \t]+id"
    r"|ID|SSN|NSS|CURP|expediente|historia[ \t]+cl[ií]nica|NHC|p[oó]liza|policy"
    r"|n[uú]mero[ \t]+de[ \t]+(?:expediente|paciente|historia|afiliaci[oó]n|seguro))"
    r"(?:[ \t]*(?:number|num\b\.?|no\b\.?|n[º°]|n[uú]mero|#|:))*"
    r"(?:[ \t]+(?P<verb>is|es|was|era)\b)?[ \t]*:?[ \t]*#?"
    r"(?P<value>[A-Za-z]{0,4}\d[\dA-Za-z\-]{2,})(?!\w)",
    re.IGNORECASE,
)
_YEAR_ALONE = re.compile(r"(?:19|20)\d\d")  # "the policy in 2024" names no one
_HASH_NUMBER = re.compile(r"(?<![\w#])#[ \t]?[A-Za-z]{0,3}\d{4,}[A-Za-z\d]*(?!\w)")
_LONG_NUMBER = re.compile(
    r"(?<![\w$€£.,])(?:\d{5}-\d{4}|[A-Za-z]{0,4}\d{5,}[A-Za-z]{0,3})(?!\w|[.,]\d)"
)


def _digits(text: str) -> int:
    return sum(c.isdigit() for c in text)


def _phones(text: str) -> Iterator[Span]:
    for m in _PHONE_INTERNATIONAL.finditer(text):
        if 8 <= _digits(m.group()) <= 15:
            yield m.start(), m.end(), "phone"
    for m in _PHONE_US.finditer(text):
        yield m.start(), m.end(), "phone"
    for m in _PHONE_GROUPED.finditer(text):
        if 9 <= _digits(m.group()) <= 12:
            yield m.start(), m.end(), "phone"
    for m in _PHONE_LOCAL.finditer(text):
        if _PHONE_WORD.search(text, max(0, m.start() - 30), m.start()):
            yield m.start(), m.end(), "phone"


def _numbers(text: str) -> Iterator[Span]:
    for m in _RECORD.finditer(text):
        # "MRN 12345678" goes whole; "my MRN is 1234" keeps "my MRN is".
        if _digits(m["value"]) < 3 or _YEAR_ALONE.fullmatch(m["value"]):
            continue
        start = m.start("value") if m["verb"] else m.start()
        yield start, m.end(), "number"
    for pattern in (_HASH_NUMBER, _LONG_NUMBER):
        for m in pattern.finditer(text):
            yield m.start(), m.end(), "number"


def _matches(pattern: re.Pattern[str], label: str) -> Callable[[str], Iterator[Span]]:
    def find(text: str) -> Iterator[Span]:
        for m in pattern.finditer(text):
            yield m.start(), m.end(), label

    return find


# --- street addresses ----------------------------------------------------------

_PLAIN_SUFFIXES = (
    "street|st|avenue|ave|road|rd|boulevard|blvd|ln|parkway|pkwy|highway|hwy|ct|cir|ter|pl"
    "|sq|expy|fwy"
)
# Suffixes that are everyday words too: the street name must then be capitalised.
_WORDY_SUFFIXES = (
    "lane|drive|dr|court|place|way|circle|terrace|square|trail|trl|plaza|row|walk|path"
    "|loop|park|pike|alley|crescent|close"
)
_WORDY = frozenset(_WORDY_SUFFIXES.split("|"))
_US_ADDRESS = re.compile(
    r"(?<![\w#/.,:$\-])\d{1,6}[A-Za-z]?(?:-\d{1,4})?[ \t]+"
    r"(?P<direction>(?:[NSEW]\.?|north|south|east|west)[ \t]+)?"
    r"(?P<words>(?:(?:[^\W\d_][\w'’.\-]*|\d{1,3}(?:st|nd|rd|th))[ \t]+){1,4}?)"
    rf"(?P<suffix>{_PLAIN_SUFFIXES}|{_WORDY_SUFFIXES})\b"
    r"(?:[ \t]+(?-i:NW|NE|SW|SE|N|S|E|W)\b)?"
    r"(?:,?[ \t]+(?:apt|apartment|unit|suite|ste|fl|floor|#)\.?[ \t]*#?[ \t]*\w{1,5}\b)?",
    re.IGNORECASE,
)
_ES_ADDRESS = re.compile(
    r"(?<!\w)(?:calle|c/|avenida|avda\.?|av\.|av(?=[ \t])|paseo|plaza|pza\.?|carrera|cra\.?"
    r"|camino|calzada|calz\.?|bulevar|privada|priv\.?|callej[oó]n|ronda|carretera|pasaje"
    r"|diagonal|transversal|jir[oó]n)"
    r"[ \t]*(?P<words>(?:[^\W\d_][\w'’.\-]*[ \t]+){0,5}?)"
    r"(?:,[ \t]*)?(?:(?:no\b\.?|n[uú]m\b\.?|n[º°]|#)[ \t]*)?"
    r"(?P<number>\d{1,5}[A-Za-z]?)(?!\w)"
    r"(?P<extra>[ \t]*(?:#|no\b\.?|n[º°]|-)[ \t]*\d{1,4}(?:-\d{1,4})?(?!\w))?",
    re.IGNORECASE,
)
_PO_BOX = re.compile(
    r"\b(?:p\.?[ \t]?o\.?[ \t]*box|apartado(?:[ \t]+postal)?)[ \t]*#?[ \t]*\d{1,6}\b",
    re.IGNORECASE,
)
_NEXT_WORD = re.compile(r"[ \t]*(?:%|([^\W\d_]+))")
_ORDINAL = re.compile(r"\d{1,3}(?:st|nd|rd|th)", re.IGNORECASE)


def _counts_something(text: str, end: int) -> bool:
    """Whether the number ending at ``end`` counts hours, years, doses, ..."""
    after = _NEXT_WORD.match(text, end)
    return after is not None and (after[1] is None or fold(after[1]) in _UNIT_WORDS)


def _addresses(text: str) -> Iterator[Span]:
    for m in _US_ADDRESS.finditer(text):
        words = m["words"].split()
        folded = [fold(w.rstrip(".")) for w in words]
        if folded[0] in _UNIT_WORDS or any(w in _FUNCTION_WORDS for w in folded):
            continue
        if fold(m["suffix"]) in _WORDY and not all(
            w[0].isupper() or _ORDINAL.fullmatch(w) for w in words
        ):
            continue
        yield m.start(), m.end(), "address"
    for m in _ES_ADDRESS.finditer(text):
        folded = [fold(w.rstrip(".")) for w in m["words"].split()]
        named = [w for w in folded if w not in PARTICLES]
        if any(w in _FUNCTION_WORDS or w in _UNIT_WORDS for w in named):
            continue
        if not named and m["extra"] is None:
            continue
        if _counts_something(text, m.end("number")):
            continue
        yield m.start(), m.end(), "address"
    for m in _PO_BOX.finditer(text):
        yield m.start(), m.end(), "address"


# --- names ---------------------------------------------------------------------

_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_JOINER = re.compile(r"[ \t\-'’]{1,3}")  # what may stand between the words of one name
_OPENERS = " \t\"'“‘«¿¡(*"
_TITLE_BEFORE_DOT = re.compile(r"(?:^|\W)(?:dr|dra|mr|mrs|ms|mx|sr|sra|srta|prof|st)$", re.I)


def _written_as_name(word: str) -> bool:
    """Capitalised, as a name is; all capitals is shouting and tells nothing."""
    return word[:1].isupper() and not (len(word) > 1 and word.isupper())


def _starts_sentence(text: str, start: int) -> bool:
    i = start
    while i > 0 and text[i - 1] in _OPENERS:
        i -= 1
    if i == 0 or text[i - 1] in "\n\r":
        return True
    if text[i - 1] in ".!?…":
        # "Dr. Will" is a title, not a new sentence.
        return not _TITLE_BEFORE_DOT.search(text[max(0, i - 6) : i - 1])
    return False


class NameMatcher:
    """Finds given names in texts: built once from many names, then used for each text.

    Names are folded (lower case, no accents) and kept in a set; a name of several
    words is kept in a dict under its first word. A text is cut into words and each
    word looked up, so the cost of a text does not grow with the number of names.
    """

    def __init__(self, names: Iterable[str], *, common_words: Collection[str] = ()) -> None:
        self._common = COMMON_WORD_NAMES | _FUNCTION_WORDS | {fold(w) for w in common_words}
        self._single: set[str] = set()
        self._phrases: dict[str, list[tuple[str, ...]]] = {}
        for name in names:
            self._add(name)
        for phrases in self._phrases.values():
            phrases.sort(key=len, reverse=True)

    def _add(self, name: str) -> None:
        words = tuple(_WORD.findall(fold(name)))
        if sum(len(w) for w in words) < 2:
            return
        if len(words) == 1:
            self._single.add(words[0])
            return
        self._phrases.setdefault(words[0], []).append(words)
        self._single.add("".join(words))  # "De la Cruz" is also written "Delacruz"

    def find(self, text: str, *, taken: Sequence[tuple[int, int]] = ()) -> list[tuple[int, int]]:
        """Where names stand in ``text``, leaving alone the ``taken`` stretches."""
        tokens = [
            (m.start(), m.end(), fold(m.group()))
            for m in _WORD.finditer(text)
            if not _overlaps(m.start(), m.end(), taken)
        ]
        found: list[tuple[int, int]] = []
        i = 0
        while i < len(tokens):
            size = self._match_at(text, tokens, i)
            if size:
                found.append((tokens[i][0], tokens[i + size - 1][1]))
                i += size
            else:
                i += 1
        return found

    def _match_at(self, text: str, tokens: list[tuple[int, int, str]], i: int) -> int:
        for phrase in self._phrases.get(tokens[i][2], ()):
            run = tokens[i : i + len(phrase)]
            if (
                len(run) == len(phrase)
                and all(t[2] == w for t, w in zip(run, phrase, strict=True))
                and all(
                    _JOINER.fullmatch(text, a[1], b[0]) for a, b in zip(run, run[1:], strict=False)
                )
                and self._reads_as_name(text, run)
            ):
                return len(phrase)
        if tokens[i][2] in self._single and self._reads_as_name(text, tokens[i : i + 1]):
            return 1
        return 0

    def _reads_as_name(self, text: str, run: list[tuple[int, int, str]]) -> bool:
        """A name that is also a word counts only when written as a name, mid-sentence."""
        content = [t for t in run if t[2] not in PARTICLES] or run
        if not all(t[2] in self._common for t in content):
            return True
        if not all(_written_as_name(text[start:end]) for start, end, _ in content):
            return False
        return len(run) > 1 or not _starts_sentence(text, run[0][0])


@lru_cache(maxsize=4)
def _cached_matcher(names: tuple[str, ...]) -> NameMatcher:
    return NameMatcher(names)


def known_name_matcher(names: Iterable[str]) -> NameMatcher:
    """A matcher for the network's known names, reused while the names stay the same."""
    return _cached_matcher(tuple(names))


# --- putting it together ---------------------------------------------------------

# Earlier finders win where two overlap: "2025-03-14" is a date, not a phone.
_FINDERS: tuple[Callable[[str], Iterator[Span]], ...] = (
    _matches(PLACEHOLDER, ""),
    _matches(_EMAIL, "email"),
    _dates,
    _matches(_SSN, "number"),
    _phones,
    _addresses,
    _numbers,
)


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < e and s < end for s, e in spans)


def find_identifiers(text: str, matchers: Iterable[NameMatcher]) -> list[Span]:
    """Every identifier in ``text``, in order, none overlapping another."""
    spans: list[Span] = []
    for finder in _FINDERS:
        for start, end, label in finder(text):
            if not _overlaps(start, end, [(s, e) for s, e, _ in spans]):
                spans.append((start, end, label))
    for matcher in matchers:
        taken = [(s, e) for s, e, _ in spans]
        spans.extend((s, e, "name") for s, e in matcher.find(text, taken=taken))
    return sorted(span for span in spans if span[2])  # placeholders already there stay


def redact_with(text: str, matchers: Iterable[NameMatcher]) -> str:
    """``text`` with each identifier, and each name the matchers know, as a placeholder."""
    parts: list[str] = []
    at = 0
    for start, end, label in find_identifiers(text, matchers):
        parts += [text[at:start], f"[{label}]"]
        at = end
    parts.append(text[at:])
    return "".join(parts)


def redact(text: str, *, family_names: Iterable[str], known_names: Iterable[str]) -> str:
    """The text the whole network may read: identifiers and known names replaced.

    ``family_names`` are the submitter's family (the child, siblings, parents);
    ``known_names`` the given and family names of every patient and caregiver.
    """
    return redact_with(text, (NameMatcher(family_names), known_name_matcher(known_names)))
