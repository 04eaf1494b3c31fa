"""``/sign-in`` and ``/sign-out`` for staff."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from engage.audit.services import record_event
from engage.auth.services import SignInRefused, SignInThrottled, authenticate
from engage.auth.web import current_staff, sign_in_session, sign_out_session
from engage.db import unit_of_work

bp = Blueprint("auth", __name__)
log = logging.getLogger("engage.auth")


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return url_for("auth.home")
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else url_for("auth.home")


@bp.get("/")
def home() -> Response | str:
    user = current_staff()
    if user is None:
        return redirect(url_for("auth.sign_in"))
    return render_template("auth/home.html", user=user)


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in() -> Response | tuple[str, int] | str:
    next_page = safe_next(request.values.get("next"))
    if request.method == "GET":
        if current_staff() is not None:
            return redirect(next_page)
        return render_template("auth/sign_in.html", next_page=next_page, problem=None)
    email = request.form.get("email", "")
    password = request.form.get("password", "")
    # The attempt is committed whatever its outcome: failures are what throttling counts.
    problem: str | None
    with unit_of_work():
        try:
            user = authenticate(email, password, request.remote_addr or "unknown")
        except SignInThrottled as throttled:
            log.warning("sign-in throttled from %s", request.remote_addr)  # never the e-mail
            problem, status = str(throttled).capitalize() + ".", 429
        except SignInRefused:
            problem, status = "Wrong e-mail or password.", 401
        else:
            record_event(user, "sign_in")
            problem, status = None, 302
    if problem is not None:
        page = render_template("auth/sign_in.html", next_page=next_page, problem=problem)
        return page, status
    sign_in_session(user)
    return redirect(next_page)


@bp.post("/sign-out")
def sign_out() -> Response:
    user = current_staff()
    if user is not None:
        with unit_of_work():
            record_event(user, "sign_out")
    sign_out_session()
    return redirect(url_for("auth.sign_in"))
