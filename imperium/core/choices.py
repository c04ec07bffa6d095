from django.db import models


class ActorKind(models.TextChoices):
    USER = "user", "Admin user"
    TELEGRAM = "telegram", "Telegram user"
    SYSTEM = "system", "System"
    API = "api", "API caller"
