from __future__ import annotations

from django.contrib import admin

from imperium.models import AuditLog
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "actor_kind", "actor_label", "tenant", "action", "object_repr", "correlation_id"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["action", "actor_label", "object_repr", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]
