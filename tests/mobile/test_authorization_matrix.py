"""Who may call which app endpoint: every /api/v1 endpoint of the app × every kind of caller.

The endpoints are a table (``ENDPOINTS``); a test compares it with the app's URL map, so a
new app endpoint fails here until it is added. Each caller reads "their" patient:

- patient: Noah (14), his own data;
- caregiver_proxy: Laura, for Mia (6): allowed;
- caregiver_no_proxy: Carmen, for Sofia, once her link lost proxy permission: 404;
- adult_no_grant: Grace, for her son Olivier (19), who granted nothing: 404;
- adult_granted: Henry, for his daughter Lucia (19), who granted him access: allowed;
- adult_self: Lucia herself (she also manages the grants);
- stranger: David (another family), for Noah: 404 on Noah's data, 200 on his own /me;
- expired, revoked, no token: 401 everywhere.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from engage.conversations.models import CheckIn
from engage.conversations.services import open_checkin
from engage.db import utcnow
from engage.instruments.services import get_instrument
from engage.mobile.models import ProxyGrant
from engage.mobile.tokens import issue_tokens, revoke_family
from engage.people.models import CaregiverLink, Patient, Relationship
from engage.people.services import add_caregiver, add_contact, find_contact, link_caregiver
from tests.mobile.conftest import CARMEN, LAURA, NOAH, bearer

DAVID = "+12135550121"  # Ethan's father, at WEST: a stranger to Noah
OLIVIER, GRACE = "+16175550181", "+16175550182"
LUCIA, HENRY = "+16175550183", "+16175550184"
PROBLEM = "/api/v1/problems/"

# Endpoints under /api/v1 that are not the app's: staff's, sign-in itself, documentation.
NOT_THE_APP = re.compile(
    r"^/api/v1/(review(/|$)|ideas(/|$)|measures(/|$)|auth/(code|token|refresh)$|openapi\.json$|docs$|problems)"
)


# -- callers ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Caller:
    name: str
    phone: str | None  # None: no token at all
    patient: str  # the given name of the patient whose data it asks for
    token: str = "live"  # live, expired or revoked
    kind: str = "patient"  # patient or caregiver phone
    reads: bool = True  # may read that patient's data
    adult: bool = False  # an adult patient's own phone: manages grants


# The order matters only for changes: Lucia revokes Henry's grant last.
CALLERS = [
    Caller("expired", NOAH, "Noah", token="expired", reads=False),
    Caller("revoked", NOAH, "Noah", token="revoked", reads=False),
    Caller("no_token", None, "Noah", reads=False),
    Caller("stranger", DAVID, "Noah", kind="caregiver", reads=False),
    Caller("caregiver_no_proxy", CARMEN, "Sofia", kind="caregiver", reads=False),
    Caller("adult_no_grant", GRACE, "Olivier", kind="caregiver", reads=False),
    Caller("patient", NOAH, "Noah"),
    Caller("caregiver_proxy", LAURA, "Mia", kind="caregiver"),
    Caller("adult_granted", HENRY, "Lucia", kind="caregiver"),
    Caller("adult_self", LUCIA, "Lucia", adult=True),
]


# -- endpoints --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str  # as in the OpenAPI document
    # patient: the caller's patient's data (404 for a phone that may not read it);
    # me: the caller's own (every signed-in phone); own_patient: a patient's phone only (403
    # for a caregiver's); adult: an adult patient's phone only (403 for anyone else).
    scope: str
    status: int  # when allowed
    body: Any = None  # or a function of the world and the caller


def answer_body(world: World, caller: Caller) -> dict[str, Any]:
    checkin = world.checkin(caller.patient)
    return {"item_id": checkin.state["current"], "answer": "1"}


ENDPOINTS = [
    Endpoint("GET", "/api/v1/me", "me", 200),
    Endpoint("GET", "/api/v1/me/patients", "me", 200),
    Endpoint("GET", "/api/v1/me/ideas", "me", 200),
    Endpoint("POST", "/api/v1/me/ideas", "me", 201, {"text": "Evening clinic hours"}),
    Endpoint("GET", "/api/v1/me/preferences", "me", 200),
    Endpoint("PATCH", "/api/v1/me/preferences", "me", 200, {"sms_enabled": True}),
    Endpoint("GET", "/api/v1/me/proxy-grants", "own_patient", 200),
    Endpoint(
        "POST",
        "/api/v1/me/proxy-grants",
        "adult",
        201,
        lambda world, caller: {"caregiver_id": world.caregiver_ids["Iris"]},
    ),
    Endpoint("DELETE", "/api/v1/me/proxy-grants/{caregiver_id}", "adult", 204),
    Endpoint("GET", "/api/v1/patients/{patient_id}/checkins", "patient", 200),
    Endpoint("GET", "/api/v1/patients/{patient_id}/history", "patient", 200),
    Endpoint("GET", "/api/v1/checkins/{checkin_id}", "patient", 200),
    Endpoint("POST", "/api/v1/checkins/{checkin_id}/answers", "patient", 200, answer_body),
    Endpoint("GET", "/api/v1/auth/session", "me", 200),
    Endpoint("POST", "/api/v1/auth/sign-out", "me", 204),
    Endpoint("POST", "/api/v1/auth/sign-out-everywhere", "me", 204),
]


def expected(endpoint: Endpoint, caller: Caller) -> tuple[int, str | None]:
    """The status, and the problem type of a refusal."""
    if caller.token != "live" or caller.phone is None:
        return 401, "unauthorized"
    if endpoint.scope == "patient" and not caller.reads:
        return 404, "not-found"  # nothing tells that the patient exists
    if endpoint.scope == "own_patient" and caller.kind != "patient":
        return 403, "forbidden"
    if endpoint.scope == "adult" and not caller.adult:
        return 403, "forbidden"
    return endpoint.status, None


# -- the world --------------------------------------------------------------------------------
class World:
    """The demo, two more families, one open check-in per patient, a token per caller."""

    def __init__(self, session: Any, make_patient: Any) -> None:
        self.session = session
        east = self.patient("Noah").center
        adult_birthday = date(utcnow().year - 19, 1, 1)
        # Carmen may no longer answer for Sofia.
        carmen = find_contact(CARMEN).caregiver
        session.scalar(
            sa.select(CaregiverLink).where(CaregiverLink.caregiver_id == carmen.id)
        ).may_answer_as_proxy = False
        self.caregiver_ids: dict[str, int] = {}
        for child, parent, child_phone, parent_phone in (
            ("Olivier", "Grace", OLIVIER, GRACE),
            ("Lucia", "Henry", LUCIA, HENRY),
        ):
            patient = make_patient(east, given_name=child, date_of_birth=adult_birthday)
            caregiver = add_caregiver(given_name=parent, family_name="Rowe")
            link_caregiver(
                caregiver, patient, relationship=Relationship.PARENT, may_answer_as_proxy=True
            )
            add_contact(patient, child_phone)
            add_contact(caregiver, parent_phone)
            self.caregiver_ids[parent] = caregiver.id
        lucia = self.patient("Lucia")
        iris = add_caregiver(given_name="Iris", family_name="Rowe")
        link_caregiver(iris, lucia, relationship=Relationship.GRANDPARENT, may_answer_as_proxy=True)
        self.caregiver_ids["Iris"] = iris.id
        session.add(ProxyGrant(patient_id=lucia.id, caregiver_id=self.caregiver_ids["Henry"]))
        self.checkin_ids = {
            name: open_checkin(self.patient(name), get_instrument("ibd-symptoms")).id
            for name in ("Noah", "Mia", "Sofia", "Olivier", "Lucia")
        }
        self.tokens = {caller.name: self.token_of(caller) for caller in CALLERS}
        session.commit()

    def patient(self, given_name: str) -> Patient:
        return self.session.scalar(sa.select(Patient).where(Patient.given_name == given_name))

    def checkin(self, given_name: str) -> CheckIn:
        self.session.expire_all()  # the app may have moved it on
        return self.session.get(CheckIn, self.checkin_ids[given_name])

    def token_of(self, caller: Caller) -> str | None:
        if caller.phone is None:
            return None
        contact = find_contact(caller.phone)
        if caller.token == "expired":
            return issue_tokens(contact, now=utcnow() - timedelta(hours=1)).access_token
        pair = issue_tokens(contact)
        if caller.token == "revoked":
            revoke_family(pair.family)
        return pair.access_token

    def url(self, endpoint: Endpoint, caller: Caller) -> str:
        values = {
            "patient_id": self.patient(caller.patient).id,
            "checkin_id": self.checkin_ids[caller.patient],
            "caregiver_id": self.caregiver_ids["Henry"],
        }
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m[1]]), endpoint.path)


@pytest.fixture
def world(session, demo, make_patient) -> World:
    return World(session, make_patient)


def openapi_path(rule: str) -> str:
    """/checkins/<int(max=2147483647):checkin_id> as /checkins/{checkin_id}."""
    return re.sub(r"<(?:[^>]*:)?(\w+)>", r"{\1}", rule)


def app_endpoints(app) -> set[tuple[str, str]]:
    return {
        (method, openapi_path(rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and not NOT_THE_APP.match(rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


# -- tests ------------------------------------------------------------------------------------
def test_the_table_has_every_app_endpoint(app):
    missing = app_endpoints(app) - {(e.method, e.path) for e in ENDPOINTS}

    assert not missing, f"add these app endpoints to ENDPOINTS: {sorted(missing)}"


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_who_may_call_it(app, client, world, endpoint):
    if (endpoint.method, endpoint.path) not in app_endpoints(app):
        pytest.skip(f"{endpoint.method} {endpoint.path} is not built")
    wrong = []
    for caller in CALLERS:
        token = world.tokens[caller.name]
        body = endpoint.body(world, caller) if callable(endpoint.body) else endpoint.body
        response = client.open(
            world.url(endpoint, caller),
            method=endpoint.method,
            json=body,
            headers=bearer(token) if token else {},
        )
        status, slug = expected(endpoint, caller)
        got_type = (response.get_json(silent=True) or {}).get("type") if slug else None
        if response.status_code != status or (slug and got_type != PROBLEM + slug):
            wrong.append(
                f"{caller.name}: {response.status_code} {got_type or ''} "
                f"(expected {status} {slug or ''}) {response.text[:200]}"
            )
        if slug:
            assert response.mimetype == "application/problem+json", response.text
    assert not wrong, "\n".join(wrong)
