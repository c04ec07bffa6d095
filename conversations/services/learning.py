"""Learning from hand-overs: when a manager answered an escalated conversation and it is closed
or returned to the bot, the customer's question(s) and the manager's reply go to
`knowledge.suggestions.kb_suggestion_propose`, which proposes an alternative phrasing, a new
item, or nothing. New suggestions are announced through the notifier (the suggestion card in the
managers' chat).

Each resolved escalation is learned from once (`Escalation.detail["learned_at"]`, set in the
same transaction as the suggestion). `Escalation.learn_due_at`, set when the hand-over is
resolved and cleared here, is the record the outbox sweeper re-queues a lost or failed task from;
each run counts an attempt (`learn_attempts`) and after MAX_NOTIFY_ATTEMPTS failed runs the
hand-over is given up with an incident (`services.side_work`)."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from conversations.choices import EscalationStatus, OutboundKind, OutboundStatus
from conversations.models import Escalation, InboundMessage, OutboundMessage
from conversations.services.handover import MAX_NOTIFY_ATTEMPTS
from incidents.errors import error_log_record
from knowledge.suggestions import Proposal, kb_suggestion_propose

logger = logging.getLogger(__name__)


def _questions(escalation: Escalation, until: Any) -> list[str]:
    """The customer's words the manager answered: the escalated turn's messages and whatever the
    customer wrote before the manager's first reply."""
    rows = InboundMessage.objects.for_tenant(escalation.tenant_id).filter(conversation_id=escalation.conversation_id)
    texts = []
    if escalation.turn_id is not None:
        texts += [m.text for m in rows.filter(turn_id=escalation.turn_id) if m.is_text]
    texts += [m.text for m in rows.filter(received_at__gt=escalation.created_at, received_at__lte=until) if m.is_text]
    return list(dict.fromkeys(t for t in texts if t.strip()))


def _manager_replies(escalation: Escalation) -> list[OutboundMessage]:
    rows = (OutboundMessage.objects.for_tenant(escalation.tenant_id)
            .filter(conversation_id=escalation.conversation_id, kind=OutboundKind.MANAGER, created_at__gte=escalation.created_at)
            .exclude(status__in=[OutboundStatus.FAILED, OutboundStatus.CANCELLED]).order_by("created_at", "id"))
    if escalation.resolved_at is not None:
        rows = rows.filter(created_at__lte=escalation.resolved_at)
    return list(rows)


def handover_learn(*, conversation_id: int) -> list[Proposal]:
    """Propose knowledge from every resolved escalation of the conversation that a manager
    answered and that was not learned from yet. Returns the proposals (new ones announced).

    An escalation whose learning fails keeps `learn_due_at` (the sweeper retries it) and the others
    go on; the run that fails the MAX_NOTIFY_ATTEMPTS-th time gives it up (cleared, incident)."""
    from conversations.notifier import get_notifier
    from conversations.services.side_work import LEARNING, side_work_give_up, side_work_recovered

    proposals: list[Proposal] = []
    now = timezone.now()
    # Learned before (a redelivered task): nothing is due any more.
    Escalation.objects.filter(conversation_id=conversation_id, learn_due_at__isnull=False, detail__has_key="learned_at").update(
        learn_due_at=None)
    # This run is one attempt of each hand-over still due.
    Escalation.objects.filter(conversation_id=conversation_id, learn_due_at__isnull=False).update(
        learn_attempts=F("learn_attempts") + 1, learn_due_at=now)
    pending = (Escalation.objects.filter(conversation_id=conversation_id, status=EscalationStatus.RESOLVED)
               .exclude(detail__has_key="learned_at").select_related("conversation", "tenant").order_by("created_at", "id"))
    for escalation in pending:
        try:
            proposal = _learn_one(escalation, conversation_id)
        except Exception as exc:  # retried by the sweeper (the marker stays) or given up below
            attempts = Escalation.objects.filter(pk=escalation.pk).values_list("learn_attempts", flat=True).first() or 0
            error_log_record(where="conversations.learning", exc=exc, tenant=escalation.tenant,
                             context={"what": f"learning from hand-over {escalation.pk}", "attempt": attempts})
            if attempts >= MAX_NOTIFY_ATTEMPTS and Escalation.objects.filter(
                pk=escalation.pk, learn_due_at__isnull=False
            ).update(learn_due_at=None):
                side_work_give_up(kind=LEARNING, tenant=escalation.tenant, what=f"learning from hand-over {escalation.pk}",
                                  error=f"{type(exc).__name__}: {exc}", attempts=attempts)
            continue
        if proposal is None:
            continue
        side_work_recovered(kind=LEARNING, tenant_id=escalation.tenant_id)
        proposals.append(proposal)
        logger.info("hand-over %s of conversation %s: %s", escalation.pk, conversation_id,
                    f"suggestion {proposal.suggestion.pk}" if proposal.created else proposal.skipped)
        if proposal.created and proposal.suggestion is not None:
            try:
                announce = getattr(get_notifier(), "knowledge_suggestion", None)
                if announce is not None:
                    announce(proposal.suggestion)
            except Exception:  # the suggestion is a row in the admin queue either way
                logger.exception("could not announce suggestion %s", proposal.suggestion.pk)
    return proposals


def _learn_one(escalation: Escalation, conversation_id: int) -> Proposal | None:
    """Learn from one hand-over in one transaction (None: learned meanwhile by another run)."""
    with transaction.atomic():
        locked = Escalation.objects.select_for_update().filter(pk=escalation.pk).exclude(detail__has_key="learned_at").first()
        if locked is None:
            Escalation.objects.filter(pk=escalation.pk).update(learn_due_at=None)
            return None
        replies = _manager_replies(locked)
        proposal = Proposal(None, skipped="no manager reply")
        if replies:
            proposal = kb_suggestion_propose(
                tenant=escalation.tenant, questions=_questions(locked, replies[0].created_at),
                reply="\n".join(r.text for r in replies), reason=locked.reason, conversation_id=conversation_id,
                customer_name=escalation.conversation.customer_name,
            )
        Escalation.objects.filter(pk=locked.pk).update(learn_due_at=None, detail={
            **locked.detail, "learned_at": timezone.now().isoformat(), "learned": proposal.skipped or "proposed",
            "suggestion_id": proposal.suggestion.pk if proposal.suggestion else None,
        })
    return proposal
