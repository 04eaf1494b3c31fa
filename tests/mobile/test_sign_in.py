"""Signing in to the app by phone: codes by SMS, tokens, refresh rotation, sign-out."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from engage.api.problems import ApiProblem
from engage.db import utcnow
from engage.messaging.models import Message, MessageStatus
from engage.messaging.sender import claim_batch
from engage.mobile.models import AppToken, SignInCode
from engage.mobile.signin import CODE_REFUSED, request_code, verify_code
from engage.people.consent import CURRENT_CONSENT_TEXT_VERSION
from engage.people.models import ConsentMethod, ConsentState
from engage.people.services import find_contact, record_consent
from tests.demo_staff import ANA, token_of
from tests.mobile.conftest import CARMEN, LAURA, NOAH, bearer

UNKNOWN = "+16175550199"  # valid, and nobody's
PROBLEM = "application/problem+json"
ADDRESS = "203.0.113.7"
SENT = {
    "detail": "If this number can sign in, a code is on its way by text.",
    "expires_in": 600,
}

pytestmark = pytest.mark.usefixtures("demo")


def ask_code(client, phone, address=ADDRESS):
    return client.post(
        "/api/v1/auth/code", json={"phone": phone}, environ_base={"REMOTE_ADDR": address}
    )


def ask_token(client, phone, code, address=ADDRESS):
    return client.post(
        "/api/v1/auth/token",
        json={"phone": phone, "code": code},
        environ_base={"REMOTE_ADDR": address},
    )


def sign_in_texts(session, phone):
    return session.scalars(
        sa.select(Message)
        .where(Message.phone == phone, Message.purpose == "sign_in_code")
        .order_by(Message.id)
    ).all()


def texted_code(session, phone):
    """The code in the newest sign-in text queued to a phone."""
    texts = sign_in_texts(session, phone)
    assert texts, f"no sign-in code was texted to {phone}"
    return re.search(r"\b(\d{6})\b", texts[-1].body).group(1)


def codes_of(session, phone):
    return session.scalars(
        sa.select(SignInCode).where(SignInCode.phone == phone).order_by(SignInCode.id)
    ).all()


def problem_type(response):
    assert response.mimetype == PROBLEM, response.text
    return response.get_json()["type"].removeprefix("/api/v1/problems/")


def another(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


# -- the whole flow -----------------------------------------------------------------------
def test_a_phone_signs_in_with_the_texted_code(client, session):
    sent = ask_code(client, "(617) 555-0101")  # a national spelling is read as US
    assert sent.status_code == 202
    assert sent.get_json() == SENT
    [text] = sign_in_texts(session, LAURA)
    assert text.status is MessageStatus.QUEUED
    assert text.body.startswith("Your engage code is ")
    assert "expires in 10 minutes" in text.body

    signed_in = ask_token(client, LAURA, texted_code(session, LAURA))
    assert signed_in.status_code == 200
    body = signed_in.get_json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["access_token"] != body["refresh_token"]

    me = client.get("/api/v1/auth/session", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.get_json() == {"phone": "+1••••••0101", "role": "caregiver"}
    assert ask_token(client, LAURA, texted_code(session, LAURA)).status_code == 401  # used


def test_a_patient_signs_in_as_a_patient(client, session):
    ask_code(client, NOAH)
    tokens = ask_token(client, NOAH, texted_code(session, NOAH)).get_json()
    me = client.get("/api/v1/auth/session", headers=bearer(tokens["access_token"]))
    assert me.get_json()["role"] == "patient"


def test_the_code_is_texted_in_the_owners_language(client, session):
    ask_code(client, CARMEN)
    [text] = sign_in_texts(session, CARMEN)
    assert text.body.startswith("Tu código de engage es ")


def test_the_code_is_kept_only_as_a_keyed_hash(client, session):
    ask_code(client, LAURA)
    code = texted_code(session, LAURA)
    [row] = codes_of(session, LAURA)
    assert row.contact_id == find_contact(LAURA).id
    assert row.code_hash != code and code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.client_address == ADDRESS
    assert row.expires_at - row.created_at == timedelta(minutes=10)


# -- nothing leaks ------------------------------------------------------------------------
def test_known_unknown_and_opted_out_phones_get_the_same_answer(client, session):
    noah = find_contact(NOAH)
    record_consent(
        noah,
        ConsentState.WITHDRAWN,
        method=ConsentMethod.KEYWORD,
        consent_text_version=CURRENT_CONSENT_TEXT_VERSION,
    )
    session.commit()

    answers = [ask_code(client, phone) for phone in (LAURA, UNKNOWN, NOAH)]
    assert {(a.status_code, a.mimetype, a.text) for a in answers} == {
        (202, "application/json", answers[0].text)
    }
    assert len(sign_in_texts(session, LAURA)) == 1
    assert sign_in_texts(session, UNKNOWN) == []
    assert sign_in_texts(session, NOAH) == []  # opted out: nothing is texted
    # Every request left a row, so rate limits count them alike.
    [unknown] = codes_of(session, UNKNOWN)
    assert unknown.contact_id is None
    assert len(codes_of(session, NOAH)) == 1


def test_every_refused_code_gets_the_same_answer(client, session):
    ask_code(client, LAURA)
    ask_code(client, UNKNOWN)
    code = texted_code(session, LAURA)
    refusals = [
        ask_token(client, LAURA, another(code)),  # wrong
        ask_token(client, UNKNOWN, code),  # unknown phone, with a code
        ask_token(client, NOAH, code),  # known phone that asked for no code
    ]
    for refused in refusals:
        assert refused.status_code == 401
        assert problem_type(refused) == "sign-in-code-refused"
        assert refused.get_json()["detail"] == CODE_REFUSED


def test_turning_sms_off_in_the_app_still_lets_a_code_through(client, session):
    find_contact(NOAH).sms_enabled = False
    session.commit()
    ask_code(client, NOAH)
    assert len(sign_in_texts(session, NOAH)) == 1


# -- a code's life ------------------------------------------------------------------------
def test_a_code_expires_after_ten_minutes(app, session):
    asked = datetime(2026, 5, 6, 14, 0, tzinfo=ZoneInfo("UTC"))
    request_code(LAURA, ADDRESS, now=asked)
    code = texted_code(session, LAURA)
    with pytest.raises(ApiProblem) as refused:
        verify_code(LAURA, code, ADDRESS, now=asked + timedelta(minutes=10))
    assert refused.value.slug == "sign-in-code-refused"

    request_code(LAURA, ADDRESS, now=asked + timedelta(minutes=20))
    code = texted_code(session, LAURA)
    pair = verify_code(LAURA, code, ADDRESS, now=asked + timedelta(minutes=29, seconds=59))
    assert pair.access_token


def test_five_wrong_tries_end_a_code_even_before_the_right_one(client, session):
    ask_code(client, LAURA)
    code = texted_code(session, LAURA)
    for _ in range(5):
        assert ask_token(client, LAURA, another(code)).status_code == 401
    refused = ask_token(client, LAURA, code)
    assert refused.status_code == 401
    assert problem_type(refused) == "sign-in-code-refused"
    [row] = codes_of(session, LAURA)
    assert row.attempts == 6 and row.used_at is None


def test_a_wrong_try_or_two_do_not_end_a_code(client, session):
    ask_code(client, LAURA)
    code = texted_code(session, LAURA)
    for _ in range(4):
        ask_token(client, LAURA, another(code))
    assert ask_token(client, LAURA, code).status_code == 200


def test_a_newer_code_replaces_the_older(client, session):
    ask_code(client, LAURA)
    first = texted_code(session, LAURA)
    ask_code(client, LAURA)
    second = texted_code(session, LAURA)
    if first == second:  # one chance in a million: the old row is still the one refused
        pytest.skip("the two random codes happened to be equal")
    assert ask_token(client, LAURA, first).status_code == 401
    assert ask_token(client, LAURA, second).status_code == 200


# -- rate limits --------------------------------------------------------------------------
@pytest.mark.parametrize("phone", [LAURA, UNKNOWN])
def test_three_codes_per_phone_per_quarter_hour(client, session, phone):
    for n in range(3):
        assert ask_code(client, phone, address=f"198.51.100.{n}").status_code == 202
    limited = ask_code(client, phone, address="198.51.100.9")
    assert limited.status_code == 429
    assert problem_type(limited) == "rate-limited"
    assert 890 <= int(limited.headers["Retry-After"]) <= 900
    assert len(codes_of(session, phone)) == 3  # a refused request leaves no row


@pytest.mark.parametrize("phone", [LAURA, UNKNOWN])
def test_ten_codes_per_phone_per_day(app, phone):
    start = datetime(2026, 5, 6, 8, 0, tzinfo=ZoneInfo("UTC"))
    for n in range(10):
        request_code(phone, f"198.51.100.{n}", now=start + n * timedelta(minutes=16))
    eleventh = start + 10 * timedelta(minutes=16)
    with pytest.raises(ApiProblem) as limited:
        request_code(phone, "198.51.100.99", now=eleventh)
    assert limited.value.code == 429
    waited = int(limited.value.extra_headers["Retry-After"])
    assert waited == (start + timedelta(hours=24) - eleventh).total_seconds()
    request_code(phone, "198.51.100.99", now=start + timedelta(hours=24, seconds=1))


def test_ten_codes_per_client_address_per_quarter_hour(client):
    for n in range(10):
        assert ask_code(client, f"+1617555{200 + n:04d}").status_code == 202
    limited = ask_code(client, "+16175550299")
    assert limited.status_code == 429
    assert "Retry-After" in limited.headers
    assert ask_code(client, "+16175550299", address="198.51.100.1").status_code == 202


def test_wrong_codes_are_limited_per_client_address(app, session):
    now = datetime(2026, 5, 6, 8, 0, tzinfo=ZoneInfo("UTC"))
    phones = [f"+1617555{300 + n:04d}" for n in range(7)]
    for phone in phones:
        request_code(phone, ADDRESS, now=now)
    for phone in phones[:6]:
        for _ in range(5):
            with pytest.raises(ApiProblem, match="wrong"):
                verify_code(phone, "000000", ADDRESS, now=now)
    with pytest.raises(ApiProblem) as limited:
        verify_code(phones[6], "000000", ADDRESS, now=now + timedelta(minutes=1))
    assert limited.value.slug == "rate-limited"
    assert int(limited.value.extra_headers["Retry-After"]) == 14 * 60
    with pytest.raises(ApiProblem) as refused:  # once those codes leave the window
        verify_code(phones[6], "000000", ADDRESS, now=now + timedelta(minutes=15))
    assert refused.value.slug == "sign-in-code-refused"


# -- tokens -------------------------------------------------------------------------------
def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def session_of(client, access_token):
    return client.get("/api/v1/auth/session", headers=bearer(access_token))


def test_a_refresh_token_is_exchanged_once(client, app_tokens):
    first = app_tokens(LAURA)
    renewed = refresh(client, first.refresh_token)
    assert renewed.status_code == 200
    second = renewed.get_json()
    assert second["refresh_token"] != first.refresh_token
    assert session_of(client, second["access_token"]).status_code == 200
    assert session_of(client, first.access_token).status_code == 401  # replaced

    reused = refresh(client, first.refresh_token)  # a stolen copy, or a replay
    assert reused.status_code == 401
    assert problem_type(reused) == "refresh-token-refused"
    # The whole sign-in is revoked: the thief's pair and the app's pair alike.
    denied = session_of(client, second["access_token"])
    assert denied.status_code == 401
    assert problem_type(denied) == "unauthorized"
    assert refresh(client, second["refresh_token"]).status_code == 401


def test_an_unknown_refresh_token_is_refused(client):
    refused = refresh(client, "ert_nothing")
    assert refused.status_code == 401
    assert problem_type(refused) == "refresh-token-refused"


def test_signing_out_ends_that_sign_in_only(client, app_tokens):
    phone_app, tablet_app = app_tokens(LAURA), app_tokens(LAURA)
    out = client.post("/api/v1/auth/sign-out", headers=bearer(phone_app.access_token))
    assert out.status_code == 204
    assert session_of(client, phone_app.access_token).status_code == 401
    assert refresh(client, phone_app.refresh_token).status_code == 401
    assert session_of(client, tablet_app.access_token).status_code == 200
    assert refresh(client, tablet_app.refresh_token).status_code == 200


def test_signing_out_everywhere_ends_every_sign_in_of_the_phone(client, app_tokens, session):
    phone_app, tablet_app, noah = app_tokens(LAURA), app_tokens(LAURA), app_tokens(NOAH)
    out = client.post("/api/v1/auth/sign-out-everywhere", headers=bearer(tablet_app.access_token))
    assert out.status_code == 204
    for pair in (phone_app, tablet_app):
        assert session_of(client, pair.access_token).status_code == 401
        assert refresh(client, pair.refresh_token).status_code == 401
    assert session_of(client, noah.access_token).status_code == 200
    live = session.scalar(
        sa.select(sa.func.count())
        .select_from(AppToken)
        .where(AppToken.contact_id == find_contact(LAURA).id, AppToken.revoked_at.is_(None))
    )
    assert live == 0


def test_an_expired_access_token_is_refused(client, app_tokens):
    old = app_tokens(LAURA, now=utcnow() - timedelta(minutes=16))
    refused = session_of(client, old.access_token)
    assert refused.status_code == 401
    assert problem_type(refused) == "unauthorized"


@pytest.mark.parametrize("path", ["/sign-out", "/sign-out-everywhere"])
def test_signing_out_needs_an_access_token(client, app_tokens, path):
    pair = app_tokens(LAURA)
    assert problem_type(client.post(f"/api/v1/auth{path}")) == "unauthorized"
    refused = client.post(f"/api/v1/auth{path}", headers=bearer(pair.refresh_token))
    assert refused.status_code == 401


# -- refused input ------------------------------------------------------------------------
def test_a_malformed_body_is_a_problem(client):
    broken = client.post("/api/v1/auth/code", data="{", content_type="application/json")
    assert broken.status_code in (400, 422)
    assert broken.mimetype == PROBLEM

    unknown_field = client.post("/api/v1/auth/code", json={"phone": LAURA, "name": "Laura"})
    assert unknown_field.status_code == 422
    assert problem_type(unknown_field) == "invalid-input"
    assert "name" in unknown_field.get_json()["errors"]

    missing = client.post("/api/v1/auth/token", json={"phone": LAURA})
    assert missing.status_code == 422
    assert "code" in missing.get_json()["errors"]

    short_code = client.post("/api/v1/auth/token", json={"phone": LAURA, "code": "12345"})
    assert short_code.status_code == 422


def test_a_malformed_phone_is_invalid_input(client, session):
    refused = ask_code(client, "call me maybe")
    assert refused.status_code == 422
    assert problem_type(refused) == "invalid-input"
    assert list(refused.get_json()["errors"]) == ["phone"]
    assert session.scalar(sa.select(sa.func.count()).select_from(SignInCode)) == 0


# -- the text goes at once ----------------------------------------------------------------
def test_a_code_asked_for_at_three_in_the_morning_is_sent_at_once(app, session):
    night = datetime(2026, 5, 6, 3, 0, tzinfo=ZoneInfo("America/New_York"))
    request_code(LAURA, ADDRESS, now=night)
    session.commit()
    [text] = sign_in_texts(session, LAURA)
    batch = claim_batch(night, 10, 10, "test-sender")
    assert text.id in [claimed.id for claimed in batch.claimed]


# -- CSRF ---------------------------------------------------------------------------------
def test_only_a_signed_in_staff_session_needs_a_csrf_token(app, signed_in):
    browser = signed_in(ANA)
    # A cookie that signs a staff user in could be ridden by a forged cross-site POST.
    assert ask_code(browser, LAURA).status_code == 403
    with_token = browser.post(
        "/api/v1/auth/code",
        json={"phone": LAURA},
        headers={"X-CSRF-Token": token_of(browser.get("/").text)},
    )
    assert with_token.status_code == 202
    # No session to ride on: the app's sign-in needs none.
    assert ask_code(app.test_client(), LAURA).status_code == 202
