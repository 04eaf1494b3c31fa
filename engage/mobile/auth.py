"""Who is calling the app API: the bearer access token's phone, or 401."""

from __future__ import annotations

from flask import abort, g

from engage.api import bearer_token
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
