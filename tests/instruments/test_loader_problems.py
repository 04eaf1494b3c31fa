"""Each kind of broken instrument file gets a message naming the file, the place and the problem."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import yaml

from engage.instruments.loader import InstrumentProblems, load_library, parse_instrument
from engage.instruments.model import ItemType

PATH = "prompts/tiny.yaml"


def problems_of(document: dict[str, Any] | str) -> list[str]:
    source = document if isinstance(document, str) else yaml.safe_dump(document, allow_unicode=True)
    with pytest.raises(InstrumentProblems) as broken:
        parse_instrument(source, PATH)
    return broken.value.problems


def item(document: dict[str, Any], item_id: str) -> dict[str, Any]:
    return next(i for i in document["items"] if i["id"] == item_id)


def test_the_tiny_instrument_is_valid(tiny):
    instrument = parse_instrument(yaml.safe_dump(tiny, allow_unicode=True), PATH)
    assert [i.type for i in instrument.items] == [
        ItemType.SCALE,
        ItemType.CHOICE,
        ItemType.INTEGER,
        ItemType.YES_NO,
        ItemType.TEXT,
    ]
    assert (instrument.scores[0].minimum, instrument.scores[0].maximum) == (0, 16)


def unknown_item_type(d):
    item(d, "pain")["type"] = "slider"


def duplicate_item_id(d):
    item(d, "blood")["id"] = "pain"


def skip_to_missing_item(d):
    item(d, "blood")["when"] = {"item": "fever", "equals": True}


def skip_to_later_item(d):
    item(d, "pain")["when"] = {"item": "night", "equals": True}


def overlapping_bands(d):
    d["scores"][0]["bands"][1]["min"] = 5


def band_gap(d):
    d["scores"][0]["bands"][1]["min"] = 7


def missing_language(d):
    del item(d, "blood")["text"]["es"]


def language_not_offered(d):
    d["languages"] = ["en"]


def text_too_long(d):
    item(d, "pain")["text"]["es"] = "x" * 150


def ucs2_text_too_long(d):
    item(d, "pain")["text"]["es"] = (
        "¿Cuánto dolor tuvo su hijo durante el día de hoy y de ayer, más o menos?"
    )


def choice_without_points_in_score(d):
    del item(d, "blood")["options"][1]["points"]


def free_text_in_a_score(d):
    d["scores"][0]["items"].append("note")


def integer_without_range(d):
    del item(d, "stools")["max"]


def point_ranges_with_a_gap(d):
    item(d, "stools")["points"][1]["from"] = 4


def red_flag_on_missing_score(d):
    d["red_flags"][0]["when"] = {"score": "pucai", "gte": 10}


def red_flag_with_two_operators(d):
    d["red_flags"][0]["when"] = {"item": "pain", "gte": 8, "lte": 10}


def option_not_in_choice(d):
    d["red_flags"][0]["when"] = {"item": "blood", "equals": "lots"}


def unknown_key(d):
    item(d, "pain")["maximum"] = 10


def lookup_missing_a_raw_sum(d):
    d["scores"][0]["lookup"] = {raw: 50.0 for raw in range(0, 16)}


def either_without_proxy_text(d):
    d["respondent"] = {"mode": "either", "min_age": 2, "max_age": 21, "self_from_age": 12}


def reverse_item_not_in_score(d):
    d["scores"][0]["reverse"] = ["note"]


def min_answered_above_items(d):
    d["scores"][0]["min_answered"] = 9


def mentions_in_an_unoffered_language(d):
    d["red_flags"][0]["when"] = {"item": "note", "mentions": {"fr": ["au secours"]}}


def mentions_on_a_number(d):
    d["red_flags"][0]["when"] = {"item": "pain", "mentions": {"en": ["bad"]}}


def missing_version(d):
    del d["version"]


def idea_from_a_number(d):
    item(d, "pain")["becomes_idea"] = True


BROKEN: list[tuple[Callable[[dict[str, Any]], None], str]] = [
    (unknown_item_type, "item 'pain': type: Must be one of: integer, scale, choice, yes_no, text."),
    (duplicate_item_id, "item 'pain': the id is used by an earlier item"),
    (skip_to_missing_item, "item 'blood': when: refers to item 'fever', which does not exist"),
    (skip_to_later_item, "item 'pain': when: refers to item 'night', which is asked later"),
    (overlapping_bands, "score 'total': bands 'low' (0-5) and 'high' (5-16) overlap"),
    (band_gap, "score 'total': a score of 6 falls in no band"),
    (missing_language, "item 'blood': text: has no 'es' text"),
    (language_not_offered, "languages: missing language 'es': every instrument has en and es"),
    (text_too_long, "item 'pain' (es): 166 characters, one SMS holds 160"),
    (ucs2_text_too_long, "item 'pain' (es): 88 characters, one SMS holds 70 (UCS-2, because of 'á')"),
    (choice_without_points_in_score, "item 'blood': every option needs points once one has them; missing: 'some'"),
    (free_text_in_a_score, "score 'total': item 'note' is free text and cannot be scored"),
    (integer_without_range, "item 'stools': an integer item needs min and max"),
    (point_ranges_with_a_gap, "item 'stools': answer 3 has no points (ranges leave a gap)"),
    (red_flag_on_missing_score, "red flag 'bad_pain': refers to score 'pucai', which does not exist"),
    (red_flag_with_two_operators, "red flag 'bad_pain': an item condition needs exactly one of"),
    (option_not_in_choice, "red flag 'bad_pain': 'lots' is not an option of item 'blood' (none, some)"),
    (unknown_key, "item 'pain': maximum: Unknown field."),
    (lookup_missing_a_raw_sum, "score 'total': lookup has no standard score for raw sum 16"),
    (either_without_proxy_text, "item 'pain': needs proxy_text: with respondent mode 'either'"),
    (reverse_item_not_in_score, "score 'total': reverse-coded item 'note' is not one of its items"),
    (min_answered_above_items, "score 'total': min_answered 9 is more than its 4 items"),
    (mentions_in_an_unoffered_language, "red flag 'bad_pain': mentions has words for 'fr', not in languages"),
    (mentions_on_a_number, "red flag 'bad_pain': mentions looks into free text; item 'pain' is scale"),
    (missing_version, "version: Missing data for required field."),
    (idea_from_a_number, "item 'pain': becomes_idea is only for text items: an idea is free text (this item is scale)"),
]  # fmt: skip


@pytest.mark.parametrize(("breaks", "expected"), BROKEN, ids=[b.__name__ for b, _ in BROKEN])
def test_each_broken_file_names_file_place_and_problem(tiny, breaks, expected):
    breaks(tiny)
    problems = problems_of(tiny)
    assert any(line.startswith(f"{PATH}: ") and expected in line for line in problems), problems


def test_a_text_item_may_become_an_idea(tiny):
    item(tiny, "note")["becomes_idea"] = True
    instrument = parse_instrument(yaml.safe_dump(tiny, allow_unicode=True), PATH)
    assert instrument.item("note").becomes_idea
    assert not instrument.item("pain").becomes_idea


def test_yaml_syntax_error_names_the_line():
    [problem] = problems_of("id: tiny\nitems:\n  - id: pain\n   type: scale\n")
    assert problem.startswith(f"{PATH}: YAML syntax error at line 4, column 4")


def test_a_file_that_is_not_a_mapping():
    assert problems_of("- just\n- a list\n") == [
        f"{PATH}: is not an instrument: expected keys such as id, version, items"
    ]


def test_yaml_is_read_safely():
    problems = problems_of("id: !!python/object/apply:os.system ['echo unsafe']\n")
    assert "YAML syntax error" in problems[0]


def test_every_problem_of_a_file_is_reported_at_once(tiny):
    missing_language(tiny)
    overlapping_bands(tiny)
    red_flag_on_missing_score(tiny)
    text_too_long(tiny)
    problems = problems_of(tiny)
    assert len(problems) == 4, problems
    assert any("166 characters, one SMS holds 160" in line for line in problems)


def test_a_folder_with_broken_and_duplicate_files(tmp_path, tiny):
    (tmp_path / "tiny.yaml").write_text(yaml.safe_dump(tiny, allow_unicode=True))
    (tmp_path / "copy.yml").write_text(yaml.safe_dump(tiny, allow_unicode=True))
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n")
    (tmp_path / "notes.md").write_text("not an instrument")
    with pytest.raises(InstrumentProblems) as broken:
        load_library([tmp_path])
    lines = broken.value.problems
    assert len(lines) == 2, lines
    assert any("broken.yaml: YAML syntax error" in line for line in lines)
    assert any("instrument id 'tiny' is already used by" in line for line in lines)
    assert str(broken.value).startswith("2 problems in instrument files:")


def test_a_missing_extra_folder_is_a_problem(tmp_path):
    with pytest.raises(InstrumentProblems, match="is not a folder"):
        load_library([tmp_path / "licensed"])
