"""Correlation ids: one id follows a request or task through logs, traces and error rows.

The id lives in a context variable. HTTP requests accept a caller's `X-Correlation-ID`
(when it looks like an id) and always return it; Celery tasks carry it in a message header
(see `imperium.core.celery_signals`).
"""

from __future__ import annotations

import contextvars
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.http import HttpRequest, HttpResponse

HEADER = "X-Correlation-ID"
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

_correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
_tenant: contextvars.ContextVar[str] = contextvars.ContextVar("tenant", default="")


def new_correlation_id() -> str:
    return uuid.uuid4().hex


def get_correlation_id() -> str:
    """The current id; creates one on first use so callers never log an empty id."""
    value = _correlation_id.get()
    if not value:
        value = new_correlation_id()
        _correlation_id.set(value)
    return value


def set_correlation_id(value: str | None) -> str:
    value = value if value and _VALID.match(value) else new_correlation_id()
    _correlation_id.set(value)
    return value


def get_tenant_label() -> str:
    return _tenant.get()


def set_tenant_label(slug: str | None) -> None:
    _tenant.set(slug or "")


@contextmanager
def correlation_scope(correlation_id: str | None = None, tenant: str | None = None) -> Iterator[str]:
    """Run a block under a correlation id (and tenant label), restoring the previous ones."""
    token_id = _correlation_id.set(correlation_id if correlation_id and _VALID.match(correlation_id) else new_correlation_id())
    token_tenant = _tenant.set(tenant or "")
    try:
        yield _correlation_id.get()
    finally:
        _correlation_id.reset(token_id)
        _tenant.reset(token_tenant)


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with correlation_scope(request.headers.get(HEADER)) as correlation_id:
            request.correlation_id = correlation_id  # type: ignore[attr-defined]
            response = self.get_response(request)
            response[HEADER] = correlation_id
            return response
