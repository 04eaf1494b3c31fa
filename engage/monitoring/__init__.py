"""Watching engage run: Prometheus metrics, structured logs, readiness of scheduler processes."""
