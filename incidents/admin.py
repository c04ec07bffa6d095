from __future__ import annotations

from django.contrib import admin

from incidents.models import ErrorLog
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin


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
