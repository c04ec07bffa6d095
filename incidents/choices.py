from django.db import models


class AlertSeverity(models.TextChoices):
    INFO = "info", "Info"
    WARNING = "warning", "Warning"
    CRITICAL = "critical", "Critical"


class AlertKind(models.TextChoices):
    ALERT = "alert", "Alert to the CEO/alert chat"
    NOTIFICATION = "notification", "Message to a tenant's chat or topic"
    TEST = "test", "Test alert"


class AlertStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class IncidentStatus(models.TextChoices):
    OPEN = "open", "Open"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"


OPEN_INCIDENT_STATUSES = (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED)


class IncidentEventKind(models.TextChoices):
    OPENED = "opened", "Opened"
    CHECK_FAILED = "check_failed", "Check failed"
    ALERT_SENT = "alert_sent", "Alert sent"
    ACKNOWLEDGED = "acknowledged", "Acknowledged"
    RESOLVED = "resolved", "Resolved"
    REOPENED = "reopened", "Reopened"
    REMEDIATION_STARTED = "remediation_started", "Remediation started"
    REMEDIATION_SUCCEEDED = "remediation_succeeded", "Remediation succeeded"
    REMEDIATION_FAILED = "remediation_failed", "Remediation failed"
    NOTE = "note", "Note"


class EventSource(models.TextChoices):
    WEB = "web", "Admin"
    TELEGRAM = "telegram", "Telegram"
    API = "api", "API"
    SYSTEM = "system", "System"


class FixState(models.TextChoices):
    """Where the fixer is with an incident (empty: nothing tried yet, or waiting to retry)."""

    NONE = "", "—"
    VERIFYING = "verifying", "Remediation ran; verifying on the next pass"
    WAITING = "waiting", "Waiting for a precondition (e.g. the gateway to answer again)"
    PROPOSED = "proposed", "Proposed to the CEO (not low risk)"
    GAVE_UP = "gave_up", "Gave up (attempts exhausted)"
    NOT_APPLICABLE = "n/a", "No automatic remediation"


class SentinelTrigger(models.TextChoices):
    BEAT = "beat", "Beat schedule"
    COMMAND = "command", "manage.py sentinel"
