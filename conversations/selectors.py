"""Reads of the reply pipeline, always tenant-scoped (`for_tenant` / `visible_to`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet

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
