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
