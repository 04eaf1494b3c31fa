"""What every /api/v1 endpoint shares: problem details, their documentation, pages, the docs.

The error tests go through the staff endpoints (the oldest, and always there); the document
tests read every operation, the app's included, so a new endpoint that breaks a convention
fails here.
"""

from __future__ import annotations

import re

import pytest

from engage.api.problems import PROBLEM_TYPES, ApiProblem, problem_uri
from engage.errors import Conflict
from tests.api import PROBLEM_JSON, problem_type
from tests.demo_staff import ANA, JORDAN, auth

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def demo(tokens):
    """The seeded demo, as ``signed_in`` needs it (``tokens`` seeds it)."""


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").get_json()


def operations(document):
    for path, item in document["paths"].items():
        for method in METHODS:
            if method in item:
                yield method, path, item[method]


def resolved(document, response):
    ref = response.get("$ref")
    return document["components"]["responses"][ref.rsplit("/", 1)[-1]] if ref else response


def schema_of(document, schema):
    ref = schema.get("$ref")
    return document["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else schema


# -- every error is a problem -----------------------------------------------------------------
def test_a_refused_query_is_invalid_input_by_field(client, tokens):
    answer = client.get("/api/v1/ideas?per_page=many&sort=loudest", headers=auth(tokens[JORDAN]))
    assert answer.status_code == 422 and problem_type(answer) == "invalid-input"
    errors = answer.get_json()["errors"]
    assert set(errors) == {"per_page", "sort"}
    assert all(isinstance(messages, list) and messages for messages in errors.values())


def test_a_refused_body_is_invalid_input_by_field(client, tokens, raise_alert):
    alert = raise_alert()
    path = f"/api/v1/review/alerts/{alert.id}/acknowledge"
    answer = client.post(path, json={"note": "", "extra": 1}, headers=auth(tokens[ANA]))
    assert answer.status_code == 422 and problem_type(answer) == "invalid-input"
    assert set(answer.get_json()["errors"]) == {"note", "extra"}


def test_an_unknown_query_parameter_is_refused_by_name(client, tokens):
    headers = auth(tokens[JORDAN])
    answer = client.get("/api/v1/ideas/lead-users?limit=5", headers=headers)
    assert answer.status_code == 422 and problem_type(answer) == "invalid-input"
    assert list(answer.get_json()["errors"]) == ["limit"]
    assert "limit" in answer.get_json()["detail"]  # the detail names the fields, too


def test_an_id_beyond_any_database_is_not_found(client, tokens):
    headers = auth(tokens[ANA])
    for id_ in (2**31 - 1, 2**31, 2**63, 10**30):
        answer = client.get(f"/api/v1/review/patients/{id_}", headers=headers)
        assert answer.status_code == 404 and problem_type(answer) == "not-found", id_
    answer = client.get("/api/v1/review/alerts", query_string={"page": 10**30}, headers=headers)
    assert answer.status_code == 422 and "page" in answer.get_json()["errors"]


def test_malformed_json_is_a_bad_request(client, tokens, raise_alert):
    alert = raise_alert()
    answer = client.post(
        f"/api/v1/review/alerts/{alert.id}/acknowledge",
        data="{not json",
        content_type="application/json",
        headers=auth(tokens[ANA]),
    )
    assert answer.status_code == 400 and problem_type(answer) == "bad-request"


@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
def test_an_unknown_url_under_api_is_not_found(client, accept):
    for path in ("/api/v1/nothing-here", "/api/v2/review/alerts", "/api/"):
        answer = client.get(path, headers={"Accept": accept})
        assert answer.status_code == 404 and problem_type(answer) == "not-found", path


def test_a_wrong_method_is_405_with_allow(client, tokens):
    answer = client.delete("/api/v1/review/alerts", headers=auth(tokens[ANA]))
    assert answer.status_code == 405 and problem_type(answer) == "method-not-allowed"
    assert "GET" in {m.strip() for m in answer.headers["Allow"].split(",")}


def test_no_credentials_is_401(client, tokens):
    for headers in ({}, auth("engage_forged"), {"Authorization": "Basic eDp5"}):
        answer = client.get("/api/v1/ideas", headers=headers)
        assert answer.status_code == 401 and problem_type(answer) == "unauthorized"


def test_the_wrong_role_is_403(client, tokens):
    answer = client.get("/api/v1/review/alerts", headers=auth(tokens[JORDAN]))
    assert answer.status_code == 403 and problem_type(answer) == "forbidden"


def test_a_session_without_its_csrf_token_is_403(client, tokens, signed_in, raise_alert):
    alert = raise_alert()
    signed_in(ANA)
    answer = client.post(f"/api/v1/review/alerts/{alert.id}/acknowledge", json={"note": "ok"})
    assert answer.status_code == 403 and problem_type(answer) == "forbidden"


def test_a_refusal_of_the_current_state_is_409_by_field(client, tokens, raise_alert):
    alert = raise_alert()
    path = f"/api/v1/review/alerts/{alert.id}/acknowledge"
    assert client.post(path, json={"note": "Called."}, headers=auth(tokens[ANA])).status_code == 200
    again = client.post(path, json={"note": "Again."}, headers=auth(tokens[ANA]))
    assert again.status_code == 409 and problem_type(again) == "conflict"
    assert list(again.get_json()["errors"]) == ["alert"]


@pytest.fixture
def inbox_raises(monkeypatch):
    """Make the alert inbox raise what a test gives it."""

    def install(error: Exception) -> None:
        def raise_(*args, **kwargs):
            raise error

        monkeypatch.setattr("engage.review.api.count_alert_inbox", raise_)

    return install


def test_too_many_requests_is_429_with_retry_after(client, tokens, inbox_raises):
    inbox_raises(ApiProblem("rate-limited", "Slow down.", headers={"Retry-After": "42"}))
    answer = client.get("/api/v1/review/alerts", headers=auth(tokens[ANA]))
    assert answer.status_code == 429 and problem_type(answer) == "rate-limited"
    assert answer.headers["Retry-After"] == "42"
    assert answer.get_json()["detail"] == "Slow down."


def test_a_domain_conflict_raised_anywhere_is_409(client, tokens, inbox_raises):
    inbox_raises(Conflict("alert", 7, "was already acknowledged"))
    answer = client.get("/api/v1/review/alerts", headers=auth(tokens[ANA]))
    assert answer.status_code == 409 and problem_type(answer) == "conflict"
    assert answer.get_json()["errors"] == {"alert": ["7 was already acknowledged"]}


def test_a_fault_is_500_without_a_traceback(client, tokens, inbox_raises, caplog):
    inbox_raises(RuntimeError("secret internals: SELECT * FROM patients"))
    answer = client.get("/api/v1/review/alerts", headers=auth(tokens[ANA]))
    assert answer.status_code == 500 and problem_type(answer) == "server-error"
    assert "secret" not in answer.text and "Traceback" not in answer.text
    assert "secret internals" in caplog.text  # logged for us, not told to the client


# -- the document says so ---------------------------------------------------------------------
def test_every_operation_documents_its_errors_as_problems(document):
    problem_ref = "#/components/schemas/Problem"
    for method, path, operation in operations(document):
        responses = operation["responses"]
        assert "default" in responses, (method, path)
        for status, response in responses.items():
            content = resolved(document, response).get("content", {})
            if status == "default" or int(status) >= 400:
                assert list(content) == [PROBLEM_JSON], (method, path, status)
                schema = content[PROBLEM_JSON]["schema"]
                assert schema == {"$ref": problem_ref} or schema_of(document, schema)[
                    "properties"
                ].keys() >= {"type", "title", "status", "detail"}, (method, path, status)
            else:
                assert set(content) <= {"application/json"}, (method, path, status)
        secured = operation.get("security", document["security"])
        if secured and all(secured):
            assert "401" in responses, (method, path)
        if "{" in path:
            assert "404" in responses, (method, path)


def test_the_problem_schema_lists_every_type(document):
    problem = document["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["type"]["enum"] == [problem_uri(slug) for slug in PROBLEM_TYPES]
    responses = document["components"]["responses"]
    assert list(responses["UNAUTHORIZED"]["content"]) == [PROBLEM_JSON]
    if "TOO_MANY_REQUESTS" in responses:
        assert "Retry-After" in responses["TOO_MANY_REQUESTS"]["headers"]
    schemes = document["components"]["securitySchemes"]
    assert "401" in schemes["bearer"]["description"]


def test_request_bodies_refuse_unknown_fields(document):
    for method, path, operation in operations(document):
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            assert media_type == "application/json", (method, path)
            schema = schema_of(document, content["schema"])
            assert schema.get("additionalProperties") is False, (method, path)


def test_every_list_is_a_page(document):
    """No operation answers a bare array; a page has the envelope and takes page/per_page."""
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if not status.isdigit() or int(status) >= 300:
                continue
            for content in resolved(document, response).get("content", {}).values():
                schema = schema_of(document, content["schema"])
                assert schema.get("type") != "array", (method, path, "answers a bare list")
                if "items" in schema.get("properties", {}):
                    assert {"total", "page", "per_page", "pages"} <= set(schema["properties"])
                    names = {p["name"] for p in operation.get("parameters", [])}
                    assert {"page", "per_page"} <= names, (method, path)


# -- the page people read ---------------------------------------------------------------------
def test_the_docs_page_shows_every_operation_and_problem(client, document):
    answer = client.get("/api/v1/docs", headers={"Accept": "text/html"})
    assert answer.status_code == 200 and answer.mimetype == "text/html"
    page = answer.text
    for method, path, _operation in operations(document):
        assert f"{method.upper()} {path}" in page, (method, path)
    for slug, (status, title) in PROBLEM_TYPES.items():
        row = re.search(rf'<tr id="problem-{slug}">(.*?)</tr>', page, re.S)
        assert row and str(status) in row.group(1) and title in row.group(1), slug
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page, name
    assert "<script" not in page  # readable without JavaScript
    assert not re.search(r'(src|href)="(https?:)?//', page)  # and nothing from a CDN


def test_every_problem_type_uri_resolves(client):
    for slug, (status, title) in PROBLEM_TYPES.items():
        page = client.get(problem_uri(slug), headers={"Accept": "text/html"})
        assert page.status_code == 200 and page.mimetype == "text/html", slug
        assert title in page.text
        described = client.get(problem_uri(slug), headers={"Accept": "application/json"})
        assert described.get_json() == {
            "type": problem_uri(slug),
            "status": status,
            "title": title,
            "description": described.get_json()["description"],
        }
    listed = client.get("/api/v1/problems", headers={"Accept": "application/json"}).get_json()
    assert [entry["type"] for entry in listed] == [problem_uri(slug) for slug in PROBLEM_TYPES]
    unknown = client.get("/api/v1/problems/no-such-problem")
    assert unknown.status_code == 404 and problem_type(unknown) == "not-found"
