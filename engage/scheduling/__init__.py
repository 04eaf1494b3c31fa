"""Enrollments and their schedules, and the dispatcher that opens due check-ins."""
