"""A small valid instrument that tests copy and break one rule at a time."""

from __future__ import annotations

import copy
from typing import Any

import pytest


def tiny_instrument() -> dict[str, Any]:
    return {
        "id": "tiny",
        "version": 1,
        "title": {"en": "Tiny", "es": "Breve"},
        "languages": ["en", "es"],
        "respondent": {"mode": "self", "min_age": 12, "max_age": 21},
        "items": [
            {
                "id": "pain",
                "type": "scale",
                "text": {"en": "Pain today?", "es": "¿Dolor hoy?"},
                "anchors": {"en": {0: "none", 10: "worst"}, "es": {0: "nada", 10: "peor"}},
            },
            {
                "id": "blood",
                "type": "choice",
                "text": {"en": "Blood in poop?", "es": "¿Sangre en heces?"},
                "options": [
                    {"code": "none", "points": 0, "label": {"en": "No", "es": "No"}},
                    {"code": "some", "points": 2, "label": {"en": "Some", "es": "Algo"}},
                ],
            },
            {
                "id": "stools",
                "type": "integer",
                "min": 0,
                "max": 30,
                "text": {"en": "How many stools?", "es": "¿Cuantas heces?"},
                "points": [
                    {"from": 0, "to": 2, "points": 0},
                    {"from": 3, "to": 30, "points": 3},
                ],
            },
            {
                "id": "night",
                "type": "yes_no",
                "text": {"en": "Up at night?", "es": "¿De noche?"},
                "points": {"yes": 1, "no": 0},
            },
            {
                "id": "note",
                "type": "text",
                "max_length": 200,
                "text": {"en": "Anything else? Or SKIP", "es": "¿Algo mas? O SKIP"},
            },
        ],
        "scores": [
            {
                "id": "total",
                "label": {"en": "Total", "es": "Total"},
                "items": ["pain", "blood", "stools", "night"],
                "bands": [
                    {"id": "low", "min": 0, "max": 5, "label": {"en": "Low", "es": "Baja"}},
                    {"id": "high", "min": 6, "max": 16, "label": {"en": "High", "es": "Alta"}},
                ],
            }
        ],
        "red_flags": [
            {
                "id": "bad_pain",
                "severity": "high",
                "when": {"item": "pain", "gte": 8},
                "message": {"en": "Please call the clinic.", "es": "Llame a la clinica."},
            }
        ],
    }


@pytest.fixture
def tiny() -> dict[str, Any]:
    return copy.deepcopy(tiny_instrument())
