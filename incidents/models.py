from __future__ import annotations

from django.db import models

from tenants.scoping import TenantScopedQuerySet


class ErrorLog(models.Model):
    """One failure, with enough context to explain it later from the database alone."""

    tenant_scope_path = "tenant"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    tenant = models.ForeignKey("tenants.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    where = models.CharField(max_length=200, help_text="Component or code path, e.g. 'chatflow.send'.")
    exception_type = models.CharField(max_length=200, blank=True, default="")
    message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    context = models.JSONField(default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="errorlog_tenant_created")]

    def __str__(self) -> str:
        return f"{self.where}: {self.exception_type or self.message[:60]}"
