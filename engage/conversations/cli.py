"""``flask engage checkin start`` and ``flask engage chat``: try check-ins without Twilio."""

from __future__ import annotations

import uuid
from xml.etree import ElementTree

import click
import sqlalchemy as sa
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from engage.cli import command_unit_of_work
from engage.conversations.services import open_checkin
from engage.db import db
from engage.errors import InvalidInput
from engage.instruments.services import get_instrument
from engage.messaging.models import Message, MessageStatus
from engage.network.models import Center
from engage.people.models import Contact, Patient
from engage.phones import normalise_phone

checkin_cli = AppGroup("checkin", help="Check-ins.")

SIMULATED_SERVICE_PHONE = "+15005550006"


def find_patient_by_reference(reference: str) -> Patient:
    """``E-1001`` when the MRN is unique across centers, else ``EAST/E-1001``."""
    center_code, _, mrn = reference.rpartition("/")
    query = sa.select(Patient).where(Patient.mrn == mrn.strip())
    if center_code:
        query = query.join(Center).where(Center.code == center_code.strip().upper())
    patients = list(db.session.scalars(query))
    if not patients:
        raise InvalidInput("patient", reference, "is not a known MRN (use CENTER/MRN)")
    if len(patients) > 1:
        raise InvalidInput("patient", reference, "is an MRN at several centers: use CENTER/MRN")
    return patients[0]


@checkin_cli.command("start")
@click.argument("patient_reference", metavar="PATIENT")
@click.argument("instrument_id", metavar="INSTRUMENT")
def start_command(patient_reference: str, instrument_id: str) -> None:
    """Open a check-in now for PATIENT (MRN or CENTER/MRN) with INSTRUMENT."""
    with command_unit_of_work():
        patient = find_patient_by_reference(patient_reference)
        try:
            instrument = get_instrument(instrument_id)
        except KeyError as error:
            raise InvalidInput("instrument", instrument_id, "is not a loaded instrument") from error
        checkin = open_checkin(patient, instrument)
        queued = db.session.scalar(
            sa.select(sa.func.count()).select_from(Message).where(Message.checkin_id == checkin.id)
        )
        summary = (
            f"check-in {checkin.id} opened for {patient.mrn} ({instrument.label}), "
            f"answered by {checkin.contact.phone} as {checkin.respondent_role.value}; "
            f"{queued} message(s) in the outbox"
        )
    click.echo(summary)
    if not queued:
        click.echo("its questions follow when the check-in already open on that phone ends")


@click.command("chat")
@click.argument("phone")
@with_appcontext
def chat_command(phone: str) -> None:
    """Text engage as PHONE from this terminal, through the real webhook code path."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    try:
        number = normalise_phone(phone, "phone")
    except InvalidInput as error:
        raise click.ClickException(str(error)) from None
    contact = db.session.scalar(sa.select(Contact).where(Contact.phone == number))
    who = contact.owner_name if contact else "a number engage does not know"
    click.echo(f"Texting engage as {number} ({who}). Type a reply; /quit or Ctrl-D to leave.")
    shown: set[int] = set()
    show_outbox(number, shown)
    client = app.test_client()
    while True:
        try:
            text = click.prompt("you", prompt_suffix="> ", default="", show_default=False)
        except (EOFError, click.Abort):
            click.echo("")
            break
        if text.strip() in ("/quit", "/exit"):
            break
        for line in send(app, client, number, text):
            click.secho(f"engage> {line}", fg="green")
        show_outbox(number, shown)


def send(app: Flask, client: FlaskClient, number: str, text: str) -> list[str]:
    """POST one text to /twilio/sms as Twilio would, signed when a token is configured."""
    config = app.config
    params = {
        "MessageSid": "SM" + uuid.uuid4().hex,
        "AccountSid": config.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32,
        "From": number,
        "To": config.get("TWILIO_FROM_NUMBER") or SIMULATED_SERVICE_PHONE,
        "Body": text,
        "NumMedia": "0",
    }
    headers = {}
    token = config.get("TWILIO_AUTH_TOKEN")
    if token:
        url = (config.get("PUBLIC_BASE_URL") or "http://localhost") + "/twilio/sms"
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(url, params)
    response = client.post("/twilio/sms", data=params, headers=headers)
    if response.status_code != 200:
        return [f"(HTTP {response.status_code}) {response.get_data(as_text=True).strip()}"]
    root = ElementTree.fromstring(response.get_data(as_text=True))
    return [element.text or "" for element in root.iter("Message")]


def show_outbox(number: str, shown: set[int]) -> None:
    """Print outbox messages for this phone that the sender has not sent yet."""
    db.session.expire_all()
    messages = db.session.scalars(
        sa.select(Message)
        .where(Message.phone == number, Message.status == MessageStatus.QUEUED)
        .order_by(Message.id)
    )
    for message in messages:
        if message.id not in shown:
            shown.add(message.id)
            for line in message.body.splitlines() or [""]:
                click.secho(f"engage (outbox)> {line}", fg="cyan")
    db.session.rollback()
