"""Gunicorn settings shared by `make run` and the Docker image (override with GUNICORN_CMD_ARGS)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", None)
# Phone numbers in request lines (an admin search) are masked in the access log.
logger_class = "imperium.core.accesslog.PhoneMaskingLogger"
errorlog = "-"
preload_app = False


def on_starting(server):
    """Loud startup check: a configured service that is unreachable is logged as an error."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")
    django.setup()
    from imperium.core.checks import configured_services_reachable

    for error in configured_services_reachable():
        server.log.error("STARTUP CHECK FAILED: %s", error.msg)
