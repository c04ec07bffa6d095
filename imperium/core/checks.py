"""Startup checks: a configured outside service that is unreachable is a loud error.

The `services` checks run only where they protect something: `manage.py check --tag services`
(the Docker entrypoint's web role and `make run`) and gunicorn's start (gunicorn.conf.py). Every
other management command — `sentinel --once`, `migrate`, `kb_*`, `telegram_*` — and the Celery
worker start during an outage and report it themselves instead of refusing with SystemCheckError.
Unconfigured optional services are fine (embedded mode).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, register, run_checks

from imperium.core.health import run_checks_with_deadline

SERVICES_TAG = "services"

_requested: ContextVar[bool] = ContextVar("imperium_services_checks_requested", default=False)


@contextmanager
def services_checks_requested() -> Iterator[None]:
    """Within this block the `services` checks really probe their services."""
    token = _requested.set(True)
    try:
        yield
    finally:
        _requested.reset(token)


def service_check(func: Callable[..., list[CheckMessage]]) -> Callable[..., list[CheckMessage]]:
    """Register `func` as a system check of the `services` tag that runs only when asked for
    (`check --tag services`, gunicorn start). Returns `func` itself, callable directly."""

    def gated(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
        if not _requested.get():
            return []
        return func(app_configs=app_configs, **kwargs)

    gated.__name__ = gated.__qualname__ = f"{func.__name__}_when_requested"
    gated.__module__ = func.__module__
    register(gated, SERVICES_TAG)
    return func


def run_service_checks() -> list[CheckMessage]:
    """Every `services` check, now (gunicorn's on_starting hook)."""
    with services_checks_requested():
        return run_checks(tags=[SERVICES_TAG], databases=["default"])


@service_check
def configured_services_reachable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    errors = []
    # In parallel, within HEALTH_CHECK_DEADLINE: a hung dependency must not keep the server from starting.
    results = run_checks_with_deadline(["imperium.core.health.check_redis", "imperium.core.health.check_broker",
                                        "imperium.core.health.check_qdrant"])
    for result, variable in zip(results, ("REDIS_URL", "CELERY_BROKER_URL", "QDRANT_URL"), strict=True):
        if result.configured and not result.ok:
            errors.append(
                Error(f"{result.name} is configured ({variable}) but unreachable: {result.detail}", id=f"imperium.E_{result.name.upper()}")
            )
    return errors


@register(Tags.database, SERVICES_TAG)
def database_reachable(app_configs: Any = None, databases: Any = None, **kwargs: Any) -> list[Error]:
    """Like Django's own database checks: only when a command names its databases
    (`check --database default`, `migrate`)."""
    if not databases:
        return []
    from imperium.core.health import check_database

    result = check_database()
    return [] if result.ok else [Error(f"DATABASE_URL is unreachable: {result.detail}", id="imperium.E_DATABASE")]
