"""The beat scheduler with a heartbeat: django-celery-beat's DatabaseScheduler that touches
BEAT_HEARTBEAT_FILE on every tick (at least every few seconds while beat is alive and its
schedule loop turns). The container health check of the beat role looks at the file's age
(docker/entrypoint.sh healthcheck)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from django_celery_beat.schedulers import DatabaseScheduler


def beat_heartbeat_touch() -> None:
    from django.conf import settings

    path = Path(settings.BEAT_HEARTBEAT_FILE)
    try:
        path.touch()
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
    os.utime(path, None)


class HeartbeatScheduler(DatabaseScheduler):
    def tick(self, *args: Any, **kwargs: Any) -> float:
        try:
            beat_heartbeat_touch()
        except OSError:  # a read-only folder must not stop the schedule
            pass
        return super().tick(*args, **kwargs)
