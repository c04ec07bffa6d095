"""Error logs: every unexpected failure becomes an `ErrorLog` row (and a log line).

Every app above `incidents` calls `error_log_record`; `tenants` and `knowledge`, which sit beside or
below it, report through `imperium.core.errors.error_report`, which this app connects to it at startup.
"""

from __future__ import annotations

import logging
import traceback as tb
from typing import Any

from imperium.core.correlation import get_correlation_id, get_tenant_label
from imperium.core.services import redact
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
        tenant_id=getattr(tenant, "pk", tenant) if tenant is not None else _tenant_id_from_label(),
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


def _tenant_id_from_label() -> int | None:
    """The tenant of the current request or task (its slug travels as the log label), if any."""
    slug = get_tenant_label()
    if not slug:
        return None
    try:
        from tenants.models import Client

        return Client.objects.filter(slug=slug).values_list("pk", flat=True).first()
    except Exception:  # the database may be what failed; the row is written without a tenant
        return None
