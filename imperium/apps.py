from django.apps import AppConfig


class ImperiumConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "imperium"
    verbose_name = "Imperium core"

    def ready(self) -> None:
        from imperium import celery_signals, checks  # noqa: F401  (registers handlers)
