"""Reporting an unexpected failure from an app that cannot import `incidents` (`tenants`, `knowledge`).

The incidents app registers its recorder (`incidents.errors.error_log_record`, which stores an
`ErrorLog`) at startup; apps above it call that directly. Without a recorder the failure is logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)

ErrorRecorder = Callable[..., Any]
_recorder: ErrorRecorder | None = None


def register_error_recorder(recorder: ErrorRecorder | None) -> None:
    global _recorder
    _recorder = recorder


def error_report(*, where: str, exc: BaseException | None = None, message: str = "", tenant: Any = None,
                 context: dict[str, Any] | None = None) -> None:
    """Record one failure (the same arguments as `incidents.errors.error_log_record`). Never raises."""
    if _recorder is None:
        logger.error("%s: %s", where, message or exc, exc_info=exc)
        return
    _recorder(where=where, exc=exc, message=message, tenant=tenant, context=context)
