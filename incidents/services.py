"""The incident lifecycle (error logging is `incidents.errors`).

Lifecycle ("never silent, no noise"):
- every sentinel observation is a `CheckResult` (passes are stored when something changed, while
  an incident is open, and at least hourly — enough to count streaks without a row per minute);
- SENTINEL_OPEN_AFTER (K) failures in a row open an incident with exactly one alert; a
  fingerprint has at most one open incident (database constraint);
- further failures only update the incident (a `check_failed` event when the detail changes;
  an optional nag every SENTINEL_NAG_MINUTES while nobody acknowledged it);
- SENTINEL_RESOLVE_AFTER (M) passes in a row resolve it with exactly one alert;
- the same fingerprint failing K times within SENTINEL_REOPEN_COOLDOWN_MINUTES after resolving
  reopens the old incident (one alert) instead of opening a duplicate;
- every transition is a guarded conditional update plus an `IncidentEvent`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.choices import ActorKind
from imperium.core.correlation import get_correlation_id
from imperium.core.exceptions import ApplicationError
from imperium.core.plaintext import render_plain
from imperium.core.services import audit_record, redact
from incidents import texts
from incidents.choices import (
    OPEN_INCIDENT_STATUSES,
    AlertSeverity,
    EventSource,
    FixState,
    IncidentEventKind,
    IncidentStatus,
)
from incidents.models import CheckResult, Incident, IncidentEvent, SentinelRun

logger = logging.getLogger(__name__)

SENTINEL_ACTOR = Actor.system("sentinel")
INCIDENT_ACK_ACTION = "incident.ack"
# A run of passes (or skips) is stored at least this often, so admin shows the check is alive.
RESULT_KEEPALIVE = timedelta(hours=1)
_SOURCES = {ActorKind.USER: EventSource.WEB, ActorKind.TELEGRAM: EventSource.TELEGRAM, ActorKind.API: EventSource.API,
            ActorKind.SYSTEM: EventSource.SYSTEM}


# --- the incident lifecycle -----------------------------------------------------------------
@dataclass
class ObserveOutcome:
    """What one observation did: `change` is "" (nothing), "opened", "reopened", "resolved",
    "failing" (below the threshold), "still_failing" or "nagged"."""

    observation: Any
    result: CheckResult | None
    change: str = ""
    incident: Incident | None = None


def _thresholds() -> tuple[int, int]:
    return settings.SENTINEL_OPEN_AFTER, settings.SENTINEL_RESOLVE_AFTER


def _source_for(actor: Actor, source: str | None) -> str:
    return source or _SOURCES.get(actor.kind, EventSource.SYSTEM)


def incident_event_add(
    *,
    incident: Incident,
    kind: str,
    actor: Actor = SENTINEL_ACTOR,
    source: str | None = None,
    message: str = "",
    data: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> IncidentEvent:
    """Append one timeline entry (never updated or deleted)."""
    return IncidentEvent.objects.create(
        incident=incident, tenant_id=incident.tenant_id, created_at=now or timezone.now(), kind=kind,
        source=_source_for(actor, source), actor_kind=actor.kind, actor_label=actor.label[:150], message=message[:5000],
        data=redact(data or {}),
    )


def open_incidents_by_fingerprint() -> dict[str, Incident]:
    return {i.fingerprint: i for i in Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES)}


_UNSET: Any = object()


def incident_observe(
    *,
    observation: Any,
    run: SentinelRun | None = None,
    now: datetime | None = None,
    open_incident: Incident | None = _UNSET,
) -> ObserveOutcome:
    """Record one observation and move the incident of its fingerprint through the lifecycle
    (see the module docstring). Idempotent enough for overlapping runs: opening is guarded by
    the unique constraint, every transition by a conditional update.

    `open_incident`: the caller's pre-loaded open incident of this fingerprint (or None), saving
    a query per observation in a sentinel run.
    """
    now = now or timezone.now()
    fingerprint = observation.fingerprint
    open_after, resolve_after = _thresholds()
    if open_incident is _UNSET:
        open_incident = Incident.objects.filter(fingerprint=fingerprint, status__in=OPEN_INCIDENT_STATUSES).first()
    recent = list(
        CheckResult.objects.filter(fingerprint=fingerprint).order_by("-checked_at", "-id")
        .values("id", "ok", "skipped", "checked_at")[: max(open_after, resolve_after) + 5]
    )
    failing = not observation.ok and not observation.skipped
    last = recent[0] if recent else None
    if failing or (open_incident is not None and not observation.skipped) or last is None:
        store = True
    else:
        store = (last["skipped"] != observation.skipped or not last["ok"]
                 or now - last["checked_at"] >= RESULT_KEEPALIVE)
    result = None
    if store:
        result = CheckResult.objects.create(
            check_name=observation.check[:64], target=observation.target[:100], fingerprint=fingerprint[:200],
            tenant_id=observation.tenant_id, ok=observation.ok, skipped=observation.skipped, latency_ms=observation.latency_ms,
            detail=observation.detail[:5000], data=redact(observation.data or {}), checked_at=now, run=run,
        )
    outcome = ObserveOutcome(observation=observation, result=result, incident=open_incident)
    if observation.skipped:
        return outcome
    judged = [{"id": result.pk if result else None, "ok": observation.ok}] + [r for r in recent if not r["skipped"]]
    streak = 0
    for row in judged:
        if row["ok"] == observation.ok:
            streak += 1
        else:
            break

    if failing:
        if open_incident is not None:
            outcome.change = _incident_still_failing(open_incident, observation, now)
            return outcome
        if streak < open_after:
            outcome.change = "failing"
            return outcome
        failed_ids = [row["id"] for row in judged[:open_after] if row["id"]]
        incident, change = _incident_open_or_reopen(observation, now, failures=streak, result_ids=failed_ids)
        outcome.incident, outcome.change = incident, change
        return outcome

    if open_incident is not None:
        Incident.objects.filter(pk=open_incident.pk).update(last_checked_at=now)
        if streak >= resolve_after:
            reason = f"{streak} {texts.plural(streak, 'проверка', 'проверки', 'проверок')} подряд без ошибок"
            if incident_resolve_system(incident=open_incident, reason=reason, now=now,
                                       data={"passes": streak, "check_result": result.pk if result else None}):
                outcome.change = "resolved"
    return outcome


def _incident_still_failing(incident: Incident, observation: Any, now: datetime) -> str:
    detail = observation.detail[:5000]
    with transaction.atomic():
        Incident.objects.filter(pk=incident.pk).update(
            failure_count=F("failure_count") + 1, last_failed_at=now, last_checked_at=now, summary=detail,
        )
        if detail != incident.summary:
            # The failure changed shape (another error, other numbers): worth a line on the timeline.
            incident_event_add(incident=incident, kind=IncidentEventKind.CHECK_FAILED, message=detail, now=now,
                               data={"check": observation.check, "target": observation.target})
        incident.summary = detail
        nag = settings.SENTINEL_NAG_MINUTES
        if (
            nag > 0 and incident.status == IncidentStatus.OPEN
            and (incident.last_alert_at is None or now - incident.last_alert_at >= timedelta(minutes=nag))
        ):
            _incident_alert(incident, "nag", now=now)
            return "nagged"
    return "still_failing"


def _incident_open_or_reopen(observation: Any, now: datetime, *, failures: int, result_ids: list[int]) -> tuple[Incident, str]:
    fingerprint = observation.fingerprint
    cooldown = settings.SENTINEL_REOPEN_COOLDOWN_MINUTES
    if cooldown > 0:
        previous = (
            Incident.objects.filter(fingerprint=fingerprint, status=IncidentStatus.RESOLVED,
                                    resolved_at__gte=now - timedelta(minutes=cooldown))
            .order_by("-resolved_at", "-id").first()
        )
        if previous is not None:
            reopened = _incident_reopen(previous, observation, now, failures=failures)
            if reopened is not None:
                return reopened, "reopened"
    incident, created = incident_open(
        fingerprint=fingerprint, kind=observation.check, target=observation.target, tenant=observation.tenant_id,
        severity=observation.severity or AlertSeverity.WARNING, title=texts.check_title(observation.check),
        summary=observation.detail, now=now, failures=failures, data={"check_results": result_ids},
    )
    return incident, "opened" if created else "still_failing"


def incident_open(
    *,
    fingerprint: str,
    kind: str,
    title: str,
    summary: str = "",
    severity: str = AlertSeverity.WARNING,
    tenant: Any = None,
    target: str = "",
    actor: Actor = SENTINEL_ACTOR,
    now: datetime | None = None,
    failures: int = 1,
    data: dict[str, Any] | None = None,
) -> tuple[Incident, bool]:
    """Open an incident for `fingerprint`, or return the one already open (created=False).

    Exactly one alert per opening (template `alert_opened`, with the «Принял» button). Safe
    under concurrency: the unique constraint on open fingerprints decides the race. Other apps
    may call it for failures they detect themselves (e.g. canary analysis).
    """
    now = now or timezone.now()
    severity = severity if severity in AlertSeverity.values else AlertSeverity.WARNING
    with transaction.atomic():
        try:
            with transaction.atomic():
                incident = Incident.objects.create(
                    fingerprint=fingerprint[:200], kind=kind[:64], target=target[:100], tenant_id=getattr(tenant, "pk", tenant),
                    severity=severity, status=IncidentStatus.OPEN, title=title[:200], summary=summary[:5000], opened_at=now,
                    opened_by=actor.label[:150], last_failed_at=now, last_checked_at=now, failure_count=failures,
                    correlation_id=get_correlation_id(),
                )
        except IntegrityError:
            existing = Incident.objects.filter(fingerprint=fingerprint, status__in=OPEN_INCIDENT_STATUSES).first()
            if existing is None:
                raise
            return existing, False
        incident_event_add(incident=incident, kind=IncidentEventKind.OPENED, actor=actor, now=now,
                           message=summary, data={"failures": failures, **(data or {})})
        _incident_alert(incident, "opened", now=now, failures=failures)
    logger.warning("incident #%s opened: %s (%s)", incident.pk, title, fingerprint)
    return incident, True


def _incident_reopen(previous: Incident, observation: Any, now: datetime, *, failures: int) -> Incident | None:
    resolved_at = previous.resolved_at
    try:
        with transaction.atomic():
            changed = Incident.objects.filter(pk=previous.pk, status=IncidentStatus.RESOLVED).update(
                status=IncidentStatus.OPEN, reopen_count=F("reopen_count") + 1, resolved_at=None, resolved_by="",
                acknowledged_at=None, acknowledged_by="", summary=observation.detail[:5000], last_failed_at=now,
                last_checked_at=now, failure_count=F("failure_count") + failures, fix_state=FixState.NONE, fix_attempts=0,
                fix_next_at=None, severity=observation.severity or previous.severity,
            )
            if changed != 1:
                return None
            incident = Incident.objects.get(pk=previous.pk)
            incident_event_add(incident=incident, kind=IncidentEventKind.REOPENED, now=now, message=observation.detail,
                               data={"failures": failures, "previously_resolved_at": resolved_at.isoformat() if resolved_at else None})
            _incident_alert(incident, "reopened", now=now, failures=failures, previously_resolved_at=resolved_at)
    except IntegrityError:  # another run opened a new incident for this fingerprint meanwhile
        return None
    logger.warning("incident #%s reopened (%s)", incident.pk, incident.fingerprint)
    return incident


def _incident_alert(incident: Incident, what: str, *, now: datetime, failures: int = 0, reason: str = "",
                    previously_resolved_at: datetime | None = None) -> None:
    """One alert about one transition, and its `alert_sent` event. Inside the caller's transaction."""
    from imperium.core.botapi.callback_data import callback_data_build
    from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
    from incidents.alerts import alert_raise

    context = {
        "incident": incident, "failures": failures, "reason": reason, "remediation": texts.REMEDIATION_TEXTS.get(incident.kind, ""),
        "duration": _duration_text((incident.resolved_at or now) - incident.opened_at),
    }
    if previously_resolved_at is not None:
        context["incident"] = _Shadow(incident, resolved_at=previously_resolved_at)
    text = render_plain(f"incidents/incidents/alert_{what}.txt", context)
    if what == "resolved":
        title, severity, markup = f"Инцидент #{incident.pk} закрыт: {incident.title}", AlertSeverity.INFO, None
    else:
        title, severity = f"Инцидент #{incident.pk}: {incident.title}", incident.severity
        label = render_plain("incidents/alerts/ack_button.txt")
        markup = inline_keyboard([[InlineButton(label, callback_data_build(INCIDENT_ACK_ACTION, incident.pk))]])
    key = f"incident:{incident.pk}:{what}:{incident.reopen_count}" + (f":{int(now.timestamp())}" if what == "nag" else "")
    alert = alert_raise(title=title, text=text, severity=severity, tenant=incident.tenant_id, key=key, reply_markup=markup)
    Incident.objects.filter(pk=incident.pk).update(last_alert_at=now)
    incident.last_alert_at = now
    incident_event_add(incident=incident, kind=IncidentEventKind.ALERT_SENT, now=now, message=title,
                       data={"alert_id": alert.pk if alert is not None else None, "what": what})


class _Shadow:
    """The incident as a template sees it, with some fields replaced."""

    def __init__(self, incident: Incident, **overrides: Any) -> None:
        self._incident, self._overrides = incident, overrides

    def __getattr__(self, name: str) -> Any:
        if name in self._overrides:
            return self._overrides[name]
        return getattr(self._incident, name)


def _duration_text(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return "меньше минуты"
    if minutes < 60:
        return f"{minutes} мин"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} ч {minutes} мин"
    return f"{hours // 24} д {hours % 24} ч"


def incident_resolve_system(*, incident: Incident, reason: str, now: datetime | None = None,
                            actor: Actor = SENTINEL_ACTOR, data: dict[str, Any] | None = None) -> bool:
    """Resolve an open or acknowledged incident because its check passes again (sentinel or
    fixer). Exactly one `resolved` alert; False when it was no longer open."""
    return _incident_resolve(incident_id=incident.pk, actor=actor, source=EventSource.SYSTEM, reason=reason, now=now, data=data)


def _incident_resolve(*, incident_id: int, actor: Actor, source: str, reason: str, now: datetime | None = None,
                      data: dict[str, Any] | None = None) -> bool:
    now = now or timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, status__in=OPEN_INCIDENT_STATUSES).update(
            status=IncidentStatus.RESOLVED, resolved_at=now, resolved_by=actor.label[:150], last_checked_at=now,
        )
        if changed != 1:
            return False
        incident = Incident.objects.get(pk=incident_id)
        incident_event_add(incident=incident, kind=IncidentEventKind.RESOLVED, actor=actor, source=source, now=now,
                           message=reason, data=data)
        if actor.kind != ActorKind.SYSTEM:
            audit_record(actor=actor, action="incident.resolved", tenant=incident.tenant_id, obj=incident, payload={"reason": reason})
        _incident_alert(incident, "resolved", now=now, reason=reason)
    logger.info("incident #%s resolved by %s: %s", incident_id, actor, reason)
    return True


def incident_resolve(*, incident_id: int, actor: Actor, source: str | None = None, note: str = "") -> tuple[Incident, bool]:
    """A person closes an incident (admin, API). One `resolved` alert; audited `incident.resolved`.
    Returns (incident, changed). A check that still fails reopens it (cool-down)."""
    if not Incident.objects.filter(pk=incident_id).exists():
        raise ApplicationError(_("Incident %(id)s does not exist.") % {"id": incident_id}, status=404)
    reason = f"закрыл(а) {actor.label}" + (f": {note}" if note else "")
    changed = _incident_resolve(incident_id=incident_id, actor=actor, source=_source_for(actor, source), reason=reason)
    return Incident.objects.get(pk=incident_id), changed


def incident_acknowledge(*, incident_id: int, actor: Actor, source: str | None = None) -> tuple[Incident, bool]:
    """Someone takes the incident (Telegram button, admin, API): open → acknowledged, which also
    stops the nag. Returns (incident, changed); pressing twice changes nothing. Audited
    `incident.acknowledged`. Raises ApplicationError(404) for an unknown id."""
    now = timezone.now()
    with transaction.atomic():
        changed = Incident.objects.filter(pk=incident_id, status=IncidentStatus.OPEN).update(
            status=IncidentStatus.ACKNOWLEDGED, acknowledged_at=now, acknowledged_by=actor.label[:150],
        )
        incident = Incident.objects.select_related("tenant").filter(pk=incident_id).first()
        if incident is None:
            raise ApplicationError(_("Incident %(id)s does not exist.") % {"id": incident_id}, status=404)
        if changed:
            incident_event_add(incident=incident, kind=IncidentEventKind.ACKNOWLEDGED, actor=actor, source=source, now=now)
            audit_record(actor=actor, action="incident.acknowledged", tenant=incident.tenant_id, obj=incident)
    return incident, bool(changed)


def incident_note_add(*, incident_id: int, actor: Actor, text: str, source: str | None = None,
                      data: dict[str, Any] | None = None) -> IncidentEvent:
    """Append a note to the timeline (people or the fixer's proposals)."""
    incident = Incident.objects.filter(pk=incident_id).first()
    if incident is None:
        raise ApplicationError(_("Incident %(id)s does not exist.") % {"id": incident_id}, status=404)
    return incident_event_add(incident=incident, kind=IncidentEventKind.NOTE, actor=actor, source=source, message=text, data=data)


def sentinel_run_start(*, trigger: str, now: datetime | None = None) -> SentinelRun:
    return SentinelRun.objects.create(started_at=now or timezone.now(), trigger=trigger, correlation_id=get_correlation_id())


def sentinel_run_finish(*, run: SentinelRun, checks: int, failing: int, duration_ms: float, error: str = "") -> None:
    SentinelRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), checks=checks, failing=failing,
                                                 duration_ms=duration_ms, error=error[:5000])


def checks_prune(*, now: datetime | None = None) -> dict[str, int]:
    """Delete check results and sentinel runs older than SENTINEL_RETENTION_DAYS, except results
    of fingerprints with an open incident (its RCA still needs them). Incidents, their
    timelines and ErrorLogs are kept."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.SENTINEL_RETENTION_DAYS)
    keep = Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES).values("fingerprint")
    results, _ = CheckResult.objects.filter(checked_at__lt=cutoff).exclude(fingerprint__in=keep).delete()
    runs, _ = SentinelRun.objects.filter(started_at__lt=cutoff).delete()
    return {"check_results": results, "sentinel_runs": runs}
