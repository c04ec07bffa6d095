"""SLA follow-ups of escalations: remind the managers, reassure the customer once
(rules and settings: docs/PIPELINE.md "4. Escalation and the human side").

Each step is claimed with a conditional update of the escalation, in one transaction with its
effect (the notifier's rows, the outbound message), so concurrent sweeps cannot both act and a
failure rolls the claim back for the next sweep. A sweeper that was down does not fire a burst.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from conversations.choices import EscalationStatus, OutboundKind
from conversations.models import Escalation
from conversations.selectors import escalations_for_sla
from incidents.errors import error_log_record
from tenants.models import DEFAULT_HOLDING_FOLLOWUP

logger = logging.getLogger(__name__)


@dataclass
class ReminderReport:
    checked: int = 0
    reminders: list[dict[str, Any]] = field(default_factory=list)  # {"escalation_id", "conversation_id", "number"}
    holding_followups: list[dict[str, Any]] = field(default_factory=list)  # {"escalation_id", "conversation_id", "outbound_id"}
    failed: list[dict[str, Any]] = field(default_factory=list)  # {"escalation_id", "step", "error"}

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(reminders_sent=len(self.reminders), holding_followups_sent=len(self.holding_followups))
        return data


def holding_followup_text(tenant: Any) -> str:
    template = getattr(getattr(tenant, "settings", None), "holding_followup_template", "") or ""
    return template.strip() or DEFAULT_HOLDING_FOLLOWUP


def followup_idempotency_key(escalation: Escalation) -> str:
    return f"t{escalation.tenant_id}-esc{escalation.pk}-followup"


def escalation_reminders_process(*, now: datetime | None = None, limit: int | None = None) -> ReminderReport:
    """One pass over the open escalations (see module docstring). Safe to run concurrently and
    repeatedly: every reminder and follow-up is claimed exactly once. Returns what it did."""
    now = now or timezone.now()
    cap = settings.ESCALATION_REMINDERS_MAX
    report = ReminderReport()
    for escalation in escalations_for_sla(now=now, reminders_max=cap, limit=limit or settings.OUTBOX_SWEEP_BATCH):
        report.checked += 1
        sla = timedelta(minutes=max(1, escalation.tenant.settings.escalation_sla_minutes))
        if _reminder_due(escalation, now=now, sla=sla, cap=cap):
            _remind(escalation, now=now, report=report)
        if _followup_due(escalation, now=now, sla=sla):
            _follow_up(escalation, now=now, report=report)
    if report.reminders or report.holding_followups or report.failed:
        logger.info("escalation reminders: %s reminder(s), %s holding follow-up(s), %s failure(s)",
                    len(report.reminders), len(report.holding_followups), len(report.failed))
    return report


def _reminder_due(escalation: Escalation, *, now: datetime, sla: timedelta, cap: int) -> bool:
    if escalation.status != EscalationStatus.OPEN or escalation.reminders_sent >= cap:
        return False
    if now < escalation.created_at + sla * (escalation.reminders_sent + 1):
        return False
    return escalation.last_reminder_at is None or now >= escalation.last_reminder_at + sla


def _followup_due(escalation: Escalation, *, now: datetime, sla: timedelta) -> bool:
    return (
        escalation.holding_followup_at is None
        and escalation.holding_sent  # annotated by the selector
        and not escalation.manager_replied
        and now >= escalation.created_at + sla
    )


def _remind(escalation: Escalation, *, now: datetime, report: ReminderReport) -> None:
    from conversations.notifier import get_notifier

    number = escalation.reminders_sent + 1
    waited = int((now - escalation.created_at).total_seconds() // 60)
    try:
        with transaction.atomic():
            claimed = Escalation.objects.filter(
                pk=escalation.pk, status=EscalationStatus.OPEN, reminders_sent=escalation.reminders_sent
            ).update(reminders_sent=number, last_reminder_at=now)
            if claimed != 1:
                return  # taken meanwhile, or another sweep reminded
            escalation.reminders_sent, escalation.last_reminder_at = number, now
            notifier = get_notifier()
            remind = getattr(notifier, "escalation_reminder", None)
            if remind is not None:
                remind(escalation, number=number, waited_minutes=waited)
    except Exception as exc:  # the claim rolled back: the next sweep tries again
        error_log_record(where="conversations.reminders", exc=exc, tenant=escalation.tenant,
                         context={"escalation_id": escalation.pk, "step": "reminder", "number": number})
        report.failed.append({"escalation_id": escalation.pk, "step": "reminder", "error": f"{type(exc).__name__}: {exc}"[:300]})
        return
    report.reminders.append({"escalation_id": escalation.pk, "conversation_id": escalation.conversation_id, "number": number})


def _follow_up(escalation: Escalation, *, now: datetime, report: ReminderReport) -> None:
    from conversations.services.delivery import outbound_enqueue

    try:
        with transaction.atomic():
            claimed = Escalation.objects.filter(
                pk=escalation.pk, holding_followup_at__isnull=True, status__in=[EscalationStatus.OPEN, EscalationStatus.TAKEN]
            ).update(holding_followup_at=now)
            if claimed != 1:
                return
            outbound = outbound_enqueue(
                tenant=escalation.tenant, conversation=escalation.conversation, text=holding_followup_text(escalation.tenant),
                kind=OutboundKind.HOLDING, idempotency_key=followup_idempotency_key(escalation), escalation=escalation,
                created_by="system:sla-followup",
            )
    except Exception as exc:
        error_log_record(where="conversations.reminders", exc=exc, tenant=escalation.tenant,
                         context={"escalation_id": escalation.pk, "step": "holding_followup"})
        report.failed.append({"escalation_id": escalation.pk, "step": "holding_followup", "error": f"{type(exc).__name__}: {exc}"[:300]})
        return
    report.holding_followups.append(
        {"escalation_id": escalation.pk, "conversation_id": escalation.conversation_id, "outbound_id": outbound.pk}
    )
