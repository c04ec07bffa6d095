"""Startup checks: a configured outside service that is unreachable is a loud error.

Run by `manage.py check` / `runserver` / `migrate` and by the `check_services` step of
`make run` and the Docker entrypoint. Unconfigured optional services are fine (embedded mode).
"""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Tags, register

from imperium.core.health import run_checks_with_deadline

SERVICES_TAG = "services"


@register(SERVICES_TAG)
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


@register(Tags.database)
def database_reachable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    from imperium.core.health import check_database

    result = check_database()
    return [] if result.ok else [Error(f"DATABASE_URL is unreachable: {result.detail}", id="imperium.E_DATABASE")]
