"""``flask engage patient`` and ``flask engage caregiver``."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from engage.cli import command_unit_of_work, load_input
from engage.errors import InvalidInput
from engage.network.services import get_center
from engage.people.schemas import NewCaregiverSchema, NewPatientSchema
from engage.people.services import (
    add_caregiver,
    add_contact,
    add_patient,
    find_contact,
    find_patient,
    link_caregiver,
)

patient_cli = AppGroup("patient", help="Patients.")
caregiver_cli = AppGroup("caregiver", help="Caregivers.")


@patient_cli.command("add")
@click.option("--center", required=True, help="Center code.")
@click.option("--mrn", required=True, help="Medical record number, unique within the center.")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--date-of-birth", required=True, help="YYYY-MM-DD")
@click.option(
    "--diagnosis", required=True, help="crohns_disease, ulcerative_colitis or ibd_unclassified"
)
@click.option("--language", "preferred_language", help="en or es (default en)")
@click.option("--time-zone", help="IANA time zone when it differs from the center's.")
@click.option("--phone", help="The patient's own mobile number.")
def add_patient_command(**options: str | None) -> None:
    """Add a patient to a center."""
    values = load_input(NewPatientSchema(), options)
    with command_unit_of_work():
        center = get_center(values.pop("center"))
        phone = values.pop("phone")
        patient = add_patient(center, **values)
        if phone:
            add_contact(patient, phone)
    click.echo(f"patient {patient.mrn} added at {center.code}")


@caregiver_cli.command("add")
@click.option("--center", required=True, help="Center code of the patient.")
@click.option("--mrn", required=True, help="MRN of the patient cared for.")
@click.option("--given-name", required=True)
@click.option("--family-name", required=True)
@click.option("--relationship", required=True, help="parent, guardian, grandparent, sibling, other")
@click.option(
    "--proxy/--no-proxy",
    "may_answer_as_proxy",
    default=True,
    show_default=True,
    help="May answer check-ins for the patient.",
)
@click.option("--language", "preferred_language", help="en or es (default en)")
@click.option("--phone", required=True)
def add_caregiver_command(**options: object) -> None:
    """Add a caregiver to a patient; a phone already on file links that caregiver instead."""
    values = load_input(NewCaregiverSchema(), options)
    with command_unit_of_work():
        patient = find_patient(get_center(values["center"]), values["mrn"])
        if patient is None:
            raise InvalidInput("mrn", values["mrn"], f"is not a patient at {values['center']}")
        contact = find_contact(values["phone"])
        if contact is not None and contact.caregiver is None:
            raise InvalidInput("phone", values["phone"], "already belongs to a patient")
        if contact is not None and contact.caregiver is not None:
            caregiver = contact.caregiver
        else:
            caregiver = add_caregiver(
                given_name=values["given_name"],
                family_name=values["family_name"],
                preferred_language=values["preferred_language"],
            )
            add_contact(caregiver, values["phone"])
        link_caregiver(
            caregiver,
            patient,
            relationship=values["relationship"],
            may_answer_as_proxy=values["may_answer_as_proxy"],
        )
    click.echo(f"caregiver {caregiver.display_name} linked to {patient.mrn}")
