"""Process-local event counters and rate-limited log lines for events too frequent to log each time.

Refused webhook calls from the internet must not write an ErrorLog row (with a traceback) per
request, nor a log line per request: anyone can send hundreds a second. They bump a counter here
and log at most one line per `every` seconds per key, saying how many were counted since.

Counters are per process (the web server forks several); a scrape endpoint can expose
`counters_snapshot()` of the process that answers it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

_counts: Counter[str] = Counter()
_since_logged: Counter[str] = Counter()
_logged_at: dict[str, float] = {}
_lock = threading.Lock()


def counter_inc(name: str, amount: int = 1) -> None:
    with _lock:
        _counts[name] += amount


def counters_snapshot() -> dict[str, int]:
    with _lock:
        return dict(_counts)


def count_and_log(logger: logging.Logger, name: str, message: str, *args: object, every: float = 60.0,
                  level: int = logging.WARNING) -> None:
    """Count one `name` event; log `message` (plus how many since the last line) at most once per `every` s."""
    now = time.monotonic()
    with _lock:
        _counts[name] += 1
        _since_logged[name] += 1
        if now - _logged_at.get(name, -1e9) < every:
            return
        _logged_at[name] = now
        count = _since_logged.pop(name)
    logger.log(level, message + " (%d such since the last line)", *args, count)
