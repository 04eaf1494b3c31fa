"""Patients, their caregivers and the phone numbers that reach them."""
