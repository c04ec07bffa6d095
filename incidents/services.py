"""Incident-side services. The foundation holds error logging; sentinel and incidents follow."""

from __future__ import annotations

import logging
import traceback as tb
from typing import Any

from imperium.correlation import get_correlation_id
from imperium.services import redact
from incidents.models import ErrorLog

logger = logging.getLogger(__name__)


def error_log_record(
    *,
    where: str,
    exc: BaseException | None = None,
    message: str = "",
    tenant: Any = None,
    context: dict[str, Any] | None = None,
    correlation_id: str | None = None,
) -> ErrorLog:
    """Store one failure (and log it). Secrets in `context` are masked.

    Safe to call from an `except` block: it never raises because the log row failed to write —
    the failure is still logged, and the returned object is then unsaved.
    """
    entry = ErrorLog(
        correlation_id=correlation_id or get_correlation_id(),
        tenant_id=getattr(tenant, "pk", tenant),
        where=where[:200],
        exception_type=type(exc).__name__ if exc else "",
        message=(message or (str(exc) if exc else ""))[:10000],
        traceback="".join(tb.format_exception(exc)) if exc else "",
        context=redact(context or {}),
    )
    logger.error("%s: %s", where, entry.message, extra={"where": where})
    try:
        entry.save()
    except Exception:  # the database itself may be what failed
        logger.exception("could not store ErrorLog for %s", where)
    return entry
