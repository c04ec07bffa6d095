from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """The base every app uses: audit log, write-risk policy, verification requests.

    The label stays `imperium` so tables, migrations and permissions keep their names.
    """

    default_auto_field = "django.db.models.BigAutoField"
    name = "imperium.core"
    verbose_name = _("Approvals and audit")
    label = "imperium"

    def ready(self) -> None:
        from imperium.core import celery_signals, checks  # noqa: F401  (registers handlers)
