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
