from django.apps import AppConfig


class SiteConfig(AppConfig):
    """The wiring around the apps: settings, urls, Celery, site-wide management commands.

    No models; an app only so that `manage.py bootstrap_local` is found.
    """

    name = "imperium"
    label = "site"
    verbose_name = "Imperium site"
