"""Scrape-time metrics of the sentinel: the state of every check in its latest run."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone

from imperium.core.metrics import SafeCollector


class SentinelCollector(SafeCollector):
    name = "sentinel"

    def families(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        from incidents.models import CheckResult, SentinelRun

        states = GaugeMetricFamily(
            "imperium_sentinel_checks", "Targets of each check by state (ok, fail, skip) in the latest recorded sentinel run.",
            labels=["check", "state"],
        )
        age = GaugeMetricFamily("imperium_sentinel_last_run_age_seconds", "Seconds since the latest recorded sentinel run finished.")
        run = SentinelRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").only("id", "finished_at").first()
        if run is not None:
            counts: dict[tuple[str, str], int] = {}
            for name, ok, skipped in CheckResult.objects.filter(run_id=run.pk).values_list("check_name", "ok", "skipped"):
                key = (name, "skip" if skipped else ("ok" if ok else "fail"))
                counts[key] = counts.get(key, 0) + 1
            for (name, state), value in sorted(counts.items()):
                states.add_metric([name, state], value)
            age.add_metric([], max(0.0, (timezone.now() - run.finished_at).total_seconds()))
        yield states
        if run is not None:
            yield age
