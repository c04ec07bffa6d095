"""How long tasks wait in the broker queue right now, as the workers see it.

The outbox sweeper queues work again when its task was queued "long ago" and has not run — a
lost broker message or a killed worker. Under a backlog "long ago" must mean longer than the
queue itself takes: with a fixed threshold every waiting turn is queued again each sweep, the
queue grows with copies and the backlog makes itself worse. So each worker reports the latency it
observed when it claimed work (now − when it was due and queued: the dispatch marker the row
keeps, `Conversation.dispatched_at`, `Escalation.notify_dispatched_at`), and the sweeper waits at
least twice that before calling a task lost.

Two kinds, because they wait on different queues: `turns` (the tenant's channel queue: turns and
deliveries) and `notices` (the `default` queue: manager notifications). The cache keeps, per kind,
the largest latency reported in each 30 s bucket; the estimate is the largest of the last
FRESH_SECONDS. A worker or process reporting a short queue therefore cannot hide another worker's
long one, and when a backlog clears the estimate falls back within FRESH_SECONDS.

What is still in the broker is not lost, whatever the latency says (no worker may be running to
report any): on a Redis broker the task ids carry their publish time (`time_ordered_task_id`) and
`queues_waiting_since` reads the oldest one waiting in each queue; work queued at or after it is
still in that queue (taken in order), and the sweeper leaves it alone. Tasks a worker has already
taken from the list (held for their ETA, or waiting for a free pool process) are not visible
there: for those the latency rule decides.

Work the queue has visibly passed is lost, however long the queue: workers also report the
latest due time among what they claim (the watermark, `queue_watermark`); a row due and queued
more than OUTBOX_REDISPATCH_SECONDS before it and still unclaimed, although later work was served,
lost its task (it died with a killed worker) and is queued again without waiting twice the latency.

No recent observation (idle or dead workers) means no backlog evidence: the fixed
OUTBOX_REDISPATCH_SECONDS applies. A cache read that fails uses the last estimate this process
read within FRESH_SECONDS (a slow cache under load must not make the sweeper flood the queue).
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

TURNS = "turns"
NOTICES = "notices"

FRESH_SECONDS = 120.0  # an observation older than this says nothing about the queue now
_BUCKET_SECONDS = 30
# Per process and kind: (bucket key, (latency, watermark) known to be stored under it) — skips the
# cache when this observation cannot raise the bucket's values.
_written: dict[str, tuple[str, tuple[float, float]]] = {}
_NOTABLE_EVERY_SECONDS = 1.0
_last_written = -1e9  # monotonic time of this process's last write
# Per process and kind: (key prefix, monotonic time, estimate) of the last successful read.
_last_read: dict[str, tuple[str, float, float]] = {}


def _key(kind: str, bucket: int) -> str:
    return f"{settings.TURN_QUEUE_LATENCY_CACHE_KEY}:{kind}:{bucket}"


def queue_latency_observe(*, queued_at: datetime | None, due_at: datetime | None, now: datetime, kind: str = TURNS) -> None:
    """Called by a worker that has just claimed work queued at `queued_at` (due at `due_at`).
    Cheap: at most one cache read and write per second per process (a backlog is when work comes
    fastest: a cache write per turn cost ~5 % of a turn's CPU, docs/BENCHMARKS.md), and none while
    this process's bucket already holds at least this latency and watermark."""
    global _last_written
    if queued_at is None:
        return
    started_waiting = max(queued_at, due_at) if due_at is not None else queued_at
    latency = max(0.0, (now - started_waiting).total_seconds())
    # The watermark: the latest due time among the work claimed (taken in that order). The due
    # time, not the queueing: recovered work, queued again later and served first, keeps its old
    # due time and does not move the watermark past what still waits.
    watermark = (due_at or queued_at).timestamp()
    key = _key(kind, int(now.timestamp() // _BUCKET_SECONDS))
    known = _written.get(kind)
    if known is not None and known[0] == key and latency <= known[1][0] + 1 and watermark <= known[1][1] + 1:
        return
    monotonic = time.monotonic()
    if monotonic - _last_written < _NOTABLE_EVERY_SECONDS:
        return
    _last_written = monotonic
    try:
        stored = cache.get(key) or {}
        merged = (max(float(stored.get("l", 0.0)), latency), max(float(stored.get("w", 0.0)), watermark))
        if merged != (stored.get("l"), stored.get("w")):
            cache.set(key, {"l": merged[0], "w": merged[1]}, timeout=int(FRESH_SECONDS + 2 * _BUCKET_SECONDS))
        _written[kind] = (key, merged)
    except Exception:  # the cache is an optimisation here
        return


def _bucket_values(kind: str, now: datetime) -> list[dict]:
    newest = int(now.timestamp() // _BUCKET_SECONDS)
    buckets = range(newest - int(FRESH_SECONDS // _BUCKET_SECONDS), newest + 1)
    return [v for v in cache.get_many([_key(kind, b) for b in buckets]).values() if isinstance(v, dict)]


def queue_latency_estimate(*, now: datetime, kind: str = TURNS) -> float:
    """Seconds tasks of this kind wait in their queue now (0 when nothing recent is known)."""
    try:
        values = _bucket_values(kind, now)
    except Exception:
        last = _last_read.get(kind)
        if last is not None and last[0] == settings.TURN_QUEUE_LATENCY_CACHE_KEY and time.monotonic() - last[1] <= FRESH_SECONDS:
            return last[2]
        return 0.0
    estimate = max((float(v.get("l", 0.0)) for v in values), default=0.0)
    _last_read[kind] = (settings.TURN_QUEUE_LATENCY_CACHE_KEY, time.monotonic(), estimate)
    return estimate


def redispatch_after_seconds(*, now: datetime, kind: str = TURNS) -> float:
    """How long after queueing a task the sweeper may call it lost: OUTBOX_REDISPATCH_SECONDS, or
    twice the queue latency workers report now (plus 5 s), whichever is longer."""
    return max(float(settings.OUTBOX_REDISPATCH_SECONDS), 2 * queue_latency_estimate(now=now, kind=kind) + 5)


def queues_waiting_since(queues: tuple[str, ...], *, margin: timedelta = timedelta(0)) -> dict[str, datetime]:
    """Per queue, when the oldest task still waiting in the broker was published, minus `margin`
    — only for a plain Redis broker (elsewhere, or when the broker does not answer: nothing, and
    the latency rule alone decides). An empty queue is absent from the result."""
    from celery import current_app

    from imperium.core.celery_lpush import lpush_compatible, queue_oldest_publish

    app = current_app._get_current_object()
    if not lpush_compatible(app):
        return {}
    waiting: dict[str, datetime] = {}
    try:
        for queue in queues:
            published = queue_oldest_publish(app.conf.broker_url, queue)
            if published is not None:
                waiting[queue] = datetime.fromtimestamp(published, tz=UTC) - margin
    except Exception:  # the broker is down: nothing can be queued anyway
        logger.warning("could not read the broker queues; the sweeper relies on the latency rule", exc_info=True)
        return {}
    return waiting


def queue_watermark(*, now: datetime, kind: str = TURNS) -> datetime | None:
    """The latest due time among the work claimed recently, or None when no worker reported in
    FRESH_SECONDS. Work is taken in that order, so work due (and queued) well before it and still
    unclaimed was passed by the queue: lost."""
    try:
        values = _bucket_values(kind, now)
    except Exception:
        return None
    latest = max((float(v.get("w", 0.0)) for v in values), default=0.0)
    return datetime.fromtimestamp(latest, tz=UTC) if latest > 0 else None
