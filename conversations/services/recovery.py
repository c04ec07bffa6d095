"""Recovery of the reply path, run by the fixer (policy actions `fixer.requeue_turns` and
`fixer.resend_failed_deliveries`, both low risk) or by hand.

Both only re-queue work the database already describes; every task re-checks its row, so
queueing twice is harmless. Tasks are queued after commit (the fixer runs these inside the
policy's transaction).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from conversations import selectors
from conversations.choices import ConversationState, OutboundStatus, TurnStatus
from conversations.models import Conversation, InboundMessage, OutboundMessage, Turn
from imperium.core.actors import Actor
from imperium.core.exceptions import IntegrationError

logger = logging.getLogger(__name__)


@dataclass
class RequeueReport:
    due_markers_restored: int = 0
    turns_dispatched: int = 0
    turns_resumed: int = 0
    deliveries_dispatched: int = 0
    forwards_dispatched: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _scoped(queryset: Any, tenant: Any) -> Any:
    return queryset.for_tenant(tenant) if tenant is not None else queryset


def turns_requeue_stuck(*, tenant: Any = None, now: datetime | None = None, limit: int = 500) -> RequeueReport:
    """Queue again the tenant's (or everyone's) stuck reply work, whatever its last queueing time:
    messages whose conversation lost its "reply due" marker get it back; due conversations get a
    turn task; turns whose worker died are re-claimed and resumed; pending or unknown replies are
    delivered; forwards the manager notifier never took are sent again."""
    from conversations.dispatch import dispatch_delivery, dispatch_forward_notify, dispatch_turn, dispatch_turn_resume
    from conversations.services.turns import turn_resume_claim

    now = now or timezone.now()
    report = RequeueReport()
    unturned = InboundMessage.objects.filter(conversation=OuterRef("pk"), turn__isnull=True)
    lost = _scoped(Conversation.objects, tenant).filter(reply_due_at__isnull=True).filter(Exists(unturned))
    report.due_markers_restored = lost.update(reply_due_at=now, dispatched_at=None)

    due_ids = list(_scoped(Conversation.objects, tenant).filter(reply_due_at__lte=now).values_list("pk", flat=True)[:limit])
    Conversation.objects.filter(pk__in=due_ids).update(dispatched_at=now)
    conversations = list(Conversation.objects.select_related("tenant__settings").filter(pk__in=due_ids))
    for conversation in conversations:
        transaction.on_commit(lambda c=conversation: dispatch_turn(conversation_id=c.pk, tenant=c.tenant))
    report.turns_dispatched = len(conversations)

    for turn in _scoped(Turn.objects, tenant).filter(status=TurnStatus.PROCESSING, lease_expires_at__lte=now)[:limit]:
        token = turn_resume_claim(turn_id=turn.pk, now=now)
        if token:
            transaction.on_commit(lambda t=turn, k=token: dispatch_turn_resume(turn_id=t.pk, claim_token=k, tenant=t.tenant))
            report.turns_resumed += 1

    deliverable = _scoped(OutboundMessage.objects, tenant).filter(
        Q(status__in=[OutboundStatus.PENDING, OutboundStatus.UNKNOWN]), Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
    ).select_related("tenant__settings")[:limit]
    for outbound in deliverable:
        OutboundMessage.objects.filter(pk=outbound.pk).update(dispatched_at=now)
        transaction.on_commit(lambda o=outbound: dispatch_delivery(outbound_id=o.pk, tenant=o.tenant))
        report.deliveries_dispatched += 1

    from conversations.services.handover import MAX_NOTIFY_ATTEMPTS

    unforwarded = _scoped(Turn.objects, tenant).filter(
        status__in=[TurnStatus.FORWARDED, TurnStatus.SUPPRESSED], notify_attempts__lt=MAX_NOTIFY_ATTEMPTS,
    ).filter(Exists(InboundMessage.objects.filter(turn=OuterRef("pk"), forwarded_at__isnull=True)))
    for turn_id in list(unforwarded.values_list("pk", flat=True)[:limit]):
        Turn.objects.filter(pk=turn_id).update(notify_dispatched_at=now)
        transaction.on_commit(lambda t=turn_id: dispatch_forward_notify(turn_id=t))
        report.forwards_dispatched += 1
    logger.info("requeued stuck work%s: %s", f" of {getattr(tenant, 'slug', tenant)}" if tenant is not None else "", report.as_dict())
    return report


@dataclass
class ResendReport:
    candidates: int = 0
    resent: int = 0
    gateway: str = "not probed"  # up | down | refused | not probed
    probe: str = ""
    error: str = ""
    outbound_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "outbound_ids": list(self.outbound_ids)}


def _superseded(outbound: OutboundMessage) -> bool:
    """Something was said to the customer since (a manager, a later bot reply), or the
    conversation was closed: a late copy of this message would only confuse."""
    if outbound.conversation.state == ConversationState.CLOSED:
        return True
    return OutboundMessage.objects.filter(
        conversation_id=outbound.conversation_id, created_at__gt=outbound.created_at, status=OutboundStatus.SENT,
    ).exists()


def deliveries_resend_failed(*, actor: Actor, tenant: Any, now: datetime | None = None,
                             max_age: timedelta | None = None) -> ResendReport:
    """Resend the tenant's deliveries that failed because the gateway was down (5xx, 429,
    timeouts; not 4xx refusals), younger than `max_age` (FIXER_RESEND_MAX_AGE_MINUTES) and not
    superseded — but only once the gateway answers again:

    - with CHATFLOW_STATUS_PATH, its status probe must answer 2xx;
    - otherwise the newest candidate is sent once straight through the client with its own
      idempotency key: delivered means the gateway is back (and the later delivery of that row
      with the same key is dropped by the gateway as a duplicate — never a double).

    Then every candidate is put back to pending with its key (`outbound_retry`, audited) and
    queued after commit. While the gateway is down nothing changes (`gateway="down"`).
    """
    from conversations.clients.chatflow import ChatFlowClient, chatflow_client
    from conversations.services.delivery import outbound_retry
    from imperium.core.exceptions import ApplicationError

    now = now or timezone.now()
    max_age = max_age or timedelta(minutes=settings.FIXER_RESEND_MAX_AGE_MINUTES)
    candidates = [o for o in selectors.deliveries_failed_transiently(tenant=tenant, since=now - max_age) if not _superseded(o)]
    report = ResendReport(candidates=len(candidates))
    if not candidates:
        return report
    newest = candidates[-1]
    tenant_settings = newest.tenant.settings
    # A short timeout: the caller may hold a transaction (the policy's) while the gateway thinks.
    client: Any = (ChatFlowClient(settings.CHATFLOW_BASE_URL, min(settings.CHATFLOW_TIMEOUT, settings.HEALTH_CHECK_TIMEOUT))
                   if settings.CHATFLOW_BASE_URL else chatflow_client())
    try:
        if settings.CHATFLOW_BASE_URL and settings.CHATFLOW_STATUS_PATH:
            client.status(token=tenant_settings.chatflow_token, instance_id=tenant_settings.chatflow_instance_id,
                          path=settings.CHATFLOW_STATUS_PATH)
            report.probe = "status"
        else:
            client.send_text(tenant_id=newest.tenant_id, token=tenant_settings.chatflow_token,
                             instance_id=tenant_settings.chatflow_instance_id, to=newest.conversation.customer_phone,
                             text=newest.text, idempotency_key=newest.idempotency_key)
            report.probe = f"sent outbound {newest.pk} with its key"
    except IntegrationError as exc:
        # Down (5xx, timeouts): wait for it. Refused (4xx): resending would only fail again.
        report.gateway, report.error = ("refused" if exc.permanent else "down"), exc.message[:300]
        return report
    report.gateway = "up"
    # The gateway answers again: close the tenant's circuit, so the re-sends go now instead of
    # waiting for (or, past their retry window, failing behind) a probe of the workers' own.
    from conversations.services.gateway_circuit import circuit_close

    circuit_close(tenant_id=newest.tenant_id)
    resent = []
    for outbound in candidates:
        try:
            outbound_retry(actor=actor, outbound=outbound)
        except ApplicationError:  # someone retried it meanwhile (admin): no longer failed
            continue
        resent.append(outbound.pk)
    report.resent, report.outbound_ids = len(resent), tuple(resent)
    logger.info("resent %s failed deliveries of %s after the gateway answered again", report.resent, newest.tenant.slug)
    return report
