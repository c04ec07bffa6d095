"""Telegram control-plane records. None of them belongs to one tenant: Telegram updates come
from the CEO chat and from every tenant's group, so these pages are for superusers only."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from imperium.telegram.choices import AllowedRole, PressStatus, UpdateKind, UpdateStatus


class TelegramUpdate(models.Model):
    """One Update from Telegram (webhook or polling), stored before anything else happens.

    `update_id` is unique: Telegram redelivers an update it thinks we missed, and the second
    copy must do nothing. Processing is a state machine received → processing → processed|failed
    (guarded conditional updates; a retryable failure goes back to received with a later
    `next_attempt_at`).
    """

    update_id = models.BigIntegerField(unique=True)
    kind = models.CharField(max_length=30, choices=UpdateKind.choices)
    payload = models.JSONField()
    status = models.CharField(max_length=12, choices=UpdateStatus.choices, default=UpdateStatus.RECEIVED)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    chat_id = models.BigIntegerField(null=True, blank=True)
    from_user_id = models.BigIntegerField(null=True, blank=True, db_index=True)
    handler = models.CharField(max_length=100, blank=True, default="", help_text="Handler that processed it.")
    outcome = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-update_id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="tgupdate_status_due")]

    def __str__(self) -> str:
        return f"update {self.update_id} ({self.kind}, {self.status})"


class TelegramDeadLetter(models.Model):
    """A request to /telegram-webhook (or a polled update) that could not be read as an Update.

    Kept so nothing Telegram sent is lost silently; answered 200 so Telegram stops retrying."""

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    reason = models.CharField(max_length=300)
    body = models.TextField(blank=True, default="")
    source = models.CharField(max_length=20, default="webhook")
    correlation_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.reason[:60]}"


class TelegramAllowedUser(models.Model):
    """The allow-list: Telegram users who may run commands. Managed in admin; the ids in
    TELEGRAM_ADMIN_IDS are seeded as CEO entries (see `imperium.telegram.allowlist`)."""

    telegram_user_id = models.BigIntegerField(unique=True, help_text="Numeric Telegram user id (not the @username).")
    role = models.CharField(max_length=10, choices=AllowedRole.choices, default=AllowedRole.OPERATOR)
    is_active = models.BooleanField(default=True)
    label = models.CharField(max_length=150, blank=True, default="", help_text="Who this is, for people reading the audit log.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "label", "telegram_user_id"]
        verbose_name = "allowed Telegram user"

    def __str__(self) -> str:
        return f"{self.label or self.telegram_user_id} ({self.role})"


class TelegramCallbackPress(models.Model):
    """One press of an inline button, keyed by Telegram's callback query id so a redelivered
    or reprocessed press never runs its action twice."""

    callback_query_id = models.CharField(max_length=64, unique=True)
    update = models.ForeignKey(TelegramUpdate, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    data = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=40, blank=True, default="")
    from_user_id = models.BigIntegerField(null=True, blank=True)
    from_label = models.CharField(max_length=150, blank=True, default="")
    chat_id = models.BigIntegerField(null=True, blank=True)
    message_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=PressStatus.choices, default=PressStatus.PROCESSING)
    answer_text = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.data} by {self.from_label or self.from_user_id}"
