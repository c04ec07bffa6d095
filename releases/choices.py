from django.db import models
from django.utils.translation import gettext_lazy as _


class ReleaseStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    CANARY = "canary", _("Canary")
    STABLE = "stable", _("Stable")
    RETIRED = "retired", _("Retired")  # was stable or canary, superseded by a newer release
    ROLLED_BACK = "rolled_back", _("Rolled back")


class Channel(models.TextChoices):
    """Mirrors tenants.choices.ReleaseChannel: one pointer per channel."""

    STABLE = "stable", _("Stable")
    CANARY = "canary", _("Canary")


class EventSource(models.TextChoices):
    ADMIN = "admin", _("Admin")
    TELEGRAM = "telegram", _("Telegram")
    CLI = "cli", _("Management command")
    API = "api", _("API")
    CI = "ci", _("CI webhook")
    SYSTEM = "system", _("System")


class FixStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    CI_RUNNING = "ci_running", _("CI running")
    CI_PASSED = "ci_passed", _("CI passed")
    CI_FAILED = "ci_failed", _("CI failed")
    CANARY = "canary", _("On canary")
    VERIFIED = "verified", _("Verified on canary")
    RELEASED = "released", _("Released to stable")
    ROLLED_BACK = "rolled_back", _("Rolled back")


class CIOutcome(models.TextChoices):
    APPLIED = "applied", _("Applied")
    UNCHANGED = "unchanged", _("No change")
    IGNORED = "ignored", _("Ignored")
    NO_MATCH = "no_match", _("No matching proposal")


class AnalysisResult(models.TextChoices):
    SUCCESSFUL = "successful", _("Successful")
    FAILED = "failed", _("Failed")
    INCONCLUSIVE = "inconclusive", _("Inconclusive")
