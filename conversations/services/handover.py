"""Escalations and the human side of a conversation: take over, return to bot, close, manager
replies, and telling managers through the notifier.

State machine of a conversation: bot ⇄ human → closed (a customer message reopens a closed
conversation to bot). Every transition is a conditional update plus an append-only
`ConversationEvent`; transitions made by a person are audited.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations.choices import (
    ConversationState,
    EscalationReason,
    EscalationStatus,
    EventSource,
    OutboundKind,
)
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationNote,
    Escalation,
    InboundMessage,
    OutboundMessage,
    Turn,
)
from imperium.core import metrics
from imperium.core.actors import Actor
from imperium.core.choices import ActorKind
from imperium.core.correlation import get_correlation_id
from imperium.core.exceptions import ApplicationError
from imperium.core.fastrows import row_insert
from imperium.core.services import audit_record
from incidents.errors import error_log_record
from tenants.models import DEFAULT_HOLDING_REPLY

logger = logging.getLogger(__name__)

MAX_NOTIFY_ATTEMPTS = 5
MAX_MANAGER_TEXT = 4096
MAX_NOTE_TEXT = 4096

_SOURCES = {
    ActorKind.USER: EventSource.WEB,
    ActorKind.TELEGRAM: EventSource.TELEGRAM,
    ActorKind.API: EventSource.API,
    ActorKind.SYSTEM: EventSource.SYSTEM,
}


def turn_idempotency_key(turn: Turn) -> str:
    """The one outbound message a turn may produce (answer or holding reply): tenant + turn."""
    return f"t{turn.tenant_id}-turn{turn.pk}"


def manager_idempotency_key(tenant_id: int, key: str) -> str:
    key = key.strip()
    if len(key) > 120 or not key.isascii():
        key = hashlib.sha256(key.encode()).hexdigest()[:40]
    return f"t{tenant_id}-mgr-{key}"


def conversation_transition(
    *, conversation: Conversation, to_state: str, allowed_from: tuple[str, ...], actor: Actor, note: str = "",
    now: datetime | None = None, state_known: bool = False,
) -> bool:
    """Move the conversation to `to_state` if it is in one of `allowed_from`; record the event.

    Guarded by a conditional update (exactly one row or nothing), so concurrent transitions
    cannot both apply. Returns True when the state changed. Updates `conversation` in place.
    `state_known`: the caller holds the row locked and `conversation.state` is current.
    """
    now = now or timezone.now()
    if state_known:
        current = conversation.state
    else:
        current = Conversation.objects.filter(pk=conversation.pk).values_list("state", flat=True).first()
    if current is None or current == to_state or current not in allowed_from:
        if current is not None:
            conversation.state = current
        return False
    updated = Conversation.objects.filter(pk=conversation.pk, state=current).update(state=to_state, updated_at=now)
    if updated != 1:
        conversation.refresh_from_db(fields=["state"])
        return False
    row_insert(
        ConversationEvent,
        tenant_id=conversation.tenant_id, conversation=conversation, created_at=now, from_state=current, to_state=to_state,
        source=_SOURCES.get(actor.kind, EventSource.SYSTEM), actor_kind=actor.kind, actor_label=actor.label[:150], note=note[:200],
    )
    conversation.state = to_state
    return True


def holding_reply_text(tenant: Any) -> str:
    template = getattr(getattr(tenant, "settings", None), "holding_reply_template", "") or ""
    return template.strip() or DEFAULT_HOLDING_REPLY


@transaction.atomic(savepoint=False)
def escalation_open(
    *,
    conversation: Conversation,
    reason: str,
    turn: Turn | None = None,
    detail: dict[str, Any] | None = None,
    send_holding: bool = True,
    dispatch_holding: bool = True,  # False: the caller delivers the holding reply inline (it is born claimed)
    now: datetime | None = None,
    state_known: bool = False,
) -> tuple[Escalation, OutboundMessage | None]:
    """Hand the conversation to a human: an `Escalation` row, state → human (the bot goes silent),
    the tenant's holding reply to the customer (unless `send_holding` is False, e.g. when
    delivery itself failed) and, after commit, the notifier's `escalation_opened`.

    The holding reply uses the turn's idempotency key, so a re-run of the turn cannot send it twice.
    """
    from conversations.dispatch import dispatch_delivery, dispatch_escalation_notify
    from conversations.services.delivery import outbound_create

    now = now or timezone.now()
    if reason not in EscalationReason.values:
        detail = {**(detail or {}), "reported_reason": reason}
        reason = EscalationReason.OTHER
    tenant = conversation.tenant
    escalation = row_insert(
        Escalation,
        tenant_id=conversation.tenant_id, conversation=conversation, turn=turn, reason=reason, detail=detail or {},
        created_at=now, notify_dispatched_at=now, correlation_id=get_correlation_id(),
    )
    conversation_transition(
        conversation=conversation, to_state=ConversationState.HUMAN, allowed_from=(ConversationState.BOT, ConversationState.CLOSED),
        actor=Actor.system("escalation"), note=f"escalated: {reason}", now=now, state_known=state_known,
    )
    holding = None
    if send_holding:
        # New keys by construction: the turn's one message (its status change commits with it)
        # or this new escalation's.
        key = turn_idempotency_key(turn) if turn is not None else f"t{conversation.tenant_id}-esc{escalation.pk}"
        holding = outbound_create(
            conversation=conversation, text=holding_reply_text(tenant), kind=OutboundKind.HOLDING, idempotency_key=key, turn=turn,
            escalation=escalation, now=now, claim_for_inline_delivery=not dispatch_holding,
        )
        if dispatch_holding:
            transaction.on_commit(lambda: dispatch_delivery(outbound_id=holding.pk, tenant=tenant))
    transaction.on_commit(lambda: dispatch_escalation_notify(escalation_id=escalation.pk))
    transaction.on_commit(lambda: metrics.escalation_opened(reason=reason))
    logger.info("conversation %s escalated: %s", conversation.pk, reason, extra={"escalation_id": escalation.pk})
    return escalation, holding


def escalation_notify(*, escalation_id: int) -> bool:
    """Call the notifier's `escalation_opened` once it works (at-least-once). Returns True when
    the managers were notified (now or before). After MAX_NOTIFY_ATTEMPTS failures an alert is raised."""
    from conversations.notifier import get_notifier
    from conversations.services.queue_latency import NOTICES, queue_latency_observe

    now = timezone.now()
    queued_at = Escalation.objects.filter(pk=escalation_id, notified_at__isnull=True).values_list("notify_dispatched_at", flat=True).first()
    claimed = Escalation.objects.filter(pk=escalation_id, notified_at__isnull=True).update(
        notify_attempts=F("notify_attempts") + 1, notify_dispatched_at=now
    )
    if claimed:
        # What the notice queue costs now, for the sweeper's "is this task lost?" (services/queue_latency.py).
        queue_latency_observe(queued_at=queued_at, due_at=None, now=now, kind=NOTICES)
    escalation = Escalation.objects.select_related("conversation", "tenant__settings", "turn").filter(pk=escalation_id).first()
    if escalation is None:
        return False
    if not claimed:
        return escalation.notified_at is not None
    try:
        get_notifier().escalation_opened(escalation)
    except Exception as exc:  # any notifier failure is retried by the sweeper
        _notify_failed(exc=exc, tenant=escalation.tenant, attempts=escalation.notify_attempts, what=f"escalation {escalation.pk}",
                       key=f"notify:{escalation.tenant.slug}")
        Escalation.objects.filter(pk=escalation_id).update(last_notify_error=f"{type(exc).__name__}: {exc}"[:2000])
        return False
    Escalation.objects.filter(pk=escalation_id).update(notified_at=timezone.now(), last_notify_error="")
    return True


def turn_forward_notify(*, turn_id: int) -> bool:
    """Hand each message of a turn held by a human to the notifier's `customer_message_while_human`,
    marking each one as it goes (a retry resumes where it failed)."""
    from conversations.notifier import get_notifier
    from conversations.services.queue_latency import NOTICES, queue_latency_observe

    now = timezone.now()
    queued_at = Turn.objects.filter(pk=turn_id).values_list("notify_dispatched_at", flat=True).first()
    Turn.objects.filter(pk=turn_id).update(notify_attempts=F("notify_attempts") + 1, notify_dispatched_at=now)
    queue_latency_observe(queued_at=queued_at, due_at=None, now=now, kind=NOTICES)
    turn = Turn.objects.select_related("tenant").filter(pk=turn_id).first()
    if turn is None:
        return False
    notifier = get_notifier()
    for message in InboundMessage.objects.select_related("conversation", "tenant").filter(turn_id=turn_id, forwarded_at__isnull=True):
        try:
            notifier.customer_message_while_human(message)
        except Exception as exc:  # retried by the sweeper
            _notify_failed(exc=exc, tenant=turn.tenant, attempts=turn.notify_attempts, what=f"message {message.pk}",
                           key=f"notify:{turn.tenant.slug}")
            return False
        InboundMessage.objects.filter(pk=message.pk).update(forwarded_at=timezone.now())
    return True


def turn_answer_notify(*, turn_id: int) -> bool:
    """Show the managers a bot answer in a conversation they dealt with before (the notifier's optional
    `bot_answered`, idempotent per turn). Runs only while `Turn.answer_notify_due_at` is set, counting
    an attempt (`answer_notify_attempts`); clears the marker when done. A failure is logged and left to
    the sweeper (`services.outbox`, doubling intervals); after MAX_NOTIFY_ATTEMPTS it is given up with
    an incident (`services.side_work`). Returns True when the notice was handed to the notifier now."""
    from conversations.notifier import get_notifier
    from conversations.services.side_work import ANSWER_NOTICE, side_work_give_up, side_work_recovered

    now = timezone.now()
    if not Turn.objects.filter(pk=turn_id, answer_notify_due_at__isnull=False).update(
        answer_notify_attempts=F("answer_notify_attempts") + 1, answer_notify_due_at=now
    ):
        return False  # done or given up before (a redelivered task)
    turn = Turn.objects.select_related("conversation__tenant__settings", "tenant").filter(pk=turn_id).first()
    announce = getattr(get_notifier(), "bot_answered", None)
    if turn is None or announce is None:
        Turn.objects.filter(pk=turn_id).update(answer_notify_due_at=None)
        return False
    try:
        announce(turn)
    except Exception as exc:  # retried by the sweeper at its pace (the marker stays), never at once
        error_log_record(where="conversations.notifier", exc=exc, tenant=turn.tenant,
                         context={"what": f"bot answer of turn {turn_id}", "attempt": turn.answer_notify_attempts})
        if turn.answer_notify_attempts >= MAX_NOTIFY_ATTEMPTS:
            if Turn.objects.filter(pk=turn_id, answer_notify_due_at__isnull=False).update(answer_notify_due_at=None):
                side_work_give_up(kind=ANSWER_NOTICE, tenant=turn.tenant, what=f"the bot answer notice of turn {turn_id}",
                                  error=f"{type(exc).__name__}: {exc}", attempts=turn.answer_notify_attempts)
        return False
    Turn.objects.filter(pk=turn_id).update(answer_notify_due_at=None)
    side_work_recovered(kind=ANSWER_NOTICE, tenant_id=turn.tenant_id)
    return True


def _notify_failed(*, exc: Exception, tenant: Any, attempts: int, what: str, key: str) -> None:
    error_log_record(where="conversations.notifier", exc=exc, tenant=tenant, context={"what": what, "attempt": attempts})
    if attempts >= MAX_NOTIFY_ATTEMPTS:
        from incidents.alerts import alert_raise

        alert_raise(
            title=f"Managers of {tenant.slug} are not being notified",
            text=f"The conversation notifier failed {attempts} times for {what}: {type(exc).__name__}.",
            severity="critical", tenant=tenant, key=key,
        )


def _escalations_mark(conversation: Conversation, *, status: str, actor: Actor, now: datetime) -> int:
    open_states = [EscalationStatus.OPEN] if status == EscalationStatus.TAKEN else [EscalationStatus.OPEN, EscalationStatus.TAKEN]
    fields: dict[str, Any] = {"status": status}
    if status == EscalationStatus.TAKEN:
        fields.update(taken_at=now, taken_by=actor.label[:150])
    else:
        fields.update(resolved_at=now, learn_due_at=now)  # what the manager answered is learned from (services.learning)
    return Escalation.objects.filter(conversation=conversation, status__in=open_states).update(**fields)


def _conversation_move(
    *, actor: Actor, conversation: Conversation, to_state: str, allowed_from: tuple[str, ...], note: str, escalations: str,
    action: str,
) -> Conversation:
    """A manager's state change: the transition, the open escalations marked `escalations`, one
    audit row (`action`) when anything changed. Idempotent."""
    now = timezone.now()
    changed = conversation_transition(conversation=conversation, to_state=to_state, allowed_from=allowed_from, actor=actor,
                                      note=note, now=now)
    marked = _escalations_mark(conversation, status=escalations, actor=actor, now=now)
    if changed or marked:
        audit_record(actor=actor, action=action, tenant=conversation.tenant_id, obj=conversation,
                     payload={f"escalations_{escalations}": marked})
    if marked and escalations == EscalationStatus.RESOLVED:
        # What the manager answered may be knowledge (services.learning), decided after commit.
        from conversations.dispatch import dispatch_handover_learn

        conversation_id = conversation.pk
        transaction.on_commit(lambda: dispatch_handover_learn(conversation_id=conversation_id))
    return conversation


@transaction.atomic
def conversation_take_over(*, actor: Actor, conversation: Conversation) -> Conversation:
    """A manager takes the conversation: state → human (bot silent), open escalations → taken.
    Idempotent; audited as `conversation.take_over` when something changed."""
    return _conversation_move(actor=actor, conversation=conversation, to_state=ConversationState.HUMAN,
                              allowed_from=(ConversationState.BOT, ConversationState.CLOSED), note="taken over",
                              escalations=EscalationStatus.TAKEN, action="conversation.take_over")


@transaction.atomic
def conversation_return_to_bot(*, actor: Actor, conversation: Conversation) -> Conversation:
    """Hand the conversation back to the bot: state → bot, escalations → resolved. Messages that
    came while a human held it are not answered retroactively. Idempotent; audited."""
    return _conversation_move(actor=actor, conversation=conversation, to_state=ConversationState.BOT,
                              allowed_from=(ConversationState.HUMAN, ConversationState.CLOSED), note="returned to bot",
                              escalations=EscalationStatus.RESOLVED, action="conversation.return_to_bot")


@transaction.atomic
def conversation_close(*, actor: Actor, conversation: Conversation) -> Conversation:
    """Close the conversation (escalations → resolved). The customer's next message reopens it
    to the bot. Idempotent; audited as `conversation.close`."""
    return _conversation_move(actor=actor, conversation=conversation, to_state=ConversationState.CLOSED,
                              allowed_from=(ConversationState.BOT, ConversationState.HUMAN), note="closed",
                              escalations=EscalationStatus.RESOLVED, action="conversation.close")


@transaction.atomic
def manager_reply_send(*, actor: Actor, conversation: Conversation, text: str, idempotency_key: str) -> OutboundMessage:
    """Send a manager's text to the customer through the outbound path (same idempotency,
    retries, failure handling as bot replies) and take the conversation over.

    Idempotent by `idempotency_key` (e.g. the Telegram update id): a repeat returns the first
    outbound message and sends nothing. Audited as `conversation.manager_reply`.
    Raises ApplicationError for an empty or too long text.
    """
    from conversations.services.delivery import outbound_enqueue

    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("The reply is empty."))
    if len(text) > MAX_MANAGER_TEXT:
        raise ApplicationError(_("The reply is longer than %(limit)s characters.") % {"limit": MAX_MANAGER_TEXT})
    if not idempotency_key or not idempotency_key.strip():
        raise ApplicationError("An idempotency key is required.")
    key = manager_idempotency_key(conversation.tenant_id, idempotency_key)
    existing = OutboundMessage.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing
    conversation_take_over(actor=actor, conversation=conversation)
    outbound = outbound_enqueue(
        tenant=conversation.tenant, conversation=conversation, text=text, kind=OutboundKind.MANAGER, idempotency_key=key,
        created_by=str(actor)[:150],
    )
    audit_record(actor=actor, action="conversation.manager_reply", tenant=conversation.tenant_id, obj=conversation,
                 payload={"outbound_id": outbound.pk, "length": len(text)})
    return outbound


@transaction.atomic
def conversation_note_add(*, actor: Actor, conversation: Conversation, text: str, idempotency_key: str) -> tuple[ConversationNote, bool]:
    """Record a manager's internal note on the conversation; nothing goes to the customer and the
    conversation's state does not change.

    Idempotent by `idempotency_key` (e.g. the Telegram chat and message id): a repeat returns the
    first note and `False`. Audited as `conversation.note` (length only, not the text).
    Raises ApplicationError for an empty or too long note.
    """
    text = (text or "").strip()
    if not text:
        raise ApplicationError(_("The note is empty."))
    if len(text) > MAX_NOTE_TEXT:
        raise ApplicationError(_("The note is longer than %(limit)s characters.") % {"limit": MAX_NOTE_TEXT})
    if not idempotency_key or not idempotency_key.strip():
        raise ApplicationError("An idempotency key is required.")
    key = manager_idempotency_key(conversation.tenant_id, idempotency_key).replace("-mgr-", "-note-", 1)
    existing = ConversationNote.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            note = ConversationNote.objects.create(
                tenant_id=conversation.tenant_id, conversation=conversation, created_at=timezone.now(), text=text,
                source=_SOURCES.get(actor.kind, EventSource.SYSTEM), actor_kind=actor.kind, actor_label=actor.label[:150],
                idempotency_key=key,
            )
    except IntegrityError:  # the same note, concurrently
        return ConversationNote.objects.get(idempotency_key=key), False
    audit_record(actor=actor, action="conversation.note", tenant=conversation.tenant_id, obj=conversation,
                 payload={"note_id": note.pk, "length": len(text)})
    return note, True
