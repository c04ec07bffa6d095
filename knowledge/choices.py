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


class SuggestionKind(models.TextChoices):
    ALT_QUESTION = "alt_question", _("Another phrasing of an existing item")
    NEW_ITEM = "new_item", _("A new item")


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACCEPTED = "accepted", _("Accepted (in a draft)")
    REJECTED = "rejected", _("Rejected")
    MERGED = "merged", _("Merged into another suggestion")
