"""Ideas already in the backlog that may be the one under review, so duplicates merge.

Both texts are first cut down to the words that carry the idea: lower case, no
accents or punctuation, no placeholders such as ``[name]``, no English or Spanish
stopwords, plurals made singular. The score (0 to 100) then gives equal weight to
two views of those words:

- characters: the mean of rapidfuzz's ``token_set_ratio`` (high when the words of a
  short restatement are all found in a longer idea) and ``token_sort_ratio`` (the
  two texts as wholes). They forgive typos and word forms ("remind", "reminders").
- words: the share of words the two ideas have in common (Dice, counted with
  rapidfuzz's ``Indel`` over the word lists), a word of one matching a word of the
  other when they are spelt nearly alike (``fuzz.ratio`` of 85 or more).

Characters alone let one long shared phrase decide: "healthy snacks in the infusion
center" came out close to "the infusion center wifi does not work". Words alone miss
restatements worded differently. Together they put restatements first and leave
ideas that merely share a topic ("lab results", "the portal") lower. The default
threshold of 55 keeps unrelated ideas out (they score about 30 to 45); a neighbour
on the same topic may still appear below the real duplicates, which a reviewer
can dismiss at a glance.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from rapidfuzz.distance import Indel

# Words that say nothing about what an idea asks for, in English and Spanish.
STOPWORDS: frozenset[str] = frozenset(
    """a an the and or but if of to in on at by for from with about into over than then
    so as is are was were be been being am do does did have has had having will would
    can could should shall may might must i me my we us our you your he him his she her
    it its they them their this that these those there here what which who when where
    why how all any some more most very too just also not no yes please thanks thank
    hi hello maybe really like get got getting make made let lets im dont cant only even
    each other every while away need needs want wish idea think know thing something
    someone lot lots way
    el la los las lo un una unos unas y e o u pero si de del al a en con sin por para
    que como cuando donde quien cual es son era fue ser estar esta estan estaba hay
    muy mas menos tambien ya yo tu usted ustedes el ella nosotros ellos ellas me te se
    nos le les mi mis su sus nuestro nuestra este estos estas ese esa eso esto porque
    pues gracias hola favor podria podrian seria tal vez solo cada otro otra algo
    necesitamos queremos idea cosa""".split()
)

SAME_WORD = 85.0  # fuzz.ratio at which two words count as one ("texto", "text")
_PLACEHOLDER = re.compile(r"\[[^\]]*\](?:['’]s\b)?")
_NOT_WORD = re.compile(r"[^\w]+|_")


@dataclass(frozen=True)
class Suggestion:
    idea_id: int
    score: float  # 0..100


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(("ss", "is", "us")):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"  # families, therapies
    return word[:-1]  # results, resultados, visits


def normalise(text: str) -> str:
    """The words of ``text`` that carry the idea, folded, space-separated."""
    words = _NOT_WORD.split(_fold(_PLACEHOLDER.sub(" ", text)))
    return " ".join(_singular(w) for w in words if len(w) > 1 and w not in STOPWORDS)


def _shared_words(a: str, b: str) -> float:
    """Dice over the two word sets, nearly alike words counting as the same, 0 to 100."""
    mine = set(a.split())
    theirs: set[str] = set()
    for word in set(b.split()):
        if word not in mine:
            match = process.extractOne(word, mine, scorer=fuzz.ratio, score_cutoff=SAME_WORD)
            word = match[0] if match is not None else word
        theirs.add(word)
    return Indel.normalized_similarity(sorted(mine), sorted(theirs)) * 100


def score(a: str, b: str) -> float:
    """How alike two normalised texts are, 0 to 100."""
    if not a or not b:
        return 0.0
    characters = (fuzz.token_set_ratio(a, b) + fuzz.token_sort_ratio(a, b)) / 2
    return (characters + _shared_words(a, b)) / 2


def similar_ideas(
    text: str,
    candidates: Iterable[tuple[int, str]],
    *,
    limit: int = 5,
    threshold: float = 55.0,
) -> list[Suggestion]:
    """The ``limit`` candidates most like ``text`` scoring at least ``threshold``, best first."""
    wanted = normalise(text)
    if not wanted or limit <= 0:
        return []
    best: dict[int, float] = {}
    for idea_id, candidate in candidates:
        words = normalise(candidate)
        if not words:
            continue
        value = round(score(wanted, words), 1)
        if value >= threshold and value > best.get(idea_id, -1.0):
            best[idea_id] = value
    ranked = sorted(best.items(), key=lambda item: (-item[1], item[0]))
    return [Suggestion(idea_id, value) for idea_id, value in ranked[:limit]]
