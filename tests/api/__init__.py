"""Helpers for the JSON API's conventions, shared by the tests of every API."""

from __future__ import annotations

from typing import Any

from engage.api.problems import PROBLEM_BASE, PROBLEM_TYPES

PROBLEM_JSON = "application/problem+json"


def problem_type(response: Any) -> str:
    """The slug of a problem-details response, after checking its shape."""
    assert response.mimetype == PROBLEM_JSON, (response.status_code, response.data[:200])
    body = response.get_json(force=True)
    assert body["type"].startswith(PROBLEM_BASE), body
    slug = body["type"].removeprefix(PROBLEM_BASE)
    assert (body["status"], body["title"]) == PROBLEM_TYPES[slug], body
    assert body["status"] == response.status_code, body
    assert isinstance(body["detail"], str) and body["detail"], body
    return slug
