"""The fixer: known remediations for incident kinds, run by themselves when the write-risk
policy calls them low risk.

An entry point (beat task `incidents.fixer_run` every FIXER_INTERVAL_SECONDS, `manage.py fixer`).
Each pass:
1. watches the sentinel: the heartbeat check in watchdog mode (a stale last run is a failing
   observation; twice in a row opens the `sentinel.heartbeat` incident — the sentinel cannot
   report its own death);
2. for every open incident whose kind has a remediation: runs it through `policy_execute`
   (actor `system:fixer`), re-runs the incident's check for its target, writes the outcome on
   the timeline (`remediation_started` / `_succeeded` / `_failed`) and resolves the incident when
   the check passes. A remediation whose effect needs queued work (re-enqueued turns, resent
   deliveries) is verified on the next pass. A remediation that is not low risk becomes a
   pending VerificationRequest for the CEO, noted on the timeline (`fix_state=proposed`).
   At most FIXER_MAX_ATTEMPTS attempts, FIXER_RETRY_MINUTES apart; then it gives up with a note.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.core.correlation import correlation_scope
from incidents.choices import OPEN_INCIDENT_STATUSES, FixState, IncidentEventKind
from incidents.errors import error_log_record
from incidents.models import CheckResult, Incident
from incidents.services import (
    incident_event_add,
    incident_observe,
    incident_resolve_system,
)

logger = logging.getLogger(__name__)

FIXER_ACTOR = Actor.system("fixer")
BATCH = 50


@dataclass(frozen=True)
class Remediation:
    action: str
    params: Callable[[Incident], dict[str, Any]]
    # The effect shows only once queued work ran: verify on the next pass, not at once.
    asynchronous: bool = False
    # A result meaning "not yet" (e.g. the gateway still down): not an attempt, try next pass.
    deferred: Callable[[Any], bool] = lambda result: False


REMEDIATIONS: dict[str, Remediation] = {
    "qdrant.collection": Remediation("fixer.reindex_tenant", lambda incident: {"tenant": "*"}),
    "qdrant.points": Remediation("fixer.reindex_tenant", lambda incident: {"tenant": incident.target}),
    "pipeline.silent": Remediation("fixer.requeue_turns", lambda incident: {"tenant": incident.target}, asynchronous=True),
    "outbox.backlog": Remediation("fixer.requeue_turns", lambda incident: {"tenant": "*"}, asynchronous=True),
    "chatflow": Remediation(
        "fixer.resend_failed_deliveries", lambda incident: {"tenant": incident.target}, asynchronous=True,
        deferred=lambda result: isinstance(result, dict) and result.get("gateway") == "down",
    ),
}


@dataclass
class FixerReport:
    watchdog: str = ""
    attempted: list[int] = field(default_factory=list)
    resolved: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    proposed: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"watchdog": self.watchdog, "attempted": self.attempted, "resolved": self.resolved, "failed": self.failed,
                "proposed": self.proposed, "waiting": self.waiting}


def fixer_run(*, now: datetime | None = None) -> FixerReport:
    """One fixer pass (see the module docstring). Safe to run concurrently: each attempt is
    claimed with a conditional update of the incident's attempt counter."""
    report = FixerReport()
    with correlation_scope(None):
        report.watchdog = _watch_sentinel(now or timezone.now())
        for incident in Incident.objects.filter(status__in=OPEN_INCIDENT_STATUSES).order_by("opened_at", "id")[:BATCH]:
            try:
                _fix(incident, now or timezone.now(), report)
            except Exception as exc:  # one incident's trouble must not stop the others
                error_log_record(where="fixer", exc=exc, tenant=incident.tenant_id, context={"incident": incident.pk})
    return report


def _watch_sentinel(now: datetime) -> str:
    from incidents.sentinel import sentinel_collect

    changes = []
    for observation in sentinel_collect(now=now, only="sentinel.heartbeat", watchdog=True):
        outcome = incident_observe(observation=observation, now=now)
        changes.append(outcome.change or observation.state)
    return ",".join(changes)


def verify(incident: Incident, *, now: datetime | None = None) -> tuple[bool, str]:
    """Re-run the incident's check for its target; record what it saw. (passes?, detail)"""
    from incidents.sentinel import sentinel_collect

    now = now or timezone.now()
    observations = [o for o in sentinel_collect(now=now, only=incident.fingerprint) if o.fingerprint == incident.fingerprint]
    for o in observations:
        CheckResult.objects.create(
            check_name=o.check[:64], target=o.target[:100], fingerprint=o.fingerprint[:200], tenant_id=o.tenant_id, ok=o.ok,
            skipped=o.skipped, latency_ms=o.latency_ms, detail=o.detail[:5000], data={**o.data, "source": "fixer"}, checked_at=now,
        )
    judged = [o for o in observations if not o.skipped]
    if not judged:
        detail = observations[0].detail if observations else "the check reported nothing for this target"
        return False, f"not verified: {detail}"
    failing = [o for o in judged if not o.ok]
    return not failing, "; ".join(o.detail for o in (failing or judged))[:2000]


def _fix(incident: Incident, now: datetime, report: FixerReport) -> None:
    remediation = REMEDIATIONS.get(incident.kind)
    if remediation is None:
        if incident.fix_state != FixState.NOT_APPLICABLE:
            Incident.objects.filter(pk=incident.pk).update(fix_state=FixState.NOT_APPLICABLE)
        return
    if incident.fix_state in (FixState.PROPOSED, FixState.GAVE_UP, FixState.NOT_APPLICABLE):
        return
    if incident.fix_next_at is not None and incident.fix_next_at > now:
        return
    if incident.fix_state == FixState.VERIFYING:
        if not Incident.objects.filter(pk=incident.pk, fix_state=FixState.VERIFYING).update(fix_state=FixState.NONE):
            return
        _verify_and_finish(incident, remediation, now, report, result=None, waited=True)
        return
    if incident.fix_attempts >= settings.FIXER_MAX_ATTEMPTS:
        _give_up(incident)
        return
    # Claim this attempt: a concurrent fixer sees another attempt count and leaves it alone.
    retry_at = now + timedelta(minutes=settings.FIXER_RETRY_MINUTES)
    if not Incident.objects.filter(pk=incident.pk, fix_attempts=incident.fix_attempts, fix_state=incident.fix_state).update(
        fix_attempts=F("fix_attempts") + 1, fix_next_at=retry_at,
    ):
        return
    incident.fix_attempts += 1
    params = remediation.params(incident)
    if incident.fix_state != FixState.WAITING:
        incident_event_add(incident=incident, kind=IncidentEventKind.REMEDIATION_STARTED, actor=FIXER_ACTOR, now=now,
                           message=f"{remediation.action} {params} (attempt {incident.fix_attempts})",
                           data={"action": remediation.action, "params": params, "attempt": incident.fix_attempts})
    report.attempted.append(incident.pk)
    from imperium.core.policy import policy_execute

    try:
        outcome = policy_execute(remediation.action, FIXER_ACTOR, params, tenant=incident.tenant_id,
                                 reason=f"incident #{incident.pk}: {incident.title}")
    except Exception as exc:
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        error_log_record(where="fixer.remediation", exc=exc, tenant=incident.tenant_id,
                         context={"incident": incident.pk, "action": remediation.action, "params": params})
        incident_event_add(incident=incident, kind=IncidentEventKind.REMEDIATION_FAILED, actor=FIXER_ACTOR, message=message[:2000],
                           data={"action": remediation.action, "attempt": incident.fix_attempts})
        Incident.objects.filter(pk=incident.pk).update(fix_state=FixState.NONE)
        report.failed.append(incident.pk)
        return
    if outcome.status == "pending":
        request_id = outcome.request.pk if outcome.request is not None else None
        Incident.objects.filter(pk=incident.pk).update(fix_state=FixState.PROPOSED)
        incident_event_add(incident=incident, kind=IncidentEventKind.NOTE, actor=FIXER_ACTOR, now=now,
                           message=f"{remediation.action} is not low risk: proposed to the CEO as verification request #{request_id}",
                           data={"action": remediation.action, "params": params, "verification_request": request_id})
        report.proposed.append(incident.pk)
        return
    if remediation.deferred(outcome.result):
        # Not an attempt: the precondition (the gateway answering) is not there yet. Say it once.
        first_wait = incident.fix_state != FixState.WAITING
        Incident.objects.filter(pk=incident.pk).update(fix_state=FixState.WAITING, fix_attempts=F("fix_attempts") - 1, fix_next_at=None)
        if first_wait:
            incident_event_add(incident=incident, kind=IncidentEventKind.NOTE, actor=FIXER_ACTOR, now=now,
                               message=f"{remediation.action}: waiting — {outcome.result}", data={"result": outcome.result})
        report.waiting.append(incident.pk)
        return
    _verify_and_finish(incident, remediation, now, report, result=outcome.result, waited=False)


def _verify_and_finish(incident: Incident, remediation: Remediation, now: datetime, report: FixerReport, *, result: Any,
                       waited: bool) -> None:
    passed, detail = verify(incident)
    if passed:
        incident_event_add(incident=incident, kind=IncidentEventKind.REMEDIATION_SUCCEEDED, actor=FIXER_ACTOR,
                           message=f"{remediation.action}: the check passes again ({detail})"[:2000],
                           data={"action": remediation.action, "result": result})
        incident_resolve_system(incident=incident, actor=FIXER_ACTOR, data={"action": remediation.action},
                                reason=f"исправлено автоматически ({remediation.action}), проверка снова проходит")
        report.resolved.append(incident.pk)
        return
    if remediation.asynchronous and not waited:
        verify_at = timezone.now() + timedelta(seconds=settings.FIXER_INTERVAL_SECONDS)
        Incident.objects.filter(pk=incident.pk).update(fix_state=FixState.VERIFYING, fix_next_at=verify_at)
        incident_event_add(incident=incident, kind=IncidentEventKind.NOTE, actor=FIXER_ACTOR,
                           message=f"{remediation.action} queued the work; verifying on the next pass",
                           data={"action": remediation.action, "result": result})
        report.waiting.append(incident.pk)
        return
    incident_event_add(incident=incident, kind=IncidentEventKind.REMEDIATION_FAILED, actor=FIXER_ACTOR,
                       message=f"{remediation.action}: the check still fails: {detail}"[:2000],
                       data={"action": remediation.action, "result": result, "attempt": incident.fix_attempts})
    report.failed.append(incident.pk)
    incident.refresh_from_db(fields=["fix_attempts"])
    if incident.fix_attempts >= settings.FIXER_MAX_ATTEMPTS:
        _give_up(incident)


def _give_up(incident: Incident) -> None:
    if Incident.objects.filter(pk=incident.pk).exclude(fix_state=FixState.GAVE_UP).update(fix_state=FixState.GAVE_UP):
        incident_event_add(incident=incident, kind=IncidentEventKind.NOTE, actor=FIXER_ACTOR,
                           message=f"the fixer gave up after {incident.fix_attempts} attempt(s): a person has to look")
