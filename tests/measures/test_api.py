"""GET /api/v1/measures: one bounded document, the page's access and naming rules."""

from __future__ import annotations

import pytest

from engage.measures.compute import DEFAULT_WEEKS, Measure
from tests.demo_staff import ANA, JORDAN, PAT, auth

PATH = "/api/v1/measures"
MEASURE_IDS = [measure.value for measure in Measure]


def test_a_token_is_needed(client, tokens):
    response = client.get(PATH)
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_administrators_are_refused(client, tokens):
    response = client.get(PATH, headers=auth(tokens[PAT]))
    assert response.status_code == 403
    assert response.json["type"] == "/api/v1/problems/forbidden"


def test_a_reviewer_gets_every_place_anonymised(client, tokens):
    response = client.get(PATH, headers=auth(tokens[JORDAN]))
    assert response.status_code == 200
    body = response.json
    assert body["weeks"] == DEFAULT_WEEKS
    assert body["week_definition"].startswith("ISO weeks in UTC")
    assert [m["id"] for m in body["measures"]] == MEASURE_IDS
    assert [(p["key"], p["label"], p["named"], p["name"]) for p in body["places"]] == [
        ("network", "Network", True, None),
        ("center-a", "Center A", False, None),
        ("center-b", "Center B", False, None),
    ]
    for place in body["places"]:
        assert [s["measure"] for s in place["series"]] == MEASURE_IDS
        for series in place["series"]:
            assert len(series["points"]) == DEFAULT_WEEKS
            assert series["points"][0]["week"] == body["first_week"]
            assert series["points"][-1]["week"] == body["last_week"]
    due = body["places"][0]["series"][0]
    assert due["median"] is None  # nothing due in the demo's weeks: a gap, not a zero
    assert due["points"][0] == {
        "week": body["first_week"],
        "numerator": 0,
        "denominator": 0,
        "value": None,
    }


def test_a_clinician_narrows_it_to_one_of_their_centers(client, tokens):
    response = client.get(f"{PATH}?weeks=8&center=EAST", headers=auth(tokens[ANA]))
    assert response.status_code == 200
    (place,) = response.json["places"]
    assert (place["key"], place["label"], place["named"]) == ("EAST", "EAST", True)
    assert place["name"] == "Harbor Children's IBD Center"
    assert all(len(series["points"]) == 8 for series in place["series"])


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("center=WEST", "center"),  # another center, by its code: not a key Ana has
        ("weeks=0", "weeks"),
        ("weeks=105", "weeks"),
        ("week=4", "week"),  # unknown parameters are refused, not ignored
    ],
)
def test_bad_queries_are_refused_by_field(client, tokens, query, field):
    response = client.get(f"{PATH}?{query}", headers=auth(tokens[ANA]))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]


def test_the_document_describes_it(client, app):
    document = client.get("/api/v1/openapi.json").json
    operation = document["paths"][PATH]["get"]
    assert {"200", "401", "403", "422", "default"} <= set(operation["responses"])
    assert {p["name"] for p in operation["parameters"]} == {"weeks", "center"}
