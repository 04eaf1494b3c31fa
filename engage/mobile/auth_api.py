"""``/api/v1/auth/…``: signing in to the app with a phone number and a texted code.

1. ``POST /code`` with the phone: a 6-digit code goes by SMS (if the number can sign in;
   the answer is the same either way).
2. ``POST /token`` with the phone and the code: an access token (15 minutes) and a
   refresh token (30 days, used once).
3. ``POST /refresh`` before the access token ends: a new pair. A refresh token used twice
   revokes every token of that sign-in.
4. ``POST /sign-out`` ends this sign-in; ``POST /sign-out-everywhere`` ends them all.

``GET /session`` tells a client whether its access token is live, and as whom.
Errors are ``application/problem+json`` (engage/api/problems.py): a refused code is
``sign-in-code-refused``, a refused refresh token ``refresh-token-refused``, too many
requests ``rate-limited`` with ``Retry-After``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import phonenumbers
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import RAISE, Schema, fields, validate

from engage.api import problems
from engage.api.problems import ApiProblem
from engage.db import db
from engage.mobile.auth import BEARER, current_app_user
from engage.mobile.signin import CODE_SENT, request_code, verify_code
from engage.mobile.tokens import RefreshRefused, TokenPair, refresh_tokens, revoke_contact
from engage.mobile.tokens import revoke_family as revoke_sign_in

blp = Blueprint(
    "app_auth_api",
    __name__,
    url_prefix="/api/v1/auth",
    description="Sign in to the app with a phone number and a code sent by SMS.",
)

PUBLIC: list[dict[str, list[str]]] = [{}]  # no credentials: the operation is how a client gets them


# -- schemas ----------------------------------------------------------------------------------
class BodySchema(Schema):
    """A request body: a field the API does not know is refused, not ignored."""

    class Meta:
        unknown = RAISE


def phone_field() -> fields.String:
    return fields.String(
        required=True,
        validate=validate.Length(min=1, max=32),
        metadata={"description": "the phone number, best in E.164", "example": "+16175550101"},
    )


class CodeRequestSchema(BodySchema):
    phone = phone_field()


class CodeSentSchema(Schema):
    detail = fields.String()
    expires_in = fields.Integer(metadata={"description": "seconds a code stays valid"})


class TokenRequestSchema(BodySchema):
    phone = phone_field()
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[0-9]{6}$", error="must be the 6 digits of the text"),
    )


class TokenPairSchema(Schema):
    access_token = fields.String()
    refresh_token = fields.String(metadata={"description": "use once, at POST /auth/refresh"})
    token_type = fields.String(metadata={"description": "always Bearer"})
    expires_in = fields.Integer(metadata={"description": "seconds the access token lives"})


class RefreshSchema(BodySchema):
    refresh_token = fields.String(required=True, validate=validate.Length(min=1, max=200))


class SessionSchema(Schema):
    phone = fields.String(metadata={"description": "the signed-in phone, masked"})
    role = fields.String(metadata={"description": "patient or caregiver"})


# -- helpers ----------------------------------------------------------------------------------
@contextmanager
def unit_of_work_keeping_refusals() -> Iterator[None]:
    """One unit of work that commits also when the domain refuses with a problem.

    A wrong code's attempt and a family revoked for a reused refresh token must stay
    recorded, or guessing would be free and a thief could try again.
    """
    session = db.session()
    try:
        yield
    except ApiProblem:
        session.commit()
        raise
    except BaseException:
        session.rollback()
        raise
    session.commit()


def token_body(pair: TokenPair) -> dict[str, Any]:
    return {
        "access_token": pair.access_token,
        "refresh_token": pair.refresh_token,
        "token_type": "Bearer",
        "expires_in": pair.expires_in,
    }


def masked(phone: str) -> str:
    """+16175550101 as +1••••••0101: enough for a person to recognise their own number."""
    try:
        prefix = f"+{phonenumbers.parse(phone).country_code}"
    except phonenumbers.NumberParseException:
        prefix = phone[:2]
    hidden = max(0, len(phone) - len(prefix) - 4)
    return prefix + "•" * hidden + phone[-4:]


# -- routes -----------------------------------------------------------------------------------
@blp.route("/code")
class Code(MethodView):
    @blp.arguments(CodeRequestSchema)
    @blp.response(202, CodeSentSchema)
    @problems(blp, 400, 422, 429)
    @blp.doc(security=PUBLIC)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Text a sign-in code to a phone.

        The answer is the same whether or not the number can sign in. Limits: 3 codes
        per phone per 15 minutes and 10 per day; 10 per client address per 15 minutes.
        """
        with unit_of_work_keeping_refusals():
            expires_in = request_code(body["phone"], request.remote_addr)
        return {"detail": CODE_SENT, "expires_in": expires_in}


@blp.route("/token")
class Token(MethodView):
    @blp.arguments(TokenRequestSchema)
    @blp.response(200, TokenPairSchema)
    @problems(blp, 400, 401, 422, 429)
    @blp.doc(security=PUBLIC)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Exchange the texted code for tokens.

        A code is valid 10 minutes, for one sign-in; 5 wrong tries end it. A wrong,
        expired or used code is 401 ``sign-in-code-refused``.
        """
        with unit_of_work_keeping_refusals():
            pair = verify_code(body["phone"], body["code"], request.remote_addr)
        return token_body(pair)


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshSchema)
    @blp.response(200, TokenPairSchema)
    @problems(blp, 400, 401, 422)
    @blp.doc(security=PUBLIC)
    def post(self, body: dict[str, Any]) -> dict[str, Any]:
        """Exchange a refresh token, once, for a new pair.

        A refresh token used a second time revokes every token of that sign-in
        (401 ``refresh-token-refused``): sign in again with a code.
        """
        with unit_of_work_keeping_refusals():
            try:
                pair = refresh_tokens(body["refresh_token"])
            except RefreshRefused as refused:
                raise ApiProblem("refresh-token-refused", str(refused).capitalize()) from None
        return token_body(pair)


@blp.route("/sign-out")
class SignOut(MethodView):
    @blp.response(204)
    @problems(blp, 401)
    @blp.doc(security=BEARER)
    def post(self) -> None:
        """End this sign-in: its access and refresh tokens stop working."""
        with unit_of_work_keeping_refusals():
            revoke_sign_in(current_app_user().family)


@blp.route("/sign-out-everywhere")
class SignOutEverywhere(MethodView):
    @blp.response(204)
    @problems(blp, 401)
    @blp.doc(security=BEARER)
    def post(self) -> None:
        """End every sign-in of this phone, on every device."""
        with unit_of_work_keeping_refusals():
            revoke_contact(current_app_user().contact.id)


@blp.route("/session")
class SignedIn(MethodView):
    @blp.response(200, SessionSchema)
    @problems(blp, 401)
    @blp.doc(security=BEARER)
    def get(self) -> dict[str, Any]:
        """Who this access token signs in: the phone (masked) and its role."""
        user = current_app_user()
        return {"phone": masked(user.contact.phone), "role": user.role}
