"""SMS keywords (STOP, HELP, PAUSE 7, IDEA ...) in English and Spanish, read before answers.

Opting out must work however people say it: since April 2025 US rules let consent
be revoked "by any reasonable means", so plain sentences such as "please stop
texting me" or "no me manden mas mensajes" count. A symptom that merely contains
"stop" ("the bleeding won't stop") must still reach the check-in as an answer.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass

from engage.conversations.parsing import normalise, tidy_text, whole_number
from engage.instruments.scoring import fold


class Command(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"
    PAUSE = "pause"
    RESUME = "resume"
    IDEA = "idea"
    SKIP = "skip"
    BACK = "back"


@dataclass(frozen=True)
class Keyword:
    command: Command
    argument: str | None = None  # PAUSE: days as text ("7"); IDEA: the idea, as written
    language: str | None = None  # the keyword's own language; None when it is both


EN, ES = "en", "es"

# Folded words (lower case, no accents, dashes as spaces) -> what they mean on their own.
_KEYWORDS: dict[str, tuple[Command, str | None]] = {
    **dict.fromkeys(
        ("stop", "stopall", "stop all", "stop it", "unsubscribe", "cancel", "end", "quit",
         "optout", "opt out", "revoke"),
        (Command.OPT_OUT, EN),
    ),
    **dict.fromkeys(("parar", "baja", "cancelar"), (Command.OPT_OUT, ES)),
    **dict.fromkeys(("start", "unstop"), (Command.OPT_IN, EN)),
    "help": (Command.HELP, EN),
    "info": (Command.HELP, None),
    **dict.fromkeys(("ayuda", "ayudame"), (Command.HELP, ES)),
    **dict.fromkeys(("resume", "unpause"), (Command.RESUME, EN)),
    "reanudar": (Command.RESUME, ES),
    **dict.fromkeys(("skip", "pass"), (Command.SKIP, EN)),
    **dict.fromkeys(("omitir", "saltar", "pasar"), (Command.SKIP, ES)),
    **dict.fromkeys(("back", "go back"), (Command.BACK, EN)),
    **dict.fromkeys(("atras", "volver", "regresar"), (Command.BACK, ES)),
}  # fmt: skip
# Only after opting out is "yes" a way back in; otherwise it answers a question.
_REJOIN = {"yes": EN, "si": ES}
_PAUSE = {"pause": EN, "pausa": ES, "pausar": ES}
_POLITE = frozenset({
    "please", "pls", "plz", "por", "favor", "porfa", "porfavor", "now", "right", "thanks",
    "thank", "you", "thx", "ty", "gracias", "ok", "okay", "ya", "ahora", "just",
})  # fmt: skip
_POLITE_HELP = _POLITE | {"me", "i", "need", "necesito", "needed"}
_DAY_UNITS = {"d": 1, "day": 1, "days": 1, "dia": 1, "dias": 1,
              "week": 7, "weeks": 7, "wk": 7, "wks": 7, "semana": 7, "semanas": 7}  # fmt: skip
_TWILIO = {"STOP": Command.OPT_OUT, "START": Command.OPT_IN, "HELP": Command.HELP}

_MESSAGES_EN = r"(?:texts?|text messages|messages|msgs|sms|reminders|check ins|notifications)"
_SEND_ES = r"(?:manden|mande|mandes|envien|envie|envies|escriban|escriba|escribas|texteen|textee)"
_SENDING_ES = r"(?:enviar|mandar|escribir|textear)"
_MESSAGES_ES = r"(?:mensajes|mensajitos|textos|msjs|sms)"
# "I can't stop texting" or "no deja de escribir" are not requests to us.
_NEGATIONS = {
    EN: frozenset({
        "can't", "cant", "cannot", "won't", "wont", "don't", "dont", "doesn't", "doesnt",
        "didn't", "didnt", "couldn't", "wouldn't", "never", "not",
    }),
    ES: frozenset({"no", "nunca", "jamas"}),
}  # fmt: skip
_PLAIN_OPT_OUTS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), language)
    for pattern, language in (
        (r"\bstop (?:texting|txting|messaging|msging|sending|contacting|emailing)\b", EN),
        (rf"\bstop (?:(?:all|the|these|those|your|ur|getting|receiving) )*{_MESSAGES_EN}\b", EN),
        (rf"\bno more {_MESSAGES_EN}\b", EN),
        (r"\b(?:don't|dont|do not|never) (?:text|txt|message|msg|contact|email) (?:me|us)\b", EN),
        (r"\bunsubscribe\b", EN),
        (r"\bremove (?:me|us|my number|this number) from\b", EN),
        (r"\btake (?:me|us|my number|this number) off\b", EN),
        (r"\bopt ?(?:me |us )?out\b", EN),
        (rf"\bno mas {_MESSAGES_ES}\b", ES),
        (rf"\bno (?:me |nos )?{_SEND_ES} (?:mas\b|{_MESSAGES_ES}\b)", ES),
        (rf"\b(?:dej|par)(?:en|e|a|as) de {_SENDING_ES}(?:me|nos)?\b", ES),
        (rf"\bno quiero (?:(?:recibir|seguir recibiendo|mas|estos|sus|los) )*{_MESSAGES_ES}\b", ES),
        (r"\b(?:dar|darme|denme|deme|dame|darnos|denos) de baja\b", ES),
        (rf"\b(?:paren|cancelen|cancelar) (?:(?:los|estos|sus|mis) )?{_MESSAGES_ES}\b", ES),
    )
)  # fmt: skip
# "STOP. I don't want these": a bare opt-out word closed by a full stop starts the message.
_OPT_OUT_FIRST = re.compile(
    r"^(?:stop|stopall|unsubscribe|cancel|end|quit|optout|revoke|parar|baja|cancelar)\s*[.!;]"
)
_IDEA = re.compile(r"^[^\w]*idea(?![^\W_])[\s:;,.!\-\u2013\u2014]*(.*)$", re.IGNORECASE | re.DOTALL)


def read_keyword(
    text: str, *, opted_out: bool = False, opt_out_type: str | None = None
) -> Keyword | None:
    """The keyword ``text`` is, or None when it should be read as an answer. Never raises.

    ``opt_out_type`` is Twilio Advanced Opt-Out's ``OptOutType``: Twilio has already
    acted on it, so it decides the command whatever the words were.
    """
    twilio = _TWILIO.get((opt_out_type or "").strip().upper())
    if twilio is not None:
        own = _read_cached(text, opted_out=True)
        return Keyword(twilio, language=own.language if own and own.command is twilio else None)
    return _read_cached(text, opted_out=opted_out)


@functools.lru_cache(maxsize=1024)
def _read_cached(text: str, *, opted_out: bool) -> Keyword | None:
    # A reply is read more than once on its way (the reply path, then the engine).
    return _read(text, opted_out=opted_out)


def _read(text: str, *, opted_out: bool) -> Keyword | None:
    idea = _IDEA.match(tidy_text(text))
    if idea:
        argument = idea.group(1).strip()
        return Keyword(Command.IDEA, argument if normalise(argument) else None)

    folded = fold(normalise(text))
    for pattern, language in _PLAIN_OPT_OUTS:
        for match in pattern.finditer(folded):
            before = folded[: match.start()].split()
            if not before or before[-1] not in _NEGATIONS[language]:
                return Keyword(Command.OPT_OUT, language=language)

    words = re.findall(r"[0-9]+|[^\W\d_]+(?:'[^\W\d_]+)*", folded)
    keyword = _single(words, opted_out=opted_out) or _pause(words)
    if keyword is not None:
        return keyword
    first = _OPT_OUT_FIRST.match(folded)
    if first and len(first.group()) < len(folded):
        return Keyword(Command.OPT_OUT, language=_KEYWORDS[first.group().rstrip(".!; ")][1])
    return None


def _single(words: list[str], *, opted_out: bool) -> Keyword | None:
    """One keyword, perhaps repeated or wrapped in politeness: "stop please", "HELP me"."""
    for polite in (_POLITE, _POLITE_HELP):
        kept = [w for w in words if w not in polite]
        if not kept:
            continue
        phrase = " ".join(kept)
        if len(set(kept)) == 1:
            phrase = kept[0]
        found = _KEYWORDS.get(phrase)
        if found is not None and (polite is _POLITE or found[0] is Command.HELP):
            return Keyword(found[0], language=found[1])
        if opted_out and polite is _POLITE and phrase in _REJOIN:
            return Keyword(Command.OPT_IN, language=_REJOIN[phrase])
    return None


def _pause(words: list[str]) -> Keyword | None:
    """PAUSE, with an optional length: "pause 7", "pausa siete dias", "pause for 2 weeks"."""
    if not words or words[0] not in _PAUSE:
        return None
    language = _PAUSE[words[0]]
    rest = [w for w in words[1:] if w not in _POLITE and w not in ("for", "durante")]
    if not rest:
        return Keyword(Command.PAUSE, language=language)
    unit = _DAY_UNITS.get(rest[-1])
    amount = rest[:-1] if unit is not None else rest
    if not amount:
        return None
    if unit is not None and amount in (["a"], ["an"], ["un"], ["una"]):
        count: int | None = 1
    else:
        count = whole_number(" ".join(amount), language)
    if count is None:
        return None
    return Keyword(Command.PAUSE, str(count * (unit or 1)), language)
