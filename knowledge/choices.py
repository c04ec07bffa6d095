from django.db import models
from django.utils.translation import gettext_lazy as _


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    STABLE = "stable", _("Stable")
    ARCHIVED = "archived", _("Archived")


class SourceKind(models.TextChoices):
    JSONL = "jsonl", _("JSONL")
    MARKDOWN = "markdown", _("Markdown")
    MANUAL = "manual", _("Manual (admin / clone)")


class SyncStatus(models.TextChoices):
    RUNNING = "running", _("Running")
    OK = "ok", _("OK")
    FAILED = "failed", _("Failed")


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
