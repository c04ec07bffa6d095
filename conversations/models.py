"""The reply pipeline's records: conversations, inbound messages, turns, outbound messages,
traces, escalations, dead letters and the ChatFlow sandbox.

Rows are written only by `conversations.services` (the webhook's accept is raw SQL in
`services/inbound.py`; the sandbox client records `SandboxMessage`). Every model is tenant-scoped (`tenant_scope_path = "tenant"`).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

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
    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+", db_index=False)
    # The phone is needed to reply, so it is stored encrypted; lookups go through a keyed hash.
    customer_key = models.CharField(max_length=64, help_text="Keyed hash of the phone number (lookup key).")
    customer_phone = EncryptedTextField()
    customer_phone_masked = models.CharField(max_length=32)
    customer_name = models.CharField(max_length=200, blank=True, default="")
    state = models.CharField(max_length=10, choices=ConversationState.choices, default=ConversationState.BOT)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    last_inbound_at = models.DateTimeField(null=True, blank=True)
    reply_due_at = models.DateTimeField(
        null=True, blank=True, help_text="When the unanswered messages are due for a turn (coalescing window); empty = none pending."
    )
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last time a turn task was queued for it.")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "customer_key"], name="uniq_conversation_tenant_customer")]
        indexes = [
            models.Index(fields=["reply_due_at"], condition=Q(reply_due_at__isnull=False), name="conv_reply_due"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_phone_masked} ({self.state})"


class InboundMessage(models.Model):
    """A customer's message as ChatFlow delivered it. Unique per tenant + provider message id:
    the database constraint is the truth of deduplication."""

    tenant_scope_path = "tenant"

    # Written on the webhook path: (tenant) and (conversation) are covered by composite indexes.
    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+", db_index=False)
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="inbound_messages", db_index=False)
    provider_message_id = models.CharField(max_length=200)
    message_type = models.CharField(max_length=20, default=MessageType.TEXT)
    text = models.TextField(blank=True, default="")
    payload = models.JSONField(default=dict, help_text="The webhook body with the phone number masked.")
    provider_timestamp = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField()
    webhook_id = models.CharField(max_length=200, blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    turn = models.ForeignKey("Turn", null=True, blank=True, on_delete=models.PROTECT, related_name="messages", db_index=False)
    forwarded_at = models.DateTimeField(null=True, blank=True, help_text="Handed to the manager notifier (conversation held by a human).")

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

    def __str__(self) -> str:
        return f"{self.provider_message_id} ({self.message_type})"

    @property
    def is_text(self) -> bool:
        return self.message_type == MessageType.TEXT


class DeadLetter(models.Model):
    """A correctly signed webhook delivery we could not understand. Kept, shown in admin, never lost."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    webhook_id = models.CharField(max_length=200, blank=True, default="")
    error = models.TextField()
    body = models.TextField(help_text="Body as received, as text (phone numbers masked).")
    raw_body = EncryptedTextField(blank=True, default="", help_text="The exact bytes received, base64 (encrypted at rest).")
    headers = models.JSONField(default=dict, blank=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    status = models.CharField(max_length=10, choices=DeadLetterStatus.choices, default=DeadLetterStatus.NEW)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self) -> str:
        return f"dead letter {self.pk}: {self.error[:60]}"


class Turn(models.Model):
    """The group of inbound messages answered together. Status machine:
    processing → answered | escalated | forwarded | suppressed. A processing turn carries a
    lease; the sweeper resumes a turn whose lease expired (its worker died)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="turns")
    status = models.CharField(max_length=12, choices=TurnStatus.choices, default=TurnStatus.PROCESSING)
    decision = models.CharField(max_length=10, choices=TurnDecision.choices, blank=True, default="")
    reason = models.CharField(max_length=32, choices=EscalationReason.choices, blank=True, default="")
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    runs = models.PositiveSmallIntegerField(default=1, help_text="How many times processing started (more than 1: resumed after a crash).")
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    message_count = models.PositiveSmallIntegerField(default=0)
    kb_version = models.PositiveIntegerField(null=True, blank=True)
    release = models.CharField(max_length=64, blank=True, default="")
    # Forwarding to the manager notifier (forwarded/suppressed turns): at-least-once, retried by the sweeper.
    notify_dispatched_at = models.DateTimeField(null=True, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(default=0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["lease_expires_at"], condition=Q(status="processing"), name="turn_processing_lease"),
        ]

    def __str__(self) -> str:
        return f"turn {self.pk} ({self.status})"


class Escalation(models.Model):
    """A hand-over to a human. Managers are told through the notifier (after commit, from a task);
    `notified_at` stays empty until that worked, and the sweeper retries it."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="escalations")
    turn = models.ForeignKey(Turn, null=True, blank=True, on_delete=models.PROTECT, related_name="escalations")
    reason = models.CharField(max_length=32, choices=EscalationReason.choices)
    status = models.CharField(max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN)
    detail = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    taken_at = models.DateTimeField(null=True, blank=True)
    taken_by = models.CharField(max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    notified_at = models.DateTimeField(null=True, blank=True)
    notify_dispatched_at = models.DateTimeField(null=True, blank=True)
    notify_attempts = models.PositiveSmallIntegerField(default=0)
    last_notify_error = models.TextField(blank=True, default="")
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    # SLA follow-ups (services.reminders): managers reminded while nobody takes it, the customer
    # told once more that a human is coming.
    reminders_sent = models.PositiveSmallIntegerField(default=0, help_text="Reminders sent to managers (nobody took it).")
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    holding_followup_at = models.DateTimeField(
        null=True, blank=True, help_text="When the customer got the second holding message (waited beyond the SLA)."
    )

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["tenant", "status"], name="escalation_tenant_status"),
            models.Index(fields=["created_at"], condition=Q(notified_at__isnull=True), name="escalation_unnotified"),
        ]

    def __str__(self) -> str:
        return f"escalation {self.pk} ({self.reason}, {self.status})"


class OutboundMessage(models.Model):
    """One message to a customer, written before any send attempt. The idempotency key is unique
    and goes to ChatFlow with every attempt, so a re-send after a crash cannot double the message.

    Status: pending → sending → sent | failed; a `sending` row whose lease expired (worker died
    mid-call) becomes `unknown` and is re-sent with the same key; a bot reply not yet attempted
    when a manager takes over becomes `cancelled`."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="outbound_messages")
    turn = models.ForeignKey(Turn, null=True, blank=True, on_delete=models.PROTECT, related_name="outbound_messages")
    escalation = models.ForeignKey(Escalation, null=True, blank=True, on_delete=models.PROTECT, related_name="outbound_messages")
    kind = models.CharField(max_length=10, choices=OutboundKind.choices)
    text = models.TextField()
    idempotency_key = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=OutboundStatus.choices, default=OutboundStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, help_text="Not before this time (the gateway's Retry-After).")
    dispatched_at = models.DateTimeField(null=True, blank=True, help_text="Last time a delivery was queued or started.")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True, default="")
    provider_message_id = models.CharField(max_length=200, blank=True, default="")
    last_error = models.TextField(blank=True, default="")
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    send_ms = models.FloatField(null=True, blank=True, help_text="Time spent in send attempts, backoff included.")
    created_by = models.CharField(max_length=150, blank=True, default="", help_text="Actor for manager replies.")
    correlation_id = models.CharField(max_length=128, blank=True, default="")
    unclear_attempts = models.PositiveSmallIntegerField(
        default=0,
        help_text="Attempts whose outcome was unclear (a timeout, a crash mid-send): a re-send relies on the gateway's Idempotency-Key.",
    )
    gateway_duplicate = models.BooleanField(
        null=True, blank=True, help_text="After an unclear attempt: did the gateway report the re-send as a duplicate?",
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

    def __str__(self) -> str:
        return f"{self.kind} {self.pk} ({self.status})"


class MessageTrace(models.Model):
    """One per turn: what was decided, how long each step took, which release and KB version were
    used. ErrorLogs of the turn share its `correlation_id` (see `selectors.trace_error_logs`)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="traces")
    turn = models.OneToOneField(Turn, on_delete=models.CASCADE, related_name="trace")
    created_at = models.DateTimeField(db_index=True)
    correlation_id = models.CharField(max_length=128, blank=True, default="", db_index=True)
    decision = models.CharField(max_length=10, choices=TurnDecision.choices)
    reason = models.CharField(max_length=32, blank=True, default="")
    confidence = models.FloatField(null=True, blank=True)
    scores = models.JSONField(default=dict, blank=True)
    sources = models.JSONField(default=list, blank=True)
    gate = models.JSONField(default=list, blank=True)
    detail = models.JSONField(default=dict, blank=True)
    message_count = models.PositiveSmallIntegerField(default=0)
    wait_ms = models.FloatField(null=True, blank=True, help_text="From the last message to the start of the turn (coalescing + queue).")
    rag_ms = models.FloatField(null=True, blank=True)
    llm_ms = models.FloatField(null=True, blank=True)
    qc_ms = models.FloatField(null=True, blank=True)
    decide_ms = models.FloatField(null=True, blank=True, help_text="The whole reply decision.")
    send_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True, help_text="From the start of the turn to the end of delivery.")
    send_status = models.CharField(max_length=10, blank=True, default="")
    kb_version = models.PositiveIntegerField(null=True, blank=True)
    release = models.CharField(max_length=64, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="trace_tenant_created")]

    def __str__(self) -> str:
        return f"trace of turn {self.turn_id}: {self.decision} {self.reason}".strip()


class ConversationEvent(models.Model):
    """Append-only: every state change of a conversation, who made it and from where."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField()
    from_state = models.CharField(max_length=10, choices=ConversationState.choices)
    to_state = models.CharField(max_length=10, choices=ConversationState.choices)
    source = models.CharField(max_length=10, choices=EventSource.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=150, blank=True, default="")
    note = models.CharField(max_length=200, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state} by {self.actor_label or self.actor_kind}"


class ConversationNote(models.Model):
    """An internal note of a manager about a conversation (Telegram `note: …`, admin): kept on the
    conversation, never sent to the customer. `idempotency_key` makes a redelivered note one row."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="notes")
    created_at = models.DateTimeField()
    text = models.TextField()
    source = models.CharField(max_length=10, choices=EventSource.choices)
    actor_kind = models.CharField(max_length=10, choices=ActorKind.choices)
    actor_label = models.CharField(max_length=150, blank=True, default="")
    idempotency_key = models.CharField(max_length=200, unique=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"note by {self.actor_label or self.actor_kind}: {self.text[:40]}"


class SandboxMessage(models.Model):
    """A send recorded by the built-in ChatFlow sandbox (used when CHATFLOW_BASE_URL is empty).
    Like the real gateway it keeps one row per idempotency key and only counts repeats."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    idempotency_key = models.CharField(max_length=200, unique=True)
    instance_id = models.CharField(max_length=100, blank=True, default="")
    to_masked = models.CharField(max_length=32)
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    repeats = models.PositiveIntegerField(default=0, help_text="Later requests with the same key (dropped, like the real gateway).")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = "sandbox send"

    def __str__(self) -> str:
        return f"sandbox → {self.to_masked}: {self.text[:40]}"
