"""Staff sign-in: hashed passwords, throttling, CSRF, sessions, sign-out, the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError

from engage.audit.models import AuditEvent
from engage.auth.access import may_see_patient, patient_center_ids
from engage.auth.models import SignInAttempt
from engage.auth.services import (
    FAILURES_PER_EMAIL,
    SignInRefused,
    SignInThrottled,
    authenticate,
)
from engage.db import utcnow
from engage.demo.seed import DEMO_STAFF_PASSWORD, seed_demo
from engage.network.models import StaffUser

CLINICIAN = "ana.rivera@east.example.org"


@pytest.fixture
def demo(session):
    seed_demo()
    session.commit()


def form_token(client, path="/sign-in"):
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def sign_in(client, email=CLINICIAN, password=DEMO_STAFF_PASSWORD, next_page=None):
    data = {"email": email, "password": password, "csrf_token": form_token(client)}
    if next_page:
        data["next"] = next_page
    return client.post("/sign-in", data=data)


def test_passwords_are_stored_as_scrypt_hashes(demo, session):
    user = session.scalar(sa.select(StaffUser).where(StaffUser.email == CLINICIAN))
    assert user.password_hash.startswith("scrypt:")
    assert DEMO_STAFF_PASSWORD not in user.password_hash


def test_signing_in_and_out(client, demo, session):
    assert client.get("/").status_code == 302  # to the sign-in page
    response = sign_in(client)
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = client.get("/")
    assert "Hello, Dr. Ana Rivera" in home.get_data(as_text=True)
    token = form_token(client, "/")
    assert client.post("/sign-out", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    actions = session.scalars(sa.select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["sign_in", "sign_out"]
    assert all(session.scalars(sa.select(AuditEvent.request_id)))


def test_a_wrong_password_or_unknown_e_mail_is_refused_alike(client, demo, session):
    wrong = sign_in(client, password="not the password at all")
    unknown = sign_in(client, email="nobody@example.org")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.get_data(as_text=True)
    assert "Wrong e-mail or password." in unknown.get_data(as_text=True)
    assert (
        session.scalar(
            sa.select(sa.func.count()).select_from(SignInAttempt).where(~SignInAttempt.succeeded)
        )
        == 2
    )


def test_repeated_failures_throttle_the_account_even_for_the_right_password(client, demo, session):
    for _ in range(FAILURES_PER_EMAIL):
        assert sign_in(client, password="guess guess guess").status_code == 401
    throttled = sign_in(client)
    assert throttled.status_code == 429
    assert "try again in 15 minutes" in throttled.get_data(as_text=True)


def test_the_throttle_lifts_after_its_window(demo, session):
    start = utcnow()
    for _ in range(FAILURES_PER_EMAIL):
        with pytest.raises(SignInRefused):
            authenticate(CLINICIAN, "guess guess guess", "10.0.0.1", now=start)
    with pytest.raises(SignInThrottled):
        authenticate(CLINICIAN, DEMO_STAFF_PASSWORD, "10.0.0.1", now=start + timedelta(minutes=1))
    later = start + timedelta(minutes=17)
    assert authenticate(CLINICIAN, DEMO_STAFF_PASSWORD, "10.0.0.1", now=later).email == CLINICIAN


def test_a_form_without_its_csrf_token_is_refused(client, demo):
    client.get("/sign-in")
    forged = client.post("/sign-in", data={"email": CLINICIAN, "password": DEMO_STAFF_PASSWORD})
    assert forged.status_code == 403
    assert sign_in(client).status_code == 302
    assert client.post("/sign-out", data={"csrf_token": "forged"}).status_code == 403


def test_sign_in_never_redirects_off_site(client, demo):
    for target in ("https://evil.example", "//evil.example/x", "javascript:alert(1)"):
        response = sign_in(client, next_page=target)
        assert response.headers["Location"] == "/", target
        client.post("/sign-out", data={"csrf_token": form_token(client, "/")})
    assert sign_in(client, next_page="/some/page?x=1").headers["Location"] == "/some/page?x=1"


def test_an_inactive_account_cannot_sign_in(client, demo, session):
    user = session.scalar(sa.select(StaffUser).where(StaffUser.email == CLINICIAN))
    user.is_active = False
    session.commit()
    assert sign_in(client).status_code == 401


def test_the_audit_log_is_append_only_in_the_database(client, demo, session):
    sign_in(client)
    with pytest.raises(DBAPIError):
        session.execute(sa.update(AuditEvent).values(action="edited"))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(sa.delete(AuditEvent))
    session.rollback()


def test_only_clinicians_see_patients_and_only_at_their_centers(demo, session):
    from engage.people.models import Patient

    users = {u.email: u for u in session.scalars(sa.select(StaffUser))}
    east = session.scalar(sa.select(Patient).where(Patient.mrn == "E-1002"))
    west = session.scalar(sa.select(Patient).where(Patient.mrn == "W-2001"))
    ana, sam = users[CLINICIAN], users["sam.chen@west.example.org"]
    assert may_see_patient(ana, east) and not may_see_patient(ana, west)
    assert may_see_patient(sam, west) and not may_see_patient(sam, east)
    for email in ("jordan.lee@network.example.org", "pat.morgan@network.example.org"):
        assert patient_center_ids(users[email]) == set()


def test_staff_add_and_set_password_from_the_command_line(runner, demo, session):
    added = runner.invoke(
        args=["engage", "staff", "add", "new.nurse@east.example.org", "--name", "New Nurse",
              "--role", "clinician", "--center", "EAST", "--password-stdin"],
        input="a long enough secret\n",
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert "staff user new.nurse@east.example.org added (clinician at EAST)" in added.output
    short = runner.invoke(
        args=["engage", "staff", "set-password", "new.nurse@east.example.org", "--password-stdin"],
        input="short\n",
    )
    assert "password: '(hidden)' must be at least 12 characters" in short.output
    no_center = runner.invoke(
        args=["engage", "staff", "add", "x@east.example.org", "--name", "X", "--role",
              "clinician", "--password-stdin"],
        input="a long enough secret\n",
    )  # fmt: skip
    assert "a clinician needs at least one --center" in no_center.output
    listed = runner.invoke(args=["engage", "staff", "list"])
    assert "new.nurse@east.example.org  clinician  EAST  active  password set" in listed.output
    assert "Traceback" not in added.output + short.output + no_center.output


def test_audit_list_filters_by_staff_and_action(runner, client, demo):
    sign_in(client)
    listed = runner.invoke(args=["engage", "audit", "list", "--staff", CLINICIAN])
    assert listed.exit_code == 0, listed.output
    assert f"{CLINICIAN}  sign_in" in listed.output
    none = runner.invoke(args=["engage", "audit", "list", "--action", "acknowledge_alert"])
    assert none.output == ""
