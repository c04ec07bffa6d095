"""Scrape-time metrics of the reply pipeline: the outbox backlog the sweeper should be moving."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from imperium.core.metrics import SafeCollector

BACKLOG_KINDS = ("turns_due", "turns_stalled", "deliveries", "notifications")


class OutboxCollector(SafeCollector):
    name = "outbox"

    def families(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from conversations.selectors import outbox_backlog

        now = timezone.now()
        backlog = outbox_backlog(now=now)
        count = GaugeMetricFamily("imperium_outbox_backlog", "Due work not done yet, by kind.", labels=["kind"])
        age = GaugeMetricFamily("imperium_outbox_oldest_due_seconds", "Age of the oldest due item, by kind (0 when none).",
                                labels=["kind"])
        for kind in BACKLOG_KINDS:
            row = backlog.get(kind) or {"count": 0, "oldest": None}
            count.add_metric([kind], row["count"])
            age.add_metric([kind], max(0.0, (now - row["oldest"]).total_seconds()) if row["oldest"] else 0.0)
        yield count
        yield age
