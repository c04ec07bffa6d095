"""Salon CRM (Altegio / YCLIENTS): a tenant's connection, its service map, the booking exchanges
the bot runs with customers, the records it knows about (booked by the bot or synced), and the
calls it made (latency and errors for the sentinel).

Rows are written only by `crm.services`. Every model is tenant-scoped (`tenant_scope_path`).
`crm` sits below `conversations`, so a session names its conversation by id, never by a
foreign key to a model of a higher layer.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from crm.choices import ConnectionStatus, CrmKind, RecordSource, RecordStatus, SessionKind, SessionStatus
from imperium.core.crypto import mask
from imperium.core.fields import EncryptedTextField
from tenants.scoping import TenantScopedQuerySet

_TENANT = "tenants.Client"

PUBLIC_BASE_URLS = {
    CrmKind.ALTEGIO: "https://api.alteg.io/api/v1",
    CrmKind.YCLIENTS: "https://api.yclients.com/api/v1",
}


class CrmConnection(models.Model):
    """One tenant's CRM account. Tokens are encrypted; a 401 from the CRM marks it `broken` and
    the bot stops calling until it is connected again (`crm_connect`)."""

    tenant_scope_path = "tenant"

    tenant = models.OneToOneField(_TENANT, on_delete=models.CASCADE, related_name="crm_connection")
    kind = models.CharField(max_length=10, choices=CrmKind.choices, default=CrmKind.ALTEGIO)
    company_id = models.PositiveBigIntegerField()
    base_url = models.URLField(blank=True, default="", help_text="Empty: the public API of the kind. Set for tests and proxies.")
    partner_token = EncryptedTextField()
    user_token = EncryptedTextField()
    status = models.CharField(max_length=10, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    # Messages around each visit (each switchable).
    remind_day_before = models.BooleanField(default=True, help_text="Reminder the day before the visit.")
    remind_two_hours = models.BooleanField(default=True, help_text="Reminder 2 hours before the visit.")
    thank_you = models.BooleanField(default=True, help_text="Thank-you with a 1–5 rating request after the visit.")
    rebook_nudge = models.BooleanField(default=True, help_text="Rebooking nudge after the service's interval.")
    quiet_hours_start = models.TimeField(default=dt.time(21, 0), help_text="No visit messages from this local time …")
    quiet_hours_end = models.TimeField(default=dt.time(9, 0), help_text="… until this local time.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    history = HistoricalRecords(excluded_fields=["partner_token", "user_token"])
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM connection")
        verbose_name_plural = _("CRM connections")
        verbose_name = "CRM connection"

    def __str__(self) -> str:
        return f"{self.kind} company {self.company_id} ({self.status})"

    @property
    def api_base(self) -> str:
        return (self.base_url or PUBLIC_BASE_URLS[CrmKind(self.kind)]).rstrip("/")

    @property
    def partner_token_masked(self) -> str:
        return mask(self.partner_token)

    @property
    def user_token_masked(self) -> str:
        return mask(self.user_token)


class CrmService(models.Model):
    """A CRM service and the words customers use for it (the service map). Seeded from the CRM's
    titles by `crm_connect`; `keywords` are edited in admin."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    crm_id = models.PositiveBigIntegerField()
    title = models.CharField(max_length=200)
    keywords = models.TextField(blank=True, default="", help_text="Comma-separated words customers use for this service.")
    price_min = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    seance_length = models.PositiveIntegerField(default=0, help_text="Seconds.")
    rebook_after_days = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Rebooking nudge after this many days.")
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM service")
        verbose_name_plural = _("CRM services")
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["tenant", "crm_id"], name="uniq_crm_service_tenant_id")]
        verbose_name = "CRM service (service map)"

    def __str__(self) -> str:
        return self.title


class BookingSession(models.Model):
    """The booking exchange of one conversation: a small state machine (choices.SessionStatus),
    stored so that a crashed worker or a repeated «да» never books twice. One open session per
    conversation (partial unique constraint); it expires at `expires_at`."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    conversation_id = models.BigIntegerField(db_index=True)
    customer_key = models.CharField(max_length=64)
    customer_phone = EncryptedTextField()
    customer_name = models.CharField(max_length=200, blank=True, default="")
    kind = models.CharField(max_length=10, choices=SessionKind.choices, default=SessionKind.BOOK)
    status = models.CharField(max_length=12, choices=SessionStatus.choices, default=SessionStatus.COLLECTING)
    service_id = models.PositiveBigIntegerField(null=True, blank=True)
    service_title = models.CharField(max_length=200, blank=True, default="")
    staff_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty: any master.")
    staff_name = models.CharField(max_length=200, blank=True, default="")
    day = models.DateField(null=True, blank=True)
    slot_at = models.DateTimeField(null=True, blank=True, help_text="The proposed time.")
    record_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="The record made (book) or acted on (cancel, reschedule).")
    new_record_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Reschedule: the new record.")
    exchanges = models.PositiveSmallIntegerField(default=0, help_text="Questions the bot asked in this exchange.")
    detail = models.JSONField(default=dict, blank=True, help_text="What was collected (for a manager) and what was offered.")
    booking_turn = models.CharField(max_length=64, blank=True, default="", help_text="The turn that holds the CRM write.")
    booking_lease_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0, help_text="CRM write attempts.")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    expires_at = models.DateTimeField()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("booking conversation")
        verbose_name_plural = _("booking conversations")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "conversation_id"], condition=Q(status__in=["collecting", "proposed", "booking"]),
                                    name="uniq_open_booking_session"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} session {self.pk} ({self.status})"


class CrmRecord(models.Model):
    """A visit the bot knows about: booked by it or synced from the CRM (`GET records`). The
    visit messages (reminders, thank-you, rating, nudge) are driven from these rows; each
    `*_at` column is claimed with a conditional update, so a message goes out at most once."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    record_id = models.PositiveBigIntegerField()
    customer_key = models.CharField(max_length=64, db_index=True)
    customer_phone = EncryptedTextField()
    customer_name = models.CharField(max_length=200, blank=True, default="")
    conversation_id = models.BigIntegerField(null=True, blank=True)
    service_id = models.PositiveBigIntegerField(null=True, blank=True)
    service_title = models.CharField(max_length=200, blank=True, default="")
    staff_id = models.PositiveBigIntegerField(null=True, blank=True)
    staff_name = models.CharField(max_length=200, blank=True, default="")
    starts_at = models.DateTimeField()
    seance_length = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=6, choices=RecordSource.choices)
    status = models.CharField(max_length=10, choices=RecordStatus.choices, default=RecordStatus.UPCOMING)
    confirmed_by_customer = models.BooleanField(default=False)
    reminded_day_before_at = models.DateTimeField(null=True, blank=True)
    reminded_two_hours_at = models.DateTimeField(null=True, blank=True)
    thanked_at = models.DateTimeField(null=True, blank=True)
    rating = models.PositiveSmallIntegerField(null=True, blank=True)
    rated_at = models.DateTimeField(null=True, blank=True)
    nudged_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM record")
        verbose_name_plural = _("CRM records")
        ordering = ["starts_at", "id"]
        constraints = [models.UniqueConstraint(fields=["tenant", "record_id"], name="uniq_crm_record_tenant_id")]
        indexes = [models.Index(fields=["status", "starts_at"], name="crm_record_status_starts")]

    def __str__(self) -> str:
        return f"record {self.record_id} at {self.starts_at:%Y-%m-%d %H:%M}"


class VisitOptOut(models.Model):
    """A customer who wrote «стоп»: no visit messages (reminders, thank-yous, nudges) any more."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+")
    customer_key = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit messages opt-out")
        verbose_name_plural = _("visit messages opt-outs")
        constraints = [models.UniqueConstraint(fields=["tenant", "customer_key"], name="uniq_visit_optout")]

    def __str__(self) -> str:
        return f"opt-out {self.customer_key[:8]}"


class CrmCall(models.Model):
    """One call to a tenant's CRM: the sentinel's `crm:<tenant>` check reads latency and errors here."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.CharField(max_length=32)
    ok = models.BooleanField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ms = models.FloatField()
    error = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM call")
        verbose_name_plural = _("CRM calls")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="crm_call_tenant_created")]

    def __str__(self) -> str:
        return f"{self.endpoint} {'ok' if self.ok else 'failed'} {self.ms:.0f} ms"
