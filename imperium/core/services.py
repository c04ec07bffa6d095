"""Base services: the audit trail."""

from __future__ import annotations

import logging
import re
from typing import Any

from django.db import models

from imperium.core.actors import Actor
from imperium.core.correlation import get_correlation_id
from imperium.core.crypto import mask
from imperium.core.models import AuditLog

logger = logging.getLogger(__name__)

_SECRET_KEY = re.compile(r"secret|token|password|api_key|apikey", re.IGNORECASE)


def redact(payload: Any) -> Any:
    """Mask values under secret-looking keys, recursively, so no audit row ever holds one."""
    if isinstance(payload, dict):
        return {
            key: (mask(str(value)) if _SECRET_KEY.search(str(key)) and value not in (None, "") else redact(value))
            for key, value in payload.items()
        }
    if isinstance(payload, list | tuple):
        return [redact(item) for item in payload]
    return payload


def audit_record(
    *,
    actor: Actor,
    action: str,
    tenant: Any = None,
    obj: models.Model | None = None,
    payload: dict[str, Any] | None = None,
) -> AuditLog:
    """Append one audit entry. Never updates or deletes; secrets in `payload` are masked.

    Runs inside the caller's transaction, so the entry exists exactly when the change does.
    """
    entry = AuditLog.objects.create(
        actor_kind=actor.kind,
        actor_id=actor.id,
        actor_label=actor.label[:150],
        tenant_id=getattr(tenant, "pk", tenant),
        action=action,
        object_type=obj._meta.label if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        payload=redact(payload or {}),
        correlation_id=get_correlation_id(),
    )
    logger.info("audit %s by %s", action, actor, extra={"audit_id": entry.pk})
    return entry
