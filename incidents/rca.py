"""RCA bundles: everything the database knows about an incident, in one JSON-ready dict.

Built from the database only (no outside calls): the incident and its timeline, the check
results of its fingerprint, the ErrorLogs and MessageTraces of its tenant around it (each trace
with the ids of its ErrorLogs — same correlation id), audit entries shortly before and during
it (configuration changes, deploys, KB promotions), and the release and KB version in effect.

The parts only upper apps know are registered by them at startup (`register_rca_section`):
`conversations/rca.py` adds the message traces, `releases/rca.py` the release and KB version in
effect. Scoping is the caller's job: pass an incident the user may see.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from imperium.core.models import AuditLog
from imperium.core.plaintext import render_plain
from incidents import texts
from incidents.models import CheckResult, ErrorLog, Incident, IncidentEvent

LIMIT = 50
AUDIT_BEFORE = timedelta(hours=6)
# Audit actions that describe the incident machinery itself, not a cause.
_AUDIT_NOISE = ("alert.", "incident.", "telegram.command_refused", "telegram.callback_refused")


RcaSection = Callable[[Incident, datetime, datetime], dict[str, Any]]
_SECTIONS: dict[str, RcaSection] = {}


def register_rca_section(key: str, func: RcaSection) -> None:
    """Add an upper app's part to every bundle: `func(incident, start, end)` returns a JSON-ready
    dict. `message_traces` replaces the empty default; `in_effect` is merged into the channel the
    tenant is on. Call it from the app's `ready()` (e.g. via its `rca.py`)."""
    _SECTIONS[key] = func


def _section(key: str, incident: Incident, start: Any, end: Any) -> dict[str, Any] | None:
    func = _SECTIONS.get(key)
    return func(incident, start, end) if func is not None else None


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def rca_window(incident: Incident) -> tuple[Any, Any]:
    start = incident.opened_at - timedelta(minutes=settings.SENTINEL_RCA_LOOKBACK_MINUTES)
    end = incident.resolved_at or timezone.now()
    return start, end


def rca_bundle(incident: Incident) -> dict[str, Any]:
    """The RCA bundle of one incident (see the module docstring). JSON-serialisable."""
    start, end = rca_window(incident)
    tenant = incident.tenant
    bundle: dict[str, Any] = {
        "incident": _incident(incident),
        "window": {"from": _iso(start), "to": _iso(end)},
        "timeline": [_event(e) for e in IncidentEvent.objects.filter(incident=incident).order_by("created_at", "id")],
        "check_results": _check_results(incident, start, end),
        "error_logs": _error_logs(incident, start, end),
        "message_traces": _traces(incident, start, end),
        "audit": _audit(incident, end),
        "in_effect": _in_effect(incident, tenant, start, end),
    }
    bundle["in_effect"]["from_traces"] = _versions_from_traces(bundle["message_traces"])
    return bundle


def _incident(incident: Incident) -> dict[str, Any]:
    tenant = incident.tenant
    return {
        "id": incident.pk, "title": incident.title, "kind": incident.kind, "fingerprint": incident.fingerprint,
        "target": incident.target, "tenant": tenant.slug if tenant else None, "tenant_name": tenant.name if tenant else None,
        "severity": incident.severity, "status": incident.status, "summary": incident.summary,
        "opened_at": _iso(incident.opened_at), "opened_by": incident.opened_by,
        "acknowledged_at": _iso(incident.acknowledged_at), "acknowledged_by": incident.acknowledged_by,
        "resolved_at": _iso(incident.resolved_at), "resolved_by": incident.resolved_by,
        "last_alert_at": _iso(incident.last_alert_at), "last_failed_at": _iso(incident.last_failed_at),
        "failure_count": incident.failure_count, "reopen_count": incident.reopen_count,
        "fix_state": incident.fix_state, "fix_attempts": incident.fix_attempts, "correlation_id": incident.correlation_id,
    }


def _event(event: IncidentEvent) -> dict[str, Any]:
    return {"at": _iso(event.created_at), "kind": event.kind, "source": event.source, "actor": event.actor_label or event.actor_kind,
            "message": event.message, "data": event.data}


def _result(row: CheckResult) -> dict[str, Any]:
    return {"id": row.pk, "at": _iso(row.checked_at), "check": row.check_name, "target": row.target, "ok": row.ok,
            "skipped": row.skipped, "latency_ms": row.latency_ms, "detail": row.detail, "data": row.data}


def _check_results(incident: Incident, start: Any, end: Any) -> dict[str, Any]:
    rows = CheckResult.objects.filter(fingerprint=incident.fingerprint, checked_at__gte=start, checked_at__lte=end)
    failing = list(rows.filter(ok=False, skipped=False).order_by("-checked_at", "-id")[:LIMIT])
    latest = list(CheckResult.objects.filter(fingerprint=incident.fingerprint).order_by("-checked_at", "-id")[:10])
    return {"failing": [_result(r) for r in failing], "failing_total": rows.filter(ok=False, skipped=False).count(),
            "latest": [_result(r) for r in latest]}


def _error_log(entry: ErrorLog) -> dict[str, Any]:
    return {"id": entry.pk, "at": _iso(entry.created_at), "where": entry.where, "exception_type": entry.exception_type,
            "message": entry.message[:2000], "correlation_id": entry.correlation_id, "tenant_id": entry.tenant_id,
            "context": entry.context}


def _error_logs(incident: Incident, start: Any, end: Any) -> dict[str, Any]:
    rows = ErrorLog.objects.filter(created_at__gte=start, created_at__lte=end)
    rows = rows.for_tenant(incident.tenant_id) if incident.tenant_id else rows
    return {"total": rows.count(), "items": [_error_log(e) for e in rows.order_by("-created_at", "-id")[:LIMIT]]}


def _traces(incident: Incident, start: Any, end: Any) -> dict[str, Any]:
    if not incident.tenant_id:
        return {"total": 0, "items": [], "note": "system-wide incident: traces are per tenant"}
    return _section("message_traces", incident, start, end) or {"total": 0, "items": []}


def _audit(incident: Incident, end: Any) -> dict[str, Any]:
    rows = AuditLog.objects.filter(created_at__gte=incident.opened_at - AUDIT_BEFORE, created_at__lte=end)
    if incident.tenant_id:
        # The tenant's changes and system-wide ones (release pointers, global settings).
        from django.db.models import Q

        rows = rows.filter(Q(tenant_id=incident.tenant_id) | Q(tenant__isnull=True))
    for prefix in _AUDIT_NOISE:
        rows = rows.exclude(action__startswith=prefix)
    items = [
        {"id": a.pk, "at": _iso(a.created_at), "phase": "before" if a.created_at < incident.opened_at else "during",
         "actor": f"{a.actor_kind}:{a.actor_label or a.actor_id}", "action": a.action, "object": a.object_repr,
         "tenant_id": a.tenant_id, "payload": a.payload}
        for a in rows.order_by("-created_at", "-id")[:LIMIT]
    ]
    return {"total": len(items), "items": items}


def _in_effect(incident: Incident, tenant: Any, start: Any, end: Any) -> dict[str, Any]:
    effect: dict[str, Any] = {"release": None, "channel": None, "kb_version": None}
    if tenant is None:
        return effect
    effect["channel"] = getattr(getattr(tenant, "settings", None), "release_channel", None) or "stable"
    effect.update(_section("in_effect", incident, start, end) or {})
    return effect


def _versions_from_traces(traces: dict[str, Any]) -> list[dict[str, Any]]:
    seen: dict[tuple[Any, Any], int] = {}
    for item in traces["items"]:
        key = (item["release"], item["kb_version"])
        seen[key] = seen.get(key, 0) + 1
    return [{"release": release, "kb_version": kb, "turns": n} for (release, kb), n in seen.items()]


def _with_time(items: list[dict[str, Any]], key: str = "at") -> list[dict[str, Any]]:
    """Copies with `when` (a datetime) so templates can format the ISO strings."""
    from datetime import datetime

    return [{**item, "when": datetime.fromisoformat(item[key]) if item.get(key) else None} for item in items]


def rca_summary_text(bundle: dict[str, Any]) -> str:
    """The Telegram `/incident <id>` reply (Russian, plain text, within Telegram's limit)."""
    from datetime import datetime

    incident = bundle["incident"]
    context = {
        "incident": incident, "severity": texts.SEVERITY_LABELS.get(incident["severity"], incident["severity"]),
        "status": texts.STATUS_LABELS.get(incident["status"], incident["status"]),
        "opened_at": datetime.fromisoformat(incident["opened_at"]),
        "resolved_at": datetime.fromisoformat(incident["resolved_at"]) if incident["resolved_at"] else None,
        "timeline": _with_time(bundle["timeline"][-8:]), "timeline_total": len(bundle["timeline"]),
        "failing": _with_time(bundle["check_results"]["failing"][:3]), "failing_total": bundle["check_results"]["failing_total"],
        "errors": _with_time(bundle["error_logs"]["items"][:3]), "errors_total": bundle["error_logs"]["total"],
        "traces": _with_time([t for t in bundle["message_traces"]["items"] if t["error_log_ids"] or t["send_status"] == "failed"][:3]),
        "traces_total": bundle["message_traces"]["total"], "audit": _with_time(bundle["audit"]["items"][:5]),
        "effect": bundle["in_effect"],
    }
    text = render_plain("incidents/incidents/summary.txt", context)
    return text if len(text) <= 4000 else text[:3990] + "…"
