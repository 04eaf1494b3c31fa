"""The reviewers' pages for the ideas backlog: who may open them, and every form on them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from engage.audit.models import AuditEvent
from engage.codesign.models import Idea, IdeaChannel, IdeaCredit, IdeaStatus, IdeaVote
from engage.codesign.services import submit_idea
from engage.codesign.workflow import add_tag, change_status, vote
from engage.db import utcnow
from engage.demo.seed import seed_demo
from engage.messaging.models import Message
from engage.network.models import StaffUser
from engage.network.services import find_center, find_staff_user
from engage.people.services import find_contact
from tests.demo_staff import ANA, JORDAN, PAT, SAM, token_of

NOAH = "+16175550102"  # a patient at EAST
LAURA = "+16175550101"  # a parent at EAST
AVA = "+12135550102"  # a patient at WEST
FAMILY_NAMES = ("Thompson", "Martinez", "Nguyen", "Johnson", "Kim")


@pytest.fixture
def demo(session):
    seed_demo()
    session.commit()


@pytest.fixture
def send(session, demo):
    """An idea texted in from a demo phone, committed as the SMS webhook would."""

    def send_idea(text, phone=NOAH, **kw):
        idea = submit_idea(text, contact=find_contact(phone), channel=IdeaChannel.SMS, **kw)
        session.commit()
        return idea

    return send_idea


def staff(email: str) -> StaffUser:
    user = find_staff_user(email)
    assert user is not None
    return user


def flashed(client, response) -> str:
    """The page a form's redirect leads to, with its flash message."""
    assert response.status_code == 303, response.text
    return client.get(response.headers["Location"]).text


def votes_on(session, idea) -> int:
    return session.scalar(sa.select(sa.func.count(IdeaVote.id)).where(IdeaVote.idea_id == idea.id))


def pages_of(idea):
    return ("/ideas", f"/ideas/{idea.reference}", "/ideas/lead-users")


# -- who may open the pages --------------------------------------------------------------------
def test_signed_out_visitors_are_sent_to_sign_in(client, send):
    idea = send("Text us lab results instead of the portal")
    for path in pages_of(idea):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/sign-in?next=")


@pytest.mark.parametrize(("email", "status"), [(JORDAN, 200), (ANA, 403), (SAM, 403), (PAT, 403)])
def test_only_reviewers_open_the_ideas_pages(signed_in, send, session, email, status):
    idea = send("Text us lab results instead of the portal")
    client = signed_in(email)
    for path in pages_of(idea):
        assert client.get(path).status_code == status, (email, path)
    home = client.get("/").text
    assert ('href="/ideas"' in home) is (status == 200)
    if status == 403:
        token = token_of(home)
        refused = client.post(f"/ideas/{idea.reference}/vote", data={"csrf_token": token})
        assert refused.status_code == 403
        assert votes_on(session, idea) == 0


def test_a_clinician_who_reviews_ideas_opens_them_beside_the_clinic(signed_in, send, session):
    idea = send("Text us lab results instead of the portal")
    staff(ANA).reviews_ideas = True
    session.commit()
    client = signed_in(ANA)
    for path in pages_of(idea):
        assert client.get(path).status_code == 200, path
    nav = client.get("/").text.split("<nav>")[1].split("</nav>")[0]
    assert "Clinic day" in nav and "Ideas" in nav and "Lead users" in nav


def test_an_unknown_idea_is_not_found(signed_in, demo):
    client = signed_in(JORDAN)
    assert client.get("/ideas/I-99999999").status_code == 404
    assert client.get("/ideas/nonsense").status_code == 404


# -- the backlog -------------------------------------------------------------------------------
@pytest.fixture
def three(send, session):
    """Two zebra ideas at EAST (the older one voted for, the newer one tagged), one at WEST."""
    now = utcnow()
    older = send("Zebra crossing painted outside the clinic", now=now - timedelta(days=40))
    newer = send("Zebra stickers for the infusion room", now=now - timedelta(days=3))
    west = send("A quiet room for teens waiting for scopes", phone=AVA, category="school")
    vote(older, staff(JORDAN))
    add_tag(newer, "stickers")
    change_status(west, IdeaStatus.UNDER_REVIEW, rationale="Looking at rooms", by=staff(JORDAN))
    session.commit()
    return older, newer, west


def in_order(page: str, *references: str) -> bool:
    positions = [page.index(f">{ref}</a>") for ref in references]
    return positions == sorted(positions)


def listed(page: str, idea: Idea) -> bool:
    return f">{idea.reference}</a>" in page


def test_the_backlog_lists_searches_filters_and_sorts(signed_in, three):
    older, newer, west = three
    client = signed_in(JORDAN)

    everything = client.get("/ideas").text
    assert all(listed(everything, idea) for idea in three)
    assert "Zebra stickers for the infusion room" in everything
    assert "3 days ago" in everything and "stickers" in everything

    zebras = client.get("/ideas?q=zebra").text
    assert listed(zebras, older) and listed(zebras, newer) and not listed(zebras, west)
    assert in_order(zebras, newer.reference, older.reference)  # newest first by default
    by_votes = client.get("/ideas?q=zebra&sort=votes").text
    assert in_order(by_votes, older.reference, newer.reference)
    waiting = client.get("/ideas?q=zebra&sort=oldest_undecided").text
    assert in_order(waiting, older.reference, newer.reference)
    assert '<option value="oldest_undecided" selected>' in waiting

    def only(query: str) -> set[str]:
        page = client.get(f"/ideas?{query}").text
        return {idea.reference for idea in three if listed(page, idea)}

    assert only("category=school") == {west.reference}
    assert only("center=WEST") == {west.reference}
    assert only("center=EAST") == {older.reference, newer.reference}
    assert only("tag=stickers") == {newer.reference}
    assert only("age=30d") == {newer.reference, west.reference}
    assert only("status=under_review") == {west.reference}
    assert only("status=new&status=under_review") == {idea.reference for idea in three}
    assert only(f"q={older.reference}") == {older.reference}


def test_pages_of_the_backlog_keep_the_filters(signed_in, three):
    older, newer, _west = three
    client = signed_in(JORDAN)
    first = client.get("/ideas?q=zebra&per_page=1").text
    assert listed(first, newer) and not listed(first, older)
    following = re.search(r'<a rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=zebra" in following and "per_page=1" in following and "page=2" in following
    second = client.get(following).text
    assert listed(second, older) and not listed(second, newer)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=sideways", "sort: &#39;sideways&#39; is not one of votes, newest, oldest_undecided"),
        ("status=pending", "status: &#39;pending&#39; is not a status"),
        ("category=snacks", "category: &#39;snacks&#39; is not one of"),
        ("age=forever", "age: &#39;forever&#39; is not one of"),
        ("page=two", "page: &#39;two&#39; is not a whole number"),
        ("page=0", "page: 0 must be 1 or more"),
    ],
)
def test_a_bad_filter_is_a_400_with_the_reason_and_the_form(signed_in, demo, query, message):
    client = signed_in(JORDAN)
    response = client.get(f"/ideas?{query}")
    assert response.status_code == 400
    assert message in response.text
    assert 'name="q"' in response.text and "<table" not in response.text


# -- one idea ----------------------------------------------------------------------------------
def test_the_familys_own_words_only_for_reviewers_of_their_center(signed_in, send, session):
    idea = send("Noah wants lab results by text, call me on 617-555-0177")
    assert "Noah" not in idea.redacted_text and "617-555-0177" not in idea.redacted_text
    staff(SAM).reviews_ideas = True  # reviews, but at WEST
    session.commit()

    def shown_to(email: str) -> str:
        page = signed_in(email).get(f"/ideas/{idea.reference}")
        assert page.status_code == 200
        return page.text

    for email in (JORDAN, SAM):
        page = shown_to(email)
        assert "617-555-0177" not in page and "Noah wants" not in page
        assert "Visible to staff of" not in page
        assert "lab results by text" in page  # the redacted words
    assert not session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "idea.original_viewed")
    ).all()

    jordan = staff(JORDAN)
    jordan.centers.append(find_center("EAST"))
    session.commit()
    page = shown_to(JORDAN)
    assert "Noah wants lab results by text, call me on 617-555-0177" in page
    assert "Visible to staff of Harbor Children&#39;s IBD Center only" in page
    assert "617-555-0177" not in signed_in(JORDAN).get("/ideas").text  # never in the list
    assert "617-555-0177" not in shown_to(SAM)
    audited = session.scalars(
        sa.select(AuditEvent.staff_user_id).where(AuditEvent.action == "idea.original_viewed")
    ).all()
    assert audited == [jordan.id]


def test_vote_comment_tag_assign_and_file_an_idea(signed_in, send, session):
    idea = send("Text reminders the night before infusion day", phone=LAURA)
    jordan = staff(JORDAN)
    client = signed_in(JORDAN)
    url = f"/ideas/{idea.reference}"
    token = token_of(client.get(url).text)

    def post(action: str, **data) -> str:
        return flashed(client, client.post(f"{url}/{action}", data={"csrf_token": token, **data}))

    assert f"Your vote for {idea.reference} is counted." in post("vote")
    again = post("vote")
    assert "vote: already has your vote: one vote per person" in again
    assert votes_on(session, idea) == 1
    assert "Withdraw vote" in again
    assert "is withdrawn" in post("unvote")
    assert votes_on(session, idea) == 0
    assert "vote: has no vote of yours to withdraw" in post("unvote")

    page = post("comments", body="Ask pharmacy whether they already do this.")
    assert "Comment added." in page and "Ask pharmacy whether they already do this." in page
    assert "body: is empty: write a comment" in post("comments", body="  ")

    page = post("tags", tag="Reminders")
    assert "Tagged &#39;reminders&#39;." in page and "Remove tag reminders" in page
    assert "tag: must be letters" in post("tags", tag="<b>bold</b>")
    page = post("tags/remove", tag="reminders")
    assert "Remove tag reminders" not in page
    assert "tag: is not on" in post("tags/remove", tag="reminders")

    page = post("assignee", reviewer=str(jordan.id))
    assert "Assigned to Jordan Lee." in page
    assert f'<option value="{jordan.id}" selected>' in page
    session.refresh(idea)
    assert idea.assigned_reviewer_id == jordan.id
    pat = staff(PAT)
    assert "reviewer: does not review ideas" in post("assignee", reviewer=str(pat.id))
    assert "Nobody is assigned now." in post("assignee", reviewer="")
    session.refresh(idea)
    assert idea.assigned_reviewer_id is None

    assert "Filed under food and diet." in post("category", category="food_and_diet")
    assert "category: is not one of" in post("category", category="snacks")
    session.refresh(idea)
    assert idea.category == "food_and_diet"


def test_status_changes_with_reasons_are_relayed_and_refusals_change_nothing(
    signed_in, send, session
):
    idea = send("Text reminders the night before infusion day", phone=LAURA)
    laura = find_contact(LAURA)
    client = signed_in(JORDAN)
    url = f"/ideas/{idea.reference}"
    page = client.get(url).text
    token = token_of(page)
    assert "The family receives this reason by SMS" in page
    choices = page.split('name="status"')[1].split("</select>")[0]
    offered = re.findall(r'<option value="([a-z_]+)">', choices)
    assert offered == ["under_review", "not_now", "declined", "merged"]

    def change(**data) -> str:
        response = client.post(f"{url}/status", data={"csrf_token": token, **data})
        return flashed(client, response)

    def updates() -> list[Message]:
        return list(
            session.scalars(
                sa.select(Message)
                .where(Message.purpose == "idea_update", Message.contact_id == laura.id)
                .order_by(Message.id)
            )
        )

    page = change(status="under_review", rationale="The network team is looking at it.")
    assert f"{idea.reference} is now under review; texted 1 phone." in page
    assert [m.body for m in updates()] == [
        f"Update on your idea {idea.reference}: the network team is now reviewing it. "
        "Why: The network team is looking at it."
    ]
    assert "new → under review" in page and "texted 1 phone" in page

    refused = change(status="adopted", rationale="Skipping ahead.")
    assert "status: cannot follow under review; from under review an idea can go to:" in refused
    assert "rationale: is empty: say briefly why" in change(status="accepted_for_testing")
    assert "status: is not a status" in change(status="pending", rationale="Whatever.")
    assert "merge_into: is only for merging" in change(
        status="not_now", rationale="Later.", merge_into=idea.reference
    )
    session.refresh(idea)
    assert idea.status is IdeaStatus.UNDER_REVIEW
    assert len(idea.history) == 1 and len(updates()) == 1

    change(status="accepted_for_testing", rationale="A nurse will try it.")
    assert "centers: is empty" in change(status="testing", rationale="Trying it.")
    page = change(status="testing", rationale="Trying it at two centers.", centers=["WEST", "EAST"])
    assert f"{idea.reference} is now testing" in page
    assert "accepted for testing → testing at EAST, WEST" in page
    session.refresh(idea)
    assert idea.status is IdeaStatus.TESTING
    assert [c.code for c in idea.testing_centers] == ["EAST", "WEST"]
    assert len(updates()) == 3

    change(status="adopted", rationale="It worked.")
    page = client.get(url).text
    assert "Adopted is a final decision" in page
    assert "status: is not possible" in change(status="declined", rationale="Changed our minds.")
    session.refresh(idea)
    assert idea.status is IdeaStatus.ADOPTED


def test_merge_a_duplicate_from_the_similar_ideas(signed_in, send, session):
    target = send("Text us lab results instead of making us use the portal", phone=LAURA)
    duplicate = send("Please text the lab results, the portal is too slow", phone=AVA)
    client = signed_in(JORDAN)
    page = client.get(f"/ideas/{duplicate.reference}").text
    similar = page.split("<h2>Similar ideas</h2>")[1].split("</section>")[0]
    assert f'name="merge_into" value="{target.reference}"' in similar
    assert "Merge into this" in similar
    token = token_of(page)

    def merge(into: str, rationale: str = "Both ask for lab results by text.") -> str:
        data = {"csrf_token": token, "status": "merged", "merge_into": into}
        response = client.post(
            f"/ideas/{duplicate.reference}/status", data={**data, "rationale": rationale}
        )
        return flashed(client, response)

    assert "merge_into: &#39;I-99999999&#39; is not an idea" in merge("I-99999999")
    assert "merge_into: is this idea" in merge(duplicate.reference)
    page = merge(target.reference)
    assert f"{duplicate.reference} is now merged into {target.reference}" in page
    assert f'Merged into <a href="/ideas/{target.reference}">{target.reference}</a>' in page
    assert "Merge into this" not in page and ">Vote</button>" not in page
    session.refresh(duplicate)
    assert duplicate.status is IdeaStatus.MERGED and duplicate.merged_into_id == target.id
    target_page = client.get(f"/ideas/{target.reference}").text
    assert f'Merged into this idea: <a href="/ideas/{duplicate.reference}">' in target_page
    assert f"{duplicate.reference} was merged into this idea" in target_page  # the note


def test_a_form_without_its_csrf_token_is_refused(signed_in, send, session):
    idea = send("Text us lab results instead of the portal")
    client = signed_in(JORDAN)
    for data in ({}, {"csrf_token": "forged"}):
        assert client.post(f"/ideas/{idea.reference}/vote", data=data).status_code == 403
        refused = client.post(
            f"/ideas/{idea.reference}/status",
            data={**data, "status": "declined", "rationale": "No."},
        )
        assert refused.status_code == 403
    assert votes_on(session, idea) == 0
    session.refresh(idea)
    assert idea.status is IdeaStatus.NEW


# -- lead users --------------------------------------------------------------------------------
def test_lead_users_show_first_names_and_no_family_names(signed_in, send):
    send("Text reminders the night before infusion day", phone=LAURA, may_contact=True,
         credit=IdeaCredit.FIRST_NAME)  # fmt: skip
    client = signed_in(JORDAN)
    page = client.get("/ideas/lead-users").text
    rows = page.split("<tbody>")[1]
    assert "<td>Laura</td><td>parent</td><td>Harbor Children&#39;s IBD Center</td>" in rows
    assert "<td>yes</td>" in rows
    assert "20 per idea adopted" in page
    for family_name in FAMILY_NAMES:
        assert not re.search(rf"\b{family_name}\b", page), family_name
