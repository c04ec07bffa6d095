"""Queue a Celery task by its registered name, so domain code never imports an entry point.

Services and selectors sit below the `tasks.py` modules that wrap them (docs/ARCHITECTURE.md):
they name the task (`"incidents.alert_send"`) instead of importing it. The task object comes from
the Celery registry, so routing, `task_always_eager` and monkeypatched methods behave exactly as
with `the_task.apply_async(...)`.
"""

from __future__ import annotations

from typing import Any


def registered_task(name: str) -> Any:
    """The task registered under `name`; loads the apps' `tasks` modules once when a process
    (web, shell) has not imported them yet. KeyError for a name nobody registers."""
    from celery import current_app

    app = current_app._get_current_object()  # the project's app: `imperium/__init__.py` creates it first
    if name not in app.tasks:
        app.loader.import_default_modules()
    return app.tasks[name]


def task_enqueue(name: str, args: tuple[Any, ...] = (), *, countdown: float | None = None) -> Any:
    """`apply_async` of the task registered under `name` (`countdown` seconds from now when given)."""
    task = registered_task(name)
    return task.apply_async(args, countdown=countdown) if countdown else task.apply_async(args)
