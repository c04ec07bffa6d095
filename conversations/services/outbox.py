"""The outbox sweeper: the database, not the broker, guarantees progress.

Run by beat every OUTBOX_SWEEP_SECONDS and by `POST /admin/outbox/process`. Each pass finds work
that is due and not done and queues it again:
- conversations whose reply is due but whose turn task was queued more than
  OUTBOX_REDISPATCH_SECONDS ago — or twice the queue latency workers report now, if longer
  (`queue_latency`): a task only waiting in a long queue is not lost (lost broker message, worker
  killed holding it) — or started waiting more than OUTBOX_REDISPATCH_SECONDS before the latest
  work workers have claimed (passed by the queue: lost); and never one queued at or after the oldest task still waiting in its
  Redis queue (`queues_waiting_since`: it is visibly there, whether or not any worker runs);
- processing turns whose lease expired (worker died while deciding): re-claimed and resumed;
- outbound messages `sending` with an expired lease → `unknown`, then re-sent with the same key;
- pending/unknown outbound messages not queued recently;
- escalations and forwarded messages the notifier has not taken yet — rate-limited: each one is
  re-notified at most at doubling intervals (the n-th re-send waits as long as the item had
  waited before the previous one: 30 s, 60 s, 2 min, …), and at most
  OUTBOX_RENOTIFY_PER_TENANT_PER_MINUTE re-notifies per tenant per minute (cache counter), so a
  backlog of escalations cannot turn into a storm of notices;
- resolved hand-overs not learned from yet (`Escalation.learn_due_at`) and bot answers not yet
  shown to the managers (`Turn.answer_notify_due_at`), at the same doubling intervals as notices,
  for at most MAX_NOTIFY_ATTEMPTS runs and a day (SIDE_WORK_MAX_AGE); past either bound they are
  given up with an incident (`services.side_work`), never dropped silently.

Whatever it queues again is recovered work: published at the front of its queue
(`dispatch`, `front=True`), never behind the fresh backlog it is older than.

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
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import DateTimeField, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet, Value
from django.utils import timezone

from conversations.choices import OutboundStatus, TurnStatus
from conversations.models import Conversation, Escalation, InboundMessage, OutboundMessage, Turn
from conversations.services.handover import MAX_NOTIFY_ATTEMPTS
from conversations.services.queue_latency import NOTICES, TURNS, queue_watermark, queues_waiting_since, redispatch_after_seconds
from conversations.services.side_work import ANSWER_NOTICE, LEARNING, SIDE_WORK_MAX_AGE, side_work_give_up

logger = logging.getLogger(__name__)



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
    side_work_given_up: int = 0

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


# A row's dispatch marker is written just before its task is published (after the commit): work
# marked up to this long before the oldest waiting message is taken to be in the queue too.
_PUBLISH_MARGIN = timedelta(seconds=1)


def _backoff(now: datetime, born: str, dispatched: str = "notify_dispatched_at") -> Q:
    """Rows whose last dispatch is at least as old now as the row was at that dispatch: the waits
    between re-sends double (`born`: the field the row's age is counted from; `dispatched`: the
    field holding the last dispatch)."""
    since_dispatch = ExpressionWrapper(Value(now, output_field=DateTimeField()) - F(dispatched), output_field=DurationField())
    return Q(**{f"{dispatched}__lte": ExpressionWrapper(F(born) + since_dispatch, output_field=DateTimeField())})


def _renotify_key(tenant_id: int, minute: int) -> str:
    return f"{settings.OUTBOX_RENOTIFY_KEY_PREFIX}:{tenant_id}:{minute}"


def _renotify_within_budget(queryset: QuerySet, limit: int, now: datetime, used: dict[int, int]) -> list[int]:
    """Ids of up to `limit` rows of `queryset` (oldest dispatch first) that fit their tenant's
    re-notify budget for this minute; `used` counts what this sweep has queued per tenant so far."""
    minute = int(now.timestamp() // 60)
    candidates = list(queryset.order_by("notify_dispatched_at").values_list("pk", "tenant_id")[:limit])
    tenants = {tenant_id for _, tenant_id in candidates}
    try:
        stored = cache.get_many([_renotify_key(t, minute) for t in tenants])
    except Exception:  # no counter: this sweep's own count still bounds it
        stored = {}
    room = {t: settings.OUTBOX_RENOTIFY_PER_TENANT_PER_MINUTE - max(int(stored.get(_renotify_key(t, minute)) or 0), used.get(t, 0))
            for t in tenants}
    allowed = []
    for pk, tenant_id in candidates:
        if room[tenant_id] > 0:
            room[tenant_id] -= 1
            allowed.append(pk)
    return allowed


def _renotify_count(model: Any, ids: list[int], now: datetime, used: dict[int, int]) -> None:
    minute = int(now.timestamp() // 60)
    per_tenant: dict[int, int] = {}
    for tenant_id in model.objects.filter(pk__in=ids).values_list("tenant_id", flat=True):
        per_tenant[tenant_id] = per_tenant.get(tenant_id, 0) + 1
    for tenant_id, count in per_tenant.items():
        key = _renotify_key(tenant_id, minute)
        try:
            cache.add(key, 0, timeout=120)
            used[tenant_id] = max(used.get(tenant_id, 0), int(cache.incr(key, count)))
        except Exception:
            used[tenant_id] = used.get(tenant_id, 0) + count


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
        stale = now - timedelta(seconds=redispatch_after_seconds(now=now, kind=TURNS))
        stale_notices = now - timedelta(seconds=redispatch_after_seconds(now=now, kind=NOTICES))
    else:
        stale = stale_notices = now - timedelta(seconds=redispatch_seconds)
    report = SweepReport()

    lost = Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=stale)
    watermark = queue_watermark(now=now, kind=TURNS) if redispatch_seconds is None else None
    if watermark is not None:
        # Passed by the queue: later work was served while this one waited (its task died with a worker).
        passed = watermark - timedelta(seconds=settings.OUTBOX_REDISPATCH_SECONDS)
        lost |= Q(dispatched_at__lt=passed, reply_due_at__lt=passed)
    due = Conversation.objects.filter(reply_due_at__lte=now).filter(lost)
    # An explicit `redispatch_seconds` (inline processing) takes everything due, waiting or not.
    waiting = queues_waiting_since(("stable", "canary", "default"), margin=_PUBLISH_MARGIN) if redispatch_seconds is None else {}
    if waiting.get("stable") or waiting.get("canary"):
        from tenants.models import ClientSettings

        canary = ClientSettings.objects.filter(release_channel="canary").values("client_id")
        if waiting.get("stable"):  # queued after the oldest task still in the list: it is there, waiting
            due = due.exclude(Q(dispatched_at__gte=waiting["stable"]) & ~Q(tenant_id__in=canary))
        if waiting.get("canary"):
            due = due.exclude(Q(dispatched_at__gte=waiting["canary"]) & Q(tenant_id__in=canary))
    ids = _claim(due, limit, dispatched_at=now)
    for conversation in Conversation.objects.select_related("tenant__settings").filter(pk__in=ids):
        dispatch_turn(conversation_id=conversation.pk, tenant=conversation.tenant, front=True)
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
    if waiting.get("stable") or waiting.get("canary"):  # deliveries wait in the same channel queues as turns
        if waiting.get("stable"):
            deliverable = deliverable.exclude(Q(dispatched_at__gte=waiting["stable"]) & ~Q(tenant_id__in=canary))
        if waiting.get("canary"):
            deliverable = deliverable.exclude(Q(dispatched_at__gte=waiting["canary"]) & Q(tenant_id__in=canary))
    ids = _claim(deliverable, limit, dispatched_at=now)
    for outbound in OutboundMessage.objects.select_related("tenant__settings").filter(pk__in=ids):
        dispatch_delivery(outbound_id=outbound.pk, tenant=outbound.tenant, front=True)
    report.deliveries_dispatched = len(ids)

    # Notices: only when the task is lost by the notice queue's latency, at doubling intervals per
    # item, within the tenant's per-minute budget (module docstring).
    used: dict[int, int] = {}
    unnotified = Escalation.objects.filter(
        notified_at__isnull=True, notify_attempts__lt=MAX_NOTIFY_ATTEMPTS
    ).filter(Q(notify_dispatched_at__isnull=True) | (Q(notify_dispatched_at__lte=stale_notices) & _backoff(now, "created_at")))
    if waiting.get("default"):
        unnotified = unnotified.exclude(notify_dispatched_at__gte=waiting["default"])
    allowed = _renotify_within_budget(unnotified, limit, now, used)
    ids = _claim(unnotified.filter(pk__in=allowed), limit, notify_dispatched_at=now) if allowed else []
    _renotify_count(Escalation, ids, now, used)
    for pk in ids:
        dispatch_escalation_notify(escalation_id=pk, front=True)
    report.escalations_renotified = len(ids)

    unforwarded = Turn.objects.filter(
        status__in=[TurnStatus.FORWARDED, TurnStatus.SUPPRESSED], notify_attempts__lt=MAX_NOTIFY_ATTEMPTS
    ).filter(
        Q(notify_dispatched_at__isnull=True) | (Q(notify_dispatched_at__lte=stale_notices) & _backoff(now, "created_at")),
        Exists(InboundMessage.objects.filter(turn=OuterRef("pk"), forwarded_at__isnull=True)),
    )
    if waiting.get("default"):
        unforwarded = unforwarded.exclude(notify_dispatched_at__gte=waiting["default"])
    allowed = _renotify_within_budget(unforwarded, limit, now, used)
    ids = _claim(unforwarded.filter(pk__in=allowed), limit, notify_dispatched_at=now) if allowed else []
    _renotify_count(Turn, ids, now, used)
    for pk in ids:
        dispatch_forward_notify(turn_id=pk, front=True)
    report.forwards_renotified = len(ids)

    # Learning from resolved hand-overs and bot answers shown to managers: the row says it is due
    # (`learn_due_at`, `answer_notify_due_at`, also the time of its last dispatch); queued again when
    # lost by the notice queue's latency, at doubling intervals, for MAX_NOTIFY_ATTEMPTS runs and a day.
    recent = now - SIDE_WORK_MAX_AGE
    unlearned = Escalation.objects.filter(
        learn_due_at__lte=stale_notices, resolved_at__gte=recent, learn_attempts__lt=MAX_NOTIFY_ATTEMPTS,
    ).filter(_backoff(now, "resolved_at", "learn_due_at"))  # `default` queue
    ids = _claim(unlearned, limit, learn_due_at=now)
    for conversation_id in sorted(set(Escalation.objects.filter(pk__in=ids).values_list("conversation_id", flat=True))):
        dispatch_handover_learn(conversation_id=conversation_id)
    report.learning_redispatched = len(ids)

    unannounced = Turn.objects.filter(
        answer_notify_due_at__lte=stale_notices, created_at__gte=recent, answer_notify_attempts__lt=MAX_NOTIFY_ATTEMPTS,
    ).filter(_backoff(now, "created_at", "answer_notify_due_at"))
    ids = _claim(unannounced, limit, answer_notify_due_at=now)
    for pk in ids:
        dispatch_answer_notify(turn_id=pk)
    report.answer_notices_redispatched = len(ids)

    # Past the bounds (a day old, or every attempt used by runs that died before recording the
    # failure): given up loudly, one incident per tenant.
    exhausted = Q(learn_attempts__gte=MAX_NOTIFY_ATTEMPTS, learn_due_at__lte=stale_notices) | Q(resolved_at__lt=recent)
    ids = _claim(Escalation.objects.filter(learn_due_at__isnull=False).filter(exhausted), limit, learn_due_at=None)
    report.side_work_given_up += _give_up(Escalation.objects.filter(pk__in=ids), LEARNING, "learning from hand-over", "learn_attempts")
    exhausted = Q(answer_notify_attempts__gte=MAX_NOTIFY_ATTEMPTS, answer_notify_due_at__lte=stale_notices) | Q(created_at__lt=recent)
    ids = _claim(Turn.objects.filter(answer_notify_due_at__isnull=False).filter(exhausted), limit, answer_notify_due_at=None)
    report.side_work_given_up += _give_up(Turn.objects.filter(pk__in=ids), ANSWER_NOTICE, "the bot answer notice of turn",
                                          "answer_notify_attempts")

    if report.total:
        logger.info("outbox sweep: %s", report.as_dict())
    return report


def _give_up(rows: QuerySet, kind: str, what: str, attempts_field: str) -> int:
    per_tenant: dict[int, list[Any]] = {}
    for row in rows.select_related("tenant"):
        per_tenant.setdefault(row.tenant_id, []).append(row)
    for tenant_rows in per_tenant.values():
        ids = ", ".join(str(row.pk) for row in tenant_rows)
        side_work_give_up(kind=kind, tenant=tenant_rows[0].tenant, what=f"{what} {ids}",
                          error="not done within its attempts or a day (lost tasks or failing runs)",
                          attempts=max(getattr(row, attempts_field) for row in tenant_rows))
    return sum(len(r) for r in per_tenant.values())
