"""Appointments at a center; pre-visit check-ins are scheduled relative to them."""
