"""The complete example in prompts/README.md is a valid instrument and scores as documented."""

import re
from pathlib import Path

from engage.instruments.loader import parse_instrument
from engage.instruments.model import ItemType
from engage.instruments.scoring import score_answers

README = Path(__file__).resolve().parents[2] / "prompts" / "README.md"


def example():
    text = README.read_text(encoding="utf-8")
    [block] = re.findall(r"## A complete example\n\n```yaml\n(.*?)```", text, re.S)
    return parse_instrument(block, "prompts/README.md")


def test_the_readme_example_is_valid_and_uses_every_item_type():
    instrument = example()
    assert {item.type for item in instrument.items} == set(ItemType)
    assert [s.id for s in instrument.scores] == ["tummy", "gut"]


def test_the_readme_example_scores():
    instrument = example()
    outcome = score_answers(
        instrument, {"pain": 7, "slept_well": False, "stools": 6, "blood": "lots"}
    )
    assert outcome.scores["tummy"].value == 18  # 7 + 2 + 3 + 6
    assert outcome.scores["tummy"].band.id == "flaring"
    assert outcome.scores["gut"].value == 90  # raw 9 through the lookup
    assert {f.id for f in outcome.red_flags} == {"lots_of_blood", "flaring"}
