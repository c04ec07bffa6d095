"""Publishing a Celery task to a Redis broker with one LPUSH on a kept connection.

kombu's Redis transport builds a new client object for every message, which costs more CPU than
the rest of the webhook (docs/BENCHMARKS.md). `celery_lpush` writes the same envelope kombu would
store, on the connection `imperium.core.redisline` keeps per process. The envelope copies kombu's
format: `conversations/tests/test_dispatch.py` compares it with kombu's own and has a real worker
consume it, and `imperium/core/tests/test_celery_lpush.py` pins the kombu version it was checked
against, so an upgrade is a deliberate re-check.
"""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from typing import Any

KOMBU_VERSION_CHECKED = "5.7.0"


def kombu_redis_envelope(queue: str, task_name: str, message: Any) -> dict[str, Any]:
    """The task message (`app.amqp.as_task_v2(...)`) as kombu's Redis transport stores it (body
    base64-encoded JSON, delivery info for the anonymous exchange), after Celery's
    `before_task_publish` signal has run."""
    from celery import signals

    headers, properties, body = dict(message.headers), dict(message.properties), message.body
    signals.before_task_publish.send(sender=task_name, body=body, exchange="", routing_key=queue, headers=headers,
                                     properties=properties, declare=[], retry_policy={})
    properties.update(
        delivery_mode=2, delivery_info={"exchange": "", "routing_key": queue}, priority=0, body_encoding="base64",
        delivery_tag=str(uuid.uuid4()),
    )
    return {
        "body": base64.b64encode(json.dumps(body).encode()).decode(),
        "content-encoding": "utf-8",
        "content-type": "application/json",
        "headers": headers,
        "properties": properties,
    }


# Broker transport options that do not change where or how kombu's Redis transport stores a
# message; any other (global_keyprefix, priority steps, sep, ...) sends publishing through kombu.
_LPUSH_NEUTRAL_OPTIONS = frozenset({
    "visibility_timeout", "socket_timeout", "socket_connect_timeout", "socket_keepalive", "socket_keepalive_options",
    "health_check_interval", "retry_on_timeout", "max_connections", "polling_interval", "unacked_restore_limit",
    "fanout_prefix", "fanout_patterns", "client_name",
})


def lpush_compatible(app: Any) -> bool:
    """True when the broker is one plain Redis URL whose queues are plain lists, so the one-LPUSH
    publish writes exactly what kombu would; Sentinel (`sentinel://`), failover lists
    (`redis://a;redis://b`), broker_use_ssl and key-changing transport options use kombu's producer."""
    url = app.conf.broker_url or ""
    if not url.startswith(("redis://", "rediss://")) or ";" in url:
        return False
    if app.conf.broker_use_ssl:
        return False
    options = app.conf.broker_transport_options or {}
    return set(options) <= _LPUSH_NEUTRAL_OPTIONS


def celery_lpush(broker_url: str, queue: str, task_name: str, message: Any, *, front: bool = False) -> None:
    """Put a Celery task message straight into a Redis broker queue (one LPUSH).

    `front=True`: RPUSH instead, at the end workers pop from (kombu's BRPOP), so the message is
    taken before every message already waiting — how kombu itself restores an unacknowledged
    message (`Channel._do_restore_message`, leftmost=False)."""
    from django.conf import settings

    from imperium.core.redisline import RedisLine

    # WEBHOOK_REDIS_TIMEOUT: a hung broker costs the webhook a bounded wait; the sweeper queues the turn.
    line = RedisLine.for_url(broker_url, timeout=settings.WEBHOOK_REDIS_TIMEOUT)
    envelope = json.dumps(kombu_redis_envelope(queue, task_name, message))
    if front:
        line.rpush(queue, envelope)
    else:
        line.lpush(queue, envelope)


def time_ordered_task_id(now: float | None = None) -> str:
    """A task id that is a UUIDv7 (RFC 9562): the publish time in its first 48 bits (ms), random
    after. Still a plain UUID to Celery; the outbox sweeper reads the time back from the messages
    waiting in a queue (`queue_oldest_publish`)."""
    ms = int((time.time() if now is None else now) * 1000) & ((1 << 48) - 1)
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms << 80) | (0x7 << 76) | (((rand >> 62) & 0xFFF) << 64) | (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def task_id_time(task_id: Any) -> float | None:
    """The publish time (epoch seconds) of a `time_ordered_task_id`; None for any other id."""
    try:
        parsed = uuid.UUID(str(task_id))
    except ValueError:
        return None
    return (parsed.int >> 80) / 1000 if parsed.version == 7 else None


def queue_oldest_publish(broker_url: str, queue: str, *, window: int = 50) -> float | None:
    """When the oldest message about to be taken from a Redis broker queue was published (epoch
    seconds): the smallest time-ordered id among the `window` messages at the end workers pop
    from. None when the queue is empty or holds no time-ordered id there.

    Messages are taken in the order they were pushed, except recovered ones pushed to the front
    (`celery_lpush(front=True)`), which are newer than what waits behind them — hence the minimum
    over a window rather than the last message alone."""
    from django.conf import settings

    from imperium.core.redisline import RedisLine

    line = RedisLine.for_url(broker_url, timeout=settings.REDIS_SOCKET_TIMEOUT)
    times = []
    for raw in line.execute("LRANGE", queue, -window, -1) or []:
        try:
            published = task_id_time(json.loads(raw)["headers"]["id"])
        except (ValueError, KeyError, TypeError):
            continue
        if published is not None:
            times.append(published)
    return min(times) if times else None
