from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog, VerificationRequest
from imperium.core.policy import verification_approve, verification_reject
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "actor_kind", "actor_label", "tenant", "action", "object_repr", "correlation_id"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["action", "actor_label", "object_repr", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]


@admin.register(VerificationRequest)
class VerificationRequestAdmin(ReadOnlyTenantScopedAdmin):
    """The verification queue: high-risk actions waiting for the CEO. Approve/reject need a verifier."""

    list_display = ["id", "created_at", "status", "action", "summary", "tenant", "requested_by_label", "expires_at", "decided_by_label"]
    list_filter = ["status", "action"]
    search_fields = ["action", "summary", "requested_by_label"]
    list_select_related = ["tenant"]
    readonly_fields = [f.name for f in VerificationRequest._meta.fields]
    actions = ["approve", "reject"]

    def _decide(self, request: HttpRequest, queryset: Any, approve: bool) -> None:
        actor = Actor.from_user(request.user)
        for item in queryset:
            try:
                if approve:
                    outcome = verification_approve(request_id=item.pk, actor=actor)
                    level = messages.SUCCESS if outcome.status == "executed" and not outcome.extra.get("already") else messages.WARNING
                    text = f"#{item.pk} {item.action}: {outcome.status}"
                    if outcome.extra.get("already"):
                        text += " (already decided)"
                    if outcome.error:
                        text += f" — {outcome.error}"
                    self.message_user(request, text, level)
                else:
                    decided = verification_reject(request_id=item.pk, actor=actor, reason="rejected in admin")
                    self.message_user(request, f"#{item.pk} {item.action}: {decided.status}")
            except ApplicationError as exc:
                self.message_user(request, f"#{item.pk}: {exc.message}", messages.ERROR)

    @admin.action(description="Approve and execute")
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description="Reject")
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=False)
