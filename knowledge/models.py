"""Knowledge: sources, versions (draft → stable → archived), items, index sync logs,
import jobs and evaluation results. Postgres is the truth; the index is rebuilt from it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from knowledge.choices import ImportJobStatus, SourceKind, SuggestionKind, SuggestionStatus, SyncStatus, VersionStatus
from tenants.scoping import TenantScopedQuerySet


class KnowledgeSource(models.Model):
    """A file or edit a version was made from, kept verbatim."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_sources")
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices)
    name = models.CharField(_("name"), max_length=255, blank=True, default="")
    content = models.TextField(_("content"), blank=True, default="")
    content_sha256 = models.CharField(_("content sha256"), max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("knowledge source")
        verbose_name_plural = _("knowledge sources")

    def __str__(self) -> str:
        return f"{self.kind}:{self.name or self.pk}"


class KnowledgeVersion(models.Model):
    """One immutable-once-stable set of items. At most one stable version per tenant."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_versions")
    number = models.PositiveIntegerField(_("number"))
    status = models.CharField(_("status"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True)
    candidate = models.BooleanField(_("candidate"),
        default=False, help_text=_("A draft that salons on the canary channel already get before it becomes stable.")
    )
    source = models.ForeignKey(KnowledgeSource, verbose_name=_("source"), null=True, blank=True, on_delete=models.SET_NULL,
            related_name="versions")
    based_on = models.ForeignKey("self", verbose_name=_("based on"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, default="")
    item_count = models.PositiveIntegerField(_("item count"), default=0)
    notes = models.TextField(_("notes"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")
    promoted_at = models.DateTimeField(_("promoted at"), null=True, blank=True)
    promoted_by = models.CharField(_("promoted by"), max_length=150, blank=True, default="")
    history = HistoricalRecords()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="kb_version_unique_number"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(status="stable"), name="kb_version_one_stable"),
        ]
        verbose_name = _("knowledge version")
        verbose_name_plural = _("knowledge versions")

    def __str__(self) -> str:
        return f"KB v{self.number} ({self.status})"

    @property
    def editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class KnowledgeItem(models.Model):
    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(_("external id"), max_length=200, help_text=_("Stable id (kebab-case); eval cases refer to it."))
    question = models.TextField(_("question"))
    alt_questions = models.JSONField(_("alt questions"),
        default=list, blank=True, help_text=_("Other phrasings customers use; retrieval treats them like the question.")
    )
    answer = models.TextField(_("answer"))
    tags = models.JSONField(_("tags"), default=list, blank=True)
    position = models.PositiveIntegerField(_("position"), default=0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "external_id"], name="kb_item_unique_external_id")]
        verbose_name = _("knowledge item")
        verbose_name_plural = _("knowledge items")

    def __str__(self) -> str:
        return self.external_id


class KnowledgeSyncLog(models.Model):
    """One index build for a version: when, how many items, how long, and how it ended."""

    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="sync_logs")
    backend = models.CharField(_("backend"), max_length=32)
    content_hash = models.CharField(_("content hash"), max_length=64, blank=True, default="")
    status = models.CharField(_("status"), max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    items = models.PositiveIntegerField(_("items"), default=0)
    error = models.TextField(_("error"), blank=True, default="")
    timings = models.JSONField(_("timings"), default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]
        verbose_name = _("knowledge sync log")
        verbose_name_plural = _("knowledge sync logs")

    def __str__(self) -> str:
        return f"sync v{self.version_id} {self.backend} {self.status}"


class KnowledgeImportJob(models.Model):
    """An upload from admin: parsed, stored and indexed in the background, with progress."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_imports")
    file_name = models.CharField(_("file name"), max_length=255)
    kind = models.CharField(_("kind"), max_length=16, choices=SourceKind.choices)
    content = models.TextField(_("content"))
    status = models.CharField(_("status"), max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(_("progress"), default=0, help_text=_("Percent done."))
    message = models.TextField(_("message"), blank=True, default="")
    version = models.ForeignKey(KnowledgeVersion, verbose_name=_("version"), null=True, blank=True, on_delete=models.SET_NULL,
            related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150, blank=True, default="")
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("knowledge import")
        verbose_name_plural = _("knowledge imports")

    def __str__(self) -> str:
        return f"import {self.file_name} ({self.status})"


class KnowledgeEvalSet(models.Model):
    """A tenant's evaluation cases; when present, promotion needs a passing run."""

    tenant_scope_path = "tenant"

    tenant = models.OneToOneField("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_eval_set")
    cases = models.JSONField(_("cases"), default=list)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation set")
        verbose_name_plural = _("evaluation sets")

    def __str__(self) -> str:
        return f"eval cases of tenant {self.tenant_id} ({len(self.cases)})"


class KnowledgeEvalRun(models.Model):
    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, verbose_name=_("version"), on_delete=models.CASCADE, related_name="eval_runs")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    cases = models.PositiveIntegerField(_("cases"), default=0)
    passed = models.BooleanField(_("passed"), default=False)
    summary = models.JSONField(_("summary"), default=dict)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("knowledge evaluation")
        verbose_name_plural = _("knowledge evaluations")

    def __str__(self) -> str:
        return f"eval of v{self.version_id}: {'passed' if self.passed else 'failed'}"


class KnowledgeSuggestion(models.Model):
    """A knowledge change proposed from a manager's answer to an escalated question
    (`knowledge.suggestions`): another phrasing for an existing item, or a new item. The same
    question from several customers is one row with a `count` (deduplicated by `meaning_key`).
    Status: pending → accepted (written into the tenant's open draft) | rejected; a pending row
    that turned out to ask what another one asks is `merged` into it."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"), on_delete=models.CASCADE,
                               related_name="knowledge_suggestions")
    # Plain ids: knowledge sits below conversations and keeps no foreign key into it.
    conversation_id = models.BigIntegerField(_("conversation ID"), null=True, blank=True,
                                             help_text=_("The hand-over it was first proposed from."))
    conversation_ids = models.JSONField(_("conversations"), default=list, blank=True, help_text=_("Every hand-over that asked it."))
    kind = models.CharField(_("kind"), max_length=16, choices=SuggestionKind.choices)
    status = models.CharField(_("status"), max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING, db_index=True)
    question = models.TextField(_("question"), help_text=_("The customer's question (the new item's question, or the phrasing to add)."))
    phrasings = models.JSONField(_("other phrasings"), default=list, blank=True,
                                 help_text=_("Other customers' words for the same question."))
    answer = models.TextField(_("answer"), help_text=_("The manager's reply (the new item's answer)."))
    target_external_id = models.CharField(_("target item"), max_length=200, blank=True, default="",
                                          help_text=_("The existing item (alt phrasing)."))
    tags = models.JSONField(_("tags"), default=list, blank=True)
    meaning_key = models.CharField(_("meaning key"), max_length=500, blank=True, default="", db_index=True)
    reason = models.CharField(_("escalation reason"), max_length=32, blank=True, default="", help_text=_("Why the bot escalated."))
    count = models.PositiveIntegerField(_("times asked"), default=1, help_text=_("How many hand-overs asked it."))
    merged_into = models.ForeignKey("self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    version = models.ForeignKey(KnowledgeVersion, verbose_name=_("draft version"), null=True, blank=True, on_delete=models.SET_NULL,
                                related_name="suggestions",
                                help_text=_("The draft it was written into."))
    item_external_id = models.CharField(_("item"), max_length=200, blank=True, default="", help_text=_("The item it created or changed."))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decided_by = models.CharField(_("decided by"), max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("knowledge suggestion")
        verbose_name_plural = _("knowledge suggestions")
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="kb_suggestion_tenant_status")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.question[:60]} ({self.status}, ×{self.count})"


class KnowledgeItemPause(models.Model):
    """A KB item the bot must not answer from (marked wrong twice within a week): it escalates
    instead. Lifted by an operator (`resolved_*`) or by editing the item — the pause holds only
    while the served item still has the content it had when paused (`content_sha256`)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"), on_delete=models.CASCADE,
                               related_name="knowledge_pauses")
    external_id = models.CharField(_("item"), max_length=200)
    content_sha256 = models.CharField(_("content hash"), max_length=64, help_text=_("Question + answer of the item when it was paused."))
    reason = models.TextField(_("reason"), blank=True, default="")
    marks = models.PositiveIntegerField(_("wrong-answer marks"), default=0, help_text=_("Wrong-answer marks that led to it."))
    paused_at = models.DateTimeField(_("paused at"), auto_now_add=True)
    paused_by = models.CharField(_("paused by"), max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(_("un-paused at"), null=True, blank=True)
    resolved_by = models.CharField(_("un-paused by"), max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("paused KB item")
        verbose_name_plural = _("paused KB items")
        ordering = ["-paused_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], condition=Q(resolved_at__isnull=True),
                                    name="kb_item_one_active_pause"),
        ]

    def __str__(self) -> str:
        return f"paused {self.external_id} ({'lifted' if self.resolved_at else 'active'})"
