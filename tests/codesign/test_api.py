"""``/api/v1/ideas``: the backlog for reviewers, by token, with the domain's rules and refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.codesign.models import Idea, IdeaChannel, IdeaStatus
from engage.codesign.services import submit_idea
from engage.codesign.workflow import add_tag, change_status, vote
from engage.db import utcnow
from engage.messaging.models import Message
from engage.network.services import find_staff_user
from engage.people.services import find_contact
from tests.api import PROBLEM_JSON, problem_type
from tests.demo_staff import ANA, JORDAN, PAT, SAM, auth

LAURA = "+16175550101"  # a parent at EAST (Mia and Noah's mother)
AVA = "+12135550102"  # a patient at WEST
S = IdeaStatus


@pytest.fixture
def as_reviewer(tokens):
    """Jordan's bearer header."""
    return auth(tokens[JORDAN])


@pytest.fixture
def send(session, tokens):
    """An idea texted in by a demo family, committed so that requests see it."""

    def send_(text="Kiosk check-in at the clinic door", phone=LAURA, **kw):
        idea = submit_idea(text, contact=find_contact(phone), channel=IdeaChannel.SMS, **kw)
        session.commit()
        return idea

    return send_


def grant_review(session, email):
    user = find_staff_user(email)
    user.reviews_ideas = True
    session.commit()
    return user


def reload(session, idea):
    session.expire_all()
    return session.get(Idea, idea.id)


def outbox(session, idea):
    return session.scalars(
        sa.select(Message)
        .where(Message.purpose == "idea_update", Message.contact_id == idea.contact_id)
        .order_by(Message.id)
    ).all()


# -- the document and who may call ------------------------------------------------------------
def test_the_openapi_document_describes_the_ideas_api(client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for path, methods in {
        "/api/v1/ideas": {"get"},
        "/api/v1/ideas/lead-users": {"get"},
        "/api/v1/ideas/{reference}": {"get"},
        "/api/v1/ideas/{reference}/status": {"post"},
        "/api/v1/ideas/{reference}/votes": {"post", "delete"},
        "/api/v1/ideas/{reference}/comments": {"post"},
        "/api/v1/ideas/{reference}/tags": {"post"},
        "/api/v1/ideas/{reference}/tags/{tag}": {"delete"},
        "/api/v1/ideas/{reference}/assignee": {"put"},
        "/api/v1/ideas/{reference}/category": {"put"},
    }.items():
        assert path in paths, path
        assert methods <= set(paths[path]), path
    status = paths["/api/v1/ideas/{reference}/status"]["post"]
    assert {"200", "401", "403", "404", "409", "422"} <= set(status["responses"])
    schemas = document["components"]["schemas"]
    assert {"BacklogPage", "IdeaDetail", "StatusChange", "Problem"} <= set(schemas)
    assert schemas["IdeaDetail"]["properties"]["original_text"]["nullable"] is True


def test_without_credentials_the_api_answers_401(client, tokens, send):
    idea = send()
    assert client.get("/api/v1/ideas").status_code == 401
    assert client.get(f"/api/v1/ideas/{idea.reference}").status_code == 401
    forged = auth("engage_forged")
    assert client.get("/api/v1/ideas/lead-users", headers=forged).status_code == 401
    # Credentials are checked before the body: a stranger learns nothing from a 422.
    answer = client.post(f"/api/v1/ideas/{idea.reference}/comments", json={}, headers=forged)
    assert answer.status_code == 401


@pytest.mark.parametrize(("email", "status"), [(JORDAN, 200), (ANA, 403), (SAM, 403), (PAT, 403)])
def test_only_reviewers_use_the_ideas_api(client, tokens, send, session, email, status):
    idea = send()
    headers = auth(tokens[email])
    for path in (
        "/api/v1/ideas",
        f"/api/v1/ideas/{idea.reference}",
        "/api/v1/ideas/lead-users",
    ):
        answer = client.get(path, headers=headers)
        assert answer.status_code == status, (email, path)
        if status == 403:
            assert problem_type(answer) == "forbidden"
            assert idea.redacted_text not in answer.text
    voted = client.post(f"/api/v1/ideas/{idea.reference}/votes", headers=headers)
    assert voted.status_code == (201 if status == 200 else 403)
    assert len(reload(session, idea).votes) == (1 if status == 200 else 0)


@pytest.mark.parametrize("email", [ANA, PAT])
def test_staff_granted_review_may_use_it(client, tokens, send, session, email):
    idea = send()
    grant_review(session, email)
    headers = auth(tokens[email])
    assert client.get("/api/v1/ideas", headers=headers).status_code == 200
    assert client.get(f"/api/v1/ideas/{idea.reference}", headers=headers).status_code == 200
    assert client.post(f"/api/v1/ideas/{idea.reference}/votes", headers=headers).status_code == 201


# -- reading ----------------------------------------------------------------------------------
def test_the_list_searches_filters_sorts_and_pages(client, as_reviewer, send, session):
    now = utcnow()
    jordan = find_staff_user(JORDAN)
    ana = grant_review(session, ANA)
    old = send(
        "Kiosk for parking vouchers", category="clinic_visits", now=now - timedelta(days=120)
    )
    east = send("Kiosk with snacks in the waiting room", now=now - timedelta(days=3))
    west = send("Kiosk for teens in the lobby", phone=AVA, now=now - timedelta(days=2))
    change_status(east, S.UNDER_REVIEW, rationale="Worth a look.", by=jordan)
    add_tag(west, "teens")
    for voter in (jordan, ana):
        vote(old, voter)
    vote(west, jordan)
    session.commit()

    def listed(**query):
        answer = client.get(
            "/api/v1/ideas", query_string={"q": "kiosk", **query}, headers=as_reviewer
        )
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    page = listed()
    assert [i["reference"] for i in page["items"]] == [
        west.reference,
        east.reference,
        old.reference,
    ]
    assert (page["total"], page["page"], page["per_page"], page["pages"]) == (3, 1, 25, 1)
    item = page["items"][0]
    assert item == {
        "reference": west.reference,
        "status": "new",
        "status_label": "new",
        "text": west.redacted_text,
        "who_it_helps": None,
        "category": None,
        "center_code": "WEST",
        "center_name": "Pacific Children's IBD Clinic",
        "submitter_role": "patient",
        "channel": "sms",
        "votes": 1,
        "comments": 0,
        "tags": ["teens"],
        "assigned_reviewer": None,
        "created_at": item["created_at"],
        "status_changed_at": item["status_changed_at"],
    }
    assert item["created_at"].startswith(str(west.created_at.date()))

    def references(**query):
        return [i["reference"] for i in listed(**query)["items"]]

    assert references(status="under_review") == [east.reference]
    assert references(status=["new", "under_review"]) == [
        west.reference,
        east.reference,
        old.reference,
    ]
    assert references(category="clinic_visits") == [old.reference]
    assert references(category="Clinic visits") == [old.reference]  # the domain's spelling rules
    assert references(center="west") == [west.reference]
    assert references(tag="teens") == [west.reference]
    assert references(age="7d") == [west.reference, east.reference]
    assert references(age="over90d") == [old.reference]
    assert references(sort="votes") == [old.reference, west.reference, east.reference]
    assert references(sort="oldest_undecided") == [old.reference, east.reference, west.reference]
    second = listed(per_page=2, page=2)
    assert [i["reference"] for i in second["items"]] == [old.reference]
    assert (second["total"], second["page"], second["per_page"], second["pages"]) == (3, 2, 2, 2)
    assert references(q="lobby") == [west.reference]
    assert references(q=west.reference) == [west.reference]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"sort": "loudest"}, "sort"),
        ({"age": "1y"}, "age"),
        ({"status": "maybe"}, "status"),
        ({"page": "0"}, "page"),
        ({"per_page": "101"}, "per_page"),
        ({"per_page": "many"}, "per_page"),
        ({"category": "astrology"}, "category"),
    ],
)
def test_a_bad_query_is_refused_by_name(client, as_reviewer, query, field):
    answer = client.get("/api/v1/ideas", query_string=query, headers=as_reviewer)
    assert answer.status_code == 422
    body = answer.get_json()
    assert problem_type(answer) == "invalid-input" and field in body["errors"]


def test_original_words_only_for_reviewers_of_the_submitters_center(client, tokens, send, session):
    idea = send("Mia would like a kiosk to check in without waiting at the desk")
    assert "Mia" not in idea.redacted_text
    grant_review(session, ANA)  # a member of EAST, where Laura's children are seen
    grant_review(session, SAM)  # a member of WEST
    path = f"/api/v1/ideas/{idea.reference}"

    far = client.get(path, headers=auth(tokens[JORDAN])).get_json()
    west = client.get(path, headers=auth(tokens[SAM])).get_json()
    near = client.get(path, headers=auth(tokens[ANA])).get_json()

    for detail in (far, west):
        assert detail["original_text"] is None and "Mia" not in str(detail)
    assert near["original_text"] == idea.text
    assert near["text"] == far["text"] == idea.redacted_text
    assert "idea" not in near  # the ORM object stays inside
    assert near["reference"] == idea.reference
    assert near["status"] == "new" and near["submitter"] == "anonymous parent"
    assert near["next_statuses"] == ["under_review", "not_now", "declined", "merged"]
    assert {"history", "comments", "similar", "votes", "voted", "tags"} <= set(near)
    audited = session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "idea.original_viewed")
    ).all()
    assert [(e.staff_user_id, e.detail) for e in audited] == [
        (find_staff_user(ANA).id, idea.reference)
    ]


def test_an_unknown_reference_is_not_found(client, as_reviewer):
    for reference in ("I-99999", "nonsense"):
        answer = client.get(f"/api/v1/ideas/{reference}", headers=as_reviewer)
        assert answer.status_code == 404
        assert problem_type(answer) == "not-found"
    for method, path, body in (
        ("post", "status", {"status": "under_review", "rationale": "why"}),
        ("post", "votes", None),
        ("delete", "votes", None),
        ("post", "comments", {"body": "hello"}),
        ("post", "tags", {"tag": "x"}),
        ("delete", "tags/x", None),
        ("put", "assignee", {"email": None}),
        ("put", "category", {"category": None}),
    ):
        answer = getattr(client, method)(
            f"/api/v1/ideas/I-99999/{path}", json=body, headers=as_reviewer
        )
        assert answer.status_code == 404, (method, path)


def test_lead_users_is_a_list_not_a_reference(client, as_reviewer, send):
    send()
    send("Kiosk in the pharmacy too")
    answer = client.get("/api/v1/ideas/lead-users", headers=as_reviewer)
    assert answer.status_code == 200
    page = answer.get_json()
    leads = page["items"]
    assert leads and (page["page"], page["per_page"]) == (1, 25)
    assert page["total"] == len(leads) and page["pages"] == 1
    laura = next(lead for lead in leads if lead["first_name"] == "Laura")
    assert laura["role"] == "parent" and laura["ideas_submitted"] >= 2
    assert [lead["rank"] for lead in leads] == list(range(1, len(leads) + 1))

    def leads_page(**query):
        answer = client.get("/api/v1/ideas/lead-users", query_string=query, headers=as_reviewer)
        assert answer.status_code == 200, answer.get_json()
        return answer.get_json()

    second = leads_page(page=2, per_page=1)
    assert [lead["rank"] for lead in second["items"]] == [2]  # ranks count from the top
    assert second["items"][0] == {**leads[1], "rank": 2}
    assert (second["total"], second["pages"]) == (len(leads), len(leads))
    assert leads_page(page=len(leads) + 1, per_page=1)["items"] == []
    for query, field in (
        ({"per_page": 0}, "per_page"),
        ({"per_page": 101}, "per_page"),
        ({"page": 0}, "page"),
    ):
        refused = client.get("/api/v1/ideas/lead-users", query_string=query, headers=as_reviewer)
        assert refused.status_code == 422 and field in refused.get_json()["errors"]


# -- status changes ---------------------------------------------------------------------------
def test_a_status_change_answers_the_idea_and_texts_the_family(client, as_reviewer, send, session):
    idea = send()
    answer = client.post(
        f"/api/v1/ideas/{idea.reference}/status",
        json={"status": "under_review", "rationale": "  Three families asked for this. "},
        headers=as_reviewer,
    )
    assert answer.status_code == 200, answer.get_json()
    detail = answer.get_json()
    assert detail["status"] == "under_review" and detail["reference"] == idea.reference
    [entry] = detail["history"]
    assert entry["from_status"] == "new" and entry["to_status"] == "under_review"
    assert entry["rationale"] == "Three families asked for this."
    assert entry["by"] == "Jordan Lee" and entry["relay"] == "texted 1 phone"
    [message] = outbox(session, idea)
    assert idea.reference in message.body and "Three families asked for this." in message.body
    assert message.phone == LAURA


def test_testing_names_its_centers(client, as_reviewer, send, session):
    idea = send()
    jordan = find_staff_user(JORDAN)
    change_status(idea, S.UNDER_REVIEW, rationale="Looking.", by=jordan)
    change_status(idea, S.ACCEPTED, rationale="Chosen.", by=jordan)
    session.commit()
    path = f"/api/v1/ideas/{idea.reference}/status"
    nowhere = client.post(path, json={"status": "testing", "rationale": "Try"}, headers=as_reviewer)
    assert nowhere.status_code == 422 and "centers" in nowhere.get_json()["errors"]
    unknown = client.post(
        path,
        json={"status": "testing", "rationale": "Try", "centers": ["NORTH"]},
        headers=as_reviewer,
    )
    assert unknown.status_code == 422 and "NORTH" in unknown.get_json()["errors"]["centers"][0]
    done = client.post(
        path,
        json={"status": "testing", "rationale": "Try", "centers": ["east"]},
        headers=as_reviewer,
    )
    assert done.status_code == 200
    assert done.get_json()["testing_centers"] == ["EAST"]
    assert done.get_json()["history"][-1]["centers"] == ["EAST"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"status": "adopted", "rationale": "Skip ahead"}, 409, "status"),
        ({"status": "new", "rationale": "Back again"}, 409, "status"),
        ({"status": "under_review", "rationale": ""}, 422, "rationale"),
        ({"status": "under_review", "rationale": "   "}, 422, "rationale"),
        ({"status": "under_review", "rationale": "x" * 1001}, 422, "rationale"),
        ({"status": "under_review"}, 422, "rationale"),
        ({"status": "maybe", "rationale": "Why"}, 422, "status"),
        ({"rationale": "Why"}, 422, "status"),
        ({"status": "under_review", "rationale": "Why", "urgent": True}, 422, "urgent"),
        ({"status": "under_review", "rationale": "Why", "merge_into": "I-1001"}, 422, "merge_into"),
        ({"status": "merged", "rationale": "Same"}, 422, "merge_into"),
        ({"status": "merged", "rationale": "Same", "merge_into": "I-99999"}, 422, "merge_into"),
        ({"status": "under_review", "rationale": 42}, 422, "rationale"),
    ],
)
def test_a_refused_status_change_names_the_field_and_changes_nothing(
    client, as_reviewer, send, session, body, status, field
):
    idea = send()
    answer = client.post(f"/api/v1/ideas/{idea.reference}/status", json=body, headers=as_reviewer)
    assert answer.status_code == status, answer.get_json()
    problem = answer.get_json()
    assert problem_type(answer) == ("conflict" if status == 409 else "invalid-input")
    assert field in problem["errors"], problem
    assert reload(session, idea).status is S.NEW and not reload(session, idea).history
    assert outbox(session, idea) == []


def test_an_unknown_merge_target_is_named(client, as_reviewer, send):
    idea = send()
    answer = client.post(
        f"/api/v1/ideas/{idea.reference}/status",
        json={"status": "merged", "rationale": "Same idea", "merge_into": "I-99999"},
        headers=as_reviewer,
    )
    assert answer.status_code == 422
    assert answer.get_json()["errors"] == {"merge_into": ["'I-99999' is not an idea"]}


def test_merges_refuse_the_idea_itself_and_a_cycle(client, as_reviewer, send, session):
    first = send()
    second = send("A kiosk by the door to check in", phone=AVA)

    def merge(idea, into):
        return client.post(
            f"/api/v1/ideas/{idea.reference}/status",
            json={"status": "merged", "rationale": "The same idea", "merge_into": into.reference},
            headers=as_reviewer,
        )

    itself = merge(first, first)
    assert itself.status_code == 409
    assert "itself" in itself.get_json()["errors"]["merge_into"][0]

    merged = merge(first, second)
    assert merged.status_code == 200
    assert merged.get_json()["status"] == "merged"
    assert merged.get_json()["merged_into"] == second.reference
    target = client.get(f"/api/v1/ideas/{second.reference}", headers=as_reviewer).get_json()
    assert target["merged_from"] == [first.reference] and target["followers"] == 1

    cycle = merge(second, first)
    assert cycle.status_code == 409
    assert "cycle" in cycle.get_json()["errors"]["merge_into"][0]
    assert reload(session, second).status is S.NEW

    on_merged = client.post(f"/api/v1/ideas/{first.reference}/votes", headers=as_reviewer)
    assert on_merged.status_code == 409 and "idea" in on_merged.get_json()["errors"]


# -- votes, comments, tags, assignee, category -------------------------------------------------
def test_one_vote_per_person(client, as_reviewer, send, session):
    idea = send()
    path = f"/api/v1/ideas/{idea.reference}/votes"
    first = client.post(path, headers=as_reviewer)
    assert first.status_code == 201
    assert first.get_json() == {"reference": idea.reference, "votes": 1, "voted": True}
    again = client.post(path, headers=as_reviewer)
    assert again.status_code == 409
    assert problem_type(again) == "conflict" and "vote" in again.get_json()["errors"]
    detail = client.get(f"/api/v1/ideas/{idea.reference}", headers=as_reviewer).get_json()
    assert detail["votes"] == 1 and detail["voted"] is True

    withdrawn = client.delete(path, headers=as_reviewer)
    assert withdrawn.status_code == 204 and withdrawn.data == b""
    assert reload(session, idea).votes == []
    none_left = client.delete(path, headers=as_reviewer)
    assert none_left.status_code == 409 and "vote" in none_left.get_json()["errors"]


def test_comments(client, as_reviewer, send, session):
    idea = send()
    path = f"/api/v1/ideas/{idea.reference}/comments"
    made = client.post(path, json={"body": "  Ask the front desk.  "}, headers=as_reviewer)
    assert made.status_code == 201
    comment = made.get_json()
    assert comment["by"] == "Jordan Lee" and comment["body"] == "Ask the front desk."
    assert comment["at"]
    for body, field in (
        ({"body": "x" * 2001}, "body"),
        ({"body": ""}, "body"),
        ({"body": "   "}, "body"),
        ({}, "body"),
        ({"body": None}, "body"),
        ({"body": "fine", "private": True}, "private"),
    ):
        refused = client.post(path, json=body, headers=as_reviewer)
        assert refused.status_code == 422, body
        assert field in refused.get_json()["errors"], body
    assert [c.body for c in reload(session, idea).comments] == ["Ask the front desk."]
    detail = client.get(f"/api/v1/ideas/{idea.reference}", headers=as_reviewer).get_json()
    assert [c["body"] for c in detail["comments"]] == ["Ask the front desk."]


def test_tags(client, as_reviewer, send, session):
    idea = send()
    path = f"/api/v1/ideas/{idea.reference}/tags"
    first = client.post(path, json={"tag": "Waiting Room"}, headers=as_reviewer)
    assert first.status_code == 200
    assert first.get_json() == {"reference": idea.reference, "tags": ["waiting room"]}
    client.post(path, json={"tag": "front-desk"}, headers=as_reviewer)
    again = client.post(path, json={"tag": "waiting room"}, headers=as_reviewer)
    assert again.status_code == 200
    assert again.get_json()["tags"] == ["front-desk", "waiting room"]
    for body in ({"tag": "x" * 41}, {"tag": "no!"}, {"tag": ""}, {}, {"tag": "ok", "color": "red"}):
        refused = client.post(path, json=body, headers=as_reviewer)
        assert refused.status_code == 422, body
        assert set(refused.get_json()["errors"]) & {"tag", "color"}, body

    removed = client.delete(f"{path}/waiting room", headers=as_reviewer)
    assert removed.status_code == 204
    assert [t.tag for t in reload(session, idea).tags] == ["front-desk"]
    missing = client.delete(f"{path}/waiting room", headers=as_reviewer)
    assert missing.status_code == 422 and "tag" in missing.get_json()["errors"]


def test_the_assignee_must_review_ideas(client, as_reviewer, send, session):
    idea = send()
    path = f"/api/v1/ideas/{idea.reference}/assignee"
    assigned = client.put(path, json={"email": JORDAN.upper()}, headers=as_reviewer)
    assert assigned.status_code == 200
    assert assigned.get_json() == {
        "reference": idea.reference,
        "email": JORDAN,
        "assigned_reviewer": "Jordan Lee",
    }
    listed = client.get("/api/v1/ideas", query_string={"q": idea.reference}, headers=as_reviewer)
    assert listed.get_json()["items"][0]["assigned_reviewer"] == "Jordan Lee"
    for body in (
        {"email": ANA},  # a clinician who does not review ideas
        {"email": "nobody@network.example.org"},
        {"email": "not an address"},
        {},
        {"email": JORDAN, "note": "urgent"},
    ):
        refused = client.put(path, json=body, headers=as_reviewer)
        assert refused.status_code == 422, body
        assert set(refused.get_json()["errors"]) & {"email", "note"}, body
    assert reload(session, idea).assigned_reviewer.email == JORDAN

    grant_review(session, ANA)
    assert client.put(path, json={"email": ANA}, headers=as_reviewer).status_code == 200
    cleared = client.put(path, json={"email": None}, headers=as_reviewer)
    assert cleared.status_code == 200 and cleared.get_json()["assigned_reviewer"] is None
    assert reload(session, idea).assigned_reviewer is None


def test_the_category(client, as_reviewer, send, session):
    idea = send()
    path = f"/api/v1/ideas/{idea.reference}/category"
    filed = client.put(path, json={"category": "Clinic visits"}, headers=as_reviewer)
    assert filed.status_code == 200
    assert filed.get_json() == {"reference": idea.reference, "category": "clinic_visits"}
    unknown = client.put(path, json={"category": "astrology"}, headers=as_reviewer)
    assert unknown.status_code == 422 and "category" in unknown.get_json()["errors"]
    assert client.put(path, json={}, headers=as_reviewer).status_code == 422
    assert reload(session, idea).category == "clinic_visits"
    cleared = client.put(path, json={"category": None}, headers=as_reviewer)
    assert cleared.status_code == 200 and cleared.get_json()["category"] is None


@pytest.mark.parametrize(
    ("data", "content_type", "status"),
    [
        ("[1, 2]", "application/json", 422),
        ('"text"', "application/json", 422),
        ("{not json", "application/json", 400),
        ("body=hello", "application/x-www-form-urlencoded", 422),
    ],
)
def test_a_malformed_body_is_refused_not_a_crash(
    client, as_reviewer, send, data, content_type, status
):
    idea = send()
    answer = client.post(
        f"/api/v1/ideas/{idea.reference}/comments",
        data=data,
        content_type=content_type,
        headers=as_reviewer,
    )
    assert answer.status_code == status
    assert answer.mimetype == PROBLEM_JSON
    assert problem_type(answer) == ("bad-request" if status == 400 else "invalid-input")
