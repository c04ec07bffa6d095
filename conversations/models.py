"""The reply pipeline's records: conversations, inbound messages, turns, outbound messages,
traces, escalations, dead letters and the ChatFlow sandbox.

Rows are written only by `conversations.services` (the webhook's accept is raw SQL in
`services/inbound.py`; the sandbox client records `SandboxMessage`). Every model is tenant-scoped (`tenant_scope_path = "tenant"`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from conversations.choices import (
    ConversationState,
    DeadLetterStatus,
    EscalationReason,
    EscalationStatus,
    EventSource,
    MessageType,
    OutboundKind,
    OutboundStatus,
    TurnDecision,
    TurnStatus,
)
from imperium.core.choices import ActorKind
from imperium.core.fields import EncryptedTextField
from tenants.scoping import TenantScopedQuerySet

_TENANT = "tenants.Client"


class Conversation(models.Model):
    """One customer of one tenant. The conversation is also the coalescing unit: `reply_due_at`
    says when its unanswered messages should be answered (NULL: nothing pending)."""

    tenant_scope_path = "tenant"

    # Indexes are few on purpose: every inbound message writes this row on the webhook path.
    # (tenant) is covered by the unique (tenant, customer_key).
    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+", db_index=False)
    # The phone is needed to reply, so it is stored encrypted; lookups go through a keyed hash.
    customer_key = models.CharField(_("customer key"), max_length=64, help_text=_("Keyed hash of the phone number (lookup key)."))
    customer_phone = EncryptedTextField(_("customer phone"), )
    customer_phone_masked = models.CharField(_("phone (masked)"), max_length=32)
    customer_name = models.CharField(_("customer name"), max_length=200, blank=True, default="")
    state = models.CharField(_("state"), max_length=10, choices=ConversationState.choices, default=ConversationState.BOT)
    created_at = models.DateTimeField(_("started"))
    updated_at = models.DateTimeField(_("updated"))
    last_inbound_at = models.DateTimeField(_("last customer message"), null=True, blank=True)
    reply_due_at = models.DateTimeField(
        _("bot answers at"), null=True, blank=True,
        help_text=_("When the bot answers the unanswered messages (it waits a few seconds for more); empty: nothing pending."),
    )
    dispatched_at = models.DateTimeField(_("last queued for the bot"), null=True, blank=True,
                                         help_text=_("Last time the bot was asked to answer it."))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "customer_key"], name="uniq_conversation_tenant_customer")]
        indexes = [
            models.Index(fields=["reply_due_at"], condition=Q(reply_due_at__isnull=False), name="conv_reply_due"),
        ]
        verbose_name = _("conversation")
        verbose_name_plural = _("conversations")

    def __str__(self) -> str:
        return f"{self.customer_phone_masked} · {self.get_state_display()}"


class InboundMessage(models.Model):
    """A customer's message as ChatFlow delivered it. Unique per tenant + provider message id:
    the database constraint is the truth of deduplication."""

    tenant_scope_path = "tenant"

    # Written on the webhook path: (tenant) and (conversation) are covered by composite indexes.
    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
            related_name="inbound_messages", db_index=False)
    provider_message_id = models.CharField(_("provider message id"), max_length=200)
    message_type = models.CharField(_("message type"), max_length=20, default=MessageType.TEXT)
    text = models.TextField(_("text"), blank=True, default="")
    payload = models.JSONField(_("payload"), default=dict, help_text=_("The webhook body with the phone number masked."))
    provider_timestamp = models.DateTimeField(_("provider timestamp"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"))
    webhook_id = models.CharField(_("webhook id"), max_length=200, blank=True, default="")
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")
    turn = models.ForeignKey("Turn", verbose_name=_("turn"), null=True, blank=True, on_delete=models.PROTECT, related_name="messages",
            db_index=False)
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True,
        help_text=_("Handed to the manager notifier (conversation held by a human)."))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "provider_message_id"], name="uniq_inbound_tenant_provider_id"),
        ]
        indexes = [
            models.Index(fields=["conversation", "received_at"], name="inbound_conv_received"),
            # Partial: a new message (no turn yet) costs no entry here.
            models.Index(fields=["turn"], condition=Q(turn__isnull=False), name="inbound_turn"),
        ]
        verbose_name = _("customer message")
        verbose_name_plural = _("customer messages")

    def __str__(self) -> str:
        return f"{self.provider_message_id} ({self.message_type})"

    @property
    def is_text(self) -> bool:
        return self.message_type == MessageType.TEXT


class DeadLetter(models.Model):
    """A correctly signed webhook delivery we could not understand. Kept, shown in admin, never lost."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    webhook_id = models.CharField(_("webhook id"), max_length=200, blank=True, default="")
    error = models.TextField(_("error"))
    body = models.TextField(_("body"), help_text=_("Raw body as received (phone numbers masked)."))
    raw_body = EncryptedTextField(_("raw body"), blank=True, default="",
                                  help_text=_("The exact bytes received, base64 (encrypted at rest)."))
    headers = models.JSONField(_("headers"), default=dict, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")
    status = models.CharField(_("status"), max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.NEW)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("rejected webhook")
        verbose_name_plural = _("rejected webhooks")

    def __str__(self) -> str:
        return f"dead letter {self.pk}: {self.error[:60]}"


class Turn(models.Model):
    """The group of inbound messages answered together. Status machine:
    processing → answered | escalated | forwarded | suppressed. A processing turn carries a
    lease; the sweeper resumes a turn whose lease expired (its worker died)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="turns")
    status = models.CharField(_("status"), max_length=12, choices=TurnStatus.choices, default=TurnStatus.PROCESSING)
    decision = models.CharField(_("decision"), max_length=10, choices=TurnDecision.choices, blank=True, default="")
    reason = models.CharField(_("reason"), max_length=32, choices=EscalationReason.choices, blank=True, default="")
    created_at = models.DateTimeField(_("created at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    runs = models.PositiveSmallIntegerField(_("runs"), default=1,
        help_text=_("How many times processing started (more than 1: resumed after a crash)."))
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="", db_index=True)
    message_count = models.PositiveSmallIntegerField(_("message count"), default=0)
    kb_version = models.PositiveIntegerField(_("kb version"), null=True, blank=True)
    release = models.CharField(_("release"), max_length=64, blank=True, default="")
    # Forwarding to the manager notifier (forwarded/suppressed turns): at-least-once, retried by the sweeper.
    notify_dispatched_at = models.DateTimeField(_("notify dispatched at"), null=True, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(_("notify attempts"), default=0)
    # A bot answer shown to the managers (services.handover.turn_answer_notify): set when queued,
    # cleared when the notice is written or given up; the sweeper queues it again if the task was
    # lost or failed (at most MAX_NOTIFY_ATTEMPTS runs, at doubling intervals: services.side_work).
    answer_notify_due_at = models.DateTimeField(_("answer notice due at"), null=True, blank=True)
    answer_notify_attempts = models.PositiveSmallIntegerField(_("answer notice attempts"), default=0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lease_expires_at"], condition=Q(status="processing"), name="turn_processing_lease"),
            models.Index(fields=["answer_notify_due_at"], condition=Q(answer_notify_due_at__isnull=False), name="turn_answer_notify_due"),
        ]
        verbose_name = _("bot turn")
        verbose_name_plural = _("bot turns")

    def __str__(self) -> str:
        return f"turn {self.pk} ({self.status})"


class Escalation(models.Model):
    """A hand-over to a human. Managers are told through the notifier (after commit, from a task);
    `notified_at` stays empty until that worked, and the sweeper retries it."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="escalations")
    turn = models.ForeignKey(Turn, verbose_name=_("turn"), null=True, blank=True, on_delete=models.PROTECT, related_name="escalations")
    reason = models.CharField(_("reason"), max_length=32, choices=EscalationReason.choices)
    status = models.CharField(_("status"), max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"))
    taken_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    taken_by = models.CharField(_("taken by"), max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    notified_at = models.DateTimeField(_("notified at"), null=True, blank=True)
    notify_dispatched_at = models.DateTimeField(_("notify dispatched at"), null=True, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(_("notify attempts"), default=0)
    last_notify_error = models.TextField(_("last notify error"), blank=True, default="")
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")
    # SLA follow-ups (services.reminders): managers reminded while nobody takes it, the customer
    # told once more that a human is coming.
    reminders_sent = models.PositiveSmallIntegerField(_("reminders sent"), default=0,
            help_text=_("Reminders sent to managers (nobody took it)."))
    last_reminder_at = models.DateTimeField(_("last reminder at"), null=True, blank=True)
    holding_followup_at = models.DateTimeField(_("holding followup at"),
        null=True, blank=True, help_text=_("When the customer got the second holding message (waited beyond the SLA).")
    )
    # Learning from the manager's answer (services.learning.handover_learn): set when the hand-over
    # is resolved, cleared when it was learned from or given up; the sweeper queues it again if the
    # task was lost or failed (at most MAX_NOTIFY_ATTEMPTS runs, at doubling intervals: services.side_work).
    learn_due_at = models.DateTimeField(_("learning due at"), null=True, blank=True)
    learn_attempts = models.PositiveSmallIntegerField(_("learning attempts"), default=0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="escalation_tenant_status"),
            models.Index(fields=["created_at"], condition=Q(notified_at__isnull=True), name="escalation_unnotified"),
            models.Index(fields=["learn_due_at"], condition=Q(learn_due_at__isnull=False), name="escalation_learn_due"),
        ]
        verbose_name = _("escalation")
        verbose_name_plural = _("escalations")

    def __str__(self) -> str:
        return f"escalation {self.pk} ({self.reason}, {self.status})"


class OutboundMessage(models.Model):
    """One message to a customer, written before any send attempt. The idempotency key is unique
    and goes to ChatFlow with every attempt, so a re-send after a crash cannot double the message.

    Status: pending → sending → sent | failed; a `sending` row whose lease expired (worker died
    mid-call) becomes `unknown` and is re-sent with the same key; a bot reply not yet attempted
    when a manager takes over becomes `cancelled`."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
            related_name="outbound_messages")
    turn = models.ForeignKey(Turn, verbose_name=_("turn"), null=True, blank=True, on_delete=models.PROTECT,
            related_name="outbound_messages")
    escalation = models.ForeignKey(Escalation, verbose_name=_("escalation"), null=True, blank=True, on_delete=models.PROTECT,
            related_name="outbound_messages")
    kind = models.CharField(_("kind"), max_length=10, choices=OutboundKind.choices)
    text = models.TextField(_("text"))
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True,
            help_text=_("Not before this time (the gateway's Retry-After)."))
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True,
            help_text=_("Last time a delivery was queued or started."))
    lease_expires_at = models.DateTimeField(_("lease expires at"), null=True, blank=True)
    claim_token = models.CharField(_("claim token"), max_length=32, blank=True, default="")
    provider_message_id = models.CharField(_("provider message id"), max_length=200, blank=True, default="")
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(_("last status code"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"))
    updated_at = models.DateTimeField(_("updated at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    send_ms = models.FloatField(_("send ms"), null=True, blank=True, help_text=_("Time spent in send attempts, backoff included."))
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="", help_text=_("Actor for manager replies."))
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")
    unclear_attempts = models.PositiveSmallIntegerField(
        _("unclear attempts"), default=0,
        help_text=_("Attempts whose outcome was unclear (a timeout, a crash mid-send): a re-send relies on the gateway's Idempotency-Key."),
    )
    gateway_duplicate = models.BooleanField(
        _("gateway duplicate"), null=True, blank=True,
        help_text=_("After an unclear attempt: did the gateway report the re-send as a duplicate?"),
    )

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status__in=["pending", "sending", "unknown"]),
                name="outbound_open",
            ),
            models.Index(fields=["tenant", "status"], name="outbound_tenant_status"),
        ]
        verbose_name = _("message to a customer")
        verbose_name_plural = _("messages to customers")

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class MessageTrace(models.Model):
    """One per turn: what was decided, how long each step took, which release and KB version were
    used. ErrorLogs of the turn share its `correlation_id` (see `selectors.trace_error_logs`)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="traces")
    turn = models.OneToOneField(Turn, verbose_name=_("turn"), on_delete=models.CASCADE, related_name="trace")
    created_at = models.DateTimeField(_("created at"), db_index=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="", db_index=True)
    decision = models.CharField(_("decision"), max_length=10, choices=TurnDecision.choices)
    reason = models.CharField(_("reason"), max_length=32, blank=True, default="")
    confidence = models.FloatField(_("confidence"), null=True, blank=True)
    scores = models.JSONField(_("scores"), default=dict, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    gate = models.JSONField(_("gate"), default=list, blank=True)
    detail = models.JSONField(_("detail"), default=dict, blank=True)
    message_count = models.PositiveSmallIntegerField(_("message count"), default=0)
    wait_ms = models.FloatField(_("wait ms"), null=True, blank=True,
            help_text=_("From the last message to the start of the turn (coalescing + queue)."))
    rag_ms = models.FloatField(_("rag ms"), null=True, blank=True)
    llm_ms = models.FloatField(_("llm ms"), null=True, blank=True)
    qc_ms = models.FloatField(_("qc ms"), null=True, blank=True)
    decide_ms = models.FloatField(_("decide ms"), null=True, blank=True, help_text=_("The whole reply decision."))
    send_ms = models.FloatField(_("send ms"), null=True, blank=True)
    total_ms = models.FloatField(_("total ms"), null=True, blank=True, help_text=_("From the start of the turn to the end of delivery."))
    send_status = models.CharField(_("send status"), max_length=10, blank=True, default="")
    kb_version = models.PositiveIntegerField(_("kb version"), null=True, blank=True)
    release = models.CharField(_("release"), max_length=64, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="trace_tenant_created")]
        verbose_name = _("bot decision trace")
        verbose_name_plural = _("bot decision traces")

    def __str__(self) -> str:
        return f"trace of turn {self.turn_id}: {self.decision} {self.reason}".strip()


class ConversationEvent(models.Model):
    """Append-only: every state change of a conversation, who made it and from where."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(_("created at"))
    from_state = models.CharField(_("from state"), max_length=10, choices=ConversationState.choices)
    to_state = models.CharField(_("to state"), max_length=10, choices=ConversationState.choices)
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, default="")
    note = models.CharField(_("note"), max_length=200, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("conversation state change")
        verbose_name_plural = _("conversation state changes")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} by {self.actor_label or self.actor_kind}"


class ConversationNote(models.Model):
    """An internal note of a manager about a conversation (Telegram `note: …`, admin): kept on the
    conversation, never sent to the customer. `idempotency_key` makes a redelivered note one row."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE, related_name="notes")
    created_at = models.DateTimeField(_("created at"))
    text = models.TextField(_("text"))
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, default="")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")

    def __str__(self) -> str:
        return f"note by {self.actor_label or self.actor_kind}: {self.text[:40]}"


class WrongAnswerMark(models.Model):
    """A manager or operator said a bot answer was wrong («❌ Бот ответил неверно»). One per turn
    (a second press is the same mark); it opened a quality incident and handed the conversation to
    a human. Two marks on answers from the same KB item within a week pause the item
    (`knowledge.KnowledgeItemPause`)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, verbose_name=_("conversation"), on_delete=models.CASCADE,
                                     related_name="wrong_answer_marks")
    turn = models.OneToOneField(Turn, verbose_name=_("turn"), on_delete=models.CASCADE, related_name="wrong_answer_mark")
    created_at = models.DateTimeField(_("created at"), db_index=True)
    sources = models.JSONField(_("KB items"), default=list, blank=True, help_text=_("KB items the answer came from."))
    kb_version = models.PositiveIntegerField(_("KB version"), null=True, blank=True)
    reply = models.TextField(_("bot answer"), blank=True, default="")
    source = models.CharField(_("where marked"), max_length=10, choices=EventSource.choices)
    actor_kind = models.CharField(_("who marked (kind)"), max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(_("who marked"), max_length=150, blank=True, default="")
    incident_id = models.BigIntegerField(_("incident ID"), null=True, blank=True)
    paused_items = models.JSONField(_("paused items"), default=list, blank=True,
                                    help_text=_("Items this mark paused (the second within a week)."))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("wrong answer mark")
        verbose_name_plural = _("wrong answer marks")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"wrong answer in turn {self.turn_id} ({', '.join(self.sources) or 'no source'})"


class SandboxMessage(models.Model):
    """A send recorded by the built-in ChatFlow sandbox (used when CHATFLOW_BASE_URL is empty).
    Like the real gateway it keeps one row per idempotency key and only counts repeats."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200, unique=True)
    instance_id = models.CharField(_("instance id"), max_length=100, blank=True, default="")
    to_masked = models.CharField(_("to masked"), max_length=32)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    repeats = models.PositiveIntegerField(_("repeats"), default=0,
            help_text=_("Later requests with the same key (dropped, like the real gateway)."))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("sandbox send")
        verbose_name_plural = _("sandbox sends")

    def __str__(self) -> str:
        return f"sandbox → {self.to_masked}: {self.text[:40]}"
