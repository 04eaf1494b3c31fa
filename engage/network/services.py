"""Creating and finding networks, centers and staff. Services flush, never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

import sqlalchemy as sa

from engage.db import db
from engage.errors import InvalidInput
from engage.network.models import Center, Network, StaffRole, StaffUser
from engage.phones import normalise_phone
from engage.timezones import check_time_zone


def add_network(slug: str, name: str) -> Network:
    if db.session.scalar(sa.select(Network.id).where(Network.slug == slug)) is not None:
        raise InvalidInput("network", slug, "already exists")
    network = Network(slug=slug, name=name)
    db.session.add(network)
    db.session.flush()
    return network


def add_center(
    network: Network, *, code: str, name: str, time_zone: str, family_phone: str | None = None
) -> Center:
    code = code.strip().upper()
    if find_center(code) is not None:
        raise InvalidInput("code", code, "is already the code of another center")
    center = Center(
        network=network,
        code=code,
        name=name,
        time_zone=check_time_zone(time_zone),
        family_phone=normalise_phone(family_phone, "family_phone") if family_phone else None,
    )
    db.session.add(center)
    db.session.flush()
    return center


def set_quiet_hours(center: Center, start: time, end: time) -> Center:
    """No scheduled message reaches the center's families between ``start`` and ``end``."""
    if start == end:
        raise InvalidInput(
            "quiet_hours", f"{start:%H:%M}-{end:%H:%M}", "is empty: give two different times"
        )
    center.quiet_hours_start, center.quiet_hours_end = start, end
    return center


def find_center(code: str) -> Center | None:
    return db.session.scalar(sa.select(Center).where(Center.code == code.strip().upper()))


def get_center(code: str) -> Center:
    """The center with this code, or an error that says which code is unknown."""
    center = find_center(code)
    if center is None:
        raise InvalidInput("center", code, "is not the code of a known center")
    return center


def add_staff_user(
    *, email: str, full_name: str, role: StaffRole, centers: Iterable[Center] = ()
) -> StaffUser:
    email = email.strip().lower()
    if "@" not in email.strip("@"):
        raise InvalidInput("email", email, "is not an e-mail address")
    if find_staff_user(email) is not None:
        raise InvalidInput("email", email, "already belongs to a staff user")
    user = StaffUser(email=email, full_name=full_name, role=role, centers=list(centers))
    db.session.add(user)
    db.session.flush()
    return user


def find_staff_user(email: str) -> StaffUser | None:
    return db.session.scalar(sa.select(StaffUser).where(StaffUser.email == email.strip().lower()))
