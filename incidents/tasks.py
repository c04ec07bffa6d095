"""Thin Celery wrappers over incidents services (routes in imperium/celery_routes.py)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="incidents.alert_send")
def alert_send_task(alert_id: int) -> str:
    from incidents.alerts import alert_send

    return alert_send(alert_id=alert_id).status


@shared_task(name="incidents.alerts_sweep")
def alerts_sweep_task() -> int:
    from incidents.alerts import alerts_sweep_due

    return len(alerts_sweep_due())


@shared_task(name="incidents.sentinel_run")
def sentinel_run_task() -> dict:
    """Beat job (SENTINEL_INTERVAL_SECONDS): every check once, incidents moved."""
    from incidents.sentinel import sentinel_run

    report = sentinel_run()
    return {"failing": len(report.failing), "changes": len(report.changes), "skipped_run": report.skipped_run}


@shared_task(name="incidents.fixer_run")
def fixer_run_task() -> dict:
    """Beat job (FIXER_INTERVAL_SECONDS): remediations for open incidents, sentinel watchdog."""
    from incidents.fixer import fixer_run

    return fixer_run().as_dict()


@shared_task(name="incidents.prune")
def prune_task() -> dict:
    """Beat job (hourly): check results and sentinel runs past SENTINEL_RETENTION_DAYS."""
    from incidents.services import checks_prune

    return checks_prune()
