"""Queueing pipeline work in Celery — always after commit, never as the only record of it.

Every function here is called from `transaction.on_commit` (or after a commit) with ids of rows
that already say what is due (`Conversation.reply_due_at`, `Turn.lease_expires_at`,
`OutboundMessage.status`, `Escalation.notified_at`). A publish that fails is logged and
dropped: the outbox sweeper finds the row and queues it again, so a broker outage only delays
work. Turn and delivery tasks go to the tenant's queue (`conversations.tasks.turn_queue_for`).

`inline()` runs due work in the calling process instead (POST /admin/outbox/process with
`inline`, tests); work due in the future is then left to the sweeper.
"""

from __future__ import annotations

import contextvars
import logging
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


def _publish(task_name: str, args: list[Any], *, queue: str, eta: datetime | None = None) -> None:
    """Send one task message. Kept tiny so tests can replace it and observe what was queued."""
    from imperium.celery import app

    options: dict[str, Any] = {"queue": queue, "retry": True, "retry_policy": {"max_retries": 1, "interval_start": 0, "interval_step": 0.2}}
    if eta is not None and eta > timezone.now():
        options["eta"] = eta
    app.send_task(task_name, args=args, **options)


def _send(task_name: str, args: list[Any], *, queue: str, eta: datetime | None, run_inline: Callable[[], Any]) -> None:
    if _inline.get():
        if eta is not None and eta > timezone.now():
            return  # not due yet: the sweeper queues it when it is
        run_inline()
        return
    try:
        _publish(task_name, args, queue=queue, eta=eta)
    except Exception:  # broker down: the row stays due and the sweeper re-queues it
        logger.exception("could not queue %s%s; the outbox sweeper will retry", task_name, args)


def _tenant_queue(tenant: Any) -> str:
    from conversations.tasks import turn_queue_for

    return turn_queue_for(tenant)


def dispatch_turn(*, conversation_id: int, tenant: Any, eta: datetime | None = None) -> None:
    from conversations.tasks import turn_run_now

    _send("conversations.turn_run", [conversation_id], queue=_tenant_queue(tenant), eta=eta,
          run_inline=lambda: turn_run_now(conversation_id))


def dispatch_turn_resume(*, turn_id: int, claim_token: str, tenant: Any) -> None:
    from conversations.tasks import turn_resume_now

    _send("conversations.turn_resume", [turn_id, claim_token], queue=_tenant_queue(tenant), eta=None,
          run_inline=lambda: turn_resume_now(turn_id, claim_token))


def dispatch_delivery(*, outbound_id: int, tenant: Any, eta: datetime | None = None) -> None:
    from conversations.services.delivery import outbound_deliver

    _send("conversations.outbound_deliver", [outbound_id], queue=_tenant_queue(tenant), eta=eta,
          run_inline=lambda: outbound_deliver(outbound_id=outbound_id))


def dispatch_escalation_notify(*, escalation_id: int) -> None:
    from conversations.services.handover import escalation_notify

    _send("conversations.escalation_notify", [escalation_id], queue="default", eta=None,
          run_inline=lambda: escalation_notify(escalation_id=escalation_id))


def dispatch_forward_notify(*, turn_id: int) -> None:
    from conversations.services.handover import turn_forward_notify

    _send("conversations.turn_forward_notify", [turn_id], queue="default", eta=None,
          run_inline=lambda: turn_forward_notify(turn_id=turn_id))
