from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import PolicyOutcome, policy_execute
from tenants import services
from tenants.admin_scoping import TenantScopedAdminMixin
from tenants.choices import MembershipRole
from tenants.models import Client, ClientSettings, TenantMembership
from tenants.scoping import EDIT_ROLES, tenant_ids_for, user_can_access


def _secret_page(request: HttpRequest, client: Client, secret: str, heading: str) -> TemplateResponse:
    return TemplateResponse(
        request,
        "admin/tenants/secret_once.html",
        {
            "heading": heading,
            "client": client,
            "secret": secret,
            "webhook_url": services.webhook_url_for(client),
            "back_url": reverse("admin:tenants_client_change", args=[client.pk]),
            "title": heading,
            "site_header": "Imperium",
        },
        headers={"Cache-Control": "no-store"},
    )


def _report(model_admin: admin.ModelAdmin, request: HttpRequest, outcome: PolicyOutcome) -> None:
    if outcome.status == "pending":
        model_admin.message_user(
            request,
            f"{outcome.request.summary}: waiting for CEO verification (request #{outcome.request.pk}).",
            messages.WARNING,
        )
    elif outcome.status == "executed":
        model_admin.message_user(request, f"{outcome.action}: done.")


def _hub_links(client: Client) -> list[tuple[str, str]]:
    """Where an operator goes from the tenant page: its rows in the other apps, filtered to it."""
    pk = client.pk
    return [
        (str(_("Conversations")), f"{reverse('admin:conversations_conversation_changelist')}?tenant={pk}"),
        (str(_("Escalations")), f"{reverse('admin:conversations_escalation_changelist')}?tenant={pk}"),
        (str(_("Knowledge versions")), f"{reverse('admin:knowledge_knowledgeversion_changelist')}?tenant={pk}"),
        (str(_("Upload knowledge")), f"{reverse('admin:knowledge_knowledgeversion_upload')}?tenant={pk}"),
        (str(_("Incidents")), f"{reverse('admin:incidents_incident_changelist')}?tenant={pk}"),
        (str(_("Release channel history")), f"{reverse('admin:releases_tenantchannelevent_changelist')}?tenant={pk}"),
        (str(_("Releases board")), reverse("admin:releases_releasepointer_changelist")),
        (str(_("Audit log")), f"{reverse('admin:imperium_auditlog_changelist')}?tenant={pk}"),
    ]


class ClientForm(forms.ModelForm):
    class Meta:
        model = Client
        fields = ["slug", "name", "status", "timezone", "locale"]


class ClientSettingsForm(forms.ModelForm):
    new_chatflow_token = forms.CharField(
        required=False, widget=forms.PasswordInput(render_value=False), label=capfirst(_("new ChatFlow token")),
        help_text=_("Leave empty to keep the stored token."),
    )

    class Meta:
        model = ClientSettings
        fields = [
            "chatflow_instance_id",
            "telegram_chat_id",
            "telegram_topic_id",
            "release_channel",
            "coalesce_window_seconds",
            "coalesce_max_seconds",
            "holding_reply_template",
            "holding_followup_template",
            "escalation_sla_minutes",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        window, cap = data.get("coalesce_window_seconds"), data.get("coalesce_max_seconds")
        if window is not None and cap is not None and cap < window:
            self.add_error("coalesce_max_seconds", "Must be at least the coalescing window.")
        return data


class ClientSettingsInline(admin.StackedInline):
    """The tenant's settings on the tenant page (created by onboarding: never added or deleted here)."""

    model = ClientSettings
    form = ClientSettingsForm
    can_delete = False
    extra = 0
    max_num = 1
    readonly_fields = ["webhook_secret_hint", "chatflow_token_hint"]
    fields = ["webhook_secret_hint", "chatflow_instance_id", "chatflow_token_hint", "new_chatflow_token", "telegram_chat_id",
              "telegram_topic_id", "release_channel", "coalesce_window_seconds", "coalesce_max_seconds", "escalation_sla_minutes",
              "holding_reply_template", "holding_followup_template"]

    @admin.display(description=_("webhook secret"))
    def webhook_secret_hint(self, obj: ClientSettings) -> str:
        return obj.webhook_secret_masked

    @admin.display(description=_("ChatFlow token"))
    def chatflow_token_hint(self, obj: ClientSettings) -> str:
        return obj.chatflow_token_masked or "-"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    # Without an object Django asks whether the inline may be shown at all (its queryset); the
    # tenant page itself is already scoped, so only the object answer depends on the tenant.
    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_staff and user_can_access(request.user, obj, EDIT_ROLES) if obj is not None else request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_staff and (obj is None or user_can_access(request.user, obj))


@admin.register(Client)
class ClientAdmin(TenantScopedAdminMixin, SimpleHistoryAdmin):
    form = ClientForm
    add_requires_superuser = True
    list_display = ["slug", "name", "status", "release_channel", "timezone", "created_at"]
    list_filter = ["status", "settings__release_channel"]
    search_fields = ["slug", "name"]
    list_select_related = ["settings"]
    actions = ["rotate_webhook_secret", "activate", "disable"]

    @admin.display(description="channel", ordering="settings__release_channel")
    def release_channel(self, obj: Client) -> str:
        return getattr(getattr(obj, "settings", None), "release_channel", "-")

    change_form_template = "admin/tenants/client/change_form.html"

    inlines = [ClientSettingsInline]  # other apps append theirs (crm)

    def get_inlines(self, request: HttpRequest, obj: Client | None = None) -> list[Any]:
        # The add form is the onboarding form: settings are created by onboarding, not typed in.
        return list(self.inlines) if obj is not None else [i for i in self.inlines if i is not ClientSettingsInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Client | None = None) -> list[str]:
        return ["slug", "created_at", "updated_at", "paused_items", "unanswered_questions"] if obj else []

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        client = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if client is not None:
            from conversations.setup_progress import tenant_setup_steps

            steps = tenant_setup_steps(client)
            extra = {"hub_links": _hub_links(client), "setup_steps": steps, "setup_done": sum(s.done for s in steps)}
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    # The settings inline is applied through the policy, like the settings page; the formset's own
    # save() is never called, so the lists the admin's change message reads are filled here.
    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not ClientSettings:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if inline_form.instance.pk and inline_form.has_changed():
                settings_save(self, request, inline_form.instance, inline_form)
                formset.changed_objects.append((inline_form.instance, inline_form.changed_data))
        return None

    def get_fields(self, request: HttpRequest, obj: Client | None = None) -> list[str]:
        fields = ["slug", "name", "timezone", "locale"]
        return fields + ["status", "created_at", "updated_at", "paused_items", "unanswered_questions"] if obj else fields

    @admin.display(description=_("paused KB items"))
    def paused_items(self, obj: Client) -> str:
        """Items the bot does not answer from (marked wrong twice within a week)."""
        from django.template.loader import render_to_string

        from knowledge.suggestions import kb_pauses_active

        return render_to_string("admin/tenants/paused_items.html", {"pauses": list(kb_pauses_active(obj).order_by("-paused_at"))})

    @admin.display(description=_("unanswered questions"))
    def unanswered_questions(self, obj: Client) -> str:
        """Escalated customer questions of the last 7 and 30 days grouped by meaning."""
        from datetime import timedelta

        from django.template.loader import render_to_string
        from django.utils import timezone

        from conversations.choices import EscalationReason
        from conversations.reports import unanswered_questions
        from knowledge.choices import SuggestionStatus

        reasons, statuses = dict(EscalationReason.choices), dict(SuggestionStatus.choices)
        now = timezone.now()
        periods = [(days, [{**g, "reason_label": reasons.get(g["reason"], g["reason"]),
                            "suggestion_status_label": statuses.get(g["suggestion_status"], g["suggestion_status"])}
                           for g in (u.as_dict() for u in unanswered_questions(obj, since=now - timedelta(days=days), until=now,
                                                                              limit=20))])
                   for days in (7, 30)]
        return render_to_string("admin/tenants/unanswered.html", {"periods": periods})

    def save_model(self, request: HttpRequest, obj: Client, form: forms.ModelForm, change: bool) -> None:
        actor = Actor.from_user(request.user)
        if not change:
            outcome = policy_execute(
                "tenant.onboard", actor,
                {"slug": obj.slug, "name": obj.name, "timezone_name": obj.timezone, "locale": obj.locale},
            )
            obj.pk = Client.objects.get(slug=obj.slug).pk
            request._onboard_result = outcome.result  # type: ignore[attr-defined]
            return
        data = form.cleaned_data
        services.client_update(actor=actor, client=obj, **{f: data[f] for f in ("name", "timezone", "locale") if f in data})
        status = data.get("status")
        if status and status != Client.objects.values_list("status", flat=True).get(pk=obj.pk):
            action = "tenant.disable" if status == "disabled" else "tenant.enable"
            if status == "onboarding":
                raise ApplicationError("A tenant cannot go back to onboarding.")
            self._report(request, policy_execute(action, actor, {"tenant": obj.slug}, tenant=obj))

    def response_add(self, request: HttpRequest, obj: Client, post_url_continue: str | None = None) -> HttpResponse:
        result = getattr(request, "_onboard_result", None)
        if result is None:
            return super().response_add(request, obj, post_url_continue)
        return _secret_page(request, obj, result["webhook_secret"], f"Tenant {obj.slug} onboarded")

    def _report(self, request: HttpRequest, outcome: PolicyOutcome) -> None:
        _report(self, request, outcome)

    @admin.action(description="Rotate webhook secret (shows the new one once)")
    def rotate_webhook_secret(self, request: HttpRequest, queryset: Any) -> HttpResponse | None:
        if queryset.count() != 1:
            self.message_user(request, "Rotate one tenant at a time, so its new secret can be shown.", messages.ERROR)
            return None
        client = queryset.get()
        if not self.has_change_permission(request, client):
            self.message_user(request, "You may not change this tenant.", messages.ERROR)
            return None
        outcome = policy_execute("tenant.webhook_secret_rotate", Actor.from_user(request.user), {"tenant": client.slug}, tenant=client)
        return _secret_page(request, client, outcome.result["webhook_secret"], f"New webhook secret for {client.slug}")

    def _set_status(self, request: HttpRequest, queryset: Any, action: str) -> None:
        for client in queryset:
            if not self.has_change_permission(request, client):
                self.message_user(request, f"{client.slug}: you may not change this tenant.", messages.ERROR)
                continue
            try:
                outcome = policy_execute(action, Actor.from_user(request.user), {"tenant": client.slug}, tenant=client)
            except ApplicationError as exc:
                self.message_user(request, f"{client.slug}: {exc.message}", messages.ERROR)
                continue
            self._report(request, outcome)

    @admin.action(description="Activate")
    def activate(self, request: HttpRequest, queryset: Any) -> None:
        self._set_status(request, queryset, "tenant.enable")

    @admin.action(description="Disable (webhooks answer 404; needs CEO verification)")
    def disable(self, request: HttpRequest, queryset: Any) -> None:
        self._set_status(request, queryset, "tenant.disable")


def settings_save(model_admin: admin.ModelAdmin, request: HttpRequest, obj: ClientSettings, form: forms.ModelForm) -> None:
    """Apply an edited settings form through the policy (the settings page and the tenant page's inline)."""
    actor = Actor.from_user(request.user)
    data = form.cleaned_data
    client = obj.client
    current = ClientSettings.objects.get(pk=obj.pk)
    changes = {
        f: data[f] for f in services.EDITABLE_SETTINGS - services.CUSTOMER_FACING_SETTINGS
        if f in data and data[f] != getattr(current, f)
    }
    if changes:
        policy_execute("tenant.settings_change", actor, {"tenant": client.slug, "changes": changes}, tenant=client)
    texts = {f: data[f] for f in sorted(services.CUSTOMER_FACING_SETTINGS) if f in data and data[f] != getattr(current, f)}
    if texts:
        # Texts customers read: high risk, the CEO verifies them.
        _report(model_admin, request, policy_execute("tenant.holding_reply_change", actor, {"tenant": client.slug, **texts}, tenant=client))
    if data.get("release_channel") and data["release_channel"] != current.release_channel:
        # Channel flips are release operations (event log, canary pointer check) run by the CEO.
        if request.user.is_superuser:
            action = "tenant.deploy_canary" if data["release_channel"] == "canary" else "tenant.rollback"
            try:
                _report(model_admin, request, policy_execute(action, actor, {"tenant": client.slug, "source": "admin"}, tenant=client))
            except ApplicationError as exc:
                model_admin.message_user(request, f"Release channel not changed: {exc.message}", messages.ERROR)
        else:
            model_admin.message_user(request, "Only the CEO moves a tenant between release channels (releases board or Telegram); "
                              "the channel was not changed.", messages.ERROR)
    if data.get("new_chatflow_token"):
        services.chatflow_token_set(actor=actor, client=client, token=data["new_chatflow_token"])


@admin.register(ClientSettings)
class ClientSettingsAdmin(TenantScopedAdminMixin, SimpleHistoryAdmin):
    form = ClientSettingsForm
    allow_add = False  # settings are created by onboarding
    list_display = ["client", "release_channel", "chatflow_instance_id", "webhook_secret_hint", "telegram_chat_id", "updated_at"]
    list_filter = ["release_channel"]
    list_select_related = ["client"]
    search_fields = ["client__slug", "client__name"]
    readonly_fields = ["client", "webhook_secret_hint", "previous_secret_hint", "webhook_secret_rotated_at", "chatflow_token_hint"]

    @admin.display(description="webhook secret")
    def webhook_secret_hint(self, obj: ClientSettings) -> str:
        return obj.webhook_secret_masked

    @admin.display(description="previous secret")
    def previous_secret_hint(self, obj: ClientSettings) -> str:
        from imperium.core.crypto import mask

        return mask(obj.webhook_secret_previous) or "-"

    @admin.display(description="ChatFlow token")
    def chatflow_token_hint(self, obj: ClientSettings) -> str:
        return obj.chatflow_token_masked or "-"

    def save_model(self, request: HttpRequest, obj: ClientSettings, form: forms.ModelForm, change: bool) -> None:
        settings_save(self, request, obj, form)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = TenantMembership
        fields = ["user", "client", "role"]


@admin.register(TenantMembership)
class TenantMembershipAdmin(TenantScopedAdminMixin, SimpleHistoryAdmin):
    """Memberships are managed by superusers and by tenant admins for their own tenants."""

    form = MembershipForm
    allow_delete = True
    list_display = ["user", "client", "role", "created_at"]
    list_filter = ["role"]
    list_select_related = ["user", "client"]
    search_fields = ["user__username", "client__slug"]

    def _tenant_admin(self, request: HttpRequest, obj: TenantMembership | None) -> bool:
        if not self._staff(request):
            return False
        if request.user.is_superuser:
            return True
        if obj is None:
            return bool(tenant_ids_for(request.user, (MembershipRole.ADMIN,)))
        return user_can_access(request.user, obj, (MembershipRole.ADMIN,))

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._tenant_admin(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._tenant_admin(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._tenant_admin(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "client" and not request.user.is_superuser:
            kwargs["queryset"] = Client.objects.visible_to(request.user, (MembershipRole.ADMIN,))
        if db_field.name == "user":
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: TenantMembership, form: forms.ModelForm, change: bool) -> None:
        services.membership_save(actor=Actor.from_user(request.user), membership=obj)

    def delete_model(self, request: HttpRequest, obj: TenantMembership) -> None:
        services.membership_remove(actor=Actor.from_user(request.user), membership=obj)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for membership in queryset:
            services.membership_remove(actor=Actor.from_user(request.user), membership=membership)
