"""Knowledge admin: versions with their items, draft editing (through services), clone,
diff, uploads with progress. Everything is scoped to the operator's tenants."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from knowledge import services
from knowledge.choices import ImportJobStatus
from knowledge.models import (
    KnowledgeEvalRun,
    KnowledgeEvalSet,
    KnowledgeImportJob,
    KnowledgeItem,
    KnowledgeItemPause,
    KnowledgeSource,
    KnowledgeSuggestion,
    KnowledgeSyncLog,
    KnowledgeVersion,
)
from knowledge.selectors import kb_eval_run_latest, kb_version_diff, kb_versions_with_same_content
from tenants.admin_scoping import ReadOnlyTenantScopedAdmin, TenantScopedAdminMixin
from tenants.models import Client
from tenants.scoping import EDIT_ROLES, scope_queryset, user_can_access


def try_question(version: KnowledgeVersion, question: str) -> dict[str, Any]:
    """How the bot would answer `question` from this version (nothing is sent): the same answer
    brain and release as `manage.py ask --kb-version N`."""
    from conversations.answering.brain import decide_reply
    from conversations.choices import EscalationReason
    from releases.selectors import release_for_tenant

    decision = decide_reply(version.tenant, None, [question[:2000]], kb_version=version, release=release_for_tenant(version.tenant))
    reasons = dict(EscalationReason.choices)
    return {**decision.as_dict(), "reason_text": reasons.get(decision.reason, decision.reason)}


class LinesField(forms.CharField):
    """A list of strings edited one per line."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 80})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(value) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:
        return [line.strip() for line in (value or "").splitlines() if line.strip()]


class KnowledgeItemForm(forms.ModelForm):
    alt_questions = LinesField(required=False, label=capfirst(_("alt questions")),
                               help_text=_("Other phrasings customers use, one per line."))
    tags = forms.CharField(required=False, label=capfirst(_("tags")), help_text=_("Comma-separated."))

    class Meta:
        model = KnowledgeItem
        fields = ["external_id", "question", "alt_questions", "answer", "tags"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["tags"] = ", ".join(self.instance.tags or [])

    def clean_tags(self) -> list[str]:
        return [t.strip() for t in (self.cleaned_data.get("tags") or "").split(",") if t.strip()]


class KnowledgeItemInline(admin.StackedInline):
    model = KnowledgeItem
    form = KnowledgeItemForm
    extra = 0
    fields = ["external_id", "question", "alt_questions", "answer", "tags"]

    def _draft(self, obj: Any) -> bool:
        return obj is not None and obj.editable

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and user_can_access(request.user, obj, EDIT_ROLES)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and user_can_access(request.user, obj, EDIT_ROLES)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and user_can_access(request.user, obj, EDIT_ROLES)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None or user_can_access(request.user, obj)


@admin.register(KnowledgeVersion)
class KnowledgeVersionAdmin(TenantScopedAdminMixin, SimpleHistoryAdmin):
    allow_add = False
    list_display = ["tenant", "number", "status", "candidate", "item_count", "created_at", "created_by", "promoted_at", "links"]
    list_filter = ["status", "candidate"]
    search_fields = ["tenant__slug", "notes"]
    list_select_related = ["tenant"]
    readonly_fields = ["tenant", "number", "status", "candidate", "source", "based_on", "content_hash", "item_count",
                       "created_at", "created_by", "promoted_at", "promoted_by", "links"]
    fields = readonly_fields + ["notes"]
    inlines = [KnowledgeItemInline]
    actions = ["clone_into_draft", "request_promotion", "mark_candidate", "unmark_candidate"]

    change_form_template = "admin/knowledge/knowledgeversion/change_form.html"
    change_list_template = "admin/knowledge/knowledgeversion/change_list.html"

    @admin.display(description=_("comparison"))
    def links(self, obj: KnowledgeVersion) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:knowledge_knowledgeversion_diff", args=[obj.pk]), _("diff"))

    def get_urls(self) -> list[Any]:
        urls = [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="knowledge_knowledgeversion_upload"),
            path("<int:pk>/diff/", self.admin_site.admin_view(self.diff_view), name="knowledge_knowledgeversion_diff"),
            path("<int:pk>/evaluate/", self.admin_site.admin_view(self.evaluate_view), name="knowledge_knowledgeversion_evaluate"),
        ]
        return urls + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        version = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if version is not None:
            question = (request.GET.get("try") or "").strip()
            run = kb_eval_run_latest(version)
            extra = {
                "try_question": question,
                "try_decision": try_question(version, question) if question else None,
                "eval_run": run,
                "eval_current": run is not None and run.summary.get("content_hash") == version.content_hash,
                "eval_cases_stored": KnowledgeEvalSet.objects.for_tenant(version.tenant_id).exists(),
                "same_content": list(kb_versions_with_same_content(version)[:3]),
                "diff_url": reverse("admin:knowledge_knowledgeversion_diff", args=[version.pk]),
                "evaluate_url": reverse("admin:knowledge_knowledgeversion_evaluate", args=[version.pk]),
                "can_edit": user_can_access(request.user, version, EDIT_ROLES),
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})

    def evaluate_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """POST: run the tenant's stored evaluation cases against this version and record the run
        (the same evaluation a promotion request runs)."""
        version = get_object_or_404(scope_queryset(KnowledgeVersion.objects.select_related("tenant"), request.user, EDIT_ROLES), pk=pk)
        if request.method == "POST":
            from releases.kb_gate import kb_eval_run  # the same evaluation a promotion request runs

            summary = kb_eval_run(version)
            if summary is None:
                self.message_user(request, _("This tenant has no evaluation cases stored (manage.py kb_eval --save-cases)."),
                                  messages.WARNING)
            else:
                self.message_user(request, _("Evaluation of v%(number)s: %(headline)s") % {
                    "number": version.number, "headline": summary.get("headline", "")},
                    messages.SUCCESS if summary.get("passed") else messages.WARNING)
        return HttpResponseRedirect(reverse("admin:knowledge_knowledgeversion_change", args=[version.pk]))

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "upload_url": reverse("admin:knowledge_knowledgeversion_upload")}
        return super().changelist_view(request, extra_context)

    # Items of a draft go through services, so the content hash, the index key and the audit follow.
    # The formset's own save() is never called, so the lists the admin's change message reads
    # (new_objects, changed_objects, deleted_objects) are filled here.
    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not KnowledgeItem:
            return super().save_formset(request, form, formset, change)
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        version = form.instance
        actor = Actor.from_user(request.user)
        deleted = formset.deleted_forms
        try:
            with transaction.atomic():
                for inline_form in deleted:
                    if inline_form.instance.pk:
                        services.kb_item_delete(actor=actor, item=inline_form.instance)
                        formset.deleted_objects.append(inline_form.instance)
                for inline_form in formset.forms:
                    if not inline_form.has_changed() or inline_form in deleted:
                        continue
                    data = inline_form.cleaned_data
                    if not data:
                        continue
                    existing = inline_form.instance if inline_form.instance.pk else None
                    item = services.kb_item_save(
                        actor=actor, version=version, external_id=data["external_id"], question=data["question"],
                        answer=data["answer"], tags=data.get("tags") or [], alt_questions=data.get("alt_questions") or [],
                        item=KnowledgeItem.objects.get(pk=existing.pk) if existing else None,
                    )
                    if existing:
                        formset.changed_objects.append((item, inline_form.changed_data))
                    else:
                        formset.new_objects.append(item)
        except ApplicationError as exc:
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
            messages.error(request, exc.message)

    def save_model(self, request: HttpRequest, obj: KnowledgeVersion, form: Any, change: bool) -> None:
        if change and "notes" in form.changed_data:
            KnowledgeVersion.objects.filter(pk=obj.pk).update(notes=obj.notes)

    @admin.action(description=_("Clone into a new draft"))
    def clone_into_draft(self, request: HttpRequest, queryset: Any) -> None:
        for version in queryset.editable_by(request.user):
            draft = services.kb_version_clone(actor=Actor.from_user(request.user), version=version)
            self.message_user(request, _("%(tenant)s: v%(version)s cloned into draft v%(draft)s.")
                              % {"tenant": version.tenant.slug, "version": version.number, "draft": draft.number})

    @admin.action(description=_("Promote to stable (asks a verifier; the tenant's eval cases must pass)"))
    def request_promotion(self, request: HttpRequest, queryset: Any) -> None:
        from imperium.core.policy import policy_execute

        for version in queryset.editable_by(request.user).select_related("tenant"):
            try:
                outcome = policy_execute("kb.promote", Actor.from_user(request.user),
                                         {"tenant": version.tenant.slug, "version": version.number}, tenant=version.tenant)
            except ApplicationError as exc:
                self.message_user(request, f"{version.tenant.slug} v{version.number}: {exc.message}", messages.ERROR)
                continue
            if outcome.executed:
                self.message_user(request, _("%(tenant)s: v%(version)s is now stable.")
                                  % {"tenant": version.tenant.slug, "version": version.number})
            else:
                self.message_user(request, _("%(tenant)s: promotion of v%(version)s waits for verification (request #%(request)s).")
                                  % {"tenant": version.tenant.slug, "version": version.number, "request": outcome.request.pk})

    @admin.action(description=_("Offer to canary tenants (candidate)"))
    def mark_candidate(self, request: HttpRequest, queryset: Any) -> None:
        self._candidate(request, queryset, True)

    @admin.action(description=_("Withdraw from canary"))
    def unmark_candidate(self, request: HttpRequest, queryset: Any) -> None:
        self._candidate(request, queryset, False)

    def _candidate(self, request: HttpRequest, queryset: Any, value: bool) -> None:
        for version in queryset.editable_by(request.user):
            try:
                services.kb_version_mark_candidate(actor=Actor.from_user(request.user), version=version, candidate=value)
            except ApplicationError as exc:
                self.message_user(request, f"v{version.number}: {exc.message}", messages.ERROR)

    def diff_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Compare any two versions of the tenant: `?old=<id>&new=<id>` (both chosen on the page);
        by default this version against the one it was cloned from, or the one before it."""
        this = get_object_or_404(scope_queryset(KnowledgeVersion.objects.select_related("tenant"), request.user), pk=pk)
        versions = list(KnowledgeVersion.objects.for_tenant(this.tenant_id).order_by("-number"))
        by_id = {str(v.pk): v for v in versions}
        new = by_id.get(request.GET.get("new") or "", this)
        old = by_id.get(request.GET.get("old") or request.GET.get("other") or "")
        if old is None:
            earlier = [v for v in versions if v.number < new.number]
            old = new.based_on if new.based_on_id and str(new.based_on_id) in by_id else next(iter(earlier), None)
            if old is None:
                old = next((v for v in versions if v.pk != new.pk), None)
        context = {**self.admin_site.each_context(request), "title": _("Compare knowledge versions"), "tenant": this.tenant,
                   "old": old, "new": new, "versions": versions, "opts": self.model._meta,
                   "diff": kb_version_diff(old, new) if old is not None and old.pk != new.pk else None}
        return TemplateResponse(request, "admin/knowledge/diff.html", context)

    def upload_view(self, request: HttpRequest) -> HttpResponse:
        tenants = scope_queryset(Client.objects.all(), request.user, EDIT_ROLES)

        class UploadForm(forms.Form):
            tenant = forms.ModelChoiceField(queryset=tenants, label=_("Tenant"))
            file = forms.FileField(label=_("File"), help_text=_("JSONL or Markdown, UTF-8"))

        form = UploadForm(request.POST or None, request.FILES or None, initial={"tenant": request.GET.get("tenant")})
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                content = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                form.add_error("file", _("The file is not UTF-8 text."))
            else:
                job = services.kb_import_job_create(actor=Actor.from_user(request.user), tenant=form.cleaned_data["tenant"],
                                                    file_name=upload.name, content=content)
                if settings.TESTING or settings.CELERY_TASK_ALWAYS_EAGER:
                    services.kb_import_job_run(job_id=job.pk)
                else:
                    from knowledge.tasks import kb_import_job_run

                    transaction.on_commit(lambda: kb_import_job_run.delay(job.pk))
                return HttpResponseRedirect(reverse("admin:knowledge_knowledgeimportjob_change", args=[job.pk]))
        context = {**self.admin_site.each_context(request), "title": _("Upload knowledge"), "form": form,
                   "opts": self.model._meta}
        return TemplateResponse(request, "admin/knowledge/upload.html", context)


@admin.register(KnowledgeItem)
class KnowledgeItemAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Direct item editing (search across versions); writes go through `kb_item_save`."""

    form = KnowledgeItemForm
    allow_add = False
    list_display = ["external_id", "version", "question"]
    list_filter = ["version__status"]
    search_fields = ["external_id", "question", "answer", "version__tenant__slug"]
    list_select_related = ["version", "version__tenant"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and (obj is None or obj.version.editable)

    def save_model(self, request: HttpRequest, obj: KnowledgeItem, form: Any, change: bool) -> None:
        data = form.cleaned_data
        try:
            services.kb_item_save(actor=Actor.from_user(request.user), version=obj.version, external_id=data["external_id"],
                                  question=data["question"], answer=data["answer"], tags=data.get("tags") or [],
                                  alt_questions=data.get("alt_questions") or [], item=KnowledgeItem.objects.get(pk=obj.pk))
        except ApplicationError as exc:
            messages.error(request, exc.message)


@admin.register(KnowledgeImportJob)
class KnowledgeImportJobAdmin(ReadOnlyTenantScopedAdmin):
    """An upload's progress. While the job is queued or running the page reloads itself every
    two seconds (a refresh in the page head; no script needed)."""

    list_display = ["file_name", "tenant", "status", "progress_bar", "version", "created_at", "created_by"]
    list_filter = ["status"]
    list_select_related = ["tenant", "version"]
    fields = ["tenant", "file_name", "kind", "status", "progress_bar", "message", "version", "created_at", "created_by", "finished_at"]
    readonly_fields = fields
    change_form_template = "admin/knowledge/knowledgeimportjob/change_form.html"
    # A job still queued after this long has no worker taking it: say so on the page.
    STALE_QUEUED_SECONDS = 30

    @admin.display(description=_("progress"))
    def progress_bar(self, obj: KnowledgeImportJob) -> str:
        return format_html('<progress value="{}" max="100"></progress> {}%', obj.progress, obj.progress)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "",
                    extra_context: dict[str, Any] | None = None) -> HttpResponse:
        job = self.get_object(request, object_id)
        extra: dict[str, Any] = {}
        if job is not None:
            waiting = job.status in (ImportJobStatus.QUEUED, ImportJobStatus.RUNNING)
            extra = {
                "refresh_seconds": 2 if waiting else None,
                "stuck_in_queue": job.status == ImportJobStatus.QUEUED
                and (timezone.now() - job.created_at).total_seconds() > self.STALE_QUEUED_SECONDS,
                "same_content": list(kb_versions_with_same_content(job.version)[:3]) if job.version_id else [],
                "version_url": reverse("admin:knowledge_knowledgeversion_change", args=[job.version_id]) if job.version_id else "",
            }
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), **extra})


@admin.register(KnowledgeSyncLog)
class KnowledgeSyncLogAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["version", "backend", "status", "items", "started_at", "finished_at", "timings"]
    list_filter = ["status", "backend"]
    list_select_related = ["version", "version__tenant"]


@admin.register(KnowledgeSource)
class KnowledgeSourceAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["name", "tenant", "kind", "created_at", "created_by"]
    list_select_related = ["tenant"]


@admin.register(KnowledgeEvalRun)
class KnowledgeEvalRunAdmin(ReadOnlyTenantScopedAdmin):
    list_display = ["version", "cases", "passed", "created_at"]
    list_select_related = ["version", "version__tenant"]


def _queue_learned_promotion(tenant_ids: set[int]) -> None:
    from releases.tasks import learned_promotion

    def queue() -> None:
        for tenant_id in sorted(tenant_ids):
            try:
                learned_promotion.delay(tenant_id)
            except Exception:  # broker down: the next accept (or kb_promote) asks again
                import logging

                logging.getLogger(__name__).exception("could not queue the learned promotion of tenant %s", tenant_id)

    transaction.on_commit(queue)


@admin.register(KnowledgeSuggestion)
class KnowledgeSuggestionAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """The suggestion queue: what managers' answers to hand-overs would add to the KB. Accept writes
    into the tenant's open draft (and asks for its promotion), reject drops it; both in bulk."""

    list_display = ["question", "kind", "target_external_id", "count", "status", "tenant", "reason", "updated_at", "decided_by"]
    list_filter = ["status", "kind", "tenant"]
    list_select_related = ["tenant"]
    search_fields = ["question", "answer", "target_external_id"]
    readonly_fields = ["tenant", "conversation_id", "conversation_ids", "kind", "status", "question", "phrasings", "answer",
                       "target_external_id", "tags", "reason", "count", "version", "item_external_id", "created_at",
                       "decided_at", "decided_by"]
    actions = ["accept_suggestions", "reject_suggestions"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("📚 Accept into the open draft"))
    def accept_suggestions(self, request: HttpRequest, queryset: Any) -> None:
        from knowledge.suggestions import kb_suggestion_accept

        tenants: set[int] = set()
        for suggestion in queryset.editable_by(request.user).filter(status="pending").select_related("tenant"):
            try:
                accepted, changed = kb_suggestion_accept(actor=Actor.from_user(request.user), suggestion_id=suggestion.pk,
                                                         tenant=suggestion.tenant)
            except ApplicationError as exc:
                self.message_user(request, f"#{suggestion.pk}: {exc.message}", messages.ERROR)
                continue
            if changed:
                tenants.add(accepted.tenant_id)
                self.message_user(request, _("#%(id)s → %(tenant)s draft v%(version)s (%(item)s).")
                                  % {"id": accepted.pk, "tenant": accepted.tenant.slug, "version": accepted.version.number,
                                     "item": accepted.item_external_id})
        _queue_learned_promotion(tenants)

    @admin.action(description=_("🚫 Reject"))
    def reject_suggestions(self, request: HttpRequest, queryset: Any) -> None:
        from knowledge.suggestions import kb_suggestion_reject

        rejected = 0
        for suggestion in queryset.editable_by(request.user).filter(status="pending"):
            rejected += int(kb_suggestion_reject(actor=Actor.from_user(request.user), suggestion_id=suggestion.pk)[1])
        self.message_user(request, _("Suggestions rejected: %(count)s.") % {"count": rejected})


@admin.register(KnowledgeItemPause)
class KnowledgeItemPauseAdmin(TenantScopedAdminMixin, admin.ModelAdmin):
    """Items the bot does not answer from (marked wrong twice within a week). Un-pause, or edit the
    item in a draft and promote it: a changed item is answered from again."""

    list_display = ["external_id", "tenant", "marks", "paused_at", "paused_by", "resolved_at", "resolved_by"]
    list_filter = ["tenant"]
    list_select_related = ["tenant"]
    readonly_fields = ["tenant", "external_id", "content_sha256", "reason", "marks", "paused_at", "paused_by", "resolved_at",
                       "resolved_by"]
    actions = ["unpause"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("Un-pause (the bot answers from the item again)"))
    def unpause(self, request: HttpRequest, queryset: Any) -> None:
        from knowledge.suggestions import kb_item_unpause

        lifted = sum(int(kb_item_unpause(actor=Actor.from_user(request.user), pause_id=p.pk))
                     for p in queryset.editable_by(request.user).filter(resolved_at__isnull=True))
        self.message_user(request, _("Items un-paused: %(count)s.") % {"count": lifted})
