"""Celery entry points of the releases app. Thin: a service call, nothing else."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="releases.canary_analysis")
def canary_analysis() -> dict[str, Any] | None:
    """Beat job (every CANARY_ANALYSIS_SECONDS): compare the canary with stable, act on the verdict."""
    from releases.analysis import canary_analysis_beat

    return canary_analysis_beat()


@shared_task(name="releases.learned_promotion")
def learned_promotion(tenant_id: int) -> str:
    """After suggestions were accepted: kb_eval of the draft, then the CEO's verification or an
    automatic promotion (releases.learned.kb_learned_promotion_request)."""
    from releases.learned import kb_learned_promotion_request
    from tenants.models import Client

    tenant = Client.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "unknown tenant"
    outcome = kb_learned_promotion_request(tenant=tenant)
    return outcome.status if outcome is not None else "nothing to do"
