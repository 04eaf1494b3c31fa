"""Who is calling the app API: the bearer access token's phone, or 401."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import abort, g
from flask_smorest import Blueprint

from engage.api import bearer_token
from engage.api import problems as documented_problems
from engage.mobile.access import AppUser
from engage.mobile.tokens import access_token_owner


def current_app_user() -> AppUser:
    """The signed-in phone; 401 without a live access token (unknown, expired or revoked)."""
    token = bearer_token()
    row = access_token_owner(token) if token else None
    if row is None:
        abort(401, description="Sign in: send a live access token as 'Authorization: Bearer …'.")
    user = AppUser(contact=row.contact, family=row.family)
    g.app_user = user
    return user


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]  # an app's access token


def app_routes(blp: Blueprint) -> Callable[..., Callable[[Any], Any]]:
    """Make every route of ``blp`` need a live app access token (401), checked before any
    argument is read; returns the decorator that documents a route's problems."""

    @blp.before_request
    def authenticate() -> None:
        current_app_user()

    def problems(*statuses: int) -> Callable[[Any], Any]:
        def decorate(view: Any) -> Any:
            return blp.doc(security=BEARER)(documented_problems(blp, *statuses)(view))

        return decorate

    return problems
