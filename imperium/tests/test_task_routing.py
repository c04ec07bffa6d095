from __future__ import annotations

from imperium.celery import app
from imperium.celery_routes import TASK_QUEUES, TASK_ROUTES, unrouted_tasks


def test_every_registered_task_has_an_explicit_route():
    app.loader.import_default_modules()
    assert unrouted_tasks(app) == []


def test_routes_point_at_declared_queues():
    assert {route["queue"] for route in TASK_ROUTES.values()} <= set(TASK_QUEUES)
    assert {q.name for q in app.conf.task_queues} == set(TASK_QUEUES)


def test_it_catches_a_task_without_a_route():
    @app.task(name="imperium.tests.unrouted_example")
    def unrouted_example():  # pragma: no cover - never run
        return None

    try:
        assert "imperium.tests.unrouted_example" in unrouted_tasks(app)
    finally:
        app.tasks.pop("imperium.tests.unrouted_example", None)


def test_worker_reliability_settings():
    assert app.conf.task_acks_late is True
    assert app.conf.task_reject_on_worker_lost is True
    assert app.conf.worker_prefetch_multiplier == 1
    assert app.conf.task_default_queue == "default"


def test_every_routed_task_has_soft_and_hard_time_limits():
    from django.conf import settings

    from imperium.celery_routes import TASK_ANNOTATIONS

    app.loader.import_default_modules()
    assert set(TASK_ANNOTATIONS) == set(TASK_ROUTES)
    for name in TASK_ROUTES:
        task = app.tasks[name]
        assert task.soft_time_limit and task.time_limit, name
        assert task.soft_time_limit < task.time_limit, name
    # A turn is killed before its lease runs out, so the sweeper never resumes a turn still running.
    assert app.tasks["conversations.turn_run"].time_limit < settings.TURN_LEASE_SECONDS
