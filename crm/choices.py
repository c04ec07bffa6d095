from django.db import models


class CrmKind(models.TextChoices):
    ALTEGIO = "altegio", "Altegio"
    YCLIENTS = "yclients", "YCLIENTS"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    BROKEN = "broken", "Broken (the CRM refused our credentials: no calls until reconnected)"
    DISABLED = "disabled", "Disconnected"


class SessionKind(models.TextChoices):
    BOOK = "book", "Book"
    CANCEL = "cancel", "Cancel"
    RESCHEDULE = "reschedule", "Reschedule"


class SessionStatus(models.TextChoices):
    """A booking exchange: collecting → proposed → booking → done, or declined / handed_over / expired."""

    COLLECTING = "collecting", "Collecting details"
    PROPOSED = "proposed", "Proposed, waiting for «да»"
    BOOKING = "booking", "Writing to the CRM"
    DONE = "done", "Done (booked, cancelled or moved)"
    DECLINED = "declined", "Declined by the customer"
    HANDED_OVER = "handed_over", "Handed to a manager"
    EXPIRED = "expired", "Expired"


OPEN_SESSION_STATUSES = (SessionStatus.COLLECTING, SessionStatus.PROPOSED, SessionStatus.BOOKING)


class RecordSource(models.TextChoices):
    BOT = "bot", "Booked by the bot"
    SYNC = "sync", "Synced from the CRM"


class RecordStatus(models.TextChoices):
    UPCOMING = "upcoming", "Upcoming"
    CANCELLED = "cancelled", "Cancelled"
