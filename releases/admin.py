"""Releases in admin: the releases board, release bundles (read-only once released), fix proposals,
and the event logs. Thin: every change goes through `releases.operations` → the write-risk policy.

Releases and pointers are global (not tenant-owned): any staff member with a tenant membership may
look at them; only superusers (the CEO level) operate them. Tenant-owned rows (channel flips, fix
proposals tied to a tenant) are scoped with `TenantScopedAdminMixin`.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django_json_widget.widgets import JSONEditorWidget
from simple_history.admin import SimpleHistoryAdmin

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import VerificationRequest, VerificationStatus
from imperium.core.policy import PolicyOutcome
from releases import operations
from releases.choices import Channel, EventSource
from releases.config import SECTION_FIELDS, validate_overrides
from releases.models import (
    CanaryAnalysis,
    CIDelivery,
    FixProposal,
    Release,
    ReleasePointer,
    ReleasePointerEvent,
    TenantChannelEvent,
    validate_release_version,
)
from releases.selectors import (
    ANALYSIS_METRICS,
    board_canary_analysis,
    next_fix_version,
    pointers_current,
    release_for_channel,
    stable_rollback_target,
    tenants_on_channel,
)
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedAdminMixin
from tenants.scoping import tenant_ids_for


def _report(model_admin: admin.ModelAdmin, request: HttpRequest, outcome: PolicyOutcome) -> None:
    level = messages.WARNING if outcome.status == "pending" else messages.SUCCESS
    model_admin.message_user(request, operations.describe(outcome), level)


def _is_operator_level(request: HttpRequest) -> bool:
    user = request.user
    return bool(user.is_active and user.is_staff and user.is_superuser)


class GlobalReadAdmin(admin.ModelAdmin):
    """Global rows: visible to staff with any tenant membership, operated by superusers only."""

    superuser_only = False

    def _may_view(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        if user.is_superuser:
            return True
        return not self.superuser_only and bool(tenant_ids_for(user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_view(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may_view(request)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def _cell(row: Any, attr: str) -> str:
    value = getattr(row, attr)
    return f"{value:%Y-%m-%d %H:%M:%S}" if attr == "created_at" else str(value)


def _events_table(rows: Any, columns: list[tuple[str, str]]) -> str:
    """Read-only event history as a table (events are append-only: no formset to post back)."""
    head = format_html_join("", "<th>{}</th>", ((label,) for label, _ in columns))
    body = format_html_join("", "<tr>{}</tr>", (
        (format_html_join("", "<td>{}</td>", ((_cell(row, attr),) for _, attr in columns)),) for row in rows
    ))
    return format_html("<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>", head, body)


EVENT_COLUMNS = [("when", "created_at"), ("from", "from_status"), ("to", "to_status"), ("who", "actor_label"), ("via", "source")]


def _pretty(value: Any) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))


# --- releases board ------------------------------------------------------------------------------
@admin.register(ReleasePointer)
class ReleaseBoardAdmin(GlobalReadAdmin):
    """The releases board: pointers, tenants per channel, pending verifications, canary analysis."""

    BOARD_OPERATIONS = ("start_canary", "deploy_stable", "rollback_stable", "deploy_canary", "rollback")

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        if request.method == "POST":
            return self._operate(request)
        return TemplateResponse(request, "admin/releases/board.html", self._board_context(request))

    def _board_context(self, request: HttpRequest) -> dict[str, Any]:
        user = request.user
        pointers = pointers_current()
        channels = []
        for channel in (Channel.STABLE, Channel.CANARY):
            pointer = pointers.get(channel)
            last = ReleasePointerEvent.objects.filter(channel=channel).select_related("to_release").first()
            channels.append({
                "name": channel,
                "pointer": pointer,
                "resolved": release_for_channel(channel),
                "last_event": last,
                "tenants": list(tenants_on_channel(channel, user=user)),
            })
        stable = pointers.get(Channel.STABLE)
        stable_release = stable.release if stable is not None and stable.release_id else None
        rollback_target = stable_rollback_target(stable_release) if stable_release else None
        pending = (VerificationRequest.objects.visible_to(user)
                   .filter(status=VerificationStatus.PENDING, action__in=operations.RELEASE_ACTIONS).order_by("-created_at")[:20])
        return {
            **self.admin_site.each_context(request),
            "title": "Releases board",
            "opts": self.model._meta,
            "channels": channels,
            "can_operate": _is_operator_level(request),
            "drafts": list(Release.objects.drafts().order_by("-created_at")[:20]),
            "stable_release": stable_release,
            "rollback_target": rollback_target,
            "pending": list(pending),
            "pointer_events": list(ReleasePointerEvent.objects.select_related("from_release", "to_release")[:15]),
            "channel_events": list(TenantChannelEvent.objects.visible_to(user).select_related("tenant")[:15]),
            "canary_analysis": board_canary_analysis(user),
            "verification_url": reverse("admin:imperium_verificationrequest_changelist"),
            "analyses_url": reverse("admin:releases_canaryanalysis_changelist") if user.is_superuser else "",
        }

    def _operate(self, request: HttpRequest) -> HttpResponse:
        back = HttpResponseRedirect(reverse("admin:releases_releasepointer_changelist"))
        if not _is_operator_level(request):
            self.message_user(request, "Only a superuser (CEO level) may operate releases.", messages.ERROR)
            return back
        op = request.POST.get("op", "")
        actor = Actor.from_user(request.user)
        reason = request.POST.get("reason", "").strip()[:500]
        kwargs: dict[str, Any] = {"actor": actor, "source": EventSource.ADMIN, "reason": reason}
        try:
            if op == "start_canary":
                outcome = operations.start_canary(version=request.POST.get("version", ""), **kwargs)
            elif op == "deploy_stable":
                outcome = operations.deploy_stable(version=request.POST.get("version") or None, **kwargs)
            elif op == "rollback_stable":
                outcome = operations.rollback_stable(**kwargs)
            elif op == "deploy_canary":
                outcome = operations.deploy_canary(tenant=request.POST.get("tenant", ""), **kwargs)
            elif op == "rollback":
                outcome = operations.rollback(tenant=request.POST.get("tenant", ""), **kwargs)
            else:
                self.message_user(request, f"Unknown operation {op!r}.", messages.ERROR)
                return back
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return back
        _report(self, request, outcome)
        return back


# --- releases ------------------------------------------------------------------------------------
class BundleEditorWidget(JSONEditorWidget):
    """The JSON editor for a bundle section; a value the browser sent that is not JSON is shown as
    text (with the form's validation error) instead of failing the page."""

    def __init__(self) -> None:
        super().__init__(mode="code", height="220px", width="100%")

    def format_value(self, value: Any) -> Any:
        if value is None or isinstance(value, (dict, list)):
            return value
        try:
            return json.loads(value)
        except (TypeError, ValueError):
            return str(value)


class ReleaseForm(forms.ModelForm):
    copy_from = forms.ModelChoiceField(
        queryset=Release.objects.all(), required=False, label=capfirst(_("copy from release")),
        help_text=_("Start from that release's overrides; the sections filled in below are merged on top."),
    )

    class Meta:
        model = Release
        fields = ["version", "image_tag", "notes", "answering", "eval_thresholds", "flags"]
        widgets = {"answering": BundleEditorWidget(), "eval_thresholds": BundleEditorWidget(), "flags": BundleEditorWidget()}

    def clean_version(self) -> str:
        version = self.cleaned_data["version"]
        validate_release_version(version)
        return version

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        overrides = {section: data.get(field) or {} for section, field in SECTION_FIELDS.items()}
        for section, errors in validate_overrides({s: v for s, v in overrides.items() if v}).items():
            field = SECTION_FIELDS.get(section)
            self.add_error(field if field in self.fields else None, ValidationError("; ".join(errors)))
        return data


@admin.register(Release)
class ReleaseAdmin(GlobalReadAdmin, SimpleHistoryAdmin):
    form = ReleaseForm
    list_display = ["version", "status", "image_tag", "author_label", "created_at", "updated_at"]
    list_filter = ["status"]
    search_fields = ["version", "image_tag", "notes"]
    actions = ["start_canary"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_operator_level(request)

    def has_change_permission(self, request: HttpRequest, obj: Release | None = None) -> bool:
        # Released bundles are immutable: their page is view-only for everybody.
        return _is_operator_level(request) and (obj is None or obj.is_draft)

    def get_fields(self, request: HttpRequest, obj: Release | None = None) -> list[str]:
        fields = ["version", "image_tag", "notes", "answering", "eval_thresholds", "flags"]
        if obj is None:
            return ["version", "copy_from", "image_tag", "notes", "answering", "eval_thresholds", "flags"]
        return ["status", *fields, "author_label", "created_at", "updated_at", "effective_config_display", "history_display"]

    def get_readonly_fields(self, request: HttpRequest, obj: Release | None = None) -> list[str]:
        if obj is None:
            return []
        meta = ["status", "author_label", "created_at", "updated_at", "effective_config_display", "history_display"]
        if not obj.is_draft or not _is_operator_level(request):
            return ["version", "image_tag", "notes", "answering", "eval_thresholds", "flags", *meta]
        return ["version", *meta]

    @admin.display(description="effective config (defaults + overrides)")
    def effective_config_display(self, obj: Release) -> str:
        return _pretty(obj.effective_config())

    @admin.display(description="status history")
    def history_display(self, obj: Release) -> str:
        return _events_table(obj.events.order_by("created_at", "id"), [*EVENT_COLUMNS, ("reason", "reason")])

    def save_model(self, request: HttpRequest, obj: Release, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        overrides = {section: data.get(field) or {} for section, field in SECTION_FIELDS.items()}
        actor = Actor.from_user(request.user)
        if not change:
            copy_from = data.get("copy_from")
            outcome = operations.create_draft(
                actor=actor, version=data["version"], image_tag=data.get("image_tag", ""), notes=data.get("notes", ""),
                overrides={s: v for s, v in overrides.items() if v}, copy_from=copy_from.version if copy_from else None,
                source=EventSource.ADMIN,
            )
            obj.pk = Release.objects.get(version=data["version"]).pk
        else:
            outcome = operations.update_draft(actor=actor, version=obj.version, image_tag=data.get("image_tag", ""),
                                              notes=data.get("notes", ""), overrides=overrides, source=EventSource.ADMIN)
        _report(self, request, outcome)

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        return None  # events are written by the services, never through the form

    def delete_model(self, request: HttpRequest, obj: Release) -> None:  # pragma: no cover - delete is disabled
        raise ApplicationError("Releases are not deleted.")

    @admin.action(description="Start canary with the selected draft")
    def start_canary(self, request: HttpRequest, queryset: Any) -> None:
        if not _is_operator_level(request):
            self.message_user(request, "Only a superuser (CEO level) may start a canary.", messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one draft.", messages.ERROR)
            return
        try:
            outcome = operations.start_canary(actor=Actor.from_user(request.user), version=queryset.get().version,
                                              source=EventSource.ADMIN)
        except ApplicationError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return
        _report(self, request, outcome)


# --- fix proposals -------------------------------------------------------------------------------
class FixProposalForm(forms.ModelForm):
    pr_url = forms.URLField(required=False, assume_scheme="https", max_length=500, label=capfirst(_("pr url")))

    class Meta:
        model = FixProposal
        fields = ["title", "branch", "pr_url", "commit_sha", "incident", "tenant", "notes"]


@admin.register(FixProposal)
class FixProposalAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    form = FixProposalForm
    add_requires_superuser = True
    allow_change = False  # status moves only through the actions below (services + policy)
    list_display = ["id", "title", "status", "branch", "short_sha", "tenant", "release", "ci_conclusion", "updated_at"]
    list_filter = ["status"]
    search_fields = ["title", "branch", "commit_sha", "pr_url"]
    list_select_related = ["tenant", "release"]
    raw_id_fields = ["incident"]  # an id with a lookup, not a select of every incident ever opened
    actions = ["put_on_canary", "mark_verified", "release_to_stable"]
    readonly_fields = ["status", "release", "ci_url", "ci_conclusion", "ci_updated_at", "created_by_label", "created_at", "updated_at",
                       "history_display"]

    @admin.display(description="status history")
    def history_display(self, obj: FixProposal) -> str:
        return _events_table(obj.events.order_by("created_at", "id"), [*EVENT_COLUMNS, ("note", "note")])

    @admin.display(description="sha")
    def short_sha(self, obj: FixProposal) -> str:
        return obj.commit_sha[:12]

    def get_fields(self, request: HttpRequest, obj: FixProposal | None = None) -> list[str]:
        base = ["title", "branch", "pr_url", "commit_sha", "incident", "tenant", "notes"]
        return base if obj is None else [*base, *self.readonly_fields]

    def save_model(self, request: HttpRequest, obj: FixProposal, form: forms.ModelForm, change: bool) -> None:
        data = form.cleaned_data
        outcome = operations.propose_fix(
            actor=Actor.from_user(request.user), title=data["title"], branch=data["branch"], pr_url=data.get("pr_url", ""),
            commit_sha=data.get("commit_sha", ""), incident=data["incident"].pk if data.get("incident") else None,
            tenant=data["tenant"].slug if data.get("tenant") else None, notes=data.get("notes", ""), source=EventSource.ADMIN,
        )
        obj.pk = outcome.result["proposal"]

    def save_related(self, request: HttpRequest, form: forms.ModelForm, formsets: Any, change: bool) -> None:
        return None

    def _each(self, request: HttpRequest, queryset: Any, run: Any) -> None:
        if not _is_operator_level(request):
            self.message_user(request, "Only a superuser (CEO level) may move fix proposals.", messages.ERROR)
            return
        for proposal in queryset:
            try:
                _report(self, request, run(proposal))
            except ApplicationError as exc:
                self.message_user(request, f"#{proposal.pk}: {exc.message}", messages.ERROR)

    @admin.action(description="Put on canary (creates its draft release)")
    def put_on_canary(self, request: HttpRequest, queryset: Any) -> None:
        actor = Actor.from_user(request.user)
        self._each(request, queryset, lambda p: operations.canary_fix(
            actor=actor, proposal=p.pk, version=None if p.release_id else next_fix_version(p), source=EventSource.ADMIN))

    @admin.action(description="Mark verified on canary")
    def mark_verified(self, request: HttpRequest, queryset: Any) -> None:
        actor = Actor.from_user(request.user)
        self._each(request, queryset, lambda p: operations.verify_fix(actor=actor, proposal=p.pk, note="verified in admin",
                                                                      source=EventSource.ADMIN))

    @admin.action(description="Release to stable (needs CEO verification)")
    def release_to_stable(self, request: HttpRequest, queryset: Any) -> None:
        actor = Actor.from_user(request.user)
        self._each(request, queryset, lambda p: operations.release_fix(actor=actor, proposal=p.pk, source=EventSource.ADMIN))


# --- event logs ----------------------------------------------------------------------------------
@admin.register(ReleasePointerEvent)
class ReleasePointerEventAdmin(GlobalReadAdmin):
    list_display = ["created_at", "channel", "from_release", "to_release", "operation", "revision", "actor_label", "source", "reason"]
    list_filter = ["channel", "operation", "source"]
    list_select_related = ["from_release", "to_release"]


@admin.register(TenantChannelEvent)
class TenantChannelEventAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["created_at", "tenant", "from_channel", "to_channel", "operation", "release_version", "actor_label", "source", "reason"]
    list_filter = ["to_channel", "operation", "source"]
    list_select_related = ["tenant"]
    search_fields = ["tenant__slug"]


@admin.register(CIDelivery)
class CIDeliveryAdmin(GlobalReadAdmin):
    superuser_only = True
    list_display = ["received_at", "delivery_id", "event", "branch", "commit_sha", "ci_status", "outcome", "proposal"]
    list_filter = ["outcome", "event"]
    search_fields = ["delivery_id", "branch", "commit_sha"]




@admin.register(CanaryAnalysis)
class CanaryAnalysisAdmin(GlobalReadAdmin):
    """Every canary analysis run with both sides' numbers (read-only; written by releases.analysis).
    Superusers only: a run names canary tenants of every operator; the board shows operators the
    latest verdict without them."""

    superuser_only = True
    list_display = ["created_at", "release_version", "stable_version", "result", "canary_turns", "stable_turns", "action",
                    "reasons_display"]
    list_filter = ["result", "action", "release_version"]
    search_fields = ["release_version"]
    list_select_related = ["release"]
    fields = ["created_at", "result", "release", "release_version", "stable_version", "window_start", "window_end", "canary_tenants",
              "stable_tenant_count", "metrics_display", "reasons_display", "action", "action_detail", "thresholds", "notice_key"]
    readonly_fields = fields

    @admin.display(description="canary turns")
    def canary_turns(self, obj: CanaryAnalysis) -> Any:
        return obj.canary_metrics.get("turns")

    @admin.display(description="stable turns")
    def stable_turns(self, obj: CanaryAnalysis) -> Any:
        return obj.stable_metrics.get("turns")

    @admin.display(description="reasons")
    def reasons_display(self, obj: CanaryAnalysis) -> str:
        return "; ".join(r.get("text", "") for r in obj.reasons) or "—"

    @admin.display(description="canary vs stable")
    def metrics_display(self, obj: CanaryAnalysis) -> str:
        rows = [(name, obj.canary_metrics.get(name), obj.stable_metrics.get(name)) for name in ANALYSIS_METRICS]
        return format_html("<table><thead><tr><th>metric</th><th>canary</th><th>stable</th></tr></thead><tbody>{}</tbody></table>",
                           format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", rows))
