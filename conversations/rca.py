"""The conversations part of incident RCA bundles: the tenant's message traces in the window,
each with the ids of its ErrorLogs (same correlation id). Registered by `conversations/apps.py`."""

from __future__ import annotations

from typing import Any

from conversations.selectors import traces_in_window
from incidents.models import ErrorLog, Incident
from incidents.rca import LIMIT, register_rca_section


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def rca_message_traces(incident: Incident, start: Any, end: Any) -> dict[str, Any]:
    traces = traces_in_window(tenant=incident.tenant_id, since=start, until=end, limit=LIMIT)
    ids = [t.correlation_id for t in traces if t.correlation_id]
    errors: dict[str, list[int]] = {}
    for cid, pk in ErrorLog.objects.for_tenant(incident.tenant_id).filter(correlation_id__in=ids).values_list("correlation_id", "pk"):
        errors.setdefault(cid, []).append(pk)
    items = [
        {"id": t.pk, "at": _iso(t.created_at), "conversation_id": t.conversation_id, "turn_id": t.turn_id, "decision": t.decision,
         "reason": t.reason, "confidence": t.confidence, "send_status": t.send_status, "decide_ms": t.decide_ms,
         "send_ms": t.send_ms, "total_ms": t.total_ms, "kb_version": t.kb_version, "release": t.release,
         "correlation_id": t.correlation_id, "error_log_ids": errors.get(t.correlation_id, [])}
        for t in traces
    ]
    return {"total": len(items), "items": items}


def register() -> None:
    register_rca_section("message_traces", rca_message_traces)
