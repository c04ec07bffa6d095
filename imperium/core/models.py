from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from imperium.core.choices import ActorKind
from tenants.scoping import TenantScopedQuerySet


class AuditLog(models.Model):
    """Append-only record of who did what. Written only by `imperium.core.services.audit_record`."""

    tenant_scope_path = "tenant"

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True, default="")
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, default="")
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(_("action"), max_length=100, db_index=True)
    object_type = models.CharField(_("object type"), max_length=100, blank=True, default="")
    object_id = models.CharField(_("object id"), max_length=64, blank=True, default="")
    object_repr = models.CharField(_("object repr"), max_length=200, blank=True, default="")
    payload = models.JSONField(_("payload"), default=dict, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="", db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="audit_tenant_created")]
        verbose_name = _("audit log entry")
        verbose_name_plural = _("audit log")
        # The company role (imperium.core.auth.user_has_company_role): company-wide operations
        # (test alert to the CEO chat, global outbox and reminder runs) beyond one tenant's scope.
        permissions = [("company_operations", "Can run company-wide operations")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_kind}:{self.actor_label} {self.action}"


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    EXECUTED = "executed", _("Approved and executed")
    FAILED = "failed", _("Approved, execution failed")
    REJECTED = "rejected", _("Rejected")
    EXPIRED = "expired", _("Expired")


class VerificationRequest(models.Model):
    """A high-risk action waiting for a verifier (write-risk policy, `imperium.core.policy`)."""

    tenant_scope_path = "tenant"

    action = models.CharField(_("action"), max_length=100, db_index=True)
    params = models.JSONField(_("params"), default=dict, blank=True)
    summary = models.CharField(_("summary"), max_length=500, blank=True, default="")
    reason = models.TextField(_("reason"), blank=True, default="")
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(_("status"), max_length=10, choices=VerificationStatus.choices, default=VerificationStatus.PENDING,
            db_index=True)
    requested_by_kind = models.CharField(_("requested by kind"), max_length=10, choices=ActorKind.choices)
    requested_by_id = models.CharField(_("requested by id"), max_length=64, blank=True, default="")
    requested_by_label = models.CharField(_("requested by label"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by_kind = models.CharField(_("decided by kind"), max_length=10, choices=ActorKind.choices, blank=True, default="")
    decided_by_id = models.CharField(_("decided by id"), max_length=64, blank=True, default="")
    decided_by_label = models.CharField(_("decided by label"), max_length=150, blank=True, default="")
    result = models.JSONField(_("result"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True, default="")
    # Where the request was announced (e.g. Telegram chat/message ids), so the message can be updated.
    notifications = models.JSONField(_("notifications"), default=list, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("verification request")
        verbose_name_plural = _("verification requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.action} ({self.status})"
