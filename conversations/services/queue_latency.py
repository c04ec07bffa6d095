"""How long turn tasks wait in the broker queue right now, as the workers see it.

The outbox sweeper queues a due conversation again when its turn task was queued "long ago" and
has not run — a lost broker message or a killed worker. Under a backlog "long ago" must mean
longer than the queue itself takes: with a fixed threshold every waiting turn is queued again
each sweep, the queue grows with copies and the backlog makes itself worse. So each worker
reports the latency it observed when it claimed a turn (now − when it was due and queued), the
cache keeps the latest, and the sweeper waits at least twice that before calling a task lost.

No recent observation (idle or dead workers) means no backlog evidence: the fixed
OUTBOX_REDISPATCH_SECONDS applies. A cache that fails means the same.
"""

from __future__ import annotations

import time
from datetime import datetime

from django.conf import settings
from django.core.cache import cache

_FRESH_SECONDS = 120.0  # an observation older than this says nothing about the queue now
_NOTABLE_EVERY_SECONDS = 1.0
_last_written = -1e9  # monotonic time of this process's last write


def queue_latency_observe(*, queued_at: datetime | None, due_at: datetime | None, now: datetime) -> None:
    """Called by a worker that has just claimed a turn. Cheap: written at most every 10 s per
    process while the queue is short, and at most once a second while the latency is notable
    (a backlog is when turns come fastest: a cache write per turn cost ~5 % of a turn's CPU,
    docs/BENCHMARKS.md; the sweeper reads it every OUTBOX_SWEEP_SECONDS)."""
    global _last_written
    if queued_at is None:
        return
    started_waiting = max(queued_at, due_at) if due_at is not None else queued_at
    latency = max(0.0, (now - started_waiting).total_seconds())
    monotonic = time.monotonic()
    since = monotonic - _last_written
    if since < _NOTABLE_EVERY_SECONDS or (latency < settings.OUTBOX_REDISPATCH_SECONDS / 4 and since < 10):
        return
    _last_written = monotonic
    try:
        cache.set(settings.TURN_QUEUE_LATENCY_CACHE_KEY, {"latency": latency, "at": now.timestamp()}, timeout=int(_FRESH_SECONDS * 2))
    except Exception:  # the cache is an optimisation here
        return


def queue_latency_estimate(*, now: datetime) -> float:
    """Seconds turn tasks wait in the queue now (0 when nothing recent is known)."""
    try:
        value = cache.get(settings.TURN_QUEUE_LATENCY_CACHE_KEY)
    except Exception:
        return 0.0
    if not value or now.timestamp() - value["at"] > _FRESH_SECONDS:
        return 0.0
    return float(value["latency"])


def redispatch_after_seconds(*, now: datetime) -> float:
    """How long after queueing a task the sweeper may call it lost: OUTBOX_REDISPATCH_SECONDS, or
    twice the queue latency workers report now, whichever is longer."""
    return max(float(settings.OUTBOX_REDISPATCH_SECONDS), 2 * queue_latency_estimate(now=now) + 5)
