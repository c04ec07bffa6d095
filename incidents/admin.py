from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest

from imperium.actors import Actor
from incidents.alerts import alert_retry
from incidents.models import Alert, ErrorLog
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin
from tenants.scoping import EDIT_ROLES


@admin.register(ErrorLog)
class ErrorLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "where", "exception_type", "short_message", "correlation_id"]
    list_filter = ["where", "exception_type"]
    search_fields = ["where", "message", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ErrorLog._meta.fields]

    @admin.display(description="message")
    def short_message(self, obj: ErrorLog) -> str:
        return obj.message[:120]


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantScopedAdmin):
    """The Telegram outbox. Alerts without a tenant (system-wide) are for superusers only."""

    list_display = ["created_at", "kind", "severity", "tenant", "short_title", "chat_id", "topic_id", "status", "attempts",
                    "next_attempt_at", "sent_message_id", "repeats", "acknowledged_by"]
    list_filter = ["status", "kind", "severity"]
    search_fields = ["title", "text", "dedup_key", "chat_id", "last_error", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["retry_now"]

    @admin.display(description="title / text")
    def short_title(self, obj: Alert) -> str:
        return (obj.title or obj.text)[:80]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, None, EDIT_ROLES)

    @admin.action(description="Retry the selected failed messages now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        actor = Actor.from_user(request.user)
        retried = sum(alert_retry(alert_id=pk, actor=actor) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} message(s) queued again; only failed ones are retried.", messages.INFO)
