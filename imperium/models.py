from __future__ import annotations

from django.db import models

from imperium.choices import ActorKind
from tenants.scoping import TenantScopedQuerySet


class AuditLog(models.Model):
    """Append-only record of who did what. Written only by `imperium.services.audit_record`."""

    tenant_scope_path = "tenant"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(max_length=64, blank=True, default="")
    actor_label = models.CharField(max_length=150, blank=True, default="")
    tenant = models.ForeignKey("tenants.Client", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=100, db_index=True)
    object_type = models.CharField(max_length=100, blank=True, default="")
    object_id = models.CharField(max_length=64, blank=True, default="")
    object_repr = models.CharField(max_length=200, blank=True, default="")
    payload = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_kind}:{self.actor_label} {self.action}"
