"""The demo's staff as tests meet them: by page (signed in) or by API (bearer tokens).

Its fixtures (``signed_in``, which needs a ``demo`` fixture where it is used, and ``tokens``)
are offered to every test by tests/conftest.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from engage.auth.services import issue_api_token
from engage.demo.seed import DEMO_STAFF_PASSWORD, seed_demo
from engage.network.services import find_staff_user

ANA = "ana.rivera@east.example.org"  # clinician at EAST
SAM = "sam.chen@west.example.org"  # clinician at WEST
JORDAN = "jordan.lee@network.example.org"  # network reviewer, no center
PAT = "pat.morgan@network.example.org"  # administrator


def token_of(page: str) -> str:
    """The CSRF token of a page's first form."""
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def signed_in(client: FlaskClient, demo: None) -> Callable[[str], FlaskClient]:
    """Sign the test client in as a demo staff user (signing out whoever was in)."""

    def sign_in(email: str) -> FlaskClient:
        any_page = client.get("/", follow_redirects=True).text  # home, or the sign-in form
        client.post("/sign-out", data={"csrf_token": token_of(any_page)})
        page = client.get("/sign-in").get_data(as_text=True)
        response = client.post(
            "/sign-in",
            data={"email": email, "password": DEMO_STAFF_PASSWORD, "csrf_token": token_of(page)},
        )
        assert response.status_code == 302, response.text
        return client

    return sign_in


@pytest.fixture
def tokens(session: Session) -> dict[str, str]:
    """A bearer token for each demo staff user, on the seeded (and committed) demo."""
    seed_demo()
    issued = {
        email: issue_api_token(find_staff_user(email), "test")  # type: ignore[arg-type]
        for email in (ANA, SAM, JORDAN, PAT)
    }
    session.commit()
    return issued
