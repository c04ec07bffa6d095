"""Messages around each visit: reminders (the day before, 2 hours before), a thank-you with a
1–5 rating request, a rebooking nudge — per tenant, each switchable, never in quiet hours,
never to a customer who wrote «стоп».

This module decides *what is due* and claims it (a conditional update of the record's `*_at`
column: a message is claimed once); the sending goes through the pipeline's exactly-once
outbound path, driven by the beat task `crm.visit_messages_send` (an entry point).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from crm import parsing, selectors
from crm.choices import RecordStatus
from crm.models import CrmConnection, CrmRecord, CrmService
from crm.texts import text

DAY_BEFORE = "day_before"
TWO_HOURS = "two_hours"
THANK_YOU = "thank_you"
NUDGE = "nudge"

_COLUMN = {DAY_BEFORE: "reminded_day_before_at", TWO_HOURS: "reminded_two_hours_at", THANK_YOU: "thanked_at", NUDGE: "nudged_at"}


@dataclass(frozen=True)
class VisitMessage:
    record: CrmRecord
    kind: str
    text: str

    @property
    def idempotency_key(self) -> str:
        return f"crm-visit:{self.record.tenant_id}:{self.record.record_id}:{self.kind}:{self.record.starts_at:%Y%m%d%H%M}"


def _quiet(connection: CrmConnection, local: dt.datetime) -> bool:
    start, end, now = connection.quiet_hours_start, connection.quiet_hours_end, local.time()
    if start == end:
        return False
    return (now >= start or now < end) if start > end else (start <= now < end)


def _day_before_due(connection: CrmConnection, starts_local: dt.datetime) -> dt.datetime:
    """24 h before; moved out of the quiet hours (earlier in the evening, later in the morning)."""
    due = starts_local - timedelta(days=1)
    if not _quiet(connection, due):
        return due
    if due.time() >= connection.quiet_hours_start:
        return due.replace(hour=connection.quiet_hours_start.hour, minute=connection.quiet_hours_start.minute) - timedelta(hours=1)
    return due.replace(hour=connection.quiet_hours_end.hour, minute=connection.quiet_hours_end.minute)


def visit_messages_due(*, now: dt.datetime | None = None) -> list[VisitMessage]:
    """What is due now, over every tenant with an active CRM connection."""
    now = now or timezone.now()
    out: list[VisitMessage] = []
    intervals: dict[tuple[int, int], int | None] = {}
    opted: dict[int, set[str]] = {}
    for record in selectors.records_due_for_messages(now=now):
        connection = record.tenant.crm_connection
        tz = ZoneInfo(record.tenant.timezone)
        local_now = now.astimezone(tz)
        if _quiet(connection, local_now):
            continue
        if record.tenant_id not in opted:
            from crm.models import VisitOptOut

            opted[record.tenant_id] = set(VisitOptOut.objects.for_tenant(record.tenant).values_list("customer_key", flat=True))
        if record.customer_key in opted[record.tenant_id]:
            continue
        starts = record.starts_at.astimezone(tz)
        name = f", {record.customer_name.split()[0]}" if record.customer_name.strip() else ""
        master = f" к {record.staff_name}" if record.staff_name else ""
        values = {"name": name, "service": record.service_title.lower(), "master": master, "time": starts.strftime("%H:%M"),
                  "day": f"{starts.day} {_month(starts.month)}"}
        if record.starts_at > now:
            if (connection.remind_day_before and record.reminded_day_before_at is None
                    and _day_before_due(connection, starts) <= local_now < starts - timedelta(hours=3)):
                out.append(VisitMessage(record, DAY_BEFORE, text("remind_day_before", **values)))
            elif (connection.remind_two_hours and record.reminded_two_hours_at is None
                  and starts - timedelta(hours=2) <= local_now < starts - timedelta(minutes=15)):
                out.append(VisitMessage(record, TWO_HOURS, text("remind_two_hours", **values)))
            continue
        ended = record.starts_at + timedelta(seconds=record.seance_length or 3600)
        if connection.thank_you and record.thanked_at is None and ended + timedelta(hours=1) <= now < ended + timedelta(days=2):
            out.append(VisitMessage(record, THANK_YOU, text("thank_you", **values)))
            continue
        if connection.rebook_nudge and record.nudged_at is None and record.service_id:
            key = (record.tenant_id, record.service_id)
            if key not in intervals:
                intervals[key] = CrmService.objects.for_tenant(record.tenant).filter(crm_id=record.service_id).values_list(
                    "rebook_after_days", flat=True).first()
            days = intervals[key]
            if days and record.starts_at + timedelta(days=days) <= now < record.starts_at + timedelta(days=days + 7):
                later = selectors.records_of_customer(record.tenant, record.customer_key, upcoming_after=record.starts_at).exists()
                if not later:
                    out.append(VisitMessage(record, NUDGE, text("rebook_nudge", days=days, **values)))
    return out


def visit_message_claim(*, message: VisitMessage, now: dt.datetime | None = None) -> bool:
    """Mark the message as sent-to-be (one conditional update): True for the one caller that may send it."""
    column = _COLUMN[message.kind]
    return CrmRecord.objects.filter(pk=message.record.pk, **{f"{column}__isnull": True}).update(
        **{column: now or timezone.now()}) == 1


def _month(month: int) -> str:
    from crm.texts import MONTHS_GENITIVE

    return MONTHS_GENITIVE[month - 1]


def record_awaiting_answer(*, tenant: Any, customer_key: str, now: dt.datetime) -> CrmRecord | None:
    """The upcoming record whose day-before reminder asked «да» or «отменить» (not answered yet)."""
    return (CrmRecord.objects.for_tenant(tenant)
            .filter(customer_key=customer_key, status=RecordStatus.UPCOMING, starts_at__gt=now, confirmed_by_customer=False,
                    reminded_day_before_at__gte=now - timedelta(hours=30))
            .order_by("starts_at").first())


def visit_answer(*, tenant: Any, customer_key: str, message: str, now: dt.datetime, turn_key: str) -> Any:
    """A 1–5 rating after a thank-you (low → managers, as a complaint), or None."""
    from crm.booking import ANSWER, ESCALATE, BookingReply

    rating = parsing.rating_of(message)
    if rating is None:
        return None
    record = (CrmRecord.objects.for_tenant(tenant)
              .filter(Q(customer_key=customer_key), thanked_at__gte=now - timedelta(days=3), rated_at__isnull=True)
              .order_by("-thanked_at").first())
    if record is None:
        return None
    CrmRecord.objects.filter(pk=record.pk, rated_at__isnull=True).update(rating=rating, rated_at=now)
    if rating <= 3:
        return BookingReply(ESCALATE, reason="complaint", detail={"crm": "low_rating", "rating": rating, "record_id": record.record_id,
                                                                  "service": record.service_title, "master": record.staff_name,
                                                                  "visit": record.starts_at.isoformat()})
    return BookingReply(ANSWER, text("rating_thanks"), detail={"crm": "rating", "rating": rating, "record_id": record.record_id})
