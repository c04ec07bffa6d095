"""Celery entry points of the reply pipeline. Thin: ids in, a service call, nothing else.

Two seams to releases live here, because a task (an entry point) may look at releases and
knowledge while `conversations` services may not:
- `turn_queue_for(tenant)`: the queue a tenant's turn and delivery tasks go to;
- `turn_release_context(tenant)`: the KB version and release handed to `decide_reply`.
Both read the tenant's channel the same way, fresh from the database
(`releases.selectors.tenant_channel`, i.e. `ClientSettings.release_channel`), so after a flip the
next enqueue and the next turn agree on it — whatever copy of the tenant the caller holds.
"""

from __future__ import annotations

from typing import Any

from celery import shared_task


def turn_queue_for(tenant: Any, *, fresh: bool = True) -> str:
    """Celery queue for this tenant's customer work: its release channel ("stable" or "canary"),
    so canary tenants are served by workers running the canary image.

    `fresh=True` reads the channel from the database (one small query). The webhook passes
    `fresh=False` and uses its cached tenant (at most WEBHOOK_TENANT_CACHE_SECONDS old): that
    query would cost a third of the webhook's time, and a turn that lands on the wrong queue
    right after a flip is re-routed by `turn_run` before it is processed (`turn_run_now`)."""
    from releases.selectors import channel_queue, tenant_channel

    if not fresh:
        tenant_settings = getattr(tenant, "settings", None)
        if tenant_settings is not None:
            return channel_queue(tenant_settings.release_channel)
    return channel_queue(tenant_channel(tenant))


def turn_release_context(tenant: Any) -> tuple[Any, Any]:
    """(kb_version, release) for `decide_reply`, resolved in this one place for every turn.

    - release: what the tenant's channel points at now (`release_for_tenant`, read fresh, so a
      flip shows on the next turn); its `config["answering"]` drives the brain;
    - kb_version: what its customers get on that channel (`kb_version_serving`: canary → its
      candidate draft if any, else stable; stable → its stable version), or NO_KNOWLEDGE_SERVED
      when that is nothing: customers are never answered from an unreviewed draft.

    The brain records both on the Decision; the turn writes them to Turn/MessageTrace
    (`kb_version`, `release` columns)."""
    from conversations.answering.decision import NO_KNOWLEDGE_SERVED
    from knowledge.selectors import kb_version_serving
    from releases.selectors import release_for_channel, release_for_tenant

    # The turn's claim read the tenant's settings with the conversation row milliseconds ago:
    # its channel is as fresh as a second query would be.
    tenant_settings = getattr(tenant, "settings", None)
    release = release_for_channel(tenant_settings.release_channel) if tenant_settings is not None else release_for_tenant(tenant)
    kb_version = kb_version_serving(tenant, channel=release.channel)
    return (kb_version if kb_version is not None else NO_KNOWLEDGE_SERVED), release


def turn_run_now(conversation_id: int, delivered_queue: str | None = None) -> str:
    """Run a conversation's due turn. `delivered_queue`: the channel queue the task came from.

    A tenant rolled back off a canary must not be served by the canary image again, even by a
    task queued in the seconds before the flip: the claim reads the tenant's channel with the
    conversation row (no extra query) and sends such a task on to its queue instead."""
    from conversations.services.turns import turn_run_due

    route = None
    if delivered_queue in ("stable", "canary"):  # not for inline/eager runs or queues this guard does not own
        route = (delivered_queue, lambda tenant: turn_queue_for(tenant, fresh=False))
    return turn_run_due(conversation_id=conversation_id, resolve_context=turn_release_context, route=route)


def turn_resume_now(turn_id: int, claim_token: str) -> str:
    from conversations.services.turns import turn_process

    turn = turn_process(turn_id=turn_id, claim_token=claim_token, resolve_context=turn_release_context)
    return turn.status if turn is not None else "lost"


@shared_task(name="conversations.turn_run", bind=True)
def turn_run(self: Any, conversation_id: int) -> str:
    """Answer a conversation's unanswered messages if their coalescing window has passed."""
    return turn_run_now(conversation_id, (self.request.delivery_info or {}).get("routing_key"))


@shared_task(name="conversations.turn_resume")
def turn_resume(turn_id: int, claim_token: str) -> str:
    """Finish a turn whose first worker died (re-claimed by the sweeper with `claim_token`)."""
    return turn_resume_now(turn_id, claim_token)


@shared_task(name="conversations.outbound_deliver")
def outbound_deliver(outbound_id: int) -> str:
    from conversations.services.delivery import outbound_deliver as deliver

    return deliver(outbound_id=outbound_id).status


@shared_task(name="conversations.escalation_notify")
def escalation_notify(escalation_id: int) -> None:
    from conversations.services.handover import escalation_notify as notify

    notify(escalation_id=escalation_id)


@shared_task(name="conversations.turn_forward_notify")
def turn_forward_notify(turn_id: int) -> None:
    from conversations.services.handover import turn_forward_notify as notify

    notify(turn_id=turn_id)


@shared_task(name="conversations.outbox_sweep")
def outbox_sweep() -> dict[str, int]:
    """Beat job: queue again whatever is due and not done (lost messages, dead workers)."""
    from conversations.services.outbox import outbox_sweep as sweep

    return sweep().as_dict()


@shared_task(name="conversations.reminders_process")
def reminders_process() -> dict[str, int]:
    """Beat job: escalation SLA reminders to managers and the customer's one follow-up."""
    from conversations.services.reminders import escalation_reminders_process

    report = escalation_reminders_process()
    return {"checked": report.checked, "reminders": len(report.reminders), "holding_followups": len(report.holding_followups),
            "failed": len(report.failed)}
