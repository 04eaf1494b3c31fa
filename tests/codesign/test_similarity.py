"""Suggesting ideas already in the backlog that may be the same idea."""

from __future__ import annotations

from engage.codesign.similarity import Suggestion, normalise, similar_ideas

BACKLOG = [
    (1, "Could the clinic text us lab results instead of waiting for the portal"),
    (2, "Have a quiet room for teens during infusions"),
    (3, "Free parking for families coming to infusion days"),
    (4, "A bathroom pass letter for school from the GI doctor"),
    (5, "Text reminders the day before clinic visits"),
    (6, "The patient portal should show lab results in Spanish"),
    (7, "Video visits so we dont miss school and work for every follow up"),
    (8, "Recipes for a low residue diet that kids actually like"),
    (9, "The infusion center wifi does not work"),
    (10, "Que la clínica mande los resultados de laboratorio por mensaje de texto"),
]


def ids(found: list[Suggestion]) -> list[int]:
    return [s.idea_id for s in found]


def test_restatement_of_an_idea_comes_first() -> None:
    found = similar_ideas("please send lab results by text, the portal is too slow", BACKLOG)
    assert ids(found)[0] == 1
    assert all(s.idea_id not in {2, 3, 4, 8, 9} for s in found)


def test_duplicates_rank_above_topical_neighbours() -> None:
    found = similar_ideas(
        "Could the clinic text us lab results instead of waiting for the portal",
        [(6, BACKLOG[5][1]), (11, "lab results by text message please, the portal takes days")],
    )
    assert ids(found)[0] == 11
    scores = {s.idea_id: s.score for s in found}
    assert scores[11] > scores.get(6, 0.0)


def test_more_realistic_duplicates() -> None:
    pairs = [
        ("Can the clinic give us a letter for school about bathroom passes", 4),
        ("can some follow up visits be by video? we drive 3 hours", 7),
        ("parking is so expensive when we come for infusions, can it be free?", 3),
        ("remind us by text before appointments", 5),
        ("easy recipes for kids on a low residue diet", 8),
    ]
    for text, expected in pairs:
        assert ids(similar_ideas(text, BACKLOG))[:1] == [expected], text


def test_threshold_keeps_unrelated_ideas_out() -> None:
    assert similar_ideas("A teen only support group to talk about colitis", BACKLOG) == []
    assert similar_ideas("bus passes for families who do not drive", BACKLOG) == []


def test_threshold_and_limit_can_be_changed() -> None:
    text = "please send lab results by text, the portal is too slow"
    everything = similar_ideas(text, BACKLOG, threshold=0, limit=100)
    assert len(everything) == len(BACKLOG)
    assert [s.score for s in everything] == sorted((s.score for s in everything), reverse=True)
    assert len(similar_ideas(text, BACKLOG, threshold=0, limit=3)) == 3
    assert similar_ideas(text, BACKLOG, limit=0) == []


def test_scores_are_between_0_and_100() -> None:
    found = similar_ideas(BACKLOG[0][1], BACKLOG, threshold=0, limit=100)
    assert all(0 <= s.score <= 100 for s in found)
    assert found[0] == Suggestion(1, 100.0)


def test_placeholders_are_ignored() -> None:
    plain = "quiet room for teens during infusions"
    redacted = "[name] needs a quiet room for teens during infusions ([phone], [email])"
    assert normalise(redacted) == normalise("needs a quiet room for teens during infusions")
    assert (
        similar_ideas(redacted, [(2, plain)])[0].score
        == similar_ideas("needs a quiet room for teens during infusions", [(2, plain)])[0].score
    )
    assert similar_ideas("[name]'s [date] [address]", BACKLOG) == []


def test_spanish_duplicates() -> None:
    found = similar_ideas("mandar resultados de laboratorio por texto en vez del portal", BACKLOG)
    assert ids(found)[0] == 10
    found = similar_ideas(
        "una enfermera que hable español en la línea de noche",
        [(20, "Enfermera que hable espanol en la linea telefonica por la noche"), *BACKLOG],
    )
    assert ids(found) == [20]


def test_normalise_folds_accents_and_drops_stopwords() -> None:
    assert normalise("¡Que la CLÍNICA mande los Resultados!") == "clinica mande resultado"
    assert normalise("The families' visits, please") == "family visit"


def test_empty_inputs() -> None:
    assert similar_ideas("lab results by text", []) == []
    assert similar_ideas("", BACKLOG) == []
    assert similar_ideas("the and of, please!", BACKLOG) == []
    assert similar_ideas("lab results by text", [(1, ""), (2, "[name]"), (3, "the of")]) == []


def test_ties_by_idea_id_and_one_entry_per_id() -> None:
    text = "Text reminders the day before clinic visits"
    found = similar_ideas(text, [(9, text), (4, text), (4, "text reminders"), (7, text)])
    assert found == [Suggestion(4, 100.0), Suggestion(7, 100.0), Suggestion(9, 100.0)]
