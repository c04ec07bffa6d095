"""Every task that fails (raises out of its body) becomes an ErrorLog with the task's
correlation id and tenant (both travel in the message headers, `imperium.core.celery_signals`)."""

from __future__ import annotations

import logging
from typing import Any

from celery.signals import task_failure

logger = logging.getLogger(__name__)


@task_failure.connect
def _record_task_failure(sender: Any = None, task_id: str | None = None, exception: BaseException | None = None,
                         args: Any = None, kwargs: Any = None, **extra: Any) -> None:
    try:
        from incidents.errors import error_log_record

        name = getattr(sender, "name", None) or str(sender)
        error_log_record(
            where=f"task {name}"[:200], exc=exception,
            context={"task_id": task_id, "args": [repr(a)[:100] for a in (args or ())][:10],
                     "kwargs": sorted((kwargs or {}).keys())[:10]},
        )
    except Exception:  # a failure report must never fail the worker
        logger.exception("could not record the failure of task %s", task_id)
