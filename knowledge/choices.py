from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    STABLE = "stable", "Stable"
    ARCHIVED = "archived", "Archived"


class SourceKind(models.TextChoices):
    JSONL = "jsonl", "JSONL"
    MARKDOWN = "markdown", "Markdown"
    MANUAL = "manual", "Manual (admin / clone)"


class SyncStatus(models.TextChoices):
    RUNNING = "running", "Running"
    OK = "ok", "OK"
    FAILED = "failed", "Failed"


class ImportJobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class SuggestionKind(models.TextChoices):
    ALT_QUESTION = "alt_question", "Another phrasing of an existing item"
    NEW_ITEM = "new_item", "A new item"


class SuggestionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted (in a draft)"
    REJECTED = "rejected", "Rejected"
    MERGED = "merged", "Merged into another suggestion"
