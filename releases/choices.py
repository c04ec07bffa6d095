from django.db import models


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CANARY = "canary", "Canary"
    STABLE = "stable", "Stable"
    RETIRED = "retired", "Retired"  # was stable or canary, superseded by a newer release
    ROLLED_BACK = "rolled_back", "Rolled back"


class Channel(models.TextChoices):
    """Mirrors tenants.choices.ReleaseChannel: one pointer per channel."""

    STABLE = "stable", "Stable"
    CANARY = "canary", "Canary"


class EventSource(models.TextChoices):
    ADMIN = "admin", "Admin"
    TELEGRAM = "telegram", "Telegram"
    CLI = "cli", "Management command"
    API = "api", "API"
    CI = "ci", "CI webhook"
    SYSTEM = "system", "System"


class FixStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CI_RUNNING = "ci_running", "CI running"
    CI_PASSED = "ci_passed", "CI passed"
    CI_FAILED = "ci_failed", "CI failed"
    CANARY = "canary", "On canary"
    VERIFIED = "verified", "Verified on canary"
    RELEASED = "released", "Released to stable"
    ROLLED_BACK = "rolled_back", "Rolled back"


class CIOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    UNCHANGED = "unchanged", "No change"
    IGNORED = "ignored", "Ignored"
    NO_MATCH = "no_match", "No matching proposal"


class AnalysisResult(models.TextChoices):
    SUCCESSFUL = "successful", "Successful"
    FAILED = "failed", "Failed"
    INCONCLUSIVE = "inconclusive", "Inconclusive"
