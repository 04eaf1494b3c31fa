"""Alerts: red flags the care team must acknowledge."""
