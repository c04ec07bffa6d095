"""The daily digest: to each tenant's chat (owner and managers) and a cross-tenant one to the CEO.

Numbers come from `conversations.reports.digest_numbers` (the same reads the admin report uses);
texts are Russian templates (templates/telegram/digest/). The beat job `telegram.digest_due` runs
every few minutes and sends each digest once per local day at DIGEST_TIME (the tenant's time zone;
the CEO's in TIME_ZONE): a digest already queued for that day (its outbox key
`digest:<slug>:<date>`) is not sent again. `/digest <tenant>` in the CEO bot sends one now.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone

from conversations.reports import digest_numbers
from imperium.telegram import texts
from incidents.models import Alert
from incidents.texts import plural
from tenants.choices import ClientStatus
from tenants.models import Client

logger = logging.getLogger(__name__)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception:  # a bad zone name must not stop the digest
        return ZoneInfo(settings.TIME_ZONE)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f} %"


def _minutes(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f} мин" if value >= 1 else "< 1 мин"


def digest_period(tenant: Client, *, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The last 24 hours up to now (the digest is read in the morning about the day before)."""
    now = now or timezone.now()
    return now - timedelta(days=1), now


def digest_context(tenant: Client, *, since: datetime, until: datetime) -> dict[str, Any]:
    numbers = digest_numbers(tenant, since=since, until=until)
    reasons = [{"label": texts.ESCALATION_REASONS.get(reason, reason), "count": count}
               for reason, count in numbers["handovers_by_reason"].items()]
    unanswered = [{**g, "reason_label": texts.ESCALATION_REASONS.get(g["reason"], g["reason"]),
                   "times": f"{g['count']} {plural(g['count'], *texts.TIMES)}"} for g in numbers["top_unanswered"]]
    zone = _zone(tenant.timezone)
    return {"tenant": tenant, "n": numbers, "reasons": reasons, "unanswered": unanswered, "answered_share": _pct(numbers["answered_share"]),
            "median": _minutes(numbers["first_reply_median_min"]), "p90": _minutes(numbers["first_reply_p90_min"]),
            "since": timezone.localtime(since, zone), "until": timezone.localtime(until, zone)}


def digest_text(tenant: Client, *, since: datetime, until: datetime) -> str:
    return texts.render("digest/tenant", **digest_context(tenant, since=since, until=until))


def ceo_digest_text(*, since: datetime, until: datetime) -> str:
    rows = []
    for tenant in Client.objects.exclude(status=ClientStatus.DISABLED).select_related("settings").order_by("slug"):
        numbers = digest_numbers(tenant, since=since, until=until, top=1)
        rows.append({"tenant": tenant, "n": numbers, "answered_share": _pct(numbers["answered_share"]),
                     "p90": _minutes(numbers["first_reply_p90_min"])})
    totals = {key: sum(r["n"][key] for r in rows) for key in
              ("conversations", "turns_answered", "turns_escalated", "handovers", "sla_breaches", "delivery_failures",
               "suggestions_waiting", "wrong_answer_marks")}
    answered = totals["turns_answered"] + totals["turns_escalated"]
    zone = _zone(settings.TIME_ZONE)
    share = totals["turns_answered"] / answered if answered else None
    return texts.render("digest/ceo", rows=rows, totals=totals, answered_share=_pct(share),
                        since=timezone.localtime(since, zone), until=timezone.localtime(until, zone))


def digest_send(tenant: Client, *, now: datetime | None = None, key: str = "") -> Alert | None:
    """Queue the tenant's digest for its chat (the CEO chat when it has none: `tenant_notify`)."""
    from incidents.alerts import tenant_notify

    since, until = digest_period(tenant, now=now)
    return tenant_notify(tenant=tenant, text=digest_text(tenant, since=since, until=until),
                         key=key or f"digest:{tenant.slug}:{until.isoformat()}", title="daily digest")


def ceo_digest_send(*, now: datetime | None = None, key: str = "") -> Alert | None:
    from incidents.alerts import telegram_message_enqueue

    now = now or timezone.now()
    return telegram_message_enqueue(chat_id=str(settings.ALERT_CHAT_ID or ""), topic_id=settings.ALERT_TOPIC_ID,
                                text=ceo_digest_text(since=now - timedelta(days=1), until=now),
                                key=key or f"digest:ceo:{now.isoformat()}", title="daily digest")


def _due(local_now: datetime) -> date | None:
    """The local day whose digest is due now (at or after DIGEST_TIME), else None."""
    hours, minutes = (int(part) for part in settings.DIGEST_TIME.split(":"))
    return local_now.date() if local_now.time() >= time(hours, minutes) else None


def digests_due(*, now: datetime | None = None) -> list[str]:
    """Beat job: send each digest whose local time has come and that was not sent that day.
    Returns the keys queued."""
    if not settings.DIGEST_ENABLED:
        return []
    now = now or timezone.now()
    sent = []
    for tenant in Client.objects.exclude(status=ClientStatus.DISABLED).select_related("settings").order_by("slug"):
        day = _due(timezone.localtime(now, _zone(tenant.timezone)))
        key = f"digest:{tenant.slug}:{day}"
        if day is None or Alert.objects.filter(dedup_key=key).exists():
            continue
        try:
            if digest_send(tenant, now=now, key=key) is not None:
                sent.append(key)
        except Exception:  # one tenant's digest must not stop the others
            logger.exception("digest of %s failed", tenant.slug)
    day = _due(timezone.localtime(now, _zone(settings.TIME_ZONE)))
    key = f"digest:ceo:{day}"
    if day is not None and not Alert.objects.filter(dedup_key=key).exists() and ceo_digest_send(now=now, key=key) is not None:
        sent.append(key)
    return sent
