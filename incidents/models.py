from __future__ import annotations

from django.db import models
from django.utils import timezone

from incidents.choices import AlertKind, AlertSeverity, AlertStatus
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


class Alert(models.Model):
    """The Telegram outbox: one message to send to a chat (and topic), with its delivery state.

    CEO alerts (`kind=alert`) go to ALERT_CHAT_ID; notifications go to a tenant's chat/topic
    (escalations, reminders). Written by `incidents.alerts`, sent by `alert_send` in a task;
    a beat sweep retries whatever is due, so a lost broker message or a dead worker delays an
    alert but never loses it. State: pending → sending → sent | failed (back to pending with a
    later `next_attempt_at` after a retryable failure).
    """

    tenant_scope_path = "tenant"

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    tenant = models.ForeignKey("tenants.Client", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=15, choices=AlertKind.choices, default=AlertKind.ALERT)
    severity = models.CharField(max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    title = models.CharField(max_length=200, blank=True, default="")
    text = models.TextField(blank=True, default="")
    chat_id = models.CharField(max_length=64, blank=True, default="", help_text="Numeric chat id or @channel.")
    topic_id = models.BigIntegerField(null=True, blank=True, help_text="Forum topic (message_thread_id).")
    reply_to_message_id = models.BigIntegerField(null=True, blank=True)
    reply_markup = models.JSONField(null=True, blank=True, help_text="InlineKeyboardMarkup to attach.")
    dedup_key = models.CharField(max_length=200, blank=True, default="", db_index=True)
    repeats = models.PositiveIntegerField(default=0, help_text="Repeats of the same key folded into this alert.")
    status = models.CharField(max_length=10, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    max_attempts = models.PositiveSmallIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    last_error_status = models.IntegerField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_message_id = models.BigIntegerField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.CharField(max_length=150, blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="alert_status_due"),
            models.Index(fields=["chat_id", "sent_at"], name="alert_chat_sent"),
            models.Index(fields=["tenant", "-created_at"], name="alert_tenant_created"),
        ]
        constraints = [
            # One undelivered alert per key: repeats while it waits are folded into it.
            models.UniqueConstraint(
                fields=["dedup_key"],
                condition=models.Q(status__in=["pending", "sending"]) & ~models.Q(dedup_key=""),
                name="uniq_alert_open_dedup_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.title or self.text[:40]} ({self.status})"
