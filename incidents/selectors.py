from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from incidents.models import ErrorLog


def error_logs_visible_to(user: Any) -> QuerySet[ErrorLog]:
    return ErrorLog.objects.visible_to(user)
