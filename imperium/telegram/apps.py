from django.apps import AppConfig
from django.db.models.signals import post_migrate


class TelegramConfig(AppConfig):
    """The Telegram control plane: webhook/polling intake, update router, CEO commands, buttons."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "imperium.telegram"
    label = "telegram"
    verbose_name = "Telegram"

    def ready(self) -> None:
        from imperium.telegram import checks, handlers  # noqa: F401  (registers checks and update handlers)
        from imperium.telegram.allowlist import seed_after_migrate

        post_migrate.connect(seed_after_migrate, sender=self, dispatch_uid="telegram.allowlist.seed")
