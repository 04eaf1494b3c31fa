"""Exports: the de-identified network registry and the FHIR R4 bulk export of one center."""
