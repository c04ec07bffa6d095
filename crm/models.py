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

    tenant = models.OneToOneField(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="crm_connection")
    kind = models.CharField(verbose_name=_("CRM system"), max_length=10, choices=CrmKind.choices, default=CrmKind.ALTEGIO)
    company_id = models.PositiveBigIntegerField(verbose_name=_("company ID in the CRM"))
    base_url = models.URLField(verbose_name=_("API address"), blank=True, default="",
                               help_text=_("Empty: the public API of the kind. Set for tests and proxies."))
    partner_token = EncryptedTextField(verbose_name=_("partner token"))
    user_token = EncryptedTextField(verbose_name=_("user token"))
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE)
    status_changed_at = models.DateTimeField(verbose_name=_("status changed at"), null=True, blank=True)
    last_error = models.TextField(verbose_name=_("last error"), blank=True, default="")
    # Messages around each visit (each switchable).
    remind_day_before = models.BooleanField(verbose_name=_("reminder the day before"), default=True,
                                            help_text=_("Reminder the day before the visit."))
    remind_two_hours = models.BooleanField(verbose_name=_("reminder 2 hours before"), default=True,
                                           help_text=_("Reminder 2 hours before the visit."))
    thank_you = models.BooleanField(verbose_name=_("thank-you after the visit"), default=True,
                                    help_text=_("Thank-you with a 1–5 rating request after the visit."))
    rebook_nudge = models.BooleanField(verbose_name=_("rebooking nudge"), default=True,
                                       help_text=_("Rebooking nudge after the service's interval."))
    quiet_hours_start = models.TimeField(verbose_name=_("quiet hours from"), default=dt.time(21, 0),
                                         help_text=_("No visit messages from this local time …"))
    quiet_hours_end = models.TimeField(verbose_name=_("quiet hours until"), default=dt.time(9, 0), help_text=_("… until this local time."))
    created_at = models.DateTimeField(verbose_name=_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    history = HistoricalRecords(excluded_fields=["partner_token", "user_token"])
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM connection")
        verbose_name_plural = _("CRM connections")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.company_id} ({self.get_status_display()})"

    @property
    def api_base(self) -> str:
        return (self.base_url or PUBLIC_BASE_URLS[CrmKind(self.kind)]).rstrip("/")

    @property
    def partner_token_masked(self) -> str:
        return mask(self.partner_token)

    partner_token_masked.fget.short_description = _("partner token")  # type: ignore[attr-defined]

    @property
    def user_token_masked(self) -> str:
        return mask(self.user_token)

    user_token_masked.fget.short_description = _("user token")  # type: ignore[attr-defined]


class CrmService(models.Model):
    """A CRM service and the words customers use for it (the service map). Seeded from the CRM's
    titles by `crm_connect`; `keywords` are edited in admin."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    crm_id = models.PositiveBigIntegerField(verbose_name=_("ID in the CRM"))
    title = models.CharField(verbose_name=_("service name"), max_length=200)
    keywords = models.TextField(verbose_name=_("customer words"), blank=True, default="",
                                help_text=_("Comma-separated words customers use for this service."))
    price_min = models.DecimalField(verbose_name=_("price from"), max_digits=12, decimal_places=2, null=True, blank=True)
    price_max = models.DecimalField(verbose_name=_("price up to"), max_digits=12, decimal_places=2, null=True, blank=True)
    seance_length = models.PositiveIntegerField(verbose_name=_("duration, seconds"), default=0, help_text=_("Seconds."))
    rebook_after_days = models.PositiveSmallIntegerField(verbose_name=_("rebook after, days"), null=True, blank=True,
                                                         help_text=_("Rebooking nudge after this many days."))
    active = models.BooleanField(verbose_name=_("active"), default=True)
    updated_at = models.DateTimeField(verbose_name=_("updated at"), auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM service")
        verbose_name_plural = _("CRM services")
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["tenant", "crm_id"], name="uniq_crm_service_tenant_id")]

    def __str__(self) -> str:
        return self.title


class BookingSession(models.Model):
    """The booking exchange of one conversation: a small state machine (choices.SessionStatus),
    stored so that a crashed worker or a repeated «да» never books twice. One open session per
    conversation (partial unique constraint); it expires at `expires_at`."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    conversation_id = models.BigIntegerField(verbose_name=_("conversation ID"), db_index=True)
    customer_key = models.CharField(verbose_name=_("customer key"), max_length=64)
    customer_phone = EncryptedTextField(verbose_name=_("customer phone"))
    customer_name = models.CharField(verbose_name=_("customer name"), max_length=200, blank=True, default="")
    kind = models.CharField(verbose_name=_("kind"), max_length=10, choices=SessionKind.choices, default=SessionKind.BOOK)
    status = models.CharField(verbose_name=_("status"), max_length=12, choices=SessionStatus.choices, default=SessionStatus.COLLECTING)
    service_id = models.PositiveBigIntegerField(verbose_name=_("service ID in the CRM"), null=True, blank=True)
    service_title = models.CharField(verbose_name=_("service"), max_length=200, blank=True, default="")
    staff_id = models.PositiveBigIntegerField(verbose_name=_("master ID in the CRM"), null=True, blank=True,
                                              help_text=_("Empty: any master."))
    staff_name = models.CharField(verbose_name=_("master"), max_length=200, blank=True, default="")
    day = models.DateField(verbose_name=_("day"), null=True, blank=True)
    slot_at = models.DateTimeField(verbose_name=_("proposed time"), null=True, blank=True, help_text=_("The proposed time."))
    record_id = models.PositiveBigIntegerField(verbose_name=_("record ID in the CRM"), null=True, blank=True,
                                               help_text=_("The record made (book) or acted on (cancel, reschedule)."))
    new_record_id = models.PositiveBigIntegerField(verbose_name=_("new record ID"), null=True, blank=True,
                                                   help_text=_("Reschedule: the new record."))
    exchanges = models.PositiveSmallIntegerField(verbose_name=_("questions asked"), default=0,
                                                 help_text=_("Questions the bot asked in this exchange."))
    detail = models.JSONField(verbose_name=_("details"), default=dict, blank=True,
                              help_text=_("What was collected (for a manager) and what was offered."))
    booking_turn = models.CharField(verbose_name=_("turn holding the CRM write"), max_length=64, blank=True, default="",
                                    help_text=_("The turn that holds the CRM write."))
    booking_lease_until = models.DateTimeField(verbose_name=_("CRM write lease until"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(verbose_name=_("CRM write attempts"), default=0, help_text=_("CRM write attempts."))
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

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

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    record_id = models.PositiveBigIntegerField(verbose_name=_("record ID in the CRM"))
    customer_key = models.CharField(verbose_name=_("customer key"), max_length=64, db_index=True)
    customer_phone = EncryptedTextField(verbose_name=_("customer phone"))
    customer_name = models.CharField(verbose_name=_("customer name"), max_length=200, blank=True, default="")
    conversation_id = models.BigIntegerField(verbose_name=_("conversation ID"), null=True, blank=True)
    service_id = models.PositiveBigIntegerField(verbose_name=_("service ID in the CRM"), null=True, blank=True)
    service_title = models.CharField(verbose_name=_("service"), max_length=200, blank=True, default="")
    staff_id = models.PositiveBigIntegerField(verbose_name=_("master ID in the CRM"), null=True, blank=True)
    staff_name = models.CharField(verbose_name=_("master"), max_length=200, blank=True, default="")
    starts_at = models.DateTimeField(verbose_name=_("visit at"))
    seance_length = models.PositiveIntegerField(verbose_name=_("duration, seconds"), default=0)
    source = models.CharField(verbose_name=_("source"), max_length=6, choices=RecordSource.choices)
    status = models.CharField(verbose_name=_("status"), max_length=10, choices=RecordStatus.choices, default=RecordStatus.UPCOMING)
    confirmed_by_customer = models.BooleanField(verbose_name=_("confirmed by the customer"), default=False)
    reminded_day_before_at = models.DateTimeField(verbose_name=_("reminded the day before at"), null=True, blank=True)
    reminded_two_hours_at = models.DateTimeField(verbose_name=_("reminded 2 hours before at"), null=True, blank=True)
    thanked_at = models.DateTimeField(verbose_name=_("thanked at"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(verbose_name=_("rating"), null=True, blank=True)
    rated_at = models.DateTimeField(verbose_name=_("rated at"), null=True, blank=True)
    nudged_at = models.DateTimeField(verbose_name=_("invited to rebook at"), null=True, blank=True)
    created_at = models.DateTimeField(verbose_name=_("created at"))
    updated_at = models.DateTimeField(verbose_name=_("updated at"))

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

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    customer_key = models.CharField(verbose_name=_("customer key"), max_length=64)
    created_at = models.DateTimeField(verbose_name=_("created at"))

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

    tenant = models.ForeignKey(_TENANT, verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+", db_index=False)
    endpoint = models.CharField(verbose_name=_("endpoint"), max_length=32)
    ok = models.BooleanField(verbose_name=_("succeeded"))
    status_code = models.PositiveSmallIntegerField(verbose_name=_("HTTP status"), null=True, blank=True)
    ms = models.FloatField(verbose_name=_("duration, ms"))
    error = models.CharField(verbose_name=_("error"), max_length=300, blank=True, default="")
    created_at = models.DateTimeField(verbose_name=_("created at"))

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("CRM call")
        verbose_name_plural = _("CRM calls")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "created_at"], name="crm_call_tenant_created")]

    def __str__(self) -> str:
        return f"{self.endpoint} {'ok' if self.ok else 'failed'} {self.ms:.0f} ms"
