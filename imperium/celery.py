"""The Celery application `imperium` (`celery -A imperium worker|beat`)."""

from __future__ import annotations

import os

from celery import Celery
from celery.signals import beat_init, celeryd_init
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imperium.settings")

app = Celery("imperium")
app.config_from_object("django.conf:settings", namespace="CELERY")

from imperium.celery_routes import TASK_QUEUES  # noqa: E402

app.conf.task_queues = [Queue(name, routing_key=name) for name in TASK_QUEUES]
app.autodiscover_tasks()


@celeryd_init.connect
def _error_tracking_worker(**kwargs: object) -> None:
    from imperium.core.errortracking import init_error_tracking

    init_error_tracking("worker")


@beat_init.connect
def _error_tracking_beat(**kwargs: object) -> None:
    from imperium.core.errortracking import init_error_tracking

    init_error_tracking("beat")
