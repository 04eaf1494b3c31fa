"""Liveness of the service and of its database."""
