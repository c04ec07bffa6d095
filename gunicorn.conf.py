"""Gunicorn settings shared by `make run` and the Docker image (override with GUNICORN_CMD_ARGS)."""

import os

workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = 30
graceful_timeout = 20
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", None)  # "-" = stdout (the Docker image sets it)
# Text access lines mask phone numbers in the request line (an admin search); the JSON lines below
# log the path without the query string.
logger_class = "imperium.core.accesslog.PhoneMaskingLogger"
errorlog = "-"
# JSON lines like the application's (LOG_FORMAT, default json when DEBUG is off): access lines
# carry the correlation id (imperium/gunicorn_logging.py).
_debug = os.environ.get("DEBUG", "true").strip().lower() in ("1", "true", "yes", "on")
if os.environ.get("LOG_FORMAT", "text" if _debug else "json").strip().lower() == "json":
    logger_class = "imperium.gunicorn_logging.JsonLogger"
preload_app = False


def on_starting(server):
    """Loud startup check: a configured service that is unreachable is logged as an error."""
    import os

    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")
    django.setup()
    from django.db import connections

    from imperium.core.checks import run_service_checks

    try:
        messages = run_service_checks()
    finally:
        # The database probe connected in the master: forked workers must not share that socket.
        connections.close_all()
    for message in messages:
        if message.is_serious():
            server.log.error("STARTUP CHECK FAILED: %s", message.msg)
        else:
            server.log.warning("startup check: %s", message.msg)


def child_exit(server, worker):
    """Prometheus multiprocess mode: drop the live gauges of a worker that is gone."""
    try:
        from prometheus_client import multiprocess

        from imperium.core.metricsproc import process_identifier

        multiprocess.mark_process_dead(process_identifier(worker.pid))
    except Exception as exc:  # never block a worker's replacement
        server.log.warning("metrics: could not mark worker %s dead: %s", worker.pid, exc)
