from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "incidents"

    def ready(self) -> None:
        from imperium.core.errors import register_error_recorder
        from incidents import celery_signals  # noqa: F401  (task failures become ErrorLogs)
        from incidents.errors import error_log_record

        register_error_recorder(error_log_record)  # failures reported by apps below incidents become ErrorLogs
