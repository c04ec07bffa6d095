"""Outbound delivery: write the message first, then send it with its idempotency key.

Exactly once at the customer, through crashes and retries:
- the `OutboundMessage` row (unique idempotency key) exists before any call to ChatFlow;
- a delivery run claims the row (pending/unknown → sending, with a lease and a claim token),
  and every attempt renews the lease with a conditional update;
- each attempt sends the same key, and the gateway drops repeats of a key;
- a worker that dies mid-call leaves `sending` with a lease that expires; the sweeper marks it
  `unknown` and queues it again, and the re-send with the same key cannot make a second message.

Retries: 5xx, 429 and timeouts are retried up to CHATFLOW_MAX_RETRIES times per run with
exponential backoff and jitter, never sooner than the gateway's Retry-After (a wait longer than
CHATFLOW_RETRY_MAX_DELAY is rescheduled instead of slept). Other 4xx are final.

Outages delay, they do not silence: a run that ends in a transient failure puts the row back to
`pending` with `next_attempt_at` on an exponential schedule (DELIVERY_RETRY_BASE_SECONDS doubling
up to DELIVERY_RETRY_MAX_INTERVAL_SECONDS); the outbox sweeper queues it when due — no sleeping
worker, no broker ETA. The tenant's circuit breaker (`gateway_circuit`) defers its other
deliveries meanwhile and lets one probe through. Only when DELIVERY_RETRY_WINDOW_SECONDS have
passed since the message was written does it fail: an ErrorLog and a hand-over to a human
(escalation `delivery_failed`, the reason in its detail); the sentinel raises the incident (one
alert per outage, not one per message) and the fixer re-sends failed messages when the gateway is back.

Exactly once at the edge is measured: an attempt whose outcome is unclear (a read timeout, a crash
mid-send) is counted in `unclear_attempts`; the re-send that succeeds records whether the gateway
reported it as a duplicate (`gateway_duplicate`), and the `delivery.unclear_resends` sentinel check
notices a gateway that stops honouring Idempotency-Key.
"""

from __future__ import annotations

import logging
import math
import random
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from conversations.choices import ConversationState, EscalationReason, OutboundKind, OutboundStatus
from conversations.clients.chatflow import chatflow_client, retry_delay
from conversations.models import Conversation, MessageTrace, OutboundMessage
from imperium.core import metrics
from imperium.core.actors import Actor
from imperium.core.correlation import correlation_scope, get_correlation_id
from imperium.core.exceptions import ApplicationError, IntegrationError
from imperium.core.fastrows import row_insert, row_update
from imperium.core.services import audit_record
from incidents.errors import error_log_record

logger = logging.getLogger(__name__)


def _lease() -> timedelta:
    # One attempt plus the longest wait before the next one, with a margin.
    return timedelta(seconds=settings.CHATFLOW_TIMEOUT + settings.CHATFLOW_RETRY_MAX_DELAY + 10)


def outbound_create(
    *,
    conversation: Conversation,
    text: str,
    kind: str,
    idempotency_key: str,
    turn: Any = None,
    escalation: Any = None,
    created_by: str = "",
    now: datetime | None = None,
    claim_for_inline_delivery: bool = False,
) -> OutboundMessage:
    """Insert an outbound message (status pending) whose key the caller knows to be new.

    No look-up and no savepoint: for callers inside their own transaction that guarantee the key
    (the turn's one message, written together with the turn's status change). Raises
    IntegrityError otherwise; `outbound_enqueue` is the idempotent entry point.

    `claim_for_inline_delivery`: the row is born claimed (`sending`, lease, first attempt
    counted) for the caller to pass to `deliver_loaded` right after commit — one statement and
    one commit less per turn. If the caller dies first, the lease expires and the sweeper re-sends.
    """
    now = now or timezone.now()
    fields: dict[str, Any] = {"status": OutboundStatus.PENDING}
    if claim_for_inline_delivery:
        fields = {"status": OutboundStatus.SENDING, "claim_token": uuid.uuid4().hex, "lease_expires_at": now + _lease(), "attempts": 1}
    outbound = row_insert(
        OutboundMessage,
        tenant_id=conversation.tenant_id, conversation=conversation, turn=turn, escalation=escalation, kind=kind, text=text,
        idempotency_key=idempotency_key, created_at=now, updated_at=now, dispatched_at=now, created_by=created_by,
        correlation_id=get_correlation_id(), **fields,
    )
    outbound.tenant = conversation.tenant
    # Only this in-memory object carries the claim: a row loaded from the database never does,
    # so another worker can never skip the claim step.
    outbound._inline_claim = fields.get("claim_token")  # type: ignore[attr-defined]
    return outbound


def outbound_enqueue(
    *,
    tenant: Any,
    conversation: Conversation,
    text: str,
    kind: str,
    idempotency_key: str,
    turn: Any = None,
    escalation: Any = None,
    created_by: str = "",
    dispatch: bool = True,
    now: datetime | None = None,
) -> OutboundMessage:
    """Write an outbound message (status pending) and, after commit, queue its delivery.

    Idempotent by `idempotency_key`: a repeat returns the existing row and queues nothing.
    With `dispatch=False` the caller delivers it itself (the turn task does, inline).
    """
    existing = OutboundMessage.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            outbound = outbound_create(
                conversation=conversation, text=text, kind=kind, idempotency_key=idempotency_key, turn=turn,
                escalation=escalation, created_by=created_by, now=now,
            )
    except IntegrityError:  # a concurrent call with the same key won
        return OutboundMessage.objects.get(idempotency_key=idempotency_key)
    if dispatch:
        from conversations.dispatch import dispatch_delivery

        transaction.on_commit(lambda: dispatch_delivery(outbound_id=outbound.pk, tenant=tenant))
    return outbound


def outbound_deliver(*, outbound_id: int) -> OutboundMessage:
    """Deliver one outbound message if it is deliverable now (see module docstring).

    Safe to call any number of times and concurrently: only the caller that claims the row
    sends; the others return the row as it is.
    """
    outbound = OutboundMessage.objects.select_related("conversation", "tenant__settings", "turn").get(pk=outbound_id)
    return deliver_loaded(outbound)


def deliver_loaded(outbound: OutboundMessage) -> OutboundMessage:
    """`outbound_deliver` for a row the caller has just loaded or written, with its conversation,
    tenant (and settings) and turn attached — the turn task saves a query this way."""
    with correlation_scope(outbound.correlation_id or None, outbound.tenant.slug):
        return _deliver(outbound)


def _deliver(outbound: OutboundMessage) -> OutboundMessage:
    now = timezone.now()
    rows = OutboundMessage.objects.filter(pk=outbound.pk)
    inline_claim = getattr(outbound, "_inline_claim", None)
    if inline_claim:
        # Born claimed by outbound_create(claim_for_inline_delivery=True) in this process. The
        # claim can only be taken over after its lease expires, so while well inside it no
        # check is needed; later (a stalled process) it must still be ours.
        outbound._inline_claim = None  # type: ignore[attr-defined]
        if now >= outbound.lease_expires_at - timedelta(seconds=5) and not rows.filter(
            claim_token=inline_claim, status=OutboundStatus.SENDING
        ).update(lease_expires_at=now + _lease(), updated_at=now):
            outbound.refresh_from_db()
            return outbound
        return _send_claimed(outbound, inline_claim)
    if (
        outbound.kind == OutboundKind.REPLY
        and outbound.status == OutboundStatus.PENDING
        and outbound.attempts == 0
        and outbound.conversation.state != ConversationState.BOT
    ):
        # A manager took the conversation before the bot's answer left: the bot stays silent.
        if rows.filter(status=OutboundStatus.PENDING, attempts=0).update(status=OutboundStatus.CANCELLED, updated_at=now):
            logger.info("bot reply %s cancelled: conversation held by a human", outbound.pk)
            _trace_update(outbound, OutboundStatus.CANCELLED, None)
        outbound.refresh_from_db()
        return outbound
    token = uuid.uuid4().hex
    claimable = Q(status__in=[OutboundStatus.PENDING, OutboundStatus.UNKNOWN]) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now + timedelta(seconds=1))
    )
    # Claiming counts the first attempt too (one UPDATE less per message).
    if rows.filter(claimable).update(
        status=OutboundStatus.SENDING, claim_token=token, lease_expires_at=now + _lease(), dispatched_at=now, updated_at=now,
        next_attempt_at=None, attempts=F("attempts") + 1,
    ) != 1:
        outbound.refresh_from_db()
        return outbound
    return _send_claimed(outbound, token)


def _send_claimed(outbound: OutboundMessage, token: str) -> OutboundMessage:
    """The attempt loop of a delivery run that holds the row's claim (`token`, first attempt counted)."""
    rows = OutboundMessage.objects.filter(pk=outbound.pk)
    mine = rows.filter(claim_token=token, status=OutboundStatus.SENDING)
    from conversations.services.gateway_circuit import circuit_close, circuit_hold

    client = chatflow_client()
    tenant_settings = outbound.tenant.settings
    max_attempts = 1 + settings.CHATFLOW_MAX_RETRIES
    unclear = outbound.unclear_attempts > 0
    hold = circuit_hold(tenant_id=outbound.tenant_id) if settings.CHATFLOW_BASE_URL else None
    if hold is not None:
        # The tenant's gateway is failing: wait for the probe instead of spending timeouts on it —
        # unless this message's retry window is over: then it is handed over like any other.
        now = timezone.now()
        if now >= outbound.created_at + timedelta(seconds=settings.DELIVERY_RETRY_WINDOW_SECONDS):
            last = outbound.last_error or "the tenant's gateway circuit is open"
            exc = IntegrationError(f"not sent while the gateway was failing: {last}", permanent=False, status=outbound.last_status_code)
            _delivery_failed(outbound, mine, exc, 0.0, 0, gave_up=True)
            outbound.refresh_from_db()
            return outbound
        mine.update(status=OutboundStatus.PENDING, next_attempt_at=hold, claim_token="", lease_expires_at=None,
                    dispatched_at=None, attempts=F("attempts") - 1, updated_at=now)
        outbound.refresh_from_db()
        return outbound
    started = time.perf_counter()
    attempt = 0
    while True:
        attempt += 1
        now = timezone.now()
        if attempt > 1 and mine.update(attempts=F("attempts") + 1, lease_expires_at=now + _lease(), updated_at=now) != 1:
            logger.warning("outbound %s: lease lost to another worker; stopping", outbound.pk)
            break
        try:
            if settings.CHATFLOW_BASE_URL and not tenant_settings.chatflow_token:
                raise IntegrationError(f"Tenant {outbound.tenant.slug} has no ChatFlow token configured", permanent=True)
            result = client.send_text(
                tenant_id=outbound.tenant_id, token=tenant_settings.chatflow_token, instance_id=tenant_settings.chatflow_instance_id,
                to=outbound.conversation.customer_phone, text=outbound.text, idempotency_key=outbound.idempotency_key,
            )
        except IntegrationError as exc:
            send_ms = _ms(started)
            changes: dict[str, Any] = {"last_error": exc.message[:2000], "last_status_code": exc.status, "send_ms": send_ms}
            if getattr(exc, "unclear", False):
                unclear = True
                changes["unclear_attempts"] = F("unclear_attempts") + 1
            mine.update(**changes)
            if exc.permanent:
                _delivery_failed(outbound, mine, exc, send_ms, attempt)
                break
            if attempt >= max_attempts:
                if not _retry_later(outbound, mine, exc):
                    _delivery_failed(outbound, mine, exc, send_ms, attempt, gave_up=True)
                break
            delay = retry_delay(attempt, exc.retry_after)
            if delay > settings.CHATFLOW_RETRY_MAX_DELAY:
                _reschedule(outbound, mine, delay)
                break
            logger.info("outbound %s: attempt %s failed (%s); retrying in %.2fs", outbound.pk, attempt, exc.message[:120], delay)
            time.sleep(delay)
            continue
        except Exception as exc:  # a bug or a broken secret: retrying cannot help
            send_ms = _ms(started)
            mine.update(last_error=f"{type(exc).__name__}: {exc}"[:2000], send_ms=send_ms)
            _delivery_failed(outbound, mine, exc, send_ms, attempt)
            break
        send_ms = _ms(started)
        sent_at = timezone.now()
        fields = {
            "status": OutboundStatus.SENT, "provider_message_id": result.provider_message_id[:200], "sent_at": sent_at,
            "updated_at": sent_at, "last_error": "", "last_status_code": result.status_code, "send_ms": send_ms,
            "lease_expires_at": None, "next_attempt_at": None,
        }
        if unclear:
            fields["gateway_duplicate"] = result.duplicate
        with transaction.atomic():  # one commit for the message and its trace
            marked = row_update(OutboundMessage, {"id": outbound.pk, "claim_token": token, "status": OutboundStatus.SENDING}, fields)
            if marked:
                _trace_update(outbound, OutboundStatus.SENT, send_ms)
        if marked:
            metrics.delivery_finished(outcome="sent", attempts=attempt)
            if result.duplicate:
                logger.info("outbound %s: the gateway had this key already (re-send after a crash)", outbound.pk)
            if unclear:
                # Exactly once here rested on the gateway's Idempotency-Key handling.
                metrics.delivery_resent_after_unclear(gateway_duplicate=result.duplicate)
            if circuit_close(tenant_id=outbound.tenant_id):
                _release_deferred(outbound.tenant_id)
            for name, value in fields.items():
                setattr(outbound, name, value)
            outbound.claim_token = token
            outbound.attempts += attempt
            return outbound
        break
    outbound.refresh_from_db()
    return outbound


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _retry_later(outbound: OutboundMessage, mine: Any, exc: IntegrationError) -> bool:
    """After a run that ended in a transient failure: back to `pending` with the next retry time
    on the outbox schedule, and the tenant's circuit opened until then. False when the message's
    retry window is over (the caller fails it)."""
    from conversations.services.gateway_circuit import circuit_open

    now = timezone.now()
    attempts = mine.values_list("attempts", flat=True).first() or 1
    runs = max(1, math.ceil(attempts / (1 + settings.CHATFLOW_MAX_RETRIES)))
    step = min(settings.DELIVERY_RETRY_MAX_INTERVAL_SECONDS, settings.DELIVERY_RETRY_BASE_SECONDS * 2 ** (runs - 1))
    delay = step / 2 + random.uniform(0, step / 2)
    if exc.retry_after:
        delay = max(delay, exc.retry_after)
    when = now + timedelta(seconds=delay)
    if when > outbound.created_at + timedelta(seconds=settings.DELIVERY_RETRY_WINDOW_SECONDS):
        return False
    # dispatched_at cleared: the sweeper queues it as soon as next_attempt_at is due.
    if mine.update(status=OutboundStatus.PENDING, next_attempt_at=when, claim_token="", lease_expires_at=None,
                   dispatched_at=None, updated_at=now):
        circuit_open(tenant_id=outbound.tenant_id, until=when)
        logger.warning("outbound %s: gateway failing (%s); retry %s in %.0f s from the outbox", outbound.pk, exc.message[:120],
                       runs + 1, delay)
    return True


def _release_deferred(tenant_id: int) -> None:
    """The gateway answers again: every delivery of the tenant waiting for a retry is due now."""
    now = timezone.now()
    released = OutboundMessage.objects.filter(tenant_id=tenant_id, status=OutboundStatus.PENDING, next_attempt_at__gt=now).update(
        next_attempt_at=now, dispatched_at=None, updated_at=now)
    if released:
        logger.info("tenant %s: %s deferred deliveries released", tenant_id, released)


def _reschedule(outbound: OutboundMessage, mine: Any, delay: float) -> None:
    """Honour a long Retry-After without holding a worker: release the claim until then."""
    from conversations.dispatch import dispatch_delivery

    when = timezone.now() + timedelta(seconds=delay)
    if mine.update(
        status=OutboundStatus.PENDING, next_attempt_at=when, claim_token="", lease_expires_at=None, dispatched_at=timezone.now()
    ):
        logger.info("outbound %s: gateway asked to wait %.0fs; rescheduled", outbound.pk, delay)
        metrics.delivery_finished(outcome="rescheduled")
        dispatch_delivery(outbound_id=outbound.pk, tenant=outbound.tenant, eta=when)


def _delivery_failed(outbound: OutboundMessage, mine: Any, exc: Exception, send_ms: float, attempts: int, *,
                     gave_up: bool = False) -> None:
    from conversations.services.handover import escalation_open

    reason = str(exc)[:300]
    if gave_up:
        window = settings.DELIVERY_RETRY_WINDOW_SECONDS
        span = f"{round(window / 60)} min" if window >= 120 else f"{window} s"
        reason = f"the gateway kept failing for {span} of retries; last error: {reason}"[:300]
    with transaction.atomic():
        if not mine.update(status=OutboundStatus.FAILED, lease_expires_at=None, updated_at=timezone.now()):
            return
        error_log_record(
            where="chatflow.send", exc=exc, tenant=outbound.tenant,
            context={"outbound_id": outbound.pk, "kind": outbound.kind, "attempts_this_run": attempts,
                     "status": getattr(exc, "status", None), "conversation_id": outbound.conversation_id},
        )
        escalation_open(
            conversation=outbound.conversation, reason=EscalationReason.DELIVERY_FAILED, turn=outbound.turn,
            detail={"outbound_id": outbound.pk, "error": reason}, send_holding=False,
        )
        # No alert per message: the sentinel's `chatflow` and `delivery.failure_rate` checks turn
        # failed deliveries into one incident with one alert (docs/INCIDENTS.md), and the fixer
        # resends these messages with their keys once the gateway answers again.
    metrics.delivery_finished(outcome="failed", attempts=attempts)
    _trace_update(outbound, OutboundStatus.FAILED, send_ms)


def _trace_update(outbound: OutboundMessage, status: str, send_ms: float | None) -> None:
    if outbound.turn_id is None:
        return
    fields: dict[str, Any] = {"send_status": status}
    if send_ms is not None:
        fields["send_ms"] = send_ms
    if outbound.turn is not None:
        fields["total_ms"] = round((timezone.now() - outbound.turn.created_at).total_seconds() * 1000, 2)
    row_update(MessageTrace, {"turn_id": outbound.turn_id}, fields)


@transaction.atomic
def outbound_retry(*, actor: Actor, outbound: OutboundMessage) -> OutboundMessage:
    """Send a failed message again, with the same idempotency key (a copy the gateway already
    has is dropped). Audited as `conversation.outbound_retry`."""
    from conversations.dispatch import dispatch_delivery

    now = timezone.now()
    if not OutboundMessage.objects.filter(pk=outbound.pk, status=OutboundStatus.FAILED).update(
        status=OutboundStatus.PENDING, next_attempt_at=None, dispatched_at=now, updated_at=now
    ):
        raise ApplicationError(f"Outbound message {outbound.pk} is {outbound.status}; only failed messages can be retried.")
    audit_record(actor=actor, action="conversation.outbound_retry", tenant=outbound.tenant_id, obj=outbound,
                 payload={"idempotency_key": outbound.idempotency_key})
    tenant = outbound.tenant
    transaction.on_commit(lambda: dispatch_delivery(outbound_id=outbound.pk, tenant=tenant))
    outbound.refresh_from_db()
    return outbound
