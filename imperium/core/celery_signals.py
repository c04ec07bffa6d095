"""Carry the correlation id (and tenant label) from the publisher into the task."""

from __future__ import annotations

from typing import Any

from celery.signals import before_task_publish, task_failure, task_postrun, task_prerun, task_retry, task_success

from imperium.core.correlation import _correlation_id, _tenant, get_correlation_id, get_tenant_label, set_correlation_id

HEADER = "correlation_id"
TENANT_HEADER = "tenant"
_tokens: dict[str, tuple[Any, Any]] = {}


@before_task_publish.connect
def _attach_correlation(headers: dict[str, Any] | None = None, **kwargs: Any) -> None:
    if headers is not None:
        headers.setdefault(HEADER, get_correlation_id())
        headers.setdefault(TENANT_HEADER, get_tenant_label())


@task_prerun.connect
def _database_housekeeping(task: Any = None, **kwargs: Any) -> None:
    """What Django does at the start of each web request: drop connections that are broken or
    older than CONN_MAX_AGE and re-arm the health check. Celery keeps connections across tasks
    (CELERY_DB_REUSE_MAX), so without this a connection broken by a database restart would fail
    every task until Celery's next recycle."""
    if getattr(getattr(task, "request", None), "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


@task_prerun.connect
def _enter_correlation(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    request = getattr(task, "request", None)
    incoming = getattr(request, HEADER, None) or (getattr(request, "headers", None) or {}).get(HEADER)
    tenant = getattr(request, TENANT_HEADER, None) or (getattr(request, "headers", None) or {}).get(TENANT_HEADER)
    token_id = _correlation_id.set("")
    token_tenant = _tenant.set(tenant or "")
    set_correlation_id(incoming)
    if task_id:
        _tokens[task_id] = (token_id, token_tenant)


@task_postrun.connect
def _leave_correlation(task_id: str | None = None, **kwargs: Any) -> None:
    tokens = _tokens.pop(task_id or "", None)
    if tokens:
        try:
            _correlation_id.reset(tokens[0])
            _tenant.reset(tokens[1])
        except ValueError:  # reset from another context (eager mode nesting); harmless
            pass


@task_success.connect
def _count_success(sender: Any = None, **kwargs: Any) -> None:
    from imperium.core import metrics

    metrics.celery_task_finished(task=getattr(sender, "name", ""), state="succeeded")


@task_failure.connect
def _count_failure(sender: Any = None, **kwargs: Any) -> None:
    from imperium.core import metrics

    metrics.celery_task_finished(task=getattr(sender, "name", ""), state="failed")


@task_retry.connect
def _count_retry(sender: Any = None, request: Any = None, **kwargs: Any) -> None:
    from imperium.core import metrics

    task = getattr(request, "task", None) or getattr(sender, "name", "")
    metrics.celery_task_finished(task=str(task), state="retried")
