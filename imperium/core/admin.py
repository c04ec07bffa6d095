from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog, VerificationRequest, VerificationStatus
from imperium.core.policy import action_spec, is_requester, is_verifier, may_approve, verification_approve, verification_reject
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "actor_kind", "actor_label", "tenant", "action", "object_repr", "correlation_id"]
    list_filter = ["actor_kind", "action"]
    search_fields = ["action", "actor_label", "object_repr", "correlation_id"]
    list_select_related = ["tenant"]
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditLog._meta.fields]


# Names of request parameters as an operator reads them (unknown keys are shown as they are).
PARAM_LABELS = {
    "tenant": _("Tenant"),
    "version": _("Version"),
    "kb_version": _("Knowledge version"),
    "release": _("Release"),
    "changes": _("Changes"),
    "source": _("Source"),
    "holding_reply_template": _("Holding reply"),
    "holding_followup_template": _("Follow-up holding reply"),
    "slug": _("Slug"),
    "name": _("Name"),
    "reason": _("Reason"),
}


def _value_text(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value) or "—"
    return str(value)


def readable_params(params: Any) -> str:
    """A request's parameters (or result) as a list of "name: value" lines, nested dicts indented."""
    if not isinstance(params, dict) or not params:
        return format_html("<span>{}</span>", _value_text(params) if params not in ({}, None) else "—")
    rows = []
    for key, value in params.items():
        label = PARAM_LABELS.get(key, key.replace("_", " "))
        if isinstance(value, dict):
            inner = format_html_join("", "<li>{}: {}</li>", ((PARAM_LABELS.get(k, k.replace("_", " ")), _value_text(v))
                                                            for k, v in value.items()))
            rows.append(format_html("<li><b>{}</b>:<ul>{}</ul></li>", label, inner))
        else:
            rows.append(format_html("<li><b>{}</b>: {}</li>", label, _value_text(value)))
    return format_html('<ul class="readable-params">{}</ul>', format_html_join("", "{}", ((row,) for row in rows)))


@admin.register(VerificationRequest)
class VerificationRequestAdmin(ReadOnlyTenantScopedAdmin):
    """The verification queue: high-risk actions waiting for the CEO. The request page has
    Approve / Reject buttons (verifiers only; never the requester, four eyes)."""

    list_display = ["id", "created_at", "status", "action", "summary", "tenant", "requested_by_label", "expires_at", "decided_by_label"]
    list_filter = ["status", "action"]
    search_fields = ["action", "summary", "requested_by_label"]
    list_select_related = ["tenant"]
    fields = ["summary", "action_text", "params_text", "reason", "tenant", "status", "requested_by_label", "created_at",
              "expires_at", "decided_by_label", "decided_at", "result_text", "error"]
    readonly_fields = fields
    actions = ["approve", "reject"]
    change_form_template = "admin/imperium/verificationrequest/change_form.html"

    @admin.display(description=_("Action"))
    def action_text(self, obj: VerificationRequest) -> str:
        spec = action_spec(obj.action)
        return f"{spec.description} ({obj.action})" if spec.description else obj.action

    @admin.display(description=_("Parameters"))
    def params_text(self, obj: VerificationRequest) -> str:
        return readable_params(obj.params)

    @admin.display(description=_("Result"))
    def result_text(self, obj: VerificationRequest) -> str:
        return readable_params(obj.result)

    def get_urls(self) -> list[Any]:
        return [
            path("<int:pk>/decide/", self.admin_site.admin_view(self.decide_view), name="imperium_verificationrequest_decide"),
            *super().get_urls(),
        ]

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        obj = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if obj is not None:
            actor = Actor.from_user(request.user)
            pending = obj.status == VerificationStatus.PENDING
            extra = {
                "decision_pending": pending,
                "decision_allowed": pending and may_approve(obj, actor),
                "decision_own": pending and is_requester(obj, actor),
                "decision_verifier": is_verifier(actor),
                "decide_url": reverse("admin:imperium_verificationrequest_decide", args=[obj.pk]),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def decide_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST decision=approve|reject: the same service as the list actions and Telegram."""
        item = get_object_or_404(self.get_queryset(request), pk=pk)
        back = HttpResponseRedirect(reverse("admin:imperium_verificationrequest_change", args=[item.pk]))
        if request.method != "POST":
            return back
        decision = request.POST.get("decision")
        if decision not in ("approve", "reject"):
            self.message_user(request, _("Unknown decision."), messages.ERROR)
            return back
        self._decide(request, [item], approve=decision == "approve", reason=request.POST.get("reason", ""))
        return back

    def _decide(self, request: HttpRequest, queryset: Any, approve: bool, reason: str = "") -> None:
        actor = Actor.from_user(request.user)
        for item in queryset:
            try:
                if approve:
                    outcome = verification_approve(request_id=item.pk, actor=actor)
                    already = outcome.extra.get("already")
                    if already:
                        self.message_user(request, _("#%(id)s was already decided: %(status)s.") % {
                            "id": item.pk, "status": outcome.request.get_status_display()}, messages.WARNING)
                    elif outcome.status == "executed":
                        self.message_user(request, _("#%(id)s approved and executed: %(summary)s.") % {
                            "id": item.pk, "summary": item.summary}, messages.SUCCESS)
                    else:
                        self.message_user(request, _("#%(id)s approved, but it could not be executed: %(error)s") % {
                            "id": item.pk, "error": outcome.error}, messages.ERROR)
                else:
                    before = item.status
                    decided = verification_reject(request_id=item.pk, actor=actor, reason=reason or "rejected in admin")
                    if before != VerificationStatus.PENDING or decided.decided_by_id != actor.id:
                        self.message_user(request, _("#%(id)s was already decided: %(status)s.") % {
                            "id": item.pk, "status": decided.get_status_display()}, messages.WARNING)
                    else:
                        self.message_user(request, _("#%(id)s rejected.") % {"id": item.pk})
            except ApplicationError as exc:
                self.message_user(request, f"#{item.pk}: {exc.message}", messages.ERROR)

    @admin.action(description=_("Approve and execute"))
    def approve(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=True)

    @admin.action(description=_("Reject"))
    def reject(self, request: HttpRequest, queryset: Any) -> None:
        self._decide(request, queryset, approve=False)
