"""Side work of a conversation that is retried, then given up loudly: showing a bot answer to the
managers (`Turn.answer_notify_due_at`, services.handover.turn_answer_notify) and learning from a
resolved hand-over (`Escalation.learn_due_at`, services.learning.handover_learn).

They follow the rules of the other manager notices (escalation cards, forwarded messages):
- each run of the task counts an attempt on the row (`answer_notify_attempts`, `learn_attempts`);
- a failed run leaves the due marker set; the outbox sweeper queues it again at doubling intervals
  (the n-th retry waits as long as the row had waited before the previous run: `outbox._backoff`);
- after MAX_NOTIFY_ATTEMPTS failed runs, or when the row is older than SIDE_WORK_MAX_AGE (a
  day-old card is no help), the work is given up: the marker is cleared and an incident is opened
  for the tenant (`incidents.services.incident_open`: one alert to the CEO chat per opening). More
  give-ups while it is open are added to its timeline, never alerted again; the next run of that
  job for the tenant that succeeds resolves it (`side_work_recovered`).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.db.models import F
from django.utils import timezone

logger = logging.getLogger(__name__)

ANSWER_NOTICE = "side_work.answer_notice"
LEARNING = "side_work.learning"

# Learning and answer notices older than this are given up: a day-old card is no help.
SIDE_WORK_MAX_AGE = timedelta(days=1)

_TITLES = {
    ANSWER_NOTICE: "Менеджеры {tenant} не видят ответы бота",
    LEARNING: "База знаний {tenant} не учится на ответах менеджеров",
}


def side_work_give_up(*, kind: str, tenant: Any, what: str, error: str, attempts: int) -> None:
    """Record that `what` (e.g. "bot answer of turn 12") of `tenant` will not be retried any more.

    Opens the tenant's incident for `kind` (fingerprint `<kind>:<tenant slug>`, one alert), or adds
    a timeline entry to the one already open. Never raises: giving up must not fail the caller."""
    from imperium.core.actors import Actor
    from incidents.choices import AlertSeverity, IncidentEventKind
    from incidents.models import Incident
    from incidents.services import incident_event_add, incident_open

    summary = f"Gave up {what} after {attempts} attempt(s): {error}"[:2000]
    logger.error("side work given up for tenant %s: %s", getattr(tenant, "slug", tenant), summary)
    try:
        now = timezone.now()
        actor = Actor.system("outbox")
        incident, created = incident_open(
            fingerprint=f"{kind}:{tenant.slug}", kind=kind, target=tenant.slug, tenant=tenant, severity=AlertSeverity.WARNING,
            title=_TITLES[kind].format(tenant=tenant.slug), summary=summary, actor=actor, now=now,
            data={"what": what, "attempts": attempts},
        )
        if not created:
            Incident.objects.filter(pk=incident.pk).update(failure_count=F("failure_count") + 1, last_failed_at=now)
            incident_event_add(incident=incident, kind=IncidentEventKind.CHECK_FAILED, actor=actor, now=now, message=summary,
                               data={"what": what, "attempts": attempts})
    except Exception:  # the ErrorLog rows and this log line still tell
        logger.exception("could not record the give-up of %s", what)


def side_work_recovered(*, kind: str, tenant_id: int) -> None:
    """The job worked again for this tenant: resolve its open give-up incident, if any (one
    `resolved` alert). One indexed read when there is none. Never raises."""
    from incidents.choices import OPEN_INCIDENT_STATUSES
    from incidents.models import Incident
    from incidents.services import incident_resolve_system

    try:
        incident = Incident.objects.filter(kind=kind, tenant_id=tenant_id, status__in=OPEN_INCIDENT_STATUSES).first()
        if incident is not None:
            from imperium.core.actors import Actor

            incident_resolve_system(incident=incident, reason="работает снова", actor=Actor.system("outbox"))
    except Exception:
        logger.exception("could not resolve the %s incident of tenant %s", kind, tenant_id)
