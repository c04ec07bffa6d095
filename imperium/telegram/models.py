"""Telegram control-plane records.

Updates, dead letters, button presses and the allow-list belong to no tenant (Telegram updates
come from the CEO chat and from every tenant's group): superusers only. The manager hand-over
records — a conversation's forum topic and the messages sent about it — belong to the tenant
(tenant-scoped like every tenant-owned row)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imperium.telegram.choices import AllowedRole, NoticeKind, NoticeStatus, PressStatus, TopicStatus, UpdateKind, UpdateStatus
from tenants.scoping import TenantScopedQuerySet


class TelegramUpdate(models.Model):
    """One Update from Telegram (webhook or polling), stored before anything else happens.

    `update_id` is unique: Telegram redelivers an update it thinks we missed, and the second
    copy must do nothing. Processing is a state machine received → processing → processed|failed
    (guarded conditional updates; a retryable failure goes back to received with a later
    `next_attempt_at`).
    """

    update_id = models.BigIntegerField(_("update id"), unique=True)
    kind = models.CharField(_("kind"), max_length=30, choices=UpdateKind.choices)
    payload = models.JSONField(_("payload"))
    status = models.CharField(_("status"), max_length=12, choices=UpdateStatus.choices, default=UpdateStatus.RECEIVED)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    chat_id = models.BigIntegerField(_("chat id"), null=True, blank=True)
    from_user_id = models.BigIntegerField(_("from user id"), null=True, blank=True, db_index=True)
    handler = models.CharField(_("handler"), max_length=100, blank=True, default="", help_text=_("Handler that processed it."))
    outcome = models.CharField(_("outcome"), max_length=200, blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-update_id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="tgupdate_status_due")]
        verbose_name = _("Telegram update")
        verbose_name_plural = _("Telegram updates")

    def __str__(self) -> str:
        return f"update {self.update_id} ({self.kind}, {self.status})"


class TelegramDeadLetter(models.Model):
    """A request to /telegram-webhook (or a polled update) that could not be read as an Update.

    Kept so nothing Telegram sent is lost silently; answered 200 so Telegram stops retrying."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    reason = models.CharField(_("reason"), max_length=300)
    body = models.TextField(_("body"), blank=True, default="")
    source = models.CharField(_("source"), max_length=20, default="webhook")
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("failed Telegram update")
        verbose_name_plural = _("failed Telegram updates")

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.reason[:60]}"


class TelegramAllowedUser(models.Model):
    """The allow-list: Telegram users who may run commands. Managed in admin; the ids in
    TELEGRAM_ADMIN_IDS are seeded as CEO entries (see `imperium.telegram.allowlist`)."""

    telegram_user_id = models.BigIntegerField(_("telegram user id"), unique=True,
            help_text=_("Numeric Telegram user id (not the @username)."))
    role = models.CharField(_("role"), max_length=10, choices=AllowedRole.choices, default=AllowedRole.OPERATOR)
    is_active = models.BooleanField(_("is active"), default=True)
    label = models.CharField(_("label"), max_length=150, blank=True, default="",
            help_text=_("Who this is, for people reading the audit log."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["role", "label", "telegram_user_id"]
        verbose_name = _("allowed Telegram user")
        verbose_name_plural = _("allowed Telegram users")

    def __str__(self) -> str:
        return f"{self.label or self.telegram_user_id} ({self.role})"


class TelegramCallbackPress(models.Model):
    """One press of an inline button, keyed by Telegram's callback query id so a redelivered
    or reprocessed press never runs its action twice."""

    callback_query_id = models.CharField(_("callback query id"), max_length=64, unique=True)
    update = models.ForeignKey(TelegramUpdate, verbose_name=_("update"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    data = models.CharField(_("data"), max_length=64, blank=True, default="")
    action = models.CharField(_("action"), max_length=40, blank=True, default="")
    from_user_id = models.BigIntegerField(_("from user id"), null=True, blank=True)
    from_label = models.CharField(_("from label"), max_length=150, blank=True, default="")
    chat_id = models.BigIntegerField(_("chat id"), null=True, blank=True)
    message_id = models.BigIntegerField(_("message id"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=PressStatus.choices, default=PressStatus.PROCESSING)
    answer_text = models.CharField(_("answer text"), max_length=200, blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("Telegram button press")
        verbose_name_plural = _("Telegram button presses")

    def __str__(self) -> str:
        return f"{self.data} by {self.from_label or self.from_user_id}"


class ConversationTopic(models.Model):
    """The forum topic opened for one conversation in its tenant's managers' chat.

    Created lazily by the first notice that needs it (`imperium.telegram.notices`): `pending`
    until createForumTopic succeeds (retried while Telegram is down), `unavailable` when the
    chat is not a forum or the bot may not create topics (notices then go to the tenant's
    topic, as replies to the escalation message). A manager's message in the topic is a reply
    to the customer: (chat_id, thread_id) leads back to the conversation."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.OneToOneField("conversations.Conversation", verbose_name=_("conversation"), on_delete=models.CASCADE,
            related_name="+")
    chat_id = models.BigIntegerField(_("chat id"))
    thread_id = models.BigIntegerField(_("thread id"), null=True, blank=True, help_text=_("The topic's number in the Telegram forum."))
    name = models.CharField(_("name"), max_length=128, blank=True, default="")
    status = models.CharField(_("status"), max_length=12, choices=TopicStatus.choices, default=TopicStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True,
            help_text=_("A worker is creating the topic until then."))
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["chat_id", "thread_id"], condition=models.Q(thread_id__isnull=False),
                                    name="uniq_conversation_topic_thread"),
        ]
        verbose_name = _("conversation topic")
        verbose_name_plural = _("conversation topics")

    def __str__(self) -> str:
        return f"topic {self.thread_id or '-'} of conversation {self.conversation_id} ({self.status})"


class ConversationNotice(models.Model):
    """One message to a tenant's managers about a conversation: the escalation card with its
    buttons, a customer message forwarded while a manager holds the conversation, an SLA
    reminder. `key` makes a repeated notifier call one notice.

    `waiting` while the conversation's topic is being created; then `queued`: the Telegram
    outbox (`incidents.Alert`, `alert`) delivers it with retries. Once sent, (chat, message id)
    of that Alert leads a manager's reply-to back to the conversation."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", verbose_name=_("conversation"), on_delete=models.CASCADE,
            related_name="+")
    escalation = models.ForeignKey("conversations.Escalation", verbose_name=_("escalation"), null=True, blank=True,
            on_delete=models.CASCADE, related_name="+")
    inbound_message = models.ForeignKey("conversations.InboundMessage", verbose_name=_("inbound message"), null=True, blank=True,
            on_delete=models.CASCADE,
                                        related_name="+")
    kind = models.CharField(_("kind"), max_length=20, choices=NoticeKind.choices)
    key = models.CharField(_("key"), max_length=100, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=NoticeStatus.choices, default=NoticeStatus.WAITING)
    text = models.TextField(_("text"), help_text=_("As rendered for the managers (before any status line a button adds)."))
    with_buttons = models.BooleanField(_("with buttons"), default=False)
    context = models.JSONField(_("context"), default=dict, blank=True,
            help_text=_("What the text needs besides the rows (reminder number…)."))
    alert = models.ForeignKey("incidents.Alert", verbose_name=_("alert"), null=True, blank=True, on_delete=models.SET_NULL,
            related_name="+")
    chat_id = models.BigIntegerField(_("chat id"), null=True, blank=True)
    topic_id = models.BigIntegerField(_("topic id"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=models.Q(status="waiting"), name="tgnotice_waiting"),
            models.Index(fields=["conversation", "kind"], name="tgnotice_conversation_kind"),
        ]
        verbose_name = _("managers' notice")
        verbose_name_plural = _("managers' notices")

    def __str__(self) -> str:
        return f"{self.kind} notice {self.pk} for conversation {self.conversation_id} ({self.status})"
