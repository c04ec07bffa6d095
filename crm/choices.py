from django.db import models
from django.utils.translation import gettext_lazy as _


class CrmKind(models.TextChoices):
    ALTEGIO = "altegio", "Altegio"
    YCLIENTS = "yclients", "YCLIENTS"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    BROKEN = "broken", _("Broken (the CRM refused our credentials: no calls until reconnected)")
    DISABLED = "disabled", _("Disconnected")


class SessionKind(models.TextChoices):
    BOOK = "book", _("Book")
    CANCEL = "cancel", _("Cancel")
    RESCHEDULE = "reschedule", _("Reschedule")


class SessionStatus(models.TextChoices):
    """A booking exchange: collecting → proposed → booking → done, or declined / handed_over / expired."""

    COLLECTING = "collecting", _("Collecting details")
    PROPOSED = "proposed", _("Proposed, waiting for «да»")
    BOOKING = "booking", _("Writing to the CRM")
    DONE = "done", _("Done (booked, cancelled or moved)")
    DECLINED = "declined", _("Declined by the customer")
    HANDED_OVER = "handed_over", _("Handed to a manager")
    EXPIRED = "expired", _("Expired")


OPEN_SESSION_STATUSES = (SessionStatus.COLLECTING, SessionStatus.PROPOSED, SessionStatus.BOOKING)


class RecordSource(models.TextChoices):
    BOT = "bot", _("Booked by the bot")
    SYNC = "sync", _("Synced from the CRM")


class RecordStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    CANCELLED = "cancelled", _("Cancelled")
