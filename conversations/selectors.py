"""Reads of the reply pipeline, always tenant-scoped (`for_tenant` / `visible_to`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from conversations.choices import (
    ConversationState,
    EscalationReason,
    EscalationStatus,
    OutboundKind,
    OutboundStatus,
    TurnStatus,
)
from conversations.models import (
    Conversation,
    ConversationEvent,
    ConversationNote,
    DeadLetter,
    Escalation,
    InboundMessage,
    MessageTrace,
    OutboundMessage,
    Turn,
)
from incidents.models import ErrorLog


def conversations_visible_to(user: Any) -> QuerySet[Conversation]:
    return Conversation.objects.visible_to(user).select_related("tenant")


def conversation_get(*, tenant: Any, conversation_id: int) -> Conversation | None:
    """A conversation of this tenant (None for another tenant's id)."""
    return Conversation.objects.for_tenant(tenant).select_related("tenant__settings").filter(pk=conversation_id).first()


def escalations_open(*, tenant: Any = None) -> QuerySet[Escalation]:
    rows = Escalation.objects.filter(status__in=[EscalationStatus.OPEN, EscalationStatus.TAKEN])
    if tenant is not None:
        rows = rows.for_tenant(tenant)
    return rows.select_related("conversation", "tenant").order_by("created_at")


def dead_letters_new(*, tenant: Any = None) -> QuerySet[DeadLetter]:
    rows = DeadLetter.objects.filter(status="new")
    return rows.for_tenant(tenant) if tenant is not None else rows


def trace_error_logs(trace: MessageTrace) -> QuerySet[ErrorLog]:
    """ErrorLogs written while this turn was processed or delivered (same correlation id)."""
    if not trace.correlation_id:
        return ErrorLog.objects.none()
    return ErrorLog.objects.for_tenant(trace.tenant_id).filter(correlation_id=trace.correlation_id)


def recent_messages(*, conversation: Conversation, limit: int = 10) -> list[InboundMessage]:
    """The conversation's last inbound messages, oldest first (context for a manager)."""
    rows = InboundMessage.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation).order_by("-received_at", "-id")
    return list(reversed(rows[:limit]))


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # inbound | turn | outbound | escalation | event | note | error
    obj: Any


def conversation_timeline(conversation: Conversation, *, limit: int = 200) -> list[TimelineEntry]:
    """Everything that happened in a conversation, oldest first: messages, turns with their
    traces, outbound messages, escalations, state changes and errors of its turns."""
    tenant_id = conversation.tenant_id
    entries: list[TimelineEntry] = []
    for message in InboundMessage.objects.for_tenant(tenant_id).filter(conversation=conversation).order_by("-received_at")[:limit]:
        entries.append(TimelineEntry(message.received_at, "inbound", message))
    turns = list(
        Turn.objects.for_tenant(tenant_id).filter(conversation=conversation).select_related("trace").order_by("-created_at")[:limit]
    )
    for turn in turns:
        entries.append(TimelineEntry(turn.created_at, "turn", turn))
    for outbound in OutboundMessage.objects.for_tenant(tenant_id).filter(conversation=conversation).order_by("-created_at")[:limit]:
        entries.append(TimelineEntry(outbound.created_at, "outbound", outbound))
    for escalation in Escalation.objects.for_tenant(tenant_id).filter(conversation=conversation).order_by("-created_at")[:limit]:
        entries.append(TimelineEntry(escalation.created_at, "escalation", escalation))
    for event in ConversationEvent.objects.for_tenant(tenant_id).filter(conversation=conversation).order_by("-created_at")[:limit]:
        entries.append(TimelineEntry(event.created_at, "event", event))
    for note in ConversationNote.objects.for_tenant(tenant_id).filter(conversation=conversation).order_by("-created_at")[:limit]:
        entries.append(TimelineEntry(note.created_at, "note", note))
    correlation_ids = [t.correlation_id for t in turns if t.correlation_id]
    if correlation_ids:
        for error in ErrorLog.objects.for_tenant(tenant_id).filter(correlation_id__in=correlation_ids)[:limit]:
            entries.append(TimelineEntry(error.created_at, "error", error))
    order = {"inbound": 0, "turn": 1, "event": 2, "escalation": 3, "outbound": 4, "note": 5, "error": 6}
    entries.sort(key=lambda e: (e.at, order[e.kind], e.obj.pk))
    return entries


def pipeline_stats(*, tenant_ids: Iterable[int] | None = None, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """Health numbers of the reply path over a period, for /status, sentinel checks and canary
    analysis: turns by outcome, escalation and send-failure rates, latency percentiles, errors."""
    turns = Turn.objects.filter(created_at__gte=since)
    outbound = OutboundMessage.objects.filter(created_at__gte=since)
    traces = MessageTrace.objects.filter(created_at__gte=since)
    errors = ErrorLog.objects.filter(created_at__gte=since)
    if until is not None:
        turns, outbound, traces, errors = (q.filter(created_at__lt=until) for q in (turns, outbound, traces, errors))
    if tenant_ids is not None:
        ids = list(tenant_ids)
        turns, outbound, traces, errors = (q.filter(tenant_id__in=ids) for q in (turns, outbound, traces, errors))
    by_status = dict(turns.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    finished = sum(n for status, n in by_status.items() if status != TurnStatus.PROCESSING)
    decided = by_status.get(TurnStatus.ANSWERED, 0) + by_status.get(TurnStatus.ESCALATED, 0)
    sends = outbound.aggregate(
        sent=Count("id", filter=Q(status=OutboundStatus.SENT)), failed=Count("id", filter=Q(status=OutboundStatus.FAILED)),
    )
    totals = sorted(v for v in traces.exclude(total_ms__isnull=True).values_list("total_ms", flat=True))
    return {
        "turns": sum(by_status.values()),
        "turns_finished": finished,
        "answered": by_status.get(TurnStatus.ANSWERED, 0),
        "escalated": by_status.get(TurnStatus.ESCALATED, 0),
        "forwarded": by_status.get(TurnStatus.FORWARDED, 0) + by_status.get(TurnStatus.SUPPRESSED, 0),
        "escalation_rate": round(by_status.get(TurnStatus.ESCALATED, 0) / decided, 4) if decided else 0.0,
        "sent": sends["sent"],
        "send_failed": sends["failed"],
        "send_failure_rate": round(sends["failed"] / (sends["sent"] + sends["failed"]), 4) if sends["sent"] + sends["failed"] else 0.0,
        "errors": errors.count(),
        "total_ms_p50": _percentile(totals, 50),
        "total_ms_p95": _percentile(totals, 95),
    }


def _percentile(values: list[float], pct: float) -> float | None:
    if not values:
        return None
    index = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[index]


def delivery_stats(tenant: Any, *, hours: int = 24) -> dict[str, Any]:
    """`pipeline_stats` of one tenant over the last `hours` (for /status and sentinel checks)."""
    from datetime import timedelta

    from django.utils import timezone

    return pipeline_stats(tenant_ids=[getattr(tenant, "pk", tenant)], since=timezone.now() - timedelta(hours=hours))


def escalations_for_sla(*, now: datetime, reminders_max: int, limit: int, tenant: Any = None) -> list[Escalation]:
    """Open or taken escalations of conversations a human holds, at least a minute old (the
    shortest SLA), that may still need a manager reminder or the customer's follow-up, oldest
    first, with the tenant's settings and the conversation loaded and two annotations:
    `holding_sent` (the escalation's holding reply was delivered) and `manager_replied` (a
    manager reply was written in the conversation since the escalation)."""
    from tenants.choices import ClientStatus

    rows = Escalation.objects.filter(
        status__in=[EscalationStatus.OPEN, EscalationStatus.TAKEN], conversation__state=ConversationState.HUMAN,
        created_at__lte=now - timedelta(minutes=1),
    ).filter(Q(status=EscalationStatus.OPEN, reminders_sent__lt=reminders_max) | Q(holding_followup_at__isnull=True))
    if tenant is not None:
        rows = rows.for_tenant(tenant)
    rows = rows.exclude(tenant__status=ClientStatus.DISABLED).annotate(
        holding_sent=Exists(OutboundMessage.objects.filter(escalation=OuterRef("pk"), kind=OutboundKind.HOLDING,
                                                           status=OutboundStatus.SENT)),
        manager_replied=Exists(OutboundMessage.objects.filter(conversation=OuterRef("conversation"), kind=OutboundKind.MANAGER,
                                                              created_at__gte=OuterRef("created_at"))),
    )
    return list(rows.select_related("tenant__settings", "conversation").order_by("created_at", "id")[:limit])


def conversation_latest_escalation(conversation: Conversation) -> Escalation | None:
    return Escalation.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation).order_by("-created_at", "-id").first()


def tenant_activity(tenant: Any, *, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """What a tenant's reply path did over a period, for `/status`: inbound messages, turns by
    outcome, outbound messages by kind and delivery result, escalations by reason, and what is
    waiting for a human right now. Tenant-scoped; a handful of grouped queries."""
    tenant_id = getattr(tenant, "pk", tenant)

    def window(queryset: QuerySet, field: str) -> QuerySet:
        queryset = queryset.for_tenant(tenant_id).filter(**{f"{field}__gte": since})
        return queryset.filter(**{f"{field}__lt": until}) if until is not None else queryset

    inbound = window(InboundMessage.objects.all(), "received_at").count()
    turns = dict(window(Turn.objects.all(), "created_at").values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    sends: dict[str, dict[str, int]] = {}
    for kind, status, n in window(OutboundMessage.objects.all(), "created_at").values_list("kind", "status").annotate(n=Count("id")) \
            .values_list("kind", "status", "n"):
        sends.setdefault(kind, {})[status] = n
    sent = sum(by_status.get(OutboundStatus.SENT, 0) for by_status in sends.values())
    failed = sum(by_status.get(OutboundStatus.FAILED, 0) for by_status in sends.values())
    escalations = dict(
        window(Escalation.objects.all(), "created_at").values_list("reason").annotate(n=Count("id")).values_list("reason", "n")
    )
    waiting = Escalation.objects.for_tenant(tenant_id).filter(status=EscalationStatus.OPEN).aggregate(
        n=Count("id"), oldest=Min("created_at")
    )
    return {
        "inbound": inbound,
        "turns": sum(turns.values()),
        "answered": turns.get(TurnStatus.ANSWERED, 0),
        "escalated": turns.get(TurnStatus.ESCALATED, 0),
        "forwarded": turns.get(TurnStatus.FORWARDED, 0) + turns.get(TurnStatus.SUPPRESSED, 0),
        "replies_sent": sends.get(OutboundKind.REPLY, {}).get(OutboundStatus.SENT, 0),
        "holding_sent": sends.get(OutboundKind.HOLDING, {}).get(OutboundStatus.SENT, 0),
        "manager_sent": sends.get(OutboundKind.MANAGER, {}).get(OutboundStatus.SENT, 0),
        "sent": sent,
        "send_failed": failed,
        "send_pending": sum(n for by_status in sends.values() for status, n in by_status.items()
                            if status in (OutboundStatus.PENDING, OutboundStatus.SENDING, OutboundStatus.UNKNOWN)),
        "delivery_success_rate": round(sent / (sent + failed), 4) if sent + failed else None,
        "escalations": sum(escalations.values()),
        "escalations_by_reason": dict(sorted(escalations.items(), key=lambda item: (-item[1], item[0]))),
        "waiting_for_manager": waiting["n"],
        "oldest_waiting_since": waiting["oldest"],
        "held_by_manager": Conversation.objects.for_tenant(tenant_id).filter(state=ConversationState.HUMAN).count(),
    }


# Escalations the quality gate decides (the release's rules and thresholds), as opposed to the
# customer's own content (booking, complaint, toxic, ...) or the surroundings (non-text, a
# dependency down): a release that makes these more frequent answers worse.
QC_FAIL_REASONS = (
    EscalationReason.NO_KNOWLEDGE,
    EscalationReason.LOW_CONFIDENCE,
    EscalationReason.AMBIGUOUS,
    EscalationReason.UNGROUNDED,
    EscalationReason.UNSUPPORTED_QUALIFIER,
    EscalationReason.TOO_LONG,
)


def release_turn_stats(*, tenant_ids: Iterable[int], release: str, since: datetime, until: datetime | None = None) -> dict[str, Any]:
    """Quality of the turns these tenants' customers got from one release (`Turn.release`) in a
    period — the numbers canary analysis compares. Only turns the answer brain decided count
    (answered or escalated with that release recorded); every rate is per decided turn:

    - `qc_fail_rate`: escalated by the quality gate (QC_FAIL_REASONS);
    - `escalation_rate`: escalated for any reason;
    - `delivery_failure_rate`: failed / (sent + failed) of the turns' outbound messages;
    - `error_rate`: turns with an ErrorLog row of their correlation id;
    - `total_ms_p95`: 95th percentile of the traces' total time (turn start → delivered).
    """
    turns = Turn.objects.filter(tenant_id__in=list(tenant_ids), release=release, created_at__gte=since,
                                status__in=[TurnStatus.ANSWERED, TurnStatus.ESCALATED])
    if until is not None:
        turns = turns.filter(created_at__lt=until)
    counts = turns.aggregate(
        decided=Count("id"),
        escalated=Count("id", filter=Q(status=TurnStatus.ESCALATED)),
        qc_failed=Count("id", filter=Q(status=TurnStatus.ESCALATED, reason__in=QC_FAIL_REASONS)),
    )
    sends = OutboundMessage.objects.filter(turn__in=turns).aggregate(
        sent=Count("id", filter=Q(status=OutboundStatus.SENT)), failed=Count("id", filter=Q(status=OutboundStatus.FAILED)),
    )
    errors = turns.exclude(correlation_id="").filter(
        Exists(ErrorLog.objects.filter(tenant_id=OuterRef("tenant_id"), correlation_id=OuterRef("correlation_id")))
    ).count()
    totals = sorted(MessageTrace.objects.filter(turn__in=turns, total_ms__isnull=False).values_list("total_ms", flat=True))
    decided = counts["decided"]
    delivered = sends["sent"] + sends["failed"]

    def rate(part: int, whole: int) -> float:
        return round(part / whole, 4) if whole else 0.0

    return {
        "turns": decided,
        "escalated": counts["escalated"],
        "qc_failed": counts["qc_failed"],
        "sent": sends["sent"],
        "send_failed": sends["failed"],
        "errors": errors,
        "qc_fail_rate": rate(counts["qc_failed"], decided),
        "escalation_rate": rate(counts["escalated"], decided),
        "delivery_failure_rate": rate(sends["failed"], delivered),
        "error_rate": rate(errors, decided),
        "total_ms_p95": _percentile(totals, 95),
    }


# --- health of the reply path (sentinel checks, fixer) --------------------------------------
TRANSIENT_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


def delivery_failed_transiently(outbound: OutboundMessage) -> bool:
    """A failure a working gateway would not have caused: 5xx, 429, a timeout or no connection
    (no status code). 4xx refusals are the message's or the tenant's problem."""
    code = outbound.last_status_code
    return code is None or code >= 500 or code == 429


def silent_messages(*, now: datetime, older_than: timedelta, lookback: timedelta = timedelta(hours=24)) -> QuerySet[InboundMessage]:
    """Inbound messages accepted more than `older_than` ago (within `lookback`) that got neither a
    sent reply nor an escalation: still without a turn, in a turn that never finished, answered
    but not delivered (and not escalated), or forwarded to a manager who was never told."""
    from django.db.models import Exists, OuterRef

    sent_reply = OutboundMessage.objects.filter(turn=OuterRef("turn"), status=OutboundStatus.SENT)
    escalation = Escalation.objects.filter(turn=OuterRef("turn"))
    return (
        InboundMessage.objects.filter(received_at__lte=now - older_than, received_at__gte=now - lookback)
        .exclude(turn__status=TurnStatus.ESCALATED)
        .exclude(turn__status__in=[TurnStatus.FORWARDED, TurnStatus.SUPPRESSED], forwarded_at__isnull=False)
        .exclude(Exists(sent_reply))
        .exclude(Exists(escalation))
    )


def silent_messages_by_tenant(*, now: datetime, older_than: timedelta) -> dict[int, dict[str, Any]]:
    """{tenant_id: {"count", "oldest", "sample_ids"}} of `silent_messages`."""
    from django.db.models import Min

    rows = silent_messages(now=now, older_than=older_than).values("tenant_id").annotate(n=Count("id"), oldest=Min("received_at"))
    found: dict[int, dict[str, Any]] = {}
    for row in rows:
        sample = list(
            silent_messages(now=now, older_than=older_than).filter(tenant_id=row["tenant_id"]).order_by("received_at")
            .values_list("pk", flat=True)[:5]
        )
        found[row["tenant_id"]] = {"count": row["n"], "oldest": row["oldest"], "sample_ids": sample}
    return found


def outbox_backlog(*, now: datetime) -> dict[str, dict[str, Any]]:
    """The oldest due-and-not-done work of each kind: {kind: {"count", "oldest", "tenant_ids"}}
    for turns due (conversations), turns whose lease expired, deliveries and manager
    notifications. What the outbox sweeper should have moved on already."""
    from django.db.models import Min

    from conversations.services.handover import MAX_NOTIFY_ATTEMPTS

    kinds: dict[str, tuple[QuerySet, str]] = {
        "turns_due": (Conversation.objects.filter(reply_due_at__lte=now), "reply_due_at"),
        "turns_stalled": (Turn.objects.filter(status=TurnStatus.PROCESSING, lease_expires_at__lte=now), "lease_expires_at"),
        "deliveries": (
            OutboundMessage.objects.filter(status__in=[OutboundStatus.PENDING, OutboundStatus.UNKNOWN, OutboundStatus.SENDING])
            .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)),
            "created_at",
        ),
        "notifications": (
            Escalation.objects.filter(notified_at__isnull=True, notify_attempts__lt=MAX_NOTIFY_ATTEMPTS), "created_at"),
    }
    report: dict[str, dict[str, Any]] = {}
    for kind, (rows, field) in kinds.items():
        summary = rows.aggregate(count=Count("id"), oldest=Min(field))
        if summary["count"]:
            tenant_ids = sorted(set(rows.values_list("tenant_id", flat=True)[:50]))
            report[kind] = {"count": summary["count"], "oldest": summary["oldest"], "tenant_ids": tenant_ids}
    return report


def delivery_latest_finished(*, tenant: Any, since: datetime) -> OutboundMessage | None:
    """The tenant's most recently finished (sent or failed) outbound message since `since`."""
    return (
        OutboundMessage.objects.for_tenant(tenant).filter(status__in=[OutboundStatus.SENT, OutboundStatus.FAILED], updated_at__gte=since)
        .order_by("-updated_at", "-id").first()
    )


def deliveries_failed_transiently(*, tenant: Any, since: datetime) -> QuerySet[OutboundMessage]:
    """Failed outbound messages of the tenant since `since` that a gateway outage explains
    (see `delivery_failed_transiently`), oldest first."""
    return (
        OutboundMessage.objects.for_tenant(tenant).filter(status=OutboundStatus.FAILED, created_at__gte=since)
        .filter(Q(last_status_code__isnull=True) | Q(last_status_code__gte=500) | Q(last_status_code=429))
        .select_related("conversation", "tenant__settings").order_by("created_at", "id")
    )


def deliveries_waiting_on_gateway(*, tenant: Any, older_than: datetime) -> QuerySet[OutboundMessage]:
    """The tenant's deliveries back in the outbox after a transient gateway failure (pending with
    a next retry time and the last error recorded), written before `older_than`, oldest first."""
    return (
        OutboundMessage.objects.for_tenant(tenant)
        .filter(status=OutboundStatus.PENDING, next_attempt_at__isnull=False, created_at__lte=older_than)
        .exclude(last_error="")
        .filter(Q(last_status_code__isnull=True) | Q(last_status_code__gte=500) | Q(last_status_code=429))
        .order_by("created_at", "id")
    )


def unclear_resends_by_tenant(*, since: datetime) -> dict[int, dict[str, int]]:
    """{tenant_id: {"resent", "duplicate", "not_duplicate"}}: messages sent since `since` after an
    attempt with an unclear outcome, and whether the gateway reported the re-send as a duplicate."""
    rows = (
        OutboundMessage.objects.filter(status=OutboundStatus.SENT, sent_at__gte=since, unclear_attempts__gt=0)
        .values("tenant_id")
        .annotate(resent=Count("id"), duplicate=Count("id", filter=Q(gateway_duplicate=True)))
    )
    return {row["tenant_id"]: {"resent": row["resent"], "duplicate": row["duplicate"],
                               "not_duplicate": row["resent"] - row["duplicate"]} for row in rows}


def delivery_outcomes_by_tenant(*, since: datetime) -> dict[int, dict[str, int]]:
    """{tenant_id: {"sent", "failed", "refused"}} of deliveries finished since `since`
    (`refused`: failed with a 4xx other than 429)."""
    rows = (
        OutboundMessage.objects.filter(updated_at__gte=since, status__in=[OutboundStatus.SENT, OutboundStatus.FAILED])
        .values("tenant_id")
        .annotate(
            sent=Count("id", filter=Q(status=OutboundStatus.SENT)),
            failed=Count("id", filter=Q(status=OutboundStatus.FAILED)),
            refused=Count("id", filter=Q(status=OutboundStatus.FAILED, last_status_code__gte=400, last_status_code__lt=500)
                          & ~Q(last_status_code=429)),
        )
    )
    return {row["tenant_id"]: {"sent": row["sent"], "failed": row["failed"], "refused": row["refused"]} for row in rows}


def traces_in_window(*, tenant: Any, since: datetime, until: datetime, limit: int = 50) -> list[MessageTrace]:
    """The tenant's message traces in a window, newest first (RCA bundles)."""
    return list(
        MessageTrace.objects.for_tenant(tenant).filter(created_at__gte=since, created_at__lte=until)
        .order_by("-created_at", "-id")[:limit]
    )


def conversation_last_bot_answer(conversation: Conversation, *, within: timedelta = timedelta(hours=24)) -> Turn | None:
    """The conversation's latest turn the bot answered (within `within`) and nobody marked wrong yet:
    what «❌ Бот ответил неверно» on the managers' card refers to."""
    since = timezone.now() - within
    return (Turn.objects.for_tenant(conversation.tenant_id)
            .filter(conversation=conversation, status=TurnStatus.ANSWERED, created_at__gte=since, wrong_answer_mark__isnull=True)
            .order_by("-created_at", "-id").first())


# --- the operators' home (admin index) --------------------------------------------------------


@dataclass(frozen=True)
class WaitingCustomer:
    """An escalation still open or held by a manager, with what the operator needs to act on it."""

    escalation: Escalation
    last_message: str
    waiting_minutes: int
    sla_minutes: int

    @property
    def conversation(self) -> Conversation:
        return self.escalation.conversation

    @property
    def over_sla(self) -> bool:
        return self.waiting_minutes >= self.sla_minutes


def escalations_waiting(*, user: Any, now: datetime, limit: int = 50) -> list[WaitingCustomer]:
    """Open and taken escalations of the user's tenants, oldest first, each with the customer's
    last message and the minutes waited against the tenant's escalation SLA."""
    last_text = (InboundMessage.objects.filter(conversation_id=OuterRef("conversation_id"))
                 .order_by("-received_at", "-id").values("text")[:1])
    rows = (
        Escalation.objects.visible_to(user).filter(status__in=[EscalationStatus.OPEN, EscalationStatus.TAKEN])
        .select_related("conversation", "tenant__settings").annotate(last_text=Subquery(last_text)).order_by("created_at")[:limit]
    )
    waiting = []
    for escalation in rows:
        settings_row = getattr(escalation.tenant, "settings", None)
        waiting.append(WaitingCustomer(
            escalation=escalation, last_message=escalation.last_text or "",
            waiting_minutes=max(0, int((now - escalation.created_at).total_seconds() // 60)),
            sla_minutes=getattr(settings_row, "escalation_sla_minutes", 15) or 15,
        ))
    return waiting


def operator_day_numbers(*, user: Any, since: datetime) -> dict[str, Any]:
    """Since `since` (the start of the operator's day), for the user's tenants: conversations with
    a customer message, turns answered by the bot and escalated, the answer rate, failed deliveries."""
    inbound = InboundMessage.objects.visible_to(user).filter(received_at__gte=since)
    turns = dict(Turn.objects.visible_to(user).filter(created_at__gte=since).values_list("status").annotate(n=Count("id"))
                 .values_list("status", "n"))
    answered, escalated = turns.get(TurnStatus.ANSWERED, 0), turns.get(TurnStatus.ESCALATED, 0)
    return {
        "conversations": inbound.values("conversation_id").distinct().count(),
        "answered": answered,
        "escalated": escalated,
        "answer_rate": round(100 * answered / (answered + escalated)) if answered + escalated else None,
        "delivery_failures": OutboundMessage.objects.visible_to(user).filter(status=OutboundStatus.FAILED, updated_at__gte=since).count(),
    }


def escalations_by_reason(*, user: Any, since: datetime) -> list[tuple[str, str, int]]:
    """(reason, its label, count) of the user's tenants' escalations since `since`, most first."""
    counts = (Escalation.objects.visible_to(user).filter(created_at__gte=since).values_list("reason").annotate(n=Count("id"))
              .values_list("reason", "n"))
    labels = dict(EscalationReason.choices)
    return sorted(((reason, str(labels.get(reason, reason)), n) for reason, n in counts), key=lambda r: (-r[2], r[1]))


def turns_by_day(*, user: Any, since: datetime, tz: Any) -> dict[Any, dict[str, int]]:
    """{day in `tz`: {"answered": n, "escalated": n}} of the user's tenants' turns since `since`."""
    from django.db.models.functions import TruncDate

    rows = (Turn.objects.visible_to(user).filter(created_at__gte=since, status__in=[TurnStatus.ANSWERED, TurnStatus.ESCALATED])
            .annotate(day=TruncDate("created_at", tzinfo=tz)).values_list("day", "status").annotate(n=Count("id")))
    days: dict[Any, dict[str, int]] = {}
    for day, status, n in rows.values_list("day", "status", "n"):
        days.setdefault(day, {"answered": 0, "escalated": 0})[str(status)] = n
    return days


def conversation_has_escalations(conversation: Conversation, *statuses: str) -> bool:
    return Escalation.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation, status__in=statuses).exists()
