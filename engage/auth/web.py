"""The signed-in staff user of a request, and CSRF tokens.

Sessions are Flask's signed cookies (``Secure`` outside development, ``HttpOnly``,
``SameSite=Lax``: see config.py) holding the staff user's id. Every state-changing
request to the web pages carries the session's CSRF token; Twilio's webhooks are
signed instead, and the JSON API's token requests carry no cookie to forge.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from werkzeug.exceptions import Forbidden

from engage.db import db
from engage.network.models import StaffRole, StaffUser

SESSION_LIFETIME = timedelta(hours=12)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Signed by Twilio, not by a browser session.
CSRF_EXEMPT_BLUEPRINTS = frozenset({"messaging"})

View = TypeVar("View", bound=Callable[..., Any])


class CsrfRefused(Forbidden):
    description = "The form was stale or did not come from engage: reload the page and try again."


def current_staff() -> StaffUser | None:
    """The signed-in, active staff user of this request, or None."""
    if "staff" not in g:
        staff_id = session.get("staff_id")
        user = db.session.get(StaffUser, staff_id) if isinstance(staff_id, int) else None
        g.staff = user if user is not None and user.is_active else None
    staff: StaffUser | None = g.staff
    return staff


def sign_in_session(user: StaffUser) -> None:
    """A fresh session for a signed-in user: nothing carried over from before sign-in."""
    session.clear()
    session.permanent = True
    session["staff_id"] = user.id
    session[CSRF_FIELD] = secrets.token_urlsafe(32)
    g.staff = user


def sign_out_session() -> None:
    session.clear()
    g.staff = None


def csrf_token() -> str:
    token = session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_FIELD] = token
    return token


def check_csrf() -> None:
    if request.method not in UNSAFE_METHODS or request.blueprint in CSRF_EXEMPT_BLUEPRINTS:
        return
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        return  # a token, not a cookie: nothing a third-party page could forge
    if request.path.startswith("/api/") and "staff_id" not in session:
        return  # no signed-in session for a forged request to ride on (e.g. app sign-in)
    if getattr(current_app.view_functions.get(request.endpoint or ""), "csrf_exempt", False):
        return
    expected = session.get(CSRF_FIELD)
    given = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER, "")
    if not isinstance(expected, str) or not hmac.compare_digest(expected, given):
        raise CsrfRefused()


def csrf_exempt(view: View) -> View:
    view.csrf_exempt = True  # type: ignore[attr-defined]
    return view


def staff_required(*roles: StaffRole) -> Callable[[View], View]:
    """Pages for signed-in staff (of these roles, when given); others go to sign-in or get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = current_staff()
            if user is None:
                return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
            if roles and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapped  # type: ignore[return-value]

    return decorate


def forget_caller() -> None:
    # A request starts with no caller known: ``g`` outlives a request wherever an app
    # context is reused (tests, a command that serves requests), and must not carry one.
    g.pop("staff", None)


def register_web_session(app: Flask) -> None:
    app.permanent_session_lifetime = SESSION_LIFETIME
    app.before_request(forget_caller)
    app.before_request(check_csrf)
    app.jinja_env.globals.update(csrf_token=csrf_token, current_staff=current_staff)
