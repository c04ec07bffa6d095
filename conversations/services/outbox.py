"""The outbox sweeper: the database, not the broker, guarantees progress.

Run by beat every OUTBOX_SWEEP_SECONDS and by `POST /admin/outbox/process`. Each pass finds work
that is due and not done and queues it again:
- conversations whose reply is due but whose turn task was queued more than
  OUTBOX_REDISPATCH_SECONDS ago — or twice the queue latency workers report now, if longer
  (`queue_latency`): a task only waiting in a long queue is not lost (lost broker message, worker
  killed holding it);
- processing turns whose lease expired (worker died while deciding): re-claimed and resumed;
- outbound messages `sending` with an expired lease → `unknown`, then re-sent with the same key;
- pending/unknown outbound messages not queued recently;
- escalations and forwarded messages the notifier has not taken yet;
- resolved hand-overs not learned from yet (`Escalation.learn_due_at`) and bot answers not yet
  shown to the managers (`Turn.answer_notify_due_at`), for a day (SIDE_WORK_MAX_AGE).

Batches are claimed with `SELECT … FOR UPDATE SKIP LOCKED` on Postgres, so concurrent sweepers
split the work; elsewhere each row is claimed with a conditional update. Queueing twice is
harmless anyway: every task re-checks its row.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.utils import timezone

from conversations.choices import OutboundStatus, TurnStatus
from conversations.models import Conversation, Escalation, InboundMessage, OutboundMessage, Turn
from conversations.services.handover import MAX_NOTIFY_ATTEMPTS
from conversations.services.queue_latency import redispatch_after_seconds

logger = logging.getLogger(__name__)

# Learning and answer notices older than this are given up: a day-old card is no help.
SIDE_WORK_MAX_AGE = timedelta(days=1)


@dataclass
class SweepReport:
    turns_dispatched: int = 0
    turns_resumed: int = 0
    deliveries_marked_unknown: int = 0
    deliveries_dispatched: int = 0
    escalations_renotified: int = 0
    forwards_renotified: int = 0
    learning_redispatched: int = 0
    answer_notices_redispatched: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())


def _claim(queryset: QuerySet, limit: int, **changes: Any) -> list[int]:
    """Apply `changes` to up to `limit` rows of `queryset`; return the ids this caller changed."""
    if connection.vendor == "postgresql":
        with transaction.atomic():
            ids = list(queryset.select_for_update(skip_locked=True).values_list("pk", flat=True)[:limit])
            if ids:
                queryset.model.objects.filter(pk__in=ids).update(**changes)
        return ids
    claimed = []
    for pk in list(queryset.values_list("pk", flat=True)[:limit]):
        # The queryset's own conditions make this update conditional: a row another sweeper
        # changed meanwhile no longer matches.
        if queryset.filter(pk=pk).update(**changes) == 1:
            claimed.append(pk)
    return claimed


def outbox_sweep(*, now: datetime | None = None, limit: int | None = None, redispatch_seconds: float | None = None) -> SweepReport:
    """One pass over the outbox (see module docstring). Returns what it queued.

    `redispatch_seconds=0` queues every due row even if it was queued a moment ago (used with
    inline processing, when no worker may be running to take the earlier messages).
    """
    from conversations.dispatch import (
        dispatch_answer_notify,
        dispatch_delivery,
        dispatch_escalation_notify,
        dispatch_forward_notify,
        dispatch_handover_learn,
        dispatch_turn,
        dispatch_turn_resume,
    )
    from conversations.services.turns import turn_resume_claim

    now = now or timezone.now()
    limit = limit or settings.OUTBOX_SWEEP_BATCH
    if redispatch_seconds is None:
        # Never a task that is only waiting in a long queue: at least twice the latency workers report.
        redispatch_seconds = redispatch_after_seconds(now=now)
    stale = now - timedelta(seconds=redispatch_seconds)
    report = SweepReport()

    due = Conversation.objects.filter(reply_due_at__lte=now).filter(Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale))
    ids = _claim(due, limit, dispatched_at=now)
    for conversation in Conversation.objects.select_related("tenant__settings").filter(pk__in=ids):
        dispatch_turn(conversation_id=conversation.pk, tenant=conversation.tenant)
    report.turns_dispatched = len(ids)

    expired_turns = Turn.objects.filter(status=TurnStatus.PROCESSING, lease_expires_at__lte=now)
    for turn in expired_turns.select_related("tenant__settings")[:limit]:
        token = turn_resume_claim(turn_id=turn.pk, now=now)
        if token:
            dispatch_turn_resume(turn_id=turn.pk, claim_token=token, tenant=turn.tenant)
            report.turns_resumed += 1

    crashed = OutboundMessage.objects.filter(status=OutboundStatus.SENDING, lease_expires_at__lte=now)
    # Its outcome is unclear (the gateway may have sent it): counted, the re-send relies on the key.
    unknown_ids = _claim(crashed, limit, status=OutboundStatus.UNKNOWN, claim_token="", lease_expires_at=None, dispatched_at=None,
                         updated_at=now, unclear_attempts=F("unclear_attempts") + 1)
    report.deliveries_marked_unknown = len(unknown_ids)
    if unknown_ids:
        logger.warning("outbound messages %s were mid-send when their worker died; re-sending with the same keys", unknown_ids)

    deliverable = OutboundMessage.objects.filter(
        Q(status__in=[OutboundStatus.PENDING, OutboundStatus.UNKNOWN]),
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now),
        Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale),
    )
    ids = _claim(deliverable, limit, dispatched_at=now)
    for outbound in OutboundMessage.objects.select_related("tenant__settings").filter(pk__in=ids):
        dispatch_delivery(outbound_id=outbound.pk, tenant=outbound.tenant)
    report.deliveries_dispatched = len(ids)

    unnotified = Escalation.objects.filter(
        notified_at__isnull=True, notify_attempts__lt=MAX_NOTIFY_ATTEMPTS
    ).filter(Q(notify_dispatched_at__isnull=True) | Q(notify_dispatched_at__lte=stale))
    ids = _claim(unnotified, limit, notify_dispatched_at=now)
    for pk in ids:
        dispatch_escalation_notify(escalation_id=pk)
    report.escalations_renotified = len(ids)

    unforwarded = Turn.objects.filter(
        status__in=[TurnStatus.FORWARDED, TurnStatus.SUPPRESSED], notify_attempts__lt=MAX_NOTIFY_ATTEMPTS
    ).filter(
        Q(notify_dispatched_at__isnull=True) | Q(notify_dispatched_at__lte=stale),
        Exists(InboundMessage.objects.filter(turn=OuterRef("pk"), forwarded_at__isnull=True)),
    )
    ids = _claim(unforwarded, limit, notify_dispatched_at=now)
    for pk in ids:
        dispatch_forward_notify(turn_id=pk)
    report.forwards_renotified = len(ids)

    # Learning from resolved hand-overs and bot answers shown to managers: the row says it is due
    # (`learn_due_at`, `answer_notify_due_at`); a day later it is given up (the suggestion would be stale).
    recent = now - SIDE_WORK_MAX_AGE
    unlearned = Escalation.objects.filter(learn_due_at__lte=stale, resolved_at__gte=recent)
    ids = _claim(unlearned, limit, learn_due_at=now)
    for conversation_id in sorted(set(Escalation.objects.filter(pk__in=ids).values_list("conversation_id", flat=True))):
        dispatch_handover_learn(conversation_id=conversation_id)
    report.learning_redispatched = len(ids)

    unannounced = Turn.objects.filter(answer_notify_due_at__lte=stale, created_at__gte=recent)
    ids = _claim(unannounced, limit, answer_notify_due_at=now)
    for pk in ids:
        dispatch_answer_notify(turn_id=pk)
    report.answer_notices_redispatched = len(ids)

    if report.total:
        logger.info("outbox sweep: %s", report.as_dict())
    return report
