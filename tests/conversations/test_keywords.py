"""Keywords in English and Spanish: opt-outs however they are said, but not symptoms that say "stop"."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.conversations.keywords import Command, Keyword, read_keyword

OPT_OUT_KEYWORDS = [
    ("STOP", "en"),
    ("stop", "en"),
    ("STOPALL", "en"),
    ("STOP ALL", "en"),
    ("UNSUBSCRIBE", "en"),
    ("Cancel", "en"),
    ("END", "en"),
    ("quit", "en"),
    ("OPTOUT", "en"),
    ("OPT OUT", "en"),
    ("OPT-OUT", "en"),
    ("revoke", "en"),
    ("PARAR", "es"),
    ("Baja", "es"),
    ("stop please", "en"),
    ("please stop", "en"),
    ("STOP!!!", "en"),
    ("Stop.", "en"),
    (" stop ", "en"),
    ("stop it", "en"),
    ("stop now", "en"),
    ("Stop stop stop", "en"),
    ("por favor parar", "es"),
    ("PARAR YA", "es"),
]


@pytest.mark.parametrize(("text", "language"), OPT_OUT_KEYWORDS)
def test_opt_out_keywords(text, language):
    assert read_keyword(text) == Keyword(Command.OPT_OUT, language=language)


PLAIN_OPT_OUTS = [
    ("please stop texting me", "en"),
    ("stop sending me messages", "en"),
    ("stop messaging me", "en"),
    ("Can you stop the texts", "en"),
    ("I want to stop getting these texts", "en"),
    ("no more messages", "en"),
    ("No more texts please!", "en"),
    ("don't text me", "en"),
    ("do not text me anymore", "en"),
    ("dont text me", "en"),
    ("don’t message me", "en"),
    ("unsubscribe me", "en"),
    ("how do I unsubscribe?", "en"),
    ("remove me from this list", "en"),
    ("take me off your list", "en"),
    ("opt me out", "en"),
    ("I want to opt-out", "en"),
    ("STOP. I don't want these anymore", "en"),
    ("no mas mensajes", "es"),
    ("No más mensajes!!", "es"),
    ("no me manden mas mensajes", "es"),
    ("no me envien mas mensajes", "es"),
    ("No me envíen más mensajes por favor", "es"),
    ("dejen de enviarme mensajes", "es"),
    ("dejen de mandarme mensajes", "es"),
    ("ya no quiero recibir mensajes", "es"),
    ("no quiero recibir mas mensajes", "es"),
    ("no me escriban mas", "es"),
    ("quiero darme de baja", "es"),
]


@pytest.mark.parametrize(("text", "language"), PLAIN_OPT_OUTS)
def test_plain_language_opt_outs(text, language):
    assert read_keyword(text) == Keyword(Command.OPT_OUT, language=language)


NOT_KEYWORDS = [
    "the bleeding won't stop",
    "I can't stop going to the bathroom",
    "pain stops me from sleeping",
    "no para de dolerme",
    "stop and go pain",
    "end of the day was bad",
    "I want the pain to stop",
    "the stomach pain doesn't stop at night",
    "the diarrhea stopped on tuesday",
    "she had to quit soccer",
    "can we cancel the appointment on friday?",
    "no more blood since monday",
    "no puede parar de ir al baño",
    "la fiebre esta baja",
    "stop it hurts",
    "end it all",
    "I can't stop texting my friends lol",
    "no deja de escribir en su diario",
    "help with the pain would be nice",
    "tengo ayuda en casa",
    "back pain",
    "going back to school",
    "pausing his meds made it worse",
    "pause until friday",
    "I have an idea",
    "Ideas for dinner?",
    "the end",
    "thanks",
    "ok",
    "5",
    "",
    "   ",
    "👍",
]


@pytest.mark.parametrize("text", NOT_KEYWORDS)
def test_answers_that_only_contain_keyword_words_are_not_keywords(text):
    assert read_keyword(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("START", Keyword(Command.OPT_IN, language="en")),
        ("unstop", Keyword(Command.OPT_IN, language="en")),
        ("HELP", Keyword(Command.HELP, language="en")),
        ("help!", Keyword(Command.HELP, language="en")),
        ("help me", Keyword(Command.HELP, language="en")),
        ("Help me please", Keyword(Command.HELP, language="en")),
        ("INFO", Keyword(Command.HELP)),
        ("AYUDA", Keyword(Command.HELP, language="es")),
        ("ayuda por favor", Keyword(Command.HELP, language="es")),
        ("Ayúdame", Keyword(Command.HELP, language="es")),
        ("RESUME", Keyword(Command.RESUME, language="en")),
        ("reanudar", Keyword(Command.RESUME, language="es")),
        ("SKIP", Keyword(Command.SKIP, language="en")),
        ("pass", Keyword(Command.SKIP, language="en")),
        ("OMITIR", Keyword(Command.SKIP, language="es")),
        ("saltar", Keyword(Command.SKIP, language="es")),
        ("pasar", Keyword(Command.SKIP, language="es")),
        ("skip please", Keyword(Command.SKIP, language="en")),
        ("BACK", Keyword(Command.BACK, language="en")),
        ("go back", Keyword(Command.BACK, language="en")),
        ("atras", Keyword(Command.BACK, language="es")),
        ("ATRÁS", Keyword(Command.BACK, language="es")),
        ("volver", Keyword(Command.BACK, language="es")),
        ("Regresar", Keyword(Command.BACK, language="es")),
    ],
)
def test_other_keywords(text, expected):
    assert read_keyword(text) == expected


@pytest.mark.parametrize(
    ("text", "days", "language"),
    [
        ("PAUSE 7", "7", "en"),
        ("pause 14 days", "14", "en"),
        ("Pause 14-day", "14", "en"),
        ("pause seven", "7", "en"),
        ("pause for 2 weeks", "14", "en"),
        ("pause a week", "7", "en"),
        ("PAUSE", None, "en"),
        ("pause please", None, "en"),
        ("PAUSA 7", "7", "es"),
        ("pausa 7 dias", "7", "es"),
        ("pausa siete días", "7", "es"),
        ("pausa por una semana", "7", "es"),
        ("pausa once dias", "11", "es"),
    ],
)
def test_pause_reads_the_number_of_days(text, days, language):
    assert read_keyword(text) == Keyword(Command.PAUSE, days, language)


@pytest.mark.parametrize(
    ("text", "idea"),
    [
        ("IDEA: Evening check-ins would be easier", "Evening check-ins would be easier"),
        ("idea more videos in Spanish!", "more videos in Spanish!"),
        ("Idea:   A group chat for TEENS  ", "A group chat for TEENS"),
        ("💡 IDEA - reminders for infusions?", "reminders for infusions?"),
        ("IDEA: stop texting on weekends", "stop texting on weekends"),
        ("IDEA", None),
        ("idea:", None),
        ("Idea!", None),
    ],
)
def test_idea_keeps_the_text_as_written(text, idea):
    assert read_keyword(text) == Keyword(Command.IDEA, idea)


@pytest.mark.parametrize("text", ["yes", "YES!", "Yes please"])
def test_yes_rejoins_only_after_opting_out(text):
    assert read_keyword(text) is None
    assert read_keyword(text, opted_out=True) == Keyword(Command.OPT_IN, language="en")


@pytest.mark.parametrize("text", ["si", "Sí", "sí por favor"])
def test_si_rejoins_only_after_opting_out(text):
    assert read_keyword(text) is None
    assert read_keyword(text, opted_out=True) == Keyword(Command.OPT_IN, language="es")


def test_keywords_still_work_after_opting_out():
    assert read_keyword("STOP", opted_out=True) == Keyword(Command.OPT_OUT, language="en")
    assert read_keyword("the bleeding won't stop", opted_out=True) is None


@pytest.mark.parametrize(
    ("text", "opt_out_type", "expected"),
    [
        ("STOP", "STOP", Keyword(Command.OPT_OUT, language="en")),
        ("parar", "stop", Keyword(Command.OPT_OUT, language="es")),
        ("arret", "STOP", Keyword(Command.OPT_OUT)),
        ("START", "START", Keyword(Command.OPT_IN, language="en")),
        ("yes", "start", Keyword(Command.OPT_IN, language="en")),
        ("ayuda", "Help", Keyword(Command.HELP, language="es")),
        ("the bleeding won't stop", " HELP ", Keyword(Command.HELP)),
        ("stop", "", Keyword(Command.OPT_OUT, language="en")),
        ("stop", "UNKNOWN", Keyword(Command.OPT_OUT, language="en")),
        ("just an answer", None, None),
    ],
)
def test_twilio_opt_out_type_decides(text, opt_out_type, expected):
    assert read_keyword(text, opt_out_type=opt_out_type) == expected


def test_commands_are_strings():
    assert Command.OPT_OUT == "opt_out"
    assert {c.name for c in Command} == {
        "OPT_OUT", "OPT_IN", "HELP", "PAUSE", "RESUME", "IDEA", "SKIP", "BACK",
    }  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    text=st.text(),
    opted_out=st.booleans(),
    opt_out_type=st.none() | st.text(max_size=8) | st.sampled_from(["STOP", "start", "HELP"]),
)
def test_any_text_is_a_keyword_or_none(text, opted_out, opt_out_type):
    keyword = read_keyword(text, opted_out=opted_out, opt_out_type=opt_out_type)
    assert keyword is None or isinstance(keyword.command, Command)
    if keyword is not None and keyword.command is Command.PAUSE and keyword.argument is not None:
        assert keyword.argument.isdigit()
    if keyword is not None:
        assert keyword.language in (None, "en", "es")


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "stop",
                "pause",
                "idea",
                "7",
                "seven",
                "días",
                "no",
                "más",
                "mensajes",
                "me",
                "please",
                "-",
                ":",
                "!",
                " ",
                "help",
                "yes",
                "sí",
                "99999999999",
                "weeks",
                "x",
            ]
        ),
        max_size=7,
    )
)
def test_keyword_like_messages_never_break_the_reader(words):
    for opted_out in (False, True):
        keyword = read_keyword(" ".join(words), opted_out=opted_out)
        assert keyword is None or keyword.command in set(Command)
