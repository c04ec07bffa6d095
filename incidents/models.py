from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from imperium.core.choices import ActorKind
from incidents.choices import (
    OPEN_INCIDENT_STATUSES,
    AlertKind,
    AlertSeverity,
    AlertStatus,
    EventSource,
    FixState,
    IncidentEventKind,
    IncidentStatus,
    SentinelTrigger,
)
from tenants.scoping import TenantScopedQuerySet


class ErrorLog(models.Model):
    """One failure, with enough context to explain it later from the database alone."""

    tenant_scope_path = "tenant"

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="", db_index=True)
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    where = models.CharField(_("where"), max_length=200, help_text=_("Component or code path, e.g. 'chatflow.send'."))
    exception_type = models.CharField(_("exception type"), max_length=200, blank=True, default="")
    message = models.TextField(_("message"), blank=True, default="")
    traceback = models.TextField(_("traceback"), blank=True, default="")
    context = models.JSONField(_("context"), default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="errorlog_tenant_created")]
        verbose_name = _("error log")
        verbose_name_plural = _("error logs")

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

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("kind"), max_length=15, choices=AlertKind.choices, default=AlertKind.ALERT)
    severity = models.CharField(_("severity"), max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    title = models.CharField(_("title"), max_length=200, blank=True, default="")
    text = models.TextField(_("text"), blank=True, default="")
    chat_id = models.CharField(_("chat id"), max_length=64, blank=True, default="", help_text=_("Numeric chat id or @channel."))
    topic_id = models.BigIntegerField(_("topic id"), null=True, blank=True, help_text=_("The topic's number in the Telegram forum."))
    reply_to_message_id = models.BigIntegerField(_("reply to message id"), null=True, blank=True)
    reply_markup = models.JSONField(_("reply markup"), null=True, blank=True, help_text=_("The buttons under the message."))
    dedup_key = models.CharField(_("dedup key"), max_length=200, blank=True, default="", db_index=True)
    repeats = models.PositiveIntegerField(_("repeats"), default=0, help_text=_("Repeats of the same key folded into this alert."))
    status = models.CharField(_("status"), max_length=10, choices=AlertStatus.choices, default=AlertStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("max attempts"), default=8)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True, default="")
    last_error_status = models.IntegerField(_("last error status"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_message_id = models.BigIntegerField(_("sent message id"), null=True, blank=True)
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True, default="")
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="", db_index=True)

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
        verbose_name = _("Telegram alert")
        verbose_name_plural = _("Telegram alerts")

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} {self.title or self.text[:40]} ({self.status})"


class SentinelRun(models.Model):
    """One pass of the sentinel over every check. The newest finished run is the sentinel's
    heartbeat (`/admin/health` entry `sentinel`). System-wide: superusers only in admin."""

    started_at = models.DateTimeField(_("started at"), db_index=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    trigger = models.CharField(_("trigger"), max_length=10, choices=SentinelTrigger.choices, default=SentinelTrigger.BEAT)
    checks = models.PositiveIntegerField(_("checks"), default=0, help_text=_("Observations recorded."))
    failing = models.PositiveIntegerField(_("failing"), default=0)
    duration_ms = models.FloatField(_("duration ms"), null=True, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")
    error = models.TextField(_("error"), blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("sentinel run")
        verbose_name_plural = _("sentinel runs")

    def __str__(self) -> str:
        return f"sentinel run {self.started_at:%Y-%m-%d %H:%M:%S} ({self.failing}/{self.checks} failing)"


class CheckResult(models.Model):
    """One observation of one check on one target (a tenant, a collection, or the whole system).
    Consecutive results of a fingerprint drive the incident lifecycle; pruned after
    SENTINEL_RETENTION_DAYS by the beat job `incidents-prune`."""

    tenant_scope_path = "tenant"

    check_name = models.CharField(_("check"), max_length=64)
    target = models.CharField(_("target"), max_length=100, blank=True, default="")
    fingerprint = models.CharField(_("fingerprint"), max_length=200)
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    ok = models.BooleanField(_("ok"))
    skipped = models.BooleanField(_("skipped"), default=False,
            help_text=_("Not configured or nothing to judge: never counts as a pass or a failure."))
    latency_ms = models.FloatField(_("latency ms"), null=True, blank=True)
    detail = models.TextField(_("detail"), blank=True, default="")
    data = models.JSONField(_("data"), default=dict, blank=True)
    checked_at = models.DateTimeField(_("checked at"), db_index=True)
    run = models.ForeignKey(SentinelRun, verbose_name=_("run"), null=True, blank=True, on_delete=models.SET_NULL, related_name="results")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_at", "-id"]
        indexes = [
            models.Index(fields=["fingerprint", "-checked_at"], name="checkresult_fp_checked"),
            models.Index(fields=["tenant", "-checked_at"], name="checkresult_tenant_checked"),
        ]
        verbose_name = _("check result")
        verbose_name_plural = _("check results")

    def __str__(self) -> str:
        return f"{self.fingerprint}: {'ok' if self.ok else 'FAIL'}"


class Incident(models.Model):
    """A failure the sentinel saw K times in a row (or someone reported), until it passes M times.

    State machine open → acknowledged → resolved (resolved → open again within the reopen
    cool-down), transitions in `incidents.services` guarded by conditional updates, each with an
    `IncidentEvent`. At most one open (or acknowledged) incident per fingerprint: the database
    constraint is the truth of deduplication.
    """

    tenant_scope_path = "tenant"

    fingerprint = models.CharField(_("fingerprint"), max_length=200, help_text=_("check:target — what failed, where."))
    kind = models.CharField(_("kind"), max_length=64, help_text=_("The check whose failure this is (e.g. qdrant.points)."))
    target = models.CharField(_("target"), max_length=100, blank=True, default="")
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               help_text=_("Empty: system-wide."))
    severity = models.CharField(_("severity"), max_length=10, choices=AlertSeverity.choices, default=AlertSeverity.WARNING)
    status = models.CharField(_("status"), max_length=12, choices=IncidentStatus.choices, default=IncidentStatus.OPEN)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True, default="", help_text=_("The latest failing detail."))
    opened_at = models.DateTimeField(_("opened at"), db_index=True)
    opened_by = models.CharField(_("opened by"), max_length=150, blank=True, default="")
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.CharField(_("acknowledged by"), max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = models.CharField(_("resolved by"), max_length=150, blank=True, default="")
    last_alert_at = models.DateTimeField(_("last alert at"), null=True, blank=True)
    last_failed_at = models.DateTimeField(_("last failed at"), null=True, blank=True)
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    failure_count = models.PositiveIntegerField(_("failure count"), default=0, help_text=_("Failing observations while open."))
    reopen_count = models.PositiveIntegerField(_("reopen count"), default=0)
    fix_state = models.CharField(_("fix state"), max_length=10, choices=FixState.choices, blank=True, default=FixState.NONE)
    fix_attempts = models.PositiveSmallIntegerField(_("fix attempts"), default=0)
    fix_next_at = models.DateTimeField(_("fix next at"), null=True, blank=True)
    correlation_id = models.CharField(_("correlation id"), max_length=128, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-id"]
        indexes = [
            models.Index(fields=["status", "opened_at"], name="incident_status_opened"),
            models.Index(fields=["fingerprint", "-resolved_at"], name="incident_fp_resolved"),
            models.Index(fields=["tenant", "-opened_at"], name="incident_tenant_opened"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["fingerprint"], condition=models.Q(status__in=list(OPEN_INCIDENT_STATUSES)),
                name="uniq_incident_open_fingerprint",
            ),
        ]
        verbose_name = _("incident")
        verbose_name_plural = _("incidents")

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_INCIDENT_STATUSES


class IncidentEvent(models.Model):
    """Append-only timeline of an incident: who did what, when, from where."""

    tenant_scope_path = "tenant"

    incident = models.ForeignKey(Incident, verbose_name=_("incident"), on_delete=models.CASCADE, related_name="events")
    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(_("created at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=24, choices=IncidentEventKind.choices)
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices, default=EventSource.SYSTEM)
    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, default="")
    message = models.TextField(_("message"), blank=True, default="")
    data = models.JSONField(_("data"), default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["incident", "created_at"], name="incidentevent_incident_created")]
        verbose_name = _("incident event")
        verbose_name_plural = _("incident events")

    def __str__(self) -> str:
        return f"{self.kind} by {self.actor_label or self.actor_kind}"
