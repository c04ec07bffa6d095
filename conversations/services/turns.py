"""Turns: answering a conversation's unanswered messages together, once.

1. `turn_claim_due` (short transaction): lock the conversation (`SELECT … FOR UPDATE SKIP
   LOCKED` on Postgres; SQLite serialises writers and the claim is a conditional update on
   `reply_due_at` either way), recompute the coalescing deadline from the unanswered messages
   (last + window, at most first + max) and, when it has passed, create a `Turn` with a lease
   and attach the messages to it.
2. `turn_process`: outside any transaction, decide (`decide_reply`, the one seam to the answer
   brain; a raising brain becomes the escalation `dependency_down`), then in one transaction
   finish the turn (guarded by its claim token), write its trace and its one outbound message
   (answer or holding reply) or escalation, and deliver the message inline.

A worker that dies anywhere leaves a row that says what is left to do: a due conversation, a
processing turn whose lease expires, a pending/sending outbound message. The sweeper
(`services.outbox`) queues each again; every step is idempotent.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from conversations.answering.brain import decide_reply
from conversations.answering.decision import ANSWER, ESCALATE, Decision
from conversations.choices import (
    ConversationState,
    EscalationReason,
    OutboundKind,
    TurnDecision,
    TurnStatus,
)
from conversations.models import Conversation, Escalation, InboundMessage, MessageTrace, OutboundMessage, Turn
from conversations.services.queue_latency import queue_latency_observe
from imperium.core import metrics
from imperium.core.correlation import correlation_scope, get_correlation_id
from imperium.core.fastrows import row_insert, row_update
from imperium.core.prepared import PreparedRead
from incidents.errors import error_log_record

logger = logging.getLogger(__name__)

MAX_TURN_RUNS = 3  # a turn that killed its worker this many times is handed to a human
MAX_REPLY_LENGTH = 4096

CLAIMED = "claimed"
NOT_DUE = "not_due"
IDLE = "idle"
LOCKED = "locked"
MISROUTED = "misrouted"

ContextResolver = Callable[[Any], tuple[Any, Any]]
QueueResolver = Callable[[Any], str]  # tenant (with settings loaded) -> the queue its turns belong on


@dataclass(frozen=True)
class ClaimResult:
    outcome: str  # CLAIMED | NOT_DUE | IDLE | LOCKED | MISROUTED
    turn: Turn | None = None  # with conversation, tenant and settings loaded
    due_at: datetime | None = None
    messages: tuple[InboundMessage, ...] = ()
    queue: str = ""  # MISROUTED: the queue the conversation's turns belong on


def _claim_read_query(pk: Any) -> Any:
    # The webhook secrets are not needed here; deferring them saves their decryption per turn.
    # The tenant's CRM connection (usually none) comes along: the booking step asks for it on
    # every turn, and a query of its own cost a statement per turn (crm.selectors.crm_connection_of).
    rows = (
        Conversation.objects.select_related("tenant__settings", "tenant__crm_connection")
        .defer("tenant__settings__webhook_secret", "tenant__settings__webhook_secret_previous")
        .filter(pk=pk)
        .order_by()
    )
    return rows.select_for_update(skip_locked=True, of=("self",)) if connection.vendor == "postgresql" else rows


# Compiled once per process (imperium.core.prepared): every turn runs these two reads.
_CLAIM_READ: PreparedRead[Conversation] = PreparedRead(_claim_read_query)
_PENDING_READ: PreparedRead[InboundMessage] = PreparedRead(
    lambda pk: InboundMessage.objects.filter(conversation_id=pk, turn__isnull=True).order_by("received_at", "id").defer("payload")
)


def _lease_until(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.TURN_LEASE_SECONDS)


def turn_claim_due(*, conversation_id: int, now: datetime | None = None, route: tuple[str, QueueResolver] | None = None) -> ClaimResult:
    """Claim the conversation's unanswered messages as a new turn if their window has passed.

    Returns NOT_DUE with the new deadline when more messages extended the window (the
    conversation's `reply_due_at` is moved there), IDLE when nothing is pending, LOCKED when
    another worker holds the row right now.

    `route` = (the queue this task was taken from, how a tenant's queue is found): when the
    tenant's settings, read with the row, put its turns on another queue (a release-channel flip
    after the task was queued), nothing is claimed and MISROUTED names the right queue.
    """
    now = now or timezone.now()
    with transaction.atomic():
        conversation = _CLAIM_READ.first(conversation_id)
        if conversation is None:
            if connection.vendor == "postgresql" and Conversation.objects.filter(pk=conversation_id).exists():
                return ClaimResult(LOCKED)
            return ClaimResult(IDLE)
        if route is not None:
            wanted = route[1](conversation.tenant)
            if wanted != route[0]:
                return ClaimResult(MISROUTED, queue=wanted)
        seen_due = conversation.reply_due_at
        if seen_due is None:
            return ClaimResult(IDLE)
        this_row = Conversation.objects.filter(pk=conversation_id, reply_due_at=seen_due)
        if seen_due > now:
            return ClaimResult(NOT_DUE, due_at=seen_due)
        pending = _PENDING_READ.all(conversation_id)
        if not pending:
            this_row.update(reply_due_at=None, dispatched_at=None)
            return ClaimResult(IDLE)
        tenant_settings = conversation.tenant.settings
        due = min(
            pending[-1].received_at + timedelta(seconds=tenant_settings.coalesce_window_seconds),
            pending[0].received_at + timedelta(seconds=tenant_settings.coalesce_max_seconds),
        )
        if due > now:
            this_row.update(reply_due_at=due, dispatched_at=now)
            return ClaimResult(NOT_DUE, due_at=due)
        if row_update(Conversation, {"id": conversation_id, "reply_due_at": seen_due},
                      {"reply_due_at": None, "dispatched_at": None, "updated_at": now}) != 1:
            return ClaimResult(LOCKED)
        queued_at = conversation.dispatched_at
        turn = row_insert(
            Turn,
            tenant_id=conversation.tenant_id, conversation=conversation, status=TurnStatus.PROCESSING, created_at=now,
            claim_token=uuid.uuid4().hex, lease_expires_at=_lease_until(now), correlation_id=get_correlation_id(),
            message_count=len(pending),
        )
        InboundMessage.objects.filter(pk__in=[m.pk for m in pending], turn__isnull=True).update(turn=turn)
        turn.tenant = conversation.tenant
        for message in pending:
            message.turn = turn
    # What the queue costs now, for the sweeper's "is this task lost?" (services/queue_latency.py).
    queue_latency_observe(queued_at=queued_at, due_at=seen_due, now=now)
    return ClaimResult(CLAIMED, turn=turn, messages=tuple(pending))


def turn_run_due(
    *, conversation_id: int, resolve_context: ContextResolver | None = None, now: datetime | None = None,
    route: tuple[str, QueueResolver] | None = None,
) -> str:
    """The turn task's body: claim what is due and process it; re-queue what is not due yet, and
    send a task taken from the wrong queue (see `turn_claim_due`) on to the right one."""
    from conversations.dispatch import dispatch_turn, dispatch_turn_to_queue

    result = turn_claim_due(conversation_id=conversation_id, now=now, route=route)
    if result.outcome == MISROUTED:
        dispatch_turn_to_queue(conversation_id=conversation_id, queue=result.queue)
        return f"rerouted to {result.queue}"
    if result.outcome == NOT_DUE:
        conversation = Conversation.objects.select_related("tenant__settings").get(pk=conversation_id)
        dispatch_turn(conversation_id=conversation_id, tenant=conversation.tenant, eta=result.due_at)
        return NOT_DUE
    if result.outcome == LOCKED:
        # Usually the webhook adding a message this very millisecond; look again shortly.
        conversation = Conversation.objects.select_related("tenant__settings").get(pk=conversation_id)
        dispatch_turn(conversation_id=conversation_id, tenant=conversation.tenant, eta=timezone.now() + timedelta(seconds=1))
        return LOCKED
    if result.outcome == IDLE:
        return IDLE
    turn = result.turn
    assert turn is not None
    with correlation_scope(turn.correlation_id or None, turn.tenant.slug):
        _process(turn, turn.claim_token, resolve_context, list(result.messages))
    return turn.status


_serving_context: ContextResolver | None = None


def register_serving_context(resolver: ContextResolver) -> None:
    """Which (kb_version, release) serve a tenant's turn: `releases` registers
    `releases.selectors.serving_context` at startup (it sits above this app)."""
    global _serving_context
    _serving_context = resolver


def _registered_serving_context(tenant: Any) -> tuple[Any, Any]:
    if _serving_context is None:  # fails closed: `_decide` turns this into a dependency_down escalation
        raise RuntimeError("no serving context registered (is the releases app installed?)")
    return _serving_context(tenant)


def turn_run_now(conversation_id: int, delivered_queue: str | None = None) -> str:
    """The `conversations.turn_run` task: run a conversation's due turn with the registered
    serving context. `delivered_queue`: the channel queue the task came from.

    A tenant rolled back off a canary must not be served by the canary image again, even by a
    task queued in the seconds before the flip: the claim reads the tenant's channel with the
    conversation row (no extra query) and sends such a task on to its queue instead."""
    from conversations.dispatch import turn_queue_for

    route = None
    if delivered_queue in ("stable", "canary"):  # not for inline/eager runs or queues this guard does not own
        route = (delivered_queue, lambda tenant: turn_queue_for(tenant, fresh=False))
    return turn_run_due(conversation_id=conversation_id, resolve_context=_registered_serving_context, route=route)


def turn_resume_now(turn_id: int, claim_token: str) -> str:
    """The `conversations.turn_resume` task: finish a re-claimed turn with the registered serving context."""
    turn = turn_process(turn_id=turn_id, claim_token=claim_token, resolve_context=_registered_serving_context)
    return turn.status if turn is not None else "lost"


def turn_resume_claim(*, turn_id: int, now: datetime | None = None) -> str | None:
    """Take over a processing turn whose lease expired (its worker died). Returns the new claim
    token, or None when the turn is finished or still leased."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    from django.db.models import F

    updated = Turn.objects.filter(pk=turn_id, status=TurnStatus.PROCESSING, lease_expires_at__lte=now).update(
        claim_token=token, lease_expires_at=_lease_until(now), runs=F("runs") + 1
    )
    return token if updated == 1 else None


def turn_process(*, turn_id: int, claim_token: str, resolve_context: ContextResolver | None = None) -> Turn | None:
    """Decide, finish and deliver one claimed turn. Returns the turn, or None if the claim was lost."""
    turn = Turn.objects.select_related("conversation", "tenant__settings").filter(pk=turn_id).first()
    if turn is None or turn.status != TurnStatus.PROCESSING or turn.claim_token != claim_token:
        return turn
    turn.conversation.tenant = turn.tenant  # with its settings, for the holding reply and delivery
    messages = list(InboundMessage.objects.filter(turn=turn).order_by("received_at", "id").defer("payload"))
    with correlation_scope(turn.correlation_id or None, turn.tenant.slug):
        _process(turn, claim_token, resolve_context, messages)
    return turn


def _process(turn: Turn, claim_token: str, resolve_context: ContextResolver | None, messages: list[InboundMessage]) -> None:
    """Decide, then finish and deliver. Updates `turn` in place (status)."""
    tenant = turn.tenant
    conversation = turn.conversation
    wait_ms = round((turn.created_at - messages[-1].received_at).total_seconds() * 1000, 2) if messages else None
    started = time.perf_counter()
    kb_version = release = None
    decision: Decision | None = None
    pause_check: _PauseCheck | None = None
    if conversation.state != ConversationState.BOT:
        decision = None  # forwarded to the manager
    elif turn.runs > MAX_TURN_RUNS:
        decision = Decision(action=ESCALATE, reason=EscalationReason.DEPENDENCY_DOWN,
                            detail={"error": f"processing was interrupted {turn.runs - 1} times"})
        error_log_record(where="conversations.turn", message=f"turn {turn.pk} abandoned after {turn.runs - 1} interrupted runs",
                         tenant=tenant, context={"turn_id": turn.pk})
    elif not messages:
        decision = Decision(action=ESCALATE, reason=EscalationReason.OTHER, detail={"error": "turn without messages"})
    elif any(not m.is_text for m in messages):
        decision = Decision(action=ESCALATE, reason=EscalationReason.NON_TEXT,
                            detail={"types": sorted({m.message_type for m in messages if not m.is_text})})
    else:
        decision, pause_check = _decide(turn, tenant, conversation, [m.text for m in messages], resolve_context)
        kb_version, release = decision.kb_version, decision.release
    decide_ms = round((time.perf_counter() - started) * 1000, 2)

    outbound = _finish(turn, claim_token, conversation, decision, messages, wait_ms=wait_ms, decide_ms=decide_ms,
                       kb_version=kb_version, release=release, pause_check=pause_check)
    if outbound is not None:
        from conversations.services.delivery import deliver_loaded

        deliver_loaded(outbound)


def _crm_booking(turn: Turn, tenant: Any, conversation: Conversation, texts: list[str]) -> Decision | None:
    """The salon CRM's booking conversation (crm.booking), before the answer brain: None when the
    turn is not about booking or the tenant has no CRM. Free times and bookings come only from the
    CRM; a failure there is a hand-over, never a guess."""
    from crm.booking import ANSWER as CRM_ANSWER
    from crm.booking import Customer, booking_turn

    started = time.perf_counter()
    try:
        reply = booking_turn(tenant=tenant, customer=Customer(conversation_id=conversation.pk, key=conversation.customer_key,
                                                              phone=conversation.customer_phone, name=conversation.customer_name),
                             texts=texts, turn_key=str(turn.pk))
    except Exception as exc:  # a bug in the booking flow: a human answers instead
        error_log_record(where="crm.booking", exc=exc, tenant=tenant, context={"turn_id": turn.pk, "conversation_id": conversation.pk})
        return Decision(action=ESCALATE, reason=EscalationReason.BOOKING, detail={"crm": "error", "error": type(exc).__name__})
    if reply is None:
        return None
    timings = {"crm_ms": round((time.perf_counter() - started) * 1000, 2)}
    if reply.action == CRM_ANSWER:
        return Decision(action=ANSWER, text=reply.text, confidence=1.0, sources=reply.sources, detail=reply.detail, timings=timings)
    return Decision(action=ESCALATE, reason=reply.reason or EscalationReason.BOOKING, detail=reply.detail, timings=timings)


@dataclass(frozen=True)
class _PauseCheck:
    """The brain answered from `decision.sources`: `_finish` withholds the answer if one of them is
    paused (marked wrong twice within a week), judged against the KB version served."""

    kb_version: Any


def _decide(
    turn: Turn, tenant: Any, conversation: Conversation, texts: list[str], resolve_context: ContextResolver | None,
) -> tuple[Decision, _PauseCheck | None]:
    booking = _crm_booking(turn, tenant, conversation, texts)
    if booking is not None:
        return booking, None
    try:
        kb_version, release = resolve_context(tenant) if resolve_context else (None, None)
        decision = decide_reply(tenant, conversation, texts, kb_version=kb_version, release=release)
    except Exception as exc:  # the brain or a service it needs failed: a human answers instead
        error_log_record(where="conversations.decide_reply", exc=exc, tenant=tenant,
                         context={"turn_id": turn.pk, "conversation_id": conversation.pk})
        return Decision(action=ESCALATE, reason=EscalationReason.DEPENDENCY_DOWN, detail={"error": type(exc).__name__}), None
    if not isinstance(decision, Decision) or decision.action not in (ANSWER, ESCALATE):
        error_log_record(where="conversations.decide_reply", message=f"invalid decision: {decision!r}"[:500], tenant=tenant,
                         context={"turn_id": turn.pk})
        return Decision(action=ESCALATE, reason=EscalationReason.OTHER, detail={"error": "invalid decision"}), None
    if decision.action == ANSWER and not decision.text.strip():
        error_log_record(where="conversations.decide_reply", message="answer with an empty text", tenant=tenant,
                         context={"turn_id": turn.pk})
        return _escalated_copy(decision, EscalationReason.OTHER, "empty answer"), None
    if decision.action == ANSWER and len(decision.text) > MAX_REPLY_LENGTH:
        return _escalated_copy(decision, EscalationReason.TOO_LONG, f"answer of {len(decision.text)} characters"), None
    if decision.action == ANSWER and decision.sources:
        # Paused sources are checked by `_finish`, in the statement that locks the conversation
        # (`_pause_exists`), rather than by a query of their own on every answer.
        return decision, _PauseCheck(kb_version=kb_version)
    if decision.action == ESCALATE and not decision.reason:
        decision.reason = EscalationReason.OTHER
    return decision, None


def _pause_exists(tenant: Any, sources: list[str]) -> Any:
    """An expression for the lock statement of `_finish`: does any of `sources` have an active
    pause? (Usually false: then no further query.)"""
    from django.db.models import BooleanField, Exists, Value

    from knowledge.models import KnowledgeItemPause

    if not sources:
        return Value(False, output_field=BooleanField())
    return Exists(KnowledgeItemPause.objects.for_tenant(tenant).filter(resolved_at__isnull=True, external_id__in=sources))


def _withhold_paused(decision: Decision, tenant: Any, kb_version: Any) -> None:
    """Marked wrong twice within a week: a human answers until an operator edits or un-pauses the item."""
    paused = _paused_sources(tenant, kb_version, decision.sources)
    if paused:
        decision.detail = {**decision.detail, "paused_items": paused}
        _escalated_copy(decision, EscalationReason.NO_KNOWLEDGE, f"paused items {', '.join(paused)}")


def _paused_sources(tenant: Any, kb_version: Any, sources: list[str]) -> list[str]:
    from knowledge.models import KnowledgeVersion
    from knowledge.selectors import kb_version_default, kb_version_get
    from knowledge.suggestions import kb_paused_items

    if isinstance(kb_version, KnowledgeVersion):
        version: KnowledgeVersion | None = kb_version
    elif isinstance(kb_version, int) and not isinstance(kb_version, bool):
        version = kb_version_get(tenant, kb_version)
    else:
        version = kb_version_default(tenant)
    paused = kb_paused_items(tenant, version)
    return [s for s in sources if s in paused]


def _escalated_copy(decision: Decision, reason: str, why: str) -> Decision:
    decision.detail = {**decision.detail, "error": why, "answer_withheld": True}
    decision.action, decision.reason = ESCALATE, reason
    return decision


def _finish(
    turn: Turn, claim_token: str, conversation: Conversation, decision: Decision | None, messages: list[InboundMessage], *,
    wait_ms: float | None, decide_ms: float, kb_version: Any, release: Any, pause_check: _PauseCheck | None = None,
) -> OutboundMessage | None:
    """Record the outcome in one transaction; returns the outbound message to deliver, if any."""
    from conversations.dispatch import dispatch_forward_notify
    from conversations.services.delivery import outbound_create
    from conversations.services.handover import escalation_open, turn_idempotency_key

    now = timezone.now()
    escalated_before = False
    with transaction.atomic():
        # Lock the row and read its state only: a manager may have taken the conversation while
        # the bot was deciding. The rest of `conversation` (tenant, settings) is the claim's read.
        locked = Conversation.objects.filter(pk=conversation.pk)
        if connection.vendor == "postgresql":
            locked = locked.select_for_update()
        if decision is not None and decision.action == ANSWER:
            # The same statement says whether managers dealt with this customer before (they then
            # see the bot's answers) and whether a source of the answer is paused: one statement,
            # not three (docs/BENCHMARKS.md, the turn's statement budget).
            conversation.state, escalated_before, any_paused = locked.annotate(
                escalated_before=Exists(Escalation.objects.filter(conversation_id=OuterRef("pk"))),
                any_paused=_pause_exists(turn.tenant, decision.sources if pause_check is not None else []),
            ).values_list("state", "escalated_before", "any_paused").get()
            if any_paused and pause_check is not None:
                _withhold_paused(decision, turn.tenant, pause_check.kb_version)
        else:
            conversation.state = locked.values_list("state", flat=True).get()
        if decision is None:
            status, turn_decision, reason = TurnStatus.FORWARDED, TurnDecision.FORWARD, ""
        elif conversation.state != ConversationState.BOT:
            # A manager took the conversation while the bot was deciding: the bot stays silent.
            status, turn_decision, reason = TurnStatus.SUPPRESSED, TurnDecision.FORWARD, ""
        elif decision.action == ANSWER:
            status, turn_decision, reason = TurnStatus.ANSWERED, TurnDecision.ANSWER, ""
        else:
            status, turn_decision, reason = TurnStatus.ESCALATED, TurnDecision.ESCALATE, decision.reason
        finished = row_update(Turn, {"id": turn.pk, "status": TurnStatus.PROCESSING, "claim_token": claim_token}, {
            "status": status, "decision": turn_decision, "reason": reason[:32], "finished_at": now, "lease_expires_at": None,
            "kb_version": _int_or_none(kb_version), "release": str(release or "")[:64],
        })
        if finished != 1:
            logger.warning("turn %s: claim lost before finishing; another worker owns it", turn.pk)
            turn.refresh_from_db()
            return None
        turn.status, turn.decision, turn.reason, turn.finished_at = status, turn_decision, reason[:32], now
        turn_seconds = (now - turn.created_at).total_seconds() if turn.created_at else None
        transaction.on_commit(lambda: metrics.turn_finished(decision=turn_decision, reason=reason[:32], seconds=turn_seconds))
        turn.conversation = conversation
        timings = decision.timings if decision is not None else {}
        row_insert(
            MessageTrace,
            tenant_id=turn.tenant_id, conversation=conversation, turn=turn, created_at=now, correlation_id=turn.correlation_id,
            decision=turn_decision, reason=reason, confidence=decision.confidence if decision is not None else None,
            scores=_jsonable(decision.scores) if decision else {}, sources=_jsonable(decision.sources) if decision else [],
            gate=_jsonable(decision.gate) if decision else [],
            detail=_jsonable({**(decision.detail if decision else {}), **({"text": decision.text} if decision and decision.text else {})}),
            message_count=len(messages), wait_ms=wait_ms, rag_ms=_num(timings.get("rag_ms")), llm_ms=_num(timings.get("llm_ms")),
            qc_ms=_num(timings.get("qc_ms")), decide_ms=decide_ms, kb_version=_int_or_none(kb_version),
            release=str(release or "")[:64],
            total_ms=_ms_between(turn.created_at, now) if status in (TurnStatus.FORWARDED, TurnStatus.SUPPRESSED) else None,
        )
        if status in (TurnStatus.FORWARDED, TurnStatus.SUPPRESSED):
            Turn.objects.filter(pk=turn.pk).update(notify_dispatched_at=now)
            transaction.on_commit(lambda: dispatch_forward_notify(turn_id=turn.pk))
            return None
        assert decision is not None
        if status == TurnStatus.ANSWERED:
            if escalated_before:
                # Managers have dealt with this customer: they see the bot's answers too (and may mark one wrong).
                from conversations.dispatch import dispatch_answer_notify

                Turn.objects.filter(pk=turn.pk).update(answer_notify_due_at=now)  # the sweeper's record of it
                transaction.on_commit(lambda: dispatch_answer_notify(turn_id=turn.pk))
            # The turn's one outbound message: its key cannot exist yet (this update above
            # succeeded once for this turn), so no look-up first.
            return outbound_create(
                conversation=conversation, text=decision.text, kind=OutboundKind.REPLY, idempotency_key=turn_idempotency_key(turn),
                turn=turn, now=now, claim_for_inline_delivery=True,
            )
        _, holding = escalation_open(
            conversation=conversation, reason=decision.reason, turn=turn, detail=_jsonable(decision.detail),
            dispatch_holding=False, now=now, state_known=True,
        )
        return holding


def _ms_between(start: datetime, end: datetime) -> float:
    return round((end - start).total_seconds() * 1000, 2)


def _num(value: Any) -> float | None:
    try:
        return None if value is None else round(float(value), 2)
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    number = getattr(value, "number", value)
    try:
        return int(number)
    except (TypeError, ValueError):
        return None


def _jsonable(value: Any) -> Any:
    import json

    return json.loads(json.dumps(value, default=str, ensure_ascii=False))
