"""Reads of the Telegram control plane: which conversation a manager's message is about, and the
numbers of `/status` that are not the pipeline's (those are `conversations.selectors`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.apps import apps
from django.db.models import Q, QuerySet

from conversations.models import Conversation
from imperium.telegram.choices import NoticeKind, TopicStatus
from imperium.telegram.models import ConversationNotice, ConversationTopic
from incidents.choices import AlertStatus
from incidents.models import Alert, ErrorLog


def notice_for_message(*, chat_id: int | str, message_id: int) -> ConversationNotice | None:
    """The notice that became Telegram message `message_id` in `chat_id` (a card, a forwarded
    customer message, a reminder), with its conversation, tenant and settings loaded."""
    return (
        ConversationNotice.objects.filter(alert__chat_id=str(chat_id), alert__sent_message_id=message_id)
        .select_related("conversation__tenant__settings", "escalation").order_by("-id").first()
    )


def topic_conversation(*, chat_id: int, thread_id: int) -> Conversation | None:
    """The conversation whose forum topic this is."""
    topic = (
        ConversationTopic.objects.filter(chat_id=chat_id, thread_id=thread_id, status=TopicStatus.CREATED)
        .select_related("conversation__tenant__settings").first()
    )
    return topic.conversation if topic is not None else None


def message_conversation(*, chat_id: int, reply_to_message_id: int | None, thread_id: int | None) -> Conversation | None:
    """The conversation a manager's message in a group is about: the notice it replies to, else
    the conversation topic it is written in. None for anything else (managers chatting)."""
    if reply_to_message_id is not None:
        notice = notice_for_message(chat_id=chat_id, message_id=reply_to_message_id)
        if notice is not None:
            return notice.conversation
    if thread_id is not None:
        return topic_conversation(chat_id=chat_id, thread_id=thread_id)
    return None


def error_logs_recent(tenant: Any, *, since: datetime) -> QuerySet[ErrorLog]:
    return ErrorLog.objects.for_tenant(tenant).filter(created_at__gte=since).order_by("-created_at", "-id")


def system_error_count(*, since: datetime) -> int:
    return ErrorLog.objects.filter(tenant__isnull=True, created_at__gte=since).count()


def alert_counts(tenant: Any, *, since: datetime) -> dict[str, int]:
    alerts = Alert.objects.for_tenant(tenant).filter(created_at__gte=since)
    return {
        "total": alerts.count(),
        "waiting": alerts.filter(status__in=[AlertStatus.PENDING, AlertStatus.SENDING]).count(),
        "failed": alerts.filter(status=AlertStatus.FAILED).count(),
    }


def incidents_open(tenant: Any, *, limit: int = 5) -> dict[str, Any] | None:
    """Open incidents of the tenant and global ones, when the incidents app has its `Incident`
    model (None before): {"count": n, "latest": [incident, ...]}. Open = not resolved."""
    try:
        model = apps.get_model("incidents", "Incident")
    except LookupError:
        return None
    rows = model.objects.filter(Q(tenant=tenant) | Q(tenant__isnull=True)).exclude(status="resolved")
    return {"count": rows.count(), "latest": list(rows.order_by("-id")[:limit])}


def escalation_notices(*, escalations: list[Any]) -> dict[int, ConversationNotice]:
    """{escalation id: its escalation card notice (with the Telegram outbox row)}, tenant-scoped."""
    found: dict[int, ConversationNotice] = {}
    by_tenant: dict[int, list[int]] = {}
    for escalation in escalations:
        by_tenant.setdefault(escalation.tenant_id, []).append(escalation.pk)
    for tenant_id, ids in by_tenant.items():
        rows = (ConversationNotice.objects.for_tenant(tenant_id).filter(kind=NoticeKind.ESCALATION, escalation_id__in=ids)
                .select_related("alert").order_by("id"))
        for notice in rows:
            found[notice.escalation_id] = notice
    return found
