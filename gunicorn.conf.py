"""gunicorn settings for engage's web processes (gunicorn reads this file from the working
directory by default): ``gunicorn --bind 0.0.0.0:8000 --workers 4 wsgi:app``."""

import os
import tempfile
from pathlib import Path

# Each worker counts its own webhook latencies; prometheus-client's multiprocess mode adds
# every worker's figures up when /metrics is read. Set before any worker imports engage.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="engage-metrics-")

# engage writes one structured line per request itself (without query strings, which may
# carry personal data), so gunicorn's own access log stays off.
accesslog = None
# gunicorn 27's control socket has one default path per user: two gunicorns on a host would
# share it, and engage does not use it.
control_socket_disable = True


def on_starting(server):
    """Start from empty counters: files left by an earlier run would be added in."""
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()


def child_exit(server, worker):
    """A worker that exits stops counting towards live gauges."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
