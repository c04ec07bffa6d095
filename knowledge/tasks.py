"""Thin Celery wrappers over knowledge services."""

from __future__ import annotations

from imperium.celery import app


@app.task(name="knowledge.tasks.kb_import_job_run", acks_late=True)
def kb_import_job_run(job_id: int) -> None:
    from knowledge.services import kb_import_job_run as run

    run(job_id=job_id)


@app.task(name="knowledge.learned_promotion")
def learned_promotion(tenant_id: int) -> str:
    """After suggestions were accepted: kb_eval of the draft, then the CEO's verification or an
    automatic promotion (knowledge.policy_actions.kb_learned_promotion_request)."""
    from knowledge.policy_actions import kb_learned_promotion_request
    from tenants.models import Client

    tenant = Client.objects.filter(pk=tenant_id).first()
    if tenant is None:
        return "unknown tenant"
    outcome = kb_learned_promotion_request(tenant=tenant)
    return outcome.status if outcome is not None else "nothing to do"
