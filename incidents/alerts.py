"""The alert hook every app calls when something needs a human's attention.

`alert_raise` must never raise into the caller (the reply path above all): delivery to
Telegram happens later, in a task, with its own retries.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def alert_raise(
    *,
    title: str,
    text: str = "",
    severity: str = "warning",
    tenant: Any = None,
    key: str = "",
) -> None:
    """Queue an alert for the CEO/alert chat. `key` deduplicates repeats of one alert.

    Placeholder until the Telegram issue lands: logs the alert.
    """
    logger.warning("ALERT [%s] %s: %s", severity, title, text, extra={"alert_key": key, "alert_tenant": getattr(tenant, "slug", tenant)})
