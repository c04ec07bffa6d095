from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from incidents.models import Alert, ErrorLog


def error_logs_visible_to(user: Any) -> QuerySet[ErrorLog]:
    return ErrorLog.objects.visible_to(user)


def alert_for_message(*, chat_id: int | str, message_id: int) -> Alert | None:
    """The outbox row that became this Telegram message (e.g. the escalation a manager replied
    to), or None. Not tenant-scoped: the chat and message id already name one message."""
    return Alert.objects.select_related("tenant").filter(chat_id=str(chat_id), sent_message_id=message_id).first()
