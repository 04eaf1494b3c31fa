"""The issue's "done when": a client that knows only /api/v1/openapi.json signs in with the demo
phone's SMS code, answers a pending check-in item by item, and submits an idea."""

from __future__ import annotations

import re

import sqlalchemy as sa

from engage.conversations.services import open_checkin
from engage.db import db
from engage.instruments.services import get_instrument
from engage.messaging.models import Message
from engage.people.models import Patient
from tests.mobile.conftest import NOAH, bearer

# What a person would type for each kind of question; the engine parses it like a text.
ANSWERS = {"choice": "1", "scale": "{min}", "integer": "{min}", "yes_no": "no", "text": "All good"}


def path_of(spec, method, ending):
    """The one documented path for ``method`` that ends so: the client reads it from the document."""
    found = [p for p, ops in spec["paths"].items() if method in ops and p.endswith(ending)]
    assert len(found) == 1, (method, ending, found)
    return found[0]


def test_sign_in_answer_a_pending_check_in_and_send_an_idea(client, session, demo):
    noah = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
    open_checkin(noah, get_instrument("ibd-symptoms"))
    session.commit()
    spec = client.get("/api/v1/openapi.json").get_json()

    code_path = path_of(spec, "post", "/auth/code")
    assert client.post(code_path, json={"phone": "(617) 555-0102"}).status_code == 202
    texted = db.session.scalar(
        sa.select(Message.body)
        .where(Message.phone == NOAH, Message.purpose == "sign_in_code")
        .order_by(Message.id.desc())
    )
    code = re.search(r"\b(\d{6})\b", texted).group(1)
    tokens = client.post(path_of(spec, "post", "/auth/token"), json={"phone": NOAH, "code": code})
    assert tokens.status_code == 200, tokens.get_json()
    headers = bearer(tokens.get_json()["access_token"])

    me = client.get(path_of(spec, "get", "/me"), headers=headers)
    patient_id = me.get_json()["patient_id"]
    assert me.status_code == 200 and patient_id == noah.id
    listing = client.get(
        path_of(spec, "get", "/checkins").replace("{patient_id}", str(patient_id)),
        query_string={"status": "open"},
        headers=headers,
    ).get_json()
    [checkin] = listing["items"]
    answer_path = path_of(spec, "post", "/answers").replace("{checkin_id}", str(checkin["id"]))

    outcome, steps = None, 0
    while outcome != "completed":
        question = checkin["current_question"]
        text = ANSWERS[question["type"]].format(min=question.get("min"))
        step = client.post(
            answer_path, json={"item_id": question["item_id"], "answer": text}, headers=headers
        )
        assert step.status_code == 200, step.get_json()
        outcome, checkin = step.get_json()["outcome"], step.get_json()["check_in"]
        steps += 1
        assert steps < 20
    assert checkin["status"] == "completed" and checkin["scores"]

    idea = client.post(
        path_of(spec, "post", "/me/ideas"),
        json={"text": "A quiet room at the infusion center for homework"},
        headers=headers,
    )
    assert idea.status_code == 201, idea.get_json()
    reference = idea.get_json()["reference"]
    mine = client.get(path_of(spec, "get", "/me/ideas"), headers=headers).get_json()
    assert reference in [i["reference"] for i in mine["items"]]
