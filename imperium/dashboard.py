"""The operators' home: what needs a person now and how the day goes, for the tenants the
operator may see (every number comes from a scoped selector)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from conversations import selectors as conversation_selectors
from imperium.charts import bar_chart_svg, column_chart_svg
from incidents import selectors as incident_selectors

ATTENTION_REASONS = ("complaint", "toxic", "delivery_failed", "dependency_down")


def operator_dashboard(*, user: Any, now: datetime | None = None) -> dict[str, Any]:
    now = now or timezone.now()
    local_now = timezone.localtime(now)
    day_start = local_now.replace(hour=0, minute=0, second=0, microsecond=0)
    week_start = day_start - timedelta(days=6)
    by_reason = conversation_selectors.escalations_by_reason(user=user, since=week_start)
    per_day = conversation_selectors.turns_by_day(user=user, since=week_start, tz=local_now.tzinfo)
    days = [(week_start + timedelta(days=i)).date() for i in range(7)]
    columns = [
        (formats.date_format(day, "d.m"), per_day.get(day, {}).get("answered", 0), per_day.get(day, {}).get("escalated", 0))
        for day in days
    ]
    labels = {reason: label for reason, label, _n in by_reason}
    return {
        "waiting": conversation_selectors.escalations_waiting(user=user, now=now),
        "today": conversation_selectors.operator_day_numbers(user=user, since=day_start),
        "incidents": list(incident_selectors.incidents_open_visible_to(user)[:20]),
        "escalations_week": sum(n for _r, _l, n in by_reason),
        "by_reason_chart": bar_chart_svg(
            [(label, n) for _r, label, n in by_reason], title=_("Escalations by reason, last 7 days"),
            highlight=[labels[r] for r in ATTENTION_REASONS if r in labels],
        ) if by_reason else None,
        "per_day_chart": column_chart_svg(columns, title=_("Turns per day: answered by the bot and escalated"))
        if any(a or b for _d, a, b in columns) else None,
        "day_start": day_start,
    }
