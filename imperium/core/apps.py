from django.apps import AppConfig


class CoreConfig(AppConfig):
    """The base every app uses: audit log, write-risk policy, verification requests.

    The label stays `imperium` so tables, migrations and permissions keep their names.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "imperium.core"
    label = "imperium"
    verbose_name = "Imperium core"

    def ready(self) -> None:
        from imperium.core import celery_signals, checks  # noqa: F401  (registers handlers)
