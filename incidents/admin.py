from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from imperium.core.actors import Actor
from imperium.core.policy import policy_execute
from incidents.alerts import alert_retry
from incidents.choices import EventSource
from incidents.models import Alert, CheckResult, ErrorLog, Incident, IncidentEvent, SentinelRun
from incidents.services import incident_resolve
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin
from tenants.scoping import EDIT_ROLES


@admin.register(ErrorLog)
class ErrorLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "where", "exception_type", "short_message", "correlation_id"]
    list_filter = ["where", "exception_type"]
    search_fields = ["where", "message", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in ErrorLog._meta.fields] + ["related"]

    @admin.display(description="message")
    def short_message(self, obj: ErrorLog) -> str:
        return obj.message[:120]

    @admin.display(description="same correlation id")
    def related(self, obj: ErrorLog) -> str:
        """Message traces, turns and audit entries of the request/turn this error happened in."""
        if not obj.correlation_id:
            return "-"
        query = urlencode({"q": obj.correlation_id})
        return format_html(
            '<a href="{}?{}">message traces</a> · <a href="{}?{}">turns</a> · <a href="{}?{}">other errors</a>',
            reverse("admin:conversations_messagetrace_changelist"), query, reverse("admin:conversations_turn_changelist"), query,
            reverse("admin:incidents_errorlog_changelist"), query,
        )


@admin.register(Alert)
class AlertAdmin(ReadOnlyTenantScopedAdmin):
    """The Telegram outbox. Alerts without a tenant (system-wide) are for superusers only."""

    list_display = ["created_at", "kind", "severity", "tenant", "short_title", "chat_id", "topic_id", "status", "attempts",
                    "next_attempt_at", "sent_message_id", "repeats", "acknowledged_by"]
    list_filter = ["status", "kind", "severity"]
    search_fields = ["title", "text", "dedup_key", "chat_id", "last_error", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in Alert._meta.fields]
    actions = ["retry_now"]

    @admin.display(description="title / text")
    def short_title(self, obj: Alert) -> str:
        return (obj.title or obj.text)[:80]

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, None, EDIT_ROLES)

    @admin.action(description="Retry the selected failed messages now", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        actor = Actor.from_user(request.user)
        retried = sum(alert_retry(alert_id=pk, actor=actor) for pk in queryset.values_list("pk", flat=True))
        self.message_user(request, f"{retried} message(s) queued again; only failed ones are retried.", messages.INFO)


# --- incidents ----------------------------------------------------------------------------
class IncidentEventInline(admin.TabularInline):
    model = IncidentEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "source", "actor_label", "message"]
    readonly_fields = fields
    ordering = ["created_at", "id"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyTenantScopedAdmin):
    """Incidents with their RCA bundle on the page (and as JSON: …/<id>/rca.json).
    Acknowledge and resolve go through services (policy, audit, one alert)."""

    change_form_template = "admin/incidents/incident/change_form.html"
    list_display = ["id", "opened_at", "severity", "status", "tenant", "kind", "title", "failure_count", "fix_state", "acknowledged_by",
                    "resolved_at"]
    list_filter = ["status", "severity", "kind", "fix_state"]
    search_fields = ["title", "summary", "fingerprint", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "opened_at"
    readonly_fields = [f.name for f in Incident._meta.fields]
    inlines = [IncidentEventInline]
    actions = ["acknowledge", "resolve"]

    def has_acknowledge_permission(self, request: HttpRequest) -> bool:
        return self._has_role(request, None, EDIT_ROLES)

    has_resolve_permission = has_acknowledge_permission

    @admin.action(description="Acknowledge (I am on it)", permissions=["acknowledge"])
    def acknowledge(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        done = sum(bool(self._acknowledge(request, incident)) for incident in queryset)
        self.message_user(request, f"{done} incident(s) acknowledged; the others were not open.", messages.INFO)

    @admin.action(description="Resolve (sends the 'resolved' alert)", permissions=["resolve"])
    def resolve(self, request: HttpRequest, queryset) -> None:  # type: ignore[no-untyped-def]
        actor = Actor.from_user(request.user)
        done = sum(incident_resolve(incident_id=i.pk, actor=actor, source=EventSource.WEB)[1] for i in queryset)
        self.message_user(request, f"{done} incident(s) resolved.", messages.INFO)

    def _acknowledge(self, request: HttpRequest, incident: Incident) -> bool:
        outcome = policy_execute("incident.acknowledge", Actor.from_user(request.user),
                                 {"incident_id": incident.pk, "source": EventSource.WEB}, tenant=incident.tenant_id, reason="admin")
        return bool(outcome.result and outcome.result.get("changed"))

    def get_urls(self) -> list:
        custom = [
            path("<int:object_id>/rca.json", self.admin_site.admin_view(self.rca_json), name="incidents_incident_rca"),
            path("<int:object_id>/acknowledge/", self.admin_site.admin_view(self.acknowledge_view), name="incidents_incident_acknowledge"),
            path("<int:object_id>/resolve/", self.admin_site.admin_view(self.resolve_view), name="incidents_incident_resolve"),
        ]
        return custom + super().get_urls()

    def _visible_or_404(self, request: HttpRequest, object_id: int) -> Incident:
        incident = self.get_queryset(request).filter(pk=object_id).first()
        if incident is None or not self.has_view_permission(request, incident):
            raise Http404("incident not found")
        return incident

    def rca_json(self, request: HttpRequest, object_id: int) -> JsonResponse:
        from incidents.rca import rca_bundle

        incident = self._visible_or_404(request, object_id)
        response = JsonResponse(rca_bundle(incident), json_dumps_params={"ensure_ascii": False, "indent": 2})
        response["Content-Disposition"] = f'inline; filename="incident-{incident.pk}-rca.json"'
        return response

    def acknowledge_view(self, request: HttpRequest, object_id: int) -> HttpResponseRedirect:
        incident = self._visible_or_404(request, object_id)
        if request.method == "POST" and self._has_role(request, incident, EDIT_ROLES):
            changed = self._acknowledge(request, incident)
            self.message_user(request, "Acknowledged." if changed else "Not open: nothing changed.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))

    def resolve_view(self, request: HttpRequest, object_id: int) -> HttpResponseRedirect:
        incident = self._visible_or_404(request, object_id)
        if request.method == "POST" and self._has_role(request, incident, EDIT_ROLES):
            _, changed = incident_resolve(incident_id=incident.pk, actor=Actor.from_user(request.user), source=EventSource.WEB,
                                          note=request.POST.get("note", "")[:500])
            self.message_user(request, "Resolved." if changed else "Already resolved.", messages.INFO)
        return HttpResponseRedirect(reverse("admin:incidents_incident_change", args=[incident.pk]))

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None) -> HttpResponse:
        from incidents.rca import rca_bundle

        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["rca"] = rca_bundle(obj)
            extra_context["can_act"] = self._has_role(request, obj, EDIT_ROLES) and obj.is_open
        return super().change_view(request, object_id, form_url, extra_context)


@admin.register(IncidentEvent)
class IncidentEventAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "incident", "tenant", "kind", "source", "actor_label", "short_message"]
    list_filter = ["kind", "source"]
    search_fields = ["message"]
    list_select_related = ["incident", "tenant"]
    readonly_fields = [f.name for f in IncidentEvent._meta.fields]

    @admin.display(description="message")
    def short_message(self, obj: IncidentEvent) -> str:
        return obj.message[:120]


@admin.register(CheckResult)
class CheckResultAdmin(ReadOnlyTenantScopedAdmin):
    """What the sentinel saw. System-wide results (no tenant) are for superusers only."""

    list_display = ["checked_at", "check_name", "target", "tenant", "state", "latency_ms", "short_detail"]
    list_filter = ["check_name", "ok", "skipped"]
    search_fields = ["fingerprint", "detail"]
    list_select_related = ["tenant"]
    date_hierarchy = "checked_at"
    readonly_fields = [f.name for f in CheckResult._meta.fields]

    @admin.display(description="state")
    def state(self, obj: CheckResult) -> str:
        return "skip" if obj.skipped else ("ok" if obj.ok else "FAIL")

    @admin.display(description="detail")
    def short_detail(self, obj: CheckResult) -> str:
        return obj.detail[:120]


@admin.register(SentinelRun)
class SentinelRunAdmin(admin.ModelAdmin):
    """Sentinel runs belong to no tenant: superusers only."""

    list_display = ["started_at", "trigger", "checks", "failing", "duration_ms", "finished_at", "error"]
    list_filter = ["trigger"]
    readonly_fields = [f.name for f in SentinelRun._meta.fields]

    def _superuser(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff and request.user.is_superuser)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._superuser(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._superuser(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
