"""Admin of the CRM app: connections (tokens write-only, checked on save), the service map,
records, booking sessions. Thin: saving a connection calls `crm.services.crm_connect`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from crm.models import BookingSession, CrmConnection, CrmRecord, CrmService, VisitOptOut
from crm.services import crm_connect, crm_credentials_check, crm_disconnect
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from tenants.admin import ClientAdmin
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedAdmin


class CrmConnectionForm(forms.ModelForm):
    base_url = forms.URLField(label=capfirst(_("API address")), required=False, assume_scheme="https",
                              help_text=_("Empty: the public API of the kind."))
    partner_token = forms.CharField(label=capfirst(_("partner token")), required=False, widget=forms.PasswordInput(render_value=False),
                                    help_text=_("Stored encrypted. Leave empty to keep the current one."))
    user_token = forms.CharField(label=capfirst(_("user token")), required=False, widget=forms.PasswordInput(render_value=False),
                                 help_text=_("Stored encrypted. Leave empty to keep the current one."))

    class Meta:
        model = CrmConnection
        fields = ["tenant", "kind", "company_id", "base_url", "partner_token", "user_token", "remind_day_before", "remind_two_hours",
                  "thank_you", "rebook_nudge", "quiet_hours_start", "quiet_hours_end"]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        existing = self.instance if self.instance.pk else None
        partner = data.get("partner_token") or (existing.partner_token if existing else "")
        user = data.get("user_token") or (existing.user_token if existing else "")
        if not partner or not user:
            raise forms.ValidationError(_("Both tokens are required for a new connection."))
        tenant = data.get("tenant") or (existing.tenant if existing else None)
        if tenant is None or self.errors:
            return data
        try:
            # The one read call that proves the credentials; save_model stores them with its answer.
            self.checked_services = crm_credentials_check(kind=data["kind"], company_id=data["company_id"], partner_token=partner,
                                                          user_token=user, base_url=data.get("base_url") or "")
        except ApplicationError as exc:
            raise forms.ValidationError(exc.message) from None
        self.tokens = (partner, user)
        return data


@admin.register(CrmConnection)
class CrmConnectionAdmin(TenantScopedAdmin):
    form = CrmConnectionForm
    list_display = ["tenant", "kind", "company_id", "status", "status_changed_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["tenant"]
    readonly_fields = ["status", "status_changed_at", "last_error", "partner_token_masked", "user_token_masked"]
    actions = ["disconnect"]

    def get_form(self, request: HttpRequest, obj: Any = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        form.request_user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: CrmConnection, form: Any, change: bool) -> None:
        data = form.cleaned_data
        tenant = data.get("tenant") or obj.tenant
        connected, seeded = crm_connect(actor=Actor.from_user(request.user), tenant=tenant, kind=data["kind"],
                                        company_id=data["company_id"], partner_token=form.tokens[0], user_token=form.tokens[1],
                                        base_url=data.get("base_url") or "", checked_services=form.checked_services)
        # Keep the visit-message switches of the form.
        for name in ("remind_day_before", "remind_two_hours", "thank_you", "rebook_nudge", "quiet_hours_start", "quiet_hours_end"):
            setattr(connected, name, data[name])
        connected.save()
        obj.pk = connected.pk
        messages.info(request, _("Connected: %(count)s services found in the CRM.") % {"count": len(seeded)})

    @admin.action(description=_("Disconnect (the bot hands bookings to managers)"))
    def disconnect(self, request: HttpRequest, queryset: Any) -> None:
        for connection in queryset:
            crm_disconnect(actor=Actor.from_user(request.user), tenant=connection.tenant)
        self.message_user(request, _("Disconnected."))


@admin.register(CrmService)
class CrmServiceAdmin(TenantScopedAdmin):
    list_display = ["title", "tenant", "crm_id", "keywords", "price_min", "price_max", "seance_length", "rebook_after_days", "active"]
    list_editable = ["keywords", "rebook_after_days"]
    list_filter = ["active", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["title", "keywords"]
    readonly_fields = ["crm_id", "price_min", "price_max", "seance_length"]
    # The list edits the words in place: a two-line box keeps every service and column on one screen.
    formfield_overrides = {models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 48})}}


@admin.register(CrmRecord)
class CrmRecordAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["record_id", "tenant", "starts_at", "service_title", "staff_name", "source", "status", "rating"]
    list_filter = ["source", "status"]
    list_select_related = ["tenant"]
    exclude = ["customer_phone"]


@admin.register(BookingSession)
class BookingSessionAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["id", "tenant", "conversation_id", "kind", "status", "service_title", "slot_at", "record_id", "updated_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["tenant"]
    exclude = ["customer_phone"]


@admin.register(VisitOptOut)
class VisitOptOutAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["tenant", "created_at"]


class CrmConnectionInline(admin.StackedInline):
    """On the tenant page: the CRM connection at a glance, edited on its own page (tokens are checked there)."""

    model = CrmConnection
    extra = 0
    max_num = 1
    can_delete = False
    fields = ["kind", "company_id", "status", "partner_token_masked", "user_token_masked", "edit_link"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> Any:
        # The formset narrows it to the tenant of the page, which the tenant admin already scoped.
        return CrmConnection.objects.all()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only on an existing tenant's page: the add form stays the onboarding form it was.
        return obj is not None and super().has_view_permission(request, obj)

    @admin.display(description=_("Edit"))
    def edit_link(self, obj: CrmConnection) -> str:
        return format_html('<a href="{}">{}</a>',
                           reverse("admin:crm_crmconnection_change", args=[obj.pk]), _("CRM connection, services and visit messages"))


ClientAdmin.inlines = [*getattr(ClientAdmin, "inlines", []), CrmConnectionInline]
