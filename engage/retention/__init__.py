"""Retention: what engage stops keeping, and when (``flask engage purge`` and an hourly job)."""
