"""Which process a Prometheus multiprocess file belongs to.

prometheus_client names each process's files after its PID (`counter_<pid>.db`). The containers of
one host share the metrics folder (docker-compose.yml's `metrics` volume: web, workers and beat sum
their counters through it), and every container has its own PID namespace: gunicorn's worker 7 and
a Celery pool child 7 would write the same file at the same offsets and corrupt each other's
counters. The identifier is therefore `<hostname>-<pid>` (a container's hostname is its id), set
up by `install()` before any metric is created.
"""

from __future__ import annotations

import os
import re
import socket

HOST = re.sub(r"[^A-Za-z0-9.-]", "-", socket.gethostname()) or "host"


def process_identifier(pid: int | None = None) -> str:
    """`<hostname>-<pid>` of this process (or of `pid`, e.g. a gunicorn worker that exited)."""
    return f"{HOST}-{os.getpid() if pid is None else pid}"


def install() -> None:
    """Name the multiprocess files by `process_identifier` (a no-op outside multiprocess mode)."""
    from prometheus_client import values

    if getattr(values.ValueClass, "_multiprocess", False) and not getattr(values.ValueClass, "_imperium", False):
        values.ValueClass = values.MultiProcessValue(process_identifier=process_identifier)
        values.ValueClass._imperium = True
