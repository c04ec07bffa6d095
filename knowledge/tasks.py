"""Thin Celery wrappers over knowledge services."""

from __future__ import annotations

from imperium.celery import app


@app.task(name="knowledge.tasks.kb_import_job_run", acks_late=True)
def kb_import_job_run(job_id: int) -> None:
    from knowledge.services import kb_import_job_run as run

    run(job_id=job_id)

