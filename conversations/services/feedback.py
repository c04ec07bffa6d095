"""«❌ Бот ответил неверно»: a manager (Telegram) or an operator (admin) marks a bot answer wrong.

`turn_mark_wrong` records the mark (one per turn), opens a quality incident carrying the turn's
trace and sources (`incidents.services.incident_open`: one alert to the CEO chat), hands the
conversation to a human (an escalation: the managers get the card, the bot goes silent) and, on
the second mark within WRONG_ANSWER_WINDOW for answers from the same KB item, pauses that item
(`knowledge.suggestions.kb_item_pause`: the bot escalates instead of answering from it until an
operator edits or un-pauses it)."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from conversations.choices import ConversationState, EscalationReason, EventSource, OutboundKind, TurnStatus
from conversations.models import Escalation, InboundMessage, OutboundMessage, Turn, WrongAnswerMark
from imperium.core.actors import Actor
from imperium.core.choices import ActorKind
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record

logger = logging.getLogger(__name__)

WRONG_ANSWER_WINDOW = timedelta(days=7)
PAUSE_AFTER_MARKS = 2

_SOURCES = {ActorKind.USER: EventSource.WEB, ActorKind.TELEGRAM: EventSource.TELEGRAM, ActorKind.API: EventSource.API}


def _incident(turn: Turn, mark: WrongAnswerMark, questions: list[str]) -> Any:
    from incidents.services import incident_open

    trace = getattr(turn, "trace", None)
    summary = (f"Bot answer marked wrong by {mark.actor_label or mark.actor_kind}.\n"
               f"Customer: {' / '.join(questions)[:1000]}\nBot: {mark.reply[:1000]}\n"
               f"Sources: {', '.join(mark.sources) or '-'} (KB v{mark.kb_version}); trace {trace.pk if trace else '-'}, "
               f"correlation {turn.correlation_id or '-'}")
    incident, _created = incident_open(
        fingerprint=f"quality.wrong_answer:turn{turn.pk}", kind="quality.wrong_answer", target=turn.tenant.slug,
        title=f"Wrong bot answer ({turn.tenant.slug})", summary=summary, tenant=turn.tenant,
        actor=Actor.system("wrong-answer"),
        data={"turn": turn.pk, "trace": trace.pk if trace else None, "sources": mark.sources, "kb_version": mark.kb_version,
              "confidence": trace.confidence if trace else None, "gate": trace.gate if trace else [],
              "correlation_id": turn.correlation_id},
    )
    return incident


def _pause_items(turn: Turn, mark: WrongAnswerMark, actor: Actor) -> list[str]:
    from knowledge.selectors import kb_version_get
    from knowledge.suggestions import kb_item_pause

    since = mark.created_at - WRONG_ANSWER_WINDOW
    paused = []
    version = kb_version_get(turn.tenant, mark.kb_version) if mark.kb_version else None
    # The window's marks of this tenant are few; counted here because a JSON `contains` lookup is
    # not available on every database backend (SQLite).
    recent = list(WrongAnswerMark.objects.for_tenant(turn.tenant_id).filter(created_at__gte=since).values_list("sources", flat=True))
    for external_id in mark.sources:
        marks = sum(1 for sources in recent if external_id in (sources or []))
        if marks < PAUSE_AFTER_MARKS or version is None:
            continue
        try:
            _pause, created = kb_item_pause(actor=actor, tenant=turn.tenant, external_id=external_id, version=version, marks=marks,
                                            reason=f"marked wrong {marks} times within {WRONG_ANSWER_WINDOW.days} days")
        except ApplicationError as exc:  # the item is gone from that version: nothing to pause
            logger.info("not pausing %s: %s", external_id, exc.message)
            continue
        if created:
            paused.append(external_id)
    return paused


@transaction.atomic
def turn_mark_wrong(*, actor: Actor, turn: Turn) -> tuple[WrongAnswerMark, bool]:
    """Mark the bot's answer of `turn` wrong (see the module docstring). Idempotent per turn: a
    second mark returns the first (False) and changes nothing. Refuses a turn the bot did not
    answer. Audited `conversation.wrong_answer`."""
    Turn.objects.select_for_update().filter(pk=turn.pk).values_list("pk", flat=True).first()  # one mark at a time per turn
    turn = Turn.objects.select_related("tenant", "conversation__tenant__settings").get(pk=turn.pk)
    existing = WrongAnswerMark.objects.filter(turn=turn).first()
    if existing is not None:
        return existing, False
    if turn.status != TurnStatus.ANSWERED:
        raise ApplicationError(_("Only an answer the bot sent can be marked wrong."), status=409)
    trace = getattr(turn, "trace", None)
    reply = (OutboundMessage.objects.filter(turn=turn, kind=OutboundKind.REPLY).values_list("text", flat=True).first() or "")
    now = timezone.now()
    try:
        with transaction.atomic():
            mark = WrongAnswerMark.objects.create(
                tenant_id=turn.tenant_id, conversation=turn.conversation, turn=turn, created_at=now,
                sources=list(trace.sources if trace else []), kb_version=turn.kb_version, reply=reply,
                source=_SOURCES.get(actor.kind, EventSource.SYSTEM), actor_kind=actor.kind, actor_label=actor.label[:150],
            )
    except IntegrityError:
        return WrongAnswerMark.objects.get(turn=turn), False
    questions = [m.text for m in InboundMessage.objects.filter(turn=turn) if m.text]
    incident = _incident(turn, mark, questions)
    paused = _pause_items(turn, mark, actor)
    WrongAnswerMark.objects.filter(pk=mark.pk).update(incident_id=incident.pk, paused_items=paused)
    mark.incident_id, mark.paused_items = incident.pk, paused
    conversation = turn.conversation
    open_already = Escalation.objects.filter(conversation=conversation, status__in=["open", "taken"]).exists()
    if conversation.state != ConversationState.HUMAN or not open_already:
        from conversations.services.handover import escalation_open

        # No holding reply: the customer has an answer; a manager now corrects it.
        # The escalation points at the marked turn: when the manager's correction closes it, the
        # customer's question there is what the hand-over teaches (services.learning).
        escalation_open(conversation=conversation, reason=EscalationReason.WRONG_ANSWER, send_holding=False, turn=turn,
                        detail={"wrong_answer": mark.pk, "turn": turn.pk, "incident": incident.pk})
    audit_record(actor=actor, action="conversation.wrong_answer", tenant=turn.tenant_id, obj=conversation,
                 payload={"turn": turn.pk, "sources": mark.sources, "incident": incident.pk, "paused": paused})
    return mark, True
