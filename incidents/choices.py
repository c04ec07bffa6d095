from django.db import models
from django.utils.translation import gettext_lazy as _


class AlertSeverity(models.TextChoices):
    INFO = "info", _("Info")
    WARNING = "warning", _("Warning")
    CRITICAL = "critical", _("Critical")


class AlertKind(models.TextChoices):
    ALERT = "alert", _("Alert to the CEO/alert chat")
    NOTIFICATION = "notification", _("Message to a tenant's chat or topic")
    TEST = "test", _("Test alert")


class AlertStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class IncidentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


OPEN_INCIDENT_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


class IncidentEventKind(models.TextChoices):
    OPENED = "opened", _("Opened")
    CHECK_FAILED = "check_failed", _("Check failed")
    ALERT_SENT = "alert_sent", _("Alert sent")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")
    REOPENED = "reopened", _("Reopened")
    REMEDIATION_STARTED = "remediation_started", _("Remediation started")
    REMEDIATION_SUCCEEDED = "remediation_succeeded", _("Remediation succeeded")
    REMEDIATION_FAILED = "remediation_failed", _("Remediation failed")
    NOTE = "note", _("Note")


class EventSource(models.TextChoices):
    WEB = "web", _("Admin")
    TELEGRAM = "telegram", _("Telegram")
    API = "api", _("API")
    SYSTEM = "system", _("System")


class FixState(models.TextChoices):
    """Where the fixer is with an incident (empty: nothing tried yet, or waiting to retry)."""

    NONE = "", _("—")
    VERIFYING = "verifying", _("Remediation ran; verifying on the next pass")
    WAITING = "waiting", _("Waiting for a precondition (e.g. the gateway to answer again)")
    PROPOSED = "proposed", _("Proposed to the CEO (not low risk)")
    GAVE_UP = "gave_up", _("Gave up (attempts exhausted)")
    NOT_APPLICABLE = "n/a", _("No automatic remediation")


class SentinelTrigger(models.TextChoices):
    BEAT = "beat", _("Beat schedule")
    COMMAND = "command", _("manage.py sentinel")
