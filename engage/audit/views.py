"""``/admin/audit``: administrators read and filter the audit log (nothing here changes it)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa
from flask import Blueprint, flash, render_template, request

from engage.audit.services import AuditFilter, list_events
from engage.auth.web import staff_required
from engage.db import db
from engage.network.models import StaffRole, StaffUser
from engage.network.services import find_staff_user

bp = Blueprint("audit", __name__, url_prefix="/admin")


@bp.get("/audit")
@staff_required(StaffRole.ADMIN)
def audit_log() -> str:
    criteria = AuditFilter(action=request.args.get("action") or None, limit=500)
    staff_email = request.args.get("staff", "").strip()
    if staff_email:
        user = find_staff_user(staff_email)
        if user is None:
            flash(f"staff: {staff_email!r} is not a staff user", "problem")
        criteria = replace(criteria, staff_user_id=user.id if user else -1)
    patient_text = request.args.get("patient", "").strip()
    if patient_text:
        if patient_text.isdigit():
            criteria = replace(criteria, patient_id=int(patient_text))
        else:
            flash(f"patient: {patient_text!r} is not a patient id (a number)", "problem")
    since_text = request.args.get("since", "").strip()
    if since_text:
        try:
            since = datetime.fromisoformat(since_text).replace(tzinfo=UTC)
            criteria = replace(criteria, since=since)
        except ValueError:
            flash(f"since: {since_text!r} is not a date in the form YYYY-MM-DD", "problem")
    events = list_events(criteria)
    emails = {
        row.id: row.email for row in db.session.execute(sa.select(StaffUser.id, StaffUser.email))
    }
    return render_template("audit/list.html", events=events, emails=emails, args=request.args)
