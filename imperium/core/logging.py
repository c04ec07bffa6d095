"""Structured logging: JSON lines carrying correlation id and tenant."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from imperium.core.correlation import get_tenant_label

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from imperium.core.correlation import _correlation_id

        if not getattr(record, "correlation_id", None):
            record.correlation_id = _correlation_id.get() or "-"
        if not getattr(record, "tenant", None):
            record.tenant = get_tenant_label() or "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "correlation_id": getattr(record, "correlation_id", "-"),
            "tenant": getattr(record, "tenant", "-"),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in payload and not key.startswith("_"):
                payload[key] = value
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, ensure_ascii=False, default=str)
