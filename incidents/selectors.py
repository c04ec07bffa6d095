from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from incidents.choices import OPEN_INCIDENT_STATUSES
from incidents.models import Alert, ErrorLog, Incident


def error_logs_visible_to(user: Any) -> QuerySet[ErrorLog]:
    return ErrorLog.objects.visible_to(user)


def alert_for_message(*, chat_id: int | str, message_id: int) -> Alert | None:
    """The outbox row that became this Telegram message (e.g. the escalation a manager replied
    to), or None. Not tenant-scoped: the chat and message id already name one message."""
    return Alert.objects.select_related("tenant").filter(chat_id=str(chat_id), sent_message_id=message_id).first()


def incidents_visible_to(user: Any) -> QuerySet[Incident]:
    """Incidents a staff user may see: those of their tenants (system-wide ones: superusers only)."""
    return Incident.objects.visible_to(user).select_related("tenant")


def incident_get(*, incident_id: int, user: Any = None) -> Incident | None:
    """One incident; with `user`, only if that user may see it (None otherwise)."""
    rows = Incident.objects.select_related("tenant__settings")
    if user is not None:
        rows = rows.visible_to(user)
    return rows.filter(pk=incident_id).first()


def incidents_open(*, tenant: Any = None) -> QuerySet[Incident]:
    rows = Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES).select_related("tenant")
    return rows.for_tenant(tenant) if tenant is not None else rows


def incidents_open_visible_to(user: Any) -> QuerySet[Incident]:
    """Open and acknowledged incidents the user may see, newest first."""
    return incidents_visible_to(user).filter(status__in=OPEN_INCIDENT_STATUSES).order_by("-opened_at")
