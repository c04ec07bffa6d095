from django.db import models
from django.utils.translation import gettext_lazy as _


class ActorKind(models.TextChoices):
    USER = "user", _("Admin user")
    TELEGRAM = "telegram", _("Telegram user")
    SYSTEM = "system", _("System")
    API = "api", _("API caller")
