"""The sentinel: run every check once, record what it saw, move incidents.

An entry point (beat task `incidents.sentinel_run`, `manage.py sentinel`), so it may call any
service. One run: `SentinelRun` row → each check of settings.SENTINEL_CHECKS (a crashing check
is a failing observation, never a crashed run) → `incident_observe` per observation → the run's
heartbeat. Overlapping runs are harmless (the lifecycle is guarded), but the beat task skips a
run while another one has been going for less than a minute or two.

If the database itself is down nothing can be recorded: the run then alerts straight through
Telegram (`incidents.fallback`), once, and says when the database is back.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from imperium.core.correlation import correlation_scope
from incidents.checks import CheckContext, Observation, checks_configured, run_check
from incidents.choices import SentinelTrigger
from incidents.errors import error_log_record
from incidents.models import SentinelRun
from incidents.services import (
    ObserveOutcome,
    incident_observe,
    open_incidents_by_fingerprint,
    sentinel_run_finish,
    sentinel_run_start,
)

logger = logging.getLogger(__name__)


@dataclass
class SentinelReport:
    started_at: datetime
    outcomes: list[ObserveOutcome] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    duration_ms: float = 0.0
    skipped_run: str = ""  # why the whole run was skipped (another run in progress)
    recorded: bool = True

    @property
    def failing(self) -> list[Observation]:
        return [o for o in self.observations if not o.ok and not o.skipped]

    @property
    def changes(self) -> list[ObserveOutcome]:
        return [o for o in self.outcomes if o.change in ("opened", "reopened", "resolved", "nagged")]

    def as_dict(self) -> dict:
        return {
            "started_at": self.started_at.isoformat(), "duration_ms": self.duration_ms, "skipped_run": self.skipped_run,
            "recorded": self.recorded,
            "results": [{"check": o.check, "target": o.target, "state": o.state, "detail": o.detail, "latency_ms": o.latency_ms}
                        for o in self.observations],
            "changes": [{"fingerprint": o.observation.fingerprint, "change": o.change, "incident": o.incident.pk if o.incident else None}
                        for o in self.changes],
        }


def sentinel_collect(*, now: datetime | None = None, only: str | None = None, watchdog: bool = False,
                     names: list[str] | None = None) -> list[Observation]:
    """Run the configured checks (or those named, or the one emitting `only`) without recording."""
    ctx = CheckContext(now=now or timezone.now(), only=only, watchdog=watchdog)
    observations: list[Observation] = []
    for check in checks_configured():
        if names and check.name not in names:
            continue
        if only is not None and only.partition(":")[0] not in check.kinds():
            continue
        observations.extend(run_check(check, ctx))
    return observations


def sentinel_run(*, trigger: str = SentinelTrigger.BEAT, record: bool = True, names: list[str] | None = None,
                 now: datetime | None = None) -> SentinelReport:
    """One sentinel pass (see the module docstring). `record=False` only looks (dry run)."""
    now = now or timezone.now()
    report = SentinelReport(started_at=now, recorded=record)
    started = time.perf_counter()
    with correlation_scope(None):
        if record and trigger == SentinelTrigger.BEAT and _another_run_in_progress(now):
            report.skipped_run = "another sentinel run is in progress"
            logger.info("sentinel: %s; skipping this one", report.skipped_run)
            return report
        run = None
        if record:
            try:
                run = sentinel_run_start(trigger=trigger, now=now)
            except DatabaseError as exc:
                return _database_down(report, exc, started, names)
        report.observations = sentinel_collect(now=now, names=names)
        if record:
            try:
                report.outcomes = _record(report.observations, run, now)
            except DatabaseError as exc:
                return _database_down(report, exc, started, names)
        report.duration_ms = round((time.perf_counter() - started) * 1000, 1)
        if run is not None:
            sentinel_run_finish(run=run, checks=len(report.observations), failing=len(report.failing), duration_ms=report.duration_ms)
        if record:
            from incidents.fallback import database_recovered

            database_recovered()
    for outcome in report.changes:
        logger.warning("sentinel: %s %s (incident #%s)", outcome.observation.fingerprint, outcome.change,
                       outcome.incident.pk if outcome.incident else "-")
    return report


def _record(observations: list[Observation], run: SentinelRun | None, now: datetime) -> list[ObserveOutcome]:
    open_by_fingerprint = open_incidents_by_fingerprint()
    outcomes = []
    for observation in observations:
        try:
            outcomes.append(incident_observe(observation=observation, run=run, now=now,
                                             open_incident=open_by_fingerprint.get(observation.fingerprint)))
        except DatabaseError:
            raise
        except Exception as exc:  # one bad observation must not stop the others
            error_log_record(where="sentinel.record", exc=exc, context={"fingerprint": observation.fingerprint})
    return outcomes


def _another_run_in_progress(now: datetime) -> bool:
    lease = timedelta(seconds=max(60, 2 * settings.SENTINEL_INTERVAL_SECONDS))
    return SentinelRun.objects.filter(finished_at__isnull=True, started_at__gte=now - lease).exists()


def _database_down(report: SentinelReport, exc: Exception, started: float, names: list[str] | None) -> SentinelReport:
    from incidents.fallback import database_down_alert

    logger.error("sentinel: the database is unreachable, nothing can be recorded: %s", exc)
    if not report.observations:
        report.observations = sentinel_collect(now=report.started_at, names=names)
    report.recorded = False
    report.duration_ms = round((time.perf_counter() - started) * 1000, 1)
    database_down_alert(f"{type(exc).__name__}: {exc}"[:300])
    return report
