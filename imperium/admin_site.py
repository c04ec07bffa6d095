"""The admin site operators live in: a home page with what needs them now, the index grouped by
task instead of 45 alphabetical entries, and infrastructure hidden from operators.

Infrastructure models (Celery beat schedules, CI deliveries, Telegram internals, sentinel runs,
users and groups, ...) are shown only to superusers and to staff granted Django's `view`
permission on them: the gate wraps each one's ModelAdmin at registration, so it holds for the
index, the navigation sidebar and direct URLs alike.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

# (section id, title, models as "app_label.ModelName"); the order is the index's order.
SECTIONS: list[tuple[str, Any, tuple[str, ...]]] = [
    ("work", _("Customers waiting and conversations"), (
        "conversations.Conversation", "conversations.Escalation", "conversations.ConversationNote", "conversations.DeadLetter",
    )),
    ("tenants", _("Clients (tenants)"), ("tenants.Client", "tenants.ClientSettings", "tenants.TenantMembership")),
    ("knowledge", _("Knowledge base"), (
        "knowledge.KnowledgeVersion", "knowledge.KnowledgeItem", "knowledge.KnowledgeImportJob", "knowledge.KnowledgeSource",
        "knowledge.KnowledgeEvalRun", "knowledge.KnowledgeSyncLog", "knowledge.KnowledgeSuggestion", "knowledge.KnowledgeItemPause",
    )),
    ("approvals", _("Approvals and audit"), ("imperium.VerificationRequest", "imperium.AuditLog")),
    ("incidents", _("Incidents and alerts"), ("incidents.Incident", "incidents.Alert", "incidents.ErrorLog", "incidents.IncidentEvent")),
    ("releases", _("Releases"), ("releases.ReleasePointer", "releases.Release", "releases.FixProposal", "releases.TenantChannelEvent")),
    ("crm", _("Salon CRM and bookings"), (
        "crm.CrmConnection", "crm.BookingSession", "crm.CrmRecord", "crm.CrmService", "crm.VisitOptOut",
    )),
    ("messages", _("Messages and bot decisions"), (
        "conversations.InboundMessage", "conversations.OutboundMessage", "conversations.Turn", "conversations.MessageTrace",
        "conversations.ConversationEvent", "conversations.SandboxMessage", "conversations.WrongAnswerMark",
    )),
]
INFRASTRUCTURE_SECTION = ("infrastructure", _("Infrastructure (administrators)"))
OTHER_SECTION = ("other", _("Other"))
INFRASTRUCTURE = frozenset({
    "auth.User", "auth.Group",
    "django_celery_beat.PeriodicTask", "django_celery_beat.ClockedSchedule", "django_celery_beat.CrontabSchedule",
    "django_celery_beat.SolarSchedule", "django_celery_beat.IntervalSchedule",
    "incidents.CheckResult", "incidents.SentinelRun",
    "releases.ReleasePointerEvent", "releases.CIDelivery", "releases.CanaryAnalysis",
    "telegram.TelegramAllowedUser", "telegram.TelegramUpdate", "telegram.TelegramDeadLetter", "telegram.TelegramCallbackPress",
    "telegram.ConversationTopic", "telegram.ConversationNotice",
})


def model_key(model: Any) -> str:
    return f"{model._meta.app_label}.{model._meta.object_name}"


class InfrastructureGate:
    """Mixed in front of an infrastructure model's ModelAdmin: superusers, or staff with Django's
    view permission on the model; everyone else does not see it at all."""

    def _infrastructure_allowed(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        opts = self.model._meta  # type: ignore[attr-defined]
        return user.is_superuser or user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._infrastructure_allowed(request) and super().has_module_permission(request)  # type: ignore[misc]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._infrastructure_allowed(request) and super().has_view_permission(request, obj)  # type: ignore[misc]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._infrastructure_allowed(request) and super().has_add_permission(request, *args)  # type: ignore[misc]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._infrastructure_allowed(request) and super().has_change_permission(request, obj)  # type: ignore[misc]

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._infrastructure_allowed(request) and super().has_delete_permission(request, obj)  # type: ignore[misc]


class ImperiumAdminSite(admin.AdminSite):
    site_header = "Imperium"
    site_title = "Imperium"
    index_title = _("Home")
    index_template = "admin/imperium/index.html"
    site_url = None  # "/" only redirects back here

    def register(self, model_or_iterable: Any, admin_class: Any = None, **options: Any) -> None:
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        for model in models:
            cls = admin_class or admin.ModelAdmin
            if model_key(model) in INFRASTRUCTURE and not issubclass(cls, InfrastructureGate):
                cls = type(cls.__name__, (InfrastructureGate, cls), {"__module__": cls.__module__})
            super().register(model, cls, **options)

    def get_app_list(self, request: HttpRequest, app_label: str | None = None) -> list[dict[str, Any]]:
        apps = super().get_app_list(request, app_label)
        if app_label is not None:
            return apps
        entries = {f"{app['app_label']}.{m['object_name']}": (app, m) for app in apps for m in app["models"]}
        grouped: list[dict[str, Any]] = []
        placed: set[str] = set()
        for section, title, keys in SECTIONS:
            models = [entries[k][1] for k in keys if k in entries]
            placed.update(k for k in keys if k in entries)
            if models:
                grouped.append(self._section(section, title, models))
        infrastructure = [m for k, (_app, m) in entries.items() if k not in placed and k in INFRASTRUCTURE]
        other = [m for k, (_app, m) in entries.items() if k not in placed and k not in INFRASTRUCTURE]
        if other:  # a model nobody placed yet: listed, not hidden
            grouped.append(self._section(*OTHER_SECTION, sorted(other, key=lambda m: str(m["name"]))))
        if infrastructure:
            grouped.append(self._section(*INFRASTRUCTURE_SECTION, sorted(infrastructure, key=lambda m: str(m["name"]))))
        return grouped

    @staticmethod
    def _section(section: str, title: Any, models: list[dict[str, Any]]) -> dict[str, Any]:
        # app_url is left empty: a section is not one Django app, so it has no app index page.
        return {"name": title, "app_label": section, "app_url": "", "has_module_perms": True, "models": models}

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from imperium.dashboard import operator_dashboard

        extra_context = {**(extra_context or {}), "dashboard": operator_dashboard(user=request.user)}
        return super().index(request, extra_context)


class ImperiumAdminConfig(AdminConfig):
    default_site = "imperium.admin_site.ImperiumAdminSite"
