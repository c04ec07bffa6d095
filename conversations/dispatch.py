"""Queueing pipeline work in Celery — always after commit, never as the only record of it.

Every function here is called from `transaction.on_commit` (or after a commit) with ids of rows
that already say what is due (`Conversation.reply_due_at`, `Turn.lease_expires_at`,
`OutboundMessage.status`, `Escalation.notified_at`). A publish that fails is logged and
dropped: the outbox sweeper finds the row and queues it again, so a broker outage only delays
work. Turn and delivery tasks go to the tenant's queue (`turn_queue_for`).

Recovered work is not starved: what the sweeper queues again (a task lost with a killed worker, a
delivery whose retry time came) is published with `front=True` — on a Redis broker it is pushed
at the end of the list workers pop from (RPUSH; kombu restores unacknowledged messages the same
way), so it is taken next instead of waiting behind the fresh backlog it is older than.

`inline()` runs due work in the calling process instead (POST /admin/outbox/process with
`inline`, tests); work due in the future is then left to the sweeper.
"""

from __future__ import annotations

import contextvars
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from django.utils import timezone

logger = logging.getLogger(__name__)

_inline: contextvars.ContextVar[bool] = contextvars.ContextVar("conversations_dispatch_inline", default=False)


@contextmanager
def inline() -> Iterator[None]:
    token = _inline.set(True)
    try:
        yield
    finally:
        _inline.reset(token)


def is_inline() -> bool:
    return _inline.get()


_local = threading.local()


def _producer(app: Any) -> Any:
    """One kombu producer per process and thread, kept for its lifetime (acquiring one per
    message costs more than the publish)."""
    producer = getattr(_local, "producer", None)
    if producer is None or getattr(_local, "pid", None) != os.getpid():
        producer = _local.producer = app.producer_pool.acquire(block=True)
        _local.pid = os.getpid()
    return producer


def _drop_producer() -> None:
    producer, _local.producer = getattr(_local, "producer", None), None
    if producer is not None:
        try:
            producer.release()
        except Exception:  # a broken connection may fail to release; it is discarded anyway
            logger.debug("could not release a broken producer", exc_info=True)


def _publish(task_name: str, args: list[Any], *, queue: str, eta: datetime | None = None, front: bool = False) -> None:
    """Send one task message (Celery protocol 2, `before_task_publish` signals included).

    Builds the message directly instead of `send_task`, which does routing, result and
    parent-task bookkeeping this pipeline does not use; on a Redis broker it is one LPUSH.
    Kept small so tests can replace it and observe what was queued. `front`: taken before the
    tasks already waiting (Redis broker; other brokers queue it at the back as usual).
    """
    from celery import current_app

    from imperium.core.celery_lpush import celery_lpush, lpush_compatible, time_ordered_task_id

    app = current_app._get_current_object()  # the project's app: `imperium/__init__.py` creates it first

    # argsrepr/kwargsrepr given: Celery's saferepr of a list of ids costs more than the rest of the
    # message (these args are ids and tokens, short by construction). The id carries the publish
    # time: the sweeper reads it from the messages still waiting (services/queue_latency.py).
    message = app.amqp.as_task_v2(
        time_ordered_task_id(), task_name, args=list(args), kwargs={}, eta=eta if eta is not None and eta > timezone.now() else None,
        argsrepr=repr(list(args)), kwargsrepr="{}",
    )
    broker_url = app.conf.broker_url or ""
    if lpush_compatible(app):
        celery_lpush(broker_url, queue, task_name, message, front=front)  # one LPUSH on a kept connection (measured: docs/BENCHMARKS.md)
        return
    for attempt in (1, 2):
        try:
            app.amqp.send_task_message(_producer(app), task_name, message, queue=queue, retry=False)
            return
        except Exception:
            _drop_producer()  # a dead connection: one more try on a fresh one
            if attempt == 2:
                raise


def _send(task_name: str, args: list[Any], *, queue: str, eta: datetime | None, run_inline: Callable[[], Any],
          front: bool = False) -> None:
    if _inline.get():
        if eta is not None and eta > timezone.now():
            return  # not due yet: the sweeper queues it when it is
        run_inline()
        return
    try:
        if front:
            _publish(task_name, args, queue=queue, eta=eta, front=True)
        else:
            _publish(task_name, args, queue=queue, eta=eta)
    except Exception:  # broker down: the row stays due and the sweeper re-queues it
        logger.exception("could not queue %s%s; the outbox sweeper will retry", task_name, args)


def turn_queue_for(tenant: Any, *, fresh: bool = True) -> str:
    """Celery queue for this tenant's customer work: its release channel ("stable" or "canary"),
    so canary tenants are served by workers running the canary image.

    `fresh=True` reads the channel from the database (one small query). The webhook passes
    `fresh=False` and uses its cached tenant (at most WEBHOOK_TENANT_CACHE_SECONDS old): that
    query would cost a third of the webhook's time, and a turn that lands on the wrong queue
    right after a flip is re-routed before it is processed (`services.turns.turn_run_now`)."""
    from tenants.selectors import channel_queue, tenant_channel

    if not fresh:
        tenant_settings = getattr(tenant, "settings", None)
        if tenant_settings is not None:
            return channel_queue(tenant_settings.release_channel)
    return channel_queue(tenant_channel(tenant))


def dispatch_turn(*, conversation_id: int, tenant: Any, eta: datetime | None = None, fresh: bool = True, front: bool = False) -> None:
    """Queue a conversation's turn on its tenant's channel queue (`fresh=False`: the caller's
    possibly cached tenant decides; the worker re-routes a stale choice: the claim's MISROUTED check)."""
    dispatch_turn_to_queue(conversation_id=conversation_id, queue=turn_queue_for(tenant, fresh=fresh), eta=eta, front=front)


def dispatch_turn_to_queue(*, conversation_id: int, queue: str, eta: datetime | None = None, front: bool = False) -> None:
    from conversations.services.turns import turn_run_now

    _send("conversations.turn_run", [conversation_id], queue=queue, eta=eta, run_inline=lambda: turn_run_now(conversation_id),
          front=front)


def dispatch_turn_resume(*, turn_id: int, claim_token: str, tenant: Any) -> None:
    """Only the sweeper resumes turns (their worker died): always recovered work, at the front."""
    from conversations.services.turns import turn_resume_now

    _send("conversations.turn_resume", [turn_id, claim_token], queue=turn_queue_for(tenant), eta=None,
          run_inline=lambda: turn_resume_now(turn_id, claim_token), front=True)


def dispatch_delivery(*, outbound_id: int, tenant: Any, eta: datetime | None = None, front: bool = False) -> None:
    from conversations.services.delivery import outbound_deliver

    _send("conversations.outbound_deliver", [outbound_id], queue=turn_queue_for(tenant), eta=eta,
          run_inline=lambda: outbound_deliver(outbound_id=outbound_id), front=front)


def dispatch_escalation_notify(*, escalation_id: int, front: bool = False) -> None:
    from conversations.services.handover import escalation_notify

    _send("conversations.escalation_notify", [escalation_id], queue="default", eta=None,
          run_inline=lambda: escalation_notify(escalation_id=escalation_id), front=front)


def dispatch_forward_notify(*, turn_id: int, front: bool = False) -> None:
    from conversations.services.handover import turn_forward_notify

    _send("conversations.turn_forward_notify", [turn_id], queue="default", eta=None,
          run_inline=lambda: turn_forward_notify(turn_id=turn_id), front=front)


def dispatch_handover_learn(*, conversation_id: int) -> None:
    from conversations.services.learning import handover_learn

    _send("conversations.handover_learn", [conversation_id], queue="default", eta=None,
          run_inline=lambda: handover_learn(conversation_id=conversation_id))


def dispatch_answer_notify(*, turn_id: int) -> None:
    from conversations.services.handover import turn_answer_notify

    _send("conversations.answer_notify", [turn_id], queue="default", eta=None, run_inline=lambda: turn_answer_notify(turn_id=turn_id))
