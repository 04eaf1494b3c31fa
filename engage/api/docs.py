"""``/api/v1/docs``: the OpenAPI document as a page people read, and the problem types.

The page is rendered on the server from the same document as ``/api/v1/openapi.json``
(no JavaScript, nothing from a CDN): each operation with its parameters, request body and
responses, every schema, the security schemes and the problem types. Each problem type's
URI (``/api/v1/problems/<slug>``) answers a short page, or JSON when asked for JSON.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from markupsafe import Markup, escape

from engage.api.problems import PROBLEM_ADVICE, PROBLEM_TYPES, problem_uri

bp = Blueprint("api_pages", __name__, url_prefix="/api/v1")

METHODS = ("get", "post", "put", "patch", "delete")
REF_PREFIX = "#/components/schemas/"


# -- what the page shows ----------------------------------------------------------------------
@dataclass(frozen=True)
class TypeLabel:
    """A schema in words: ``text`` around at most one link to a named schema."""

    text: str
    ref: str | None = None  # a component schema's name
    suffix: str = ""


@dataclass(frozen=True)
class Field:
    name: str
    type: TypeLabel
    required: bool
    description: str
    rules: str


@dataclass(frozen=True)
class Body:
    media_type: str
    type: TypeLabel


@dataclass(frozen=True)
class Reply:
    status: str
    description: str
    bodies: list[Body]
    headers: list[Field]


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    security: list[str]
    parameters: list[Field]
    body: list[Body]
    body_fields: list[Field]
    replies: list[Reply]


@dataclass
class Group:
    name: str
    description: str
    operations: list[Operation] = field(default_factory=list)


@dataclass(frozen=True)
class NamedSchema:
    name: str
    description: str
    fields: list[Field]
    type: TypeLabel | None  # for a schema that is not an object of properties


@dataclass(frozen=True)
class ProblemType:
    slug: str
    uri: str
    status: int
    title: str
    advice: str


def problem_types() -> list[ProblemType]:
    return [
        ProblemType(slug, problem_uri(slug), status, title, PROBLEM_ADVICE.get(slug, title))
        for slug, (status, title) in PROBLEM_TYPES.items()
    ]


# -- reading the document ---------------------------------------------------------------------
def openapi_document() -> dict[str, Any]:
    api = current_app.extensions["flask-smorest"]["apis"][""]["ext_obj"]
    document: dict[str, Any] = api.spec.to_dict()
    return document


def anchor_of(method: str, path: str) -> str:
    return "op-" + method + "-" + re.sub(r"[^a-z0-9]+", "-", path.lower()).strip("-")


def type_label(schema: dict[str, Any] | None) -> TypeLabel:
    """``string (date-time)``, ``array of IdeaDetail``, ``one of a, b`` …, ``or null``."""
    if not schema:
        return TypeLabel("any")
    nullable = " or null" if schema.get("nullable") else ""
    if "$ref" in schema:
        return TypeLabel("", schema["$ref"].removeprefix(REF_PREFIX), nullable)
    if "enum" in schema:
        values = ", ".join("null" if v is None else str(v) for v in schema["enum"])
        return TypeLabel(f"one of {values}{nullable}")
    kind = schema.get("type")
    if kind == "array":
        items = type_label(schema.get("items"))
        return TypeLabel(f"array of {items.text}", items.ref, items.suffix + nullable)
    if kind == "object" and "properties" not in schema:
        return TypeLabel(f"object{nullable}")
    text = str(kind or "any")
    if schema.get("format"):
        text += f" ({schema['format']})"
    return TypeLabel(text + nullable)


def rules_of(schema: dict[str, Any] | None) -> str:
    """The constraints a value must meet, in a few words."""
    if not schema:
        return ""
    rules = []
    for key, words in (
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("minimum", "from {}"),
        ("maximum", "to {}"),
        ("minItems", "at least {} items"),
        ("maxItems", "at most {} items"),
        ("pattern", "matches {}"),
    ):
        if key in schema:
            rules.append(words.format(schema[key]))
    if "default" in schema:
        default = schema["default"]
        rules.append(f"default {'null' if default is None else default}")
    if schema.get("readOnly"):
        rules.append("read only")
    return ", ".join(rules)


def fields_of(schema: dict[str, Any], components: dict[str, Any]) -> list[Field]:
    """The properties of an object schema (following one ``$ref``)."""
    if "$ref" in schema:
        schema = components.get(schema["$ref"].removeprefix(REF_PREFIX), {})
    required = set(schema.get("required", []))
    return [
        Field(
            name=name,
            type=type_label(prop),
            required=name in required,
            description=str(prop.get("description", "")),
            rules=rules_of(prop),
        )
        for name, prop in schema.get("properties", {}).items()
    ]


def bodies_of(content: dict[str, Any]) -> list[Body]:
    return [
        Body(media_type, type_label(entry.get("schema")))
        for media_type, entry in (content or {}).items()
    ]


def resolve(item: dict[str, Any], section: dict[str, Any]) -> dict[str, Any]:
    """A ``$ref`` to a component (a response), or the item itself."""
    ref = item.get("$ref")
    if ref:
        resolved: dict[str, Any] = section.get(ref.rsplit("/", 1)[-1], {})
        return resolved
    return item


def reply_sort_key(status: str) -> tuple[int, str]:
    return (1000, status) if not status.isdigit() else (int(status), status)


def parameter_of(parameter: dict[str, Any]) -> Field:
    schema = parameter.get("schema")
    where = parameter.get("in", "")
    return Field(
        name=f"{parameter['name']} ({where})",
        type=type_label(schema),
        required=bool(parameter.get("required")),
        description=str(parameter.get("description", "")),
        rules=rules_of(schema),
    )


def reply_of(status: str, reply: dict[str, Any], responses: dict[str, Any]) -> Reply:
    reply = resolve(reply, responses)
    headers = [
        Field(name, type_label(header.get("schema")), False, str(header.get("description", "")), "")
        for name, header in reply.get("headers", {}).items()
    ]
    return Reply(
        str(status), str(reply.get("description", "")), bodies_of(reply.get("content", {})), headers
    )


def operation_of(
    method: str,
    path: str,
    operation: dict[str, Any],
    shared_parameters: list[dict[str, Any]],
    document: dict[str, Any],
) -> Operation:
    components = document.get("components", {})
    security = operation.get("security", document.get("security", []))
    request_content = operation.get("requestBody", {}).get("content", {})
    first_body: dict[str, Any] = next(iter(request_content.values()), {})
    replies = sorted(operation.get("responses", {}).items(), key=lambda kv: reply_sort_key(kv[0]))
    parameters = [*shared_parameters, *operation.get("parameters", [])]
    return Operation(
        method=method.upper(),
        path=path,
        anchor=anchor_of(method, path),
        summary=str(operation.get("summary", "")),
        description=str(operation.get("description", "")),
        security=[" and ".join(requirement) or "none" for requirement in security] or ["none"],
        parameters=[parameter_of(parameter) for parameter in parameters],
        body=bodies_of(request_content),
        body_fields=fields_of(first_body.get("schema", {}), components.get("schemas", {})),
        replies=[reply_of(s, r, components.get("responses", {})) for s, r in replies],
    )


def read_document(document: dict[str, Any]) -> dict[str, Any]:
    """The document rearranged for the page: groups of operations, schemas, security."""
    components = document.get("components", {})
    schemas = components.get("schemas", {})
    groups = {
        tag["name"]: Group(tag["name"], str(tag.get("description", "")))
        for tag in document.get("tags", [])
    }
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            tag = (operation.get("tags") or ["other"])[0]
            groups.setdefault(tag, Group(tag, "")).operations.append(
                operation_of(method, path, operation, item.get("parameters", []), document)
            )
    named = [
        NamedSchema(
            name=name,
            description=str(schema.get("description", "")),
            fields=fields_of(schema, schemas),
            type=None if "properties" in schema else type_label(schema),
        )
        for name, schema in sorted(schemas.items())
    ]
    return {
        "info": document.get("info", {}),
        "groups": [group for group in groups.values() if group.operations],
        "schemas": named,
        "security_schemes": components.get("securitySchemes", {}),
        "default_security": document.get("security", []),
    }


# -- a little Markdown: what the descriptions use ---------------------------------------------
INLINE = (
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\[([^\]]+)\]\((/[^)\s]*)\)"), r'<a href="\2">\1</a>'),
)
PROBLEM_CODE = re.compile(r"<code>([a-z-]+)</code>")


def inline(text: str) -> Markup:
    """One paragraph with `code`, **bold** and [links](/local), everything else escaped;
    a problem type's slug in `code` links to its row."""
    html = str(escape(" ".join(text.split())))
    for pattern, replacement in INLINE:
        html = pattern.sub(replacement, html)
    html = PROBLEM_CODE.sub(
        lambda m: (
            f'<a href="#problem-{m[1]}"><code>{m[1]}</code></a>' if m[1] in PROBLEM_TYPES else m[0]
        ),
        html,
    )
    return Markup(html)


def prose(text: str) -> Markup:
    """Paragraphs of ``inline`` text."""
    blocks = re.split(r"\n\s*\n", (text or "").strip())
    return Markup("".join(f"<p>{inline(block)}</p>" for block in blocks if block))


@bp.app_template_filter("prose")
def prose_filter(text: str) -> Markup:
    return prose(text or "")


@bp.app_template_filter("inline")
def inline_filter(text: str) -> Markup:
    return inline(text or "")


# -- routes -----------------------------------------------------------------------------------
def wants_json() -> bool:
    best = request.accept_mimetypes.best_match(
        ["text/html", "application/json", "application/problem+json"]
    )
    return best in ("application/json", "application/problem+json")


@bp.get("/docs")
def docs() -> str:
    """The API reference as one page."""
    return render_template(
        "api/docs.html",
        document=read_document(openapi_document()),
        problems=problem_types(),
    )


@bp.get("/problems")
def problem_list() -> Response | str:
    """Every problem type: JSON for a client, the page's table for a person."""
    types = problem_types()
    if wants_json():
        return jsonify([problem_json(problem) for problem in types])
    return render_template("api/problem.html", problems=types)


@bp.get("/problems/<slug>")
def problem(slug: str) -> Response | str:
    """What a problem type means, at the URI its ``type`` names."""
    found = [p for p in problem_types() if p.slug == slug]
    if not found:
        abort(404, description=f"No problem type {slug!r}: see /api/v1/docs#problems.")
    if wants_json():
        return jsonify(problem_json(found[0]))
    return render_template("api/problem.html", problems=found)


def problem_json(problem: ProblemType) -> dict[str, Any]:
    return {
        "type": problem.uri,
        "status": problem.status,
        "title": problem.title,
        "description": problem.advice,
    }
