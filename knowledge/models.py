"""Knowledge: sources, versions (draft → stable → archived), items, index sync logs,
import jobs and evaluation results. Postgres is the truth; the index is rebuilt from it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from knowledge.choices import ImportJobStatus, SourceKind, SuggestionKind, SuggestionStatus, SyncStatus, VersionStatus
from tenants.scoping import TenantScopedQuerySet


class KnowledgeSource(models.Model):
    """A file or edit a version was made from, kept verbatim."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_sources")
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    name = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField(blank=True, default="")
    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}:{self.name or self.pk}"


class KnowledgeVersion(models.Model):
    """One immutable-once-stable set of items. At most one stable version per tenant."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True)
    candidate = models.BooleanField(
        default=False, help_text="A draft offered to canary tenants before promotion (see kb_version_serving)."
    )
    source = models.ForeignKey(KnowledgeSource, null=True, blank=True, on_delete=models.SET_NULL, related_name="versions")
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    content_hash = models.CharField(max_length=64, blank=True, default="")
    item_count = models.PositiveIntegerField(default=0)
    notes = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    promoted_at = models.DateTimeField(null=True, blank=True)
    promoted_by = models.CharField(max_length=150, blank=True, default="")
    history = HistoricalRecords()

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["tenant", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "number"], name="kb_version_unique_number"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(status="stable"), name="kb_version_one_stable"),
        ]

    def __str__(self) -> str:
        return f"KB v{self.number} ({self.status})"

    @property
    def editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


class KnowledgeItem(models.Model):
    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, on_delete=models.CASCADE, related_name="items")
    external_id = models.CharField(max_length=200, help_text="Stable id (kebab-case); eval cases refer to it.")
    question = models.TextField()
    alt_questions = models.JSONField(
        default=list, blank=True, help_text="Other phrasings customers use; retrieval treats them like the question."
    )
    answer = models.TextField()
    tags = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["version", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "external_id"], name="kb_item_unique_external_id")]

    def __str__(self) -> str:
        return self.external_id


class KnowledgeSyncLog(models.Model):
    """One index build for a version: when, how many items, how long, and how it ended."""

    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, on_delete=models.CASCADE, related_name="sync_logs")
    backend = models.CharField(max_length=32)
    content_hash = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(max_length=16, choices=SyncStatus.choices, default=SyncStatus.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"sync v{self.version_id} {self.backend} {self.status}"


class KnowledgeImportJob(models.Model):
    """An upload from admin: parsed, stored and indexed in the background, with progress."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_imports")
    file_name = models.CharField(max_length=255)
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    content = models.TextField()
    status = models.CharField(max_length=16, choices=ImportJobStatus.choices, default=ImportJobStatus.QUEUED, db_index=True)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    message = models.TextField(blank=True, default="")
    version = models.ForeignKey(KnowledgeVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import {self.file_name} ({self.status})"


class KnowledgeEvalSet(models.Model):
    """A tenant's evaluation cases; when present, promotion needs a passing run."""

    tenant_scope_path = "tenant"

    tenant = models.OneToOneField("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_eval_set")
    cases = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"eval cases of tenant {self.tenant_id} ({len(self.cases)})"


class KnowledgeEvalRun(models.Model):
    tenant_scope_path = "version__tenant"

    version = models.ForeignKey(KnowledgeVersion, on_delete=models.CASCADE, related_name="eval_runs")
    created_at = models.DateTimeField(auto_now_add=True)
    cases = models.PositiveIntegerField(default=0)
    passed = models.BooleanField(default=False)
    summary = models.JSONField(default=dict)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"eval of v{self.version_id}: {'passed' if self.passed else 'failed'}"


class KnowledgeSuggestion(models.Model):
    """A knowledge change proposed from a manager's answer to an escalated question
    (`knowledge.suggestions`): another phrasing for an existing item, or a new item. The same
    question from several customers is one row with a `count` (deduplicated by `meaning_key`).
    Status: pending → accepted (written into the tenant's open draft) | rejected; a pending row
    that turned out to ask what another one asks is `merged` into it."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_suggestions")
    # Plain ids: knowledge sits below conversations and keeps no foreign key into it.
    conversation_id = models.BigIntegerField(null=True, blank=True, help_text="The hand-over it was first proposed from.")
    conversation_ids = models.JSONField(default=list, blank=True, help_text="Every hand-over that asked it.")
    kind = models.CharField(max_length=16, choices=SuggestionKind.choices)
    status = models.CharField(max_length=10, choices=SuggestionStatus.choices, default=SuggestionStatus.PENDING, db_index=True)
    question = models.TextField(help_text="The customer's question (the new item's question, or the phrasing to add).")
    phrasings = models.JSONField(default=list, blank=True, help_text="Other customers' words for the same question.")
    answer = models.TextField(help_text="The manager's reply (the new item's answer).")
    target_external_id = models.CharField(max_length=200, blank=True, default="", help_text="The existing item (alt phrasing).")
    tags = models.JSONField(default=list, blank=True)
    meaning_key = models.CharField(max_length=500, blank=True, default="", db_index=True)
    reason = models.CharField(max_length=32, blank=True, default="", help_text="Why the bot escalated.")
    count = models.PositiveIntegerField(default=1, help_text="How many hand-overs asked it.")
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    version = models.ForeignKey(KnowledgeVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="suggestions",
                                help_text="The draft it was written into.")
    item_external_id = models.CharField(max_length=200, blank=True, default="", help_text="The item it created or changed.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["tenant", "status"], name="kb_suggestion_tenant_status")]

    def __str__(self) -> str:
        return f"{self.kind}: {self.question[:60]} ({self.status}, ×{self.count})"


class KnowledgeItemPause(models.Model):
    """A KB item the bot must not answer from (marked wrong twice within a week): it escalates
    instead. Lifted by an operator (`resolved_*`) or by editing the item — the pause holds only
    while the served item still has the content it had when paused (`content_sha256`)."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", on_delete=models.CASCADE, related_name="knowledge_pauses")
    external_id = models.CharField(max_length=200)
    content_sha256 = models.CharField(max_length=64, help_text="Question + answer of the item when it was paused.")
    reason = models.TextField(blank=True, default="")
    marks = models.PositiveIntegerField(default=0, help_text="Wrong-answer marks that led to it.")
    paused_at = models.DateTimeField(auto_now_add=True)
    paused_by = models.CharField(max_length=150, blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.CharField(max_length=150, blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-paused_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["tenant", "external_id"], condition=Q(resolved_at__isnull=True),
                                    name="kb_item_one_active_pause"),
        ]

    def __str__(self) -> str:
        return f"paused {self.external_id} ({'lifted' if self.resolved_at else 'active'})"
