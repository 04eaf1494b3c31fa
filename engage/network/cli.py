"""``flask engage network`` and ``flask engage center``."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import AppGroup

from engage.cli import command_unit_of_work, load_input
from engage.db import db
from engage.errors import InvalidInput
from engage.network.models import Network
from engage.network.schemas import NewCenterSchema, NewNetworkSchema
from engage.network.services import add_center, add_network, find_center, set_quiet_hours

network_cli = AppGroup("network", help="Networks.")
center_cli = AppGroup("center", help="Care centers.")


@network_cli.command("add")
@click.argument("slug")
@click.argument("name")
def add_network_command(slug: str, name: str) -> None:
    """Add a network with a short SLUG and a display NAME."""
    values = load_input(NewNetworkSchema(), {"slug": slug, "name": name})
    with command_unit_of_work():
        network = add_network(**values)
    click.echo(f"network {network.slug} added")


@center_cli.command("add")
@click.argument("code")
@click.option("--name", required=True, help="Name families know the center by.")
@click.option("--time-zone", required=True, help="IANA time zone, e.g. America/Chicago.")
@click.option("--family-phone", help="The number families call.")
@click.option("--network", "network_slug", help="Network slug (needed when there are several).")
def add_center_command(
    code: str, name: str, time_zone: str, family_phone: str | None, network_slug: str | None
) -> None:
    """Add a care center with a short CODE (used by imports and other commands)."""
    values = load_input(
        NewCenterSchema(),
        {
            "code": code,
            "name": name,
            "time_zone": time_zone,
            "family_phone": family_phone,
            "network": network_slug,
        },
    )
    with command_unit_of_work():
        network = choose_network(values.pop("network"))
        center = add_center(network, **values)
    click.echo(f"center {center.code} added ({center.time_zone})")


@center_cli.command("quiet-hours")
@click.argument("code")
@click.argument("hours", metavar="HH:MM-HH:MM")
def quiet_hours_command(code: str, hours: str) -> None:
    """Set the local night when no scheduled message reaches the center's families."""
    from engage.scheduling.schedules import parse_local_time

    with command_unit_of_work():
        center = find_center(code)
        if center is None:
            raise InvalidInput("code", code, "is not a known center")
        start_text, separator, end_text = hours.partition("-")
        if not separator:
            raise InvalidInput("quiet_hours", hours, "is not a range such as 21:00-08:00")
        set_quiet_hours(center, parse_local_time(start_text), parse_local_time(end_text))
        click.echo(
            f"center {center.code}: quiet from {center.quiet_hours_start:%H:%M} "
            f"to {center.quiet_hours_end:%H:%M} ({center.time_zone})"
        )


def choose_network(slug: str | None) -> Network:
    networks = list(db.session.scalars(sa.select(Network).order_by(Network.slug)))
    if slug is not None:
        for network in networks:
            if network.slug == slug:
                return network
        raise InvalidInput("network", slug, "is not a known network")
    if len(networks) == 1:
        return networks[0]
    if not networks:
        raise InvalidInput("network", None, "is missing: add one with `flask engage network add`")
    raise InvalidInput(
        "network", None, "is ambiguous: choose one of " + ", ".join(n.slug for n in networks)
    )
