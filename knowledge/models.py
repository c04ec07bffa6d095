"""Knowledge: sources, versions (draft → stable → archived), items, index sync logs,
import jobs and evaluation results. Postgres is the truth; the index is rebuilt from it."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from knowledge.choices import ImportJobStatus, SourceKind, SyncStatus, VersionStatus
from tenants.scoping import TenantScopedQuerySet


class KnowledgeSource(models.Model):
    """A file or edit a version was made from, kept verbatim."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_sources")
    kind = models.CharField(max_length=16, choices=SourceKind.choices)
    name = models.CharField(max_length=255, blank=True, default="")
    content = models.TextField(blank=True, default="")
    content_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=150, blank=True, default="")

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
        verbose_name = _("knowledge version")
        verbose_name_plural = _("knowledge versions")

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
        verbose_name = _("knowledge item")
        verbose_name_plural = _("knowledge items")

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
        verbose_name = _("knowledge sync log")
        verbose_name_plural = _("knowledge sync logs")

    def __str__(self) -> str:
        return f"sync v{self.version_id} {self.backend} {self.status}"


class KnowledgeImportJob(models.Model):
    """An upload from admin: parsed, stored and indexed in the background, with progress."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_imports")
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
        verbose_name = _("knowledge import")
        verbose_name_plural = _("knowledge imports")

    def __str__(self) -> str:
        return f"import {self.file_name} ({self.status})"


class KnowledgeEvalSet(models.Model):
    """A tenant's evaluation cases; when present, promotion needs a passing run."""

    tenant_scope_path = "tenant"

    tenant = models.OneToOneField("tenants.Client", verbose_name=_("client (tenant)"),
        on_delete=models.CASCADE, related_name="knowledge_eval_set")
    cases = models.JSONField(default=list)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        verbose_name = _("evaluation set")
        verbose_name_plural = _("evaluation sets")

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
        verbose_name = _("knowledge evaluation")
        verbose_name_plural = _("knowledge evaluations")

    def __str__(self) -> str:
        return f"eval of v{self.version_id}: {'passed' if self.passed else 'failed'}"
