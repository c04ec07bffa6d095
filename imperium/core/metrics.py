"""Prometheus metrics (`GET /metrics`, docs/PRODUCTION.md "Metrics").

Multiprocess mode: every process (gunicorn workers, Celery worker children, beat) writes its
counters into memory-mapped files under PROMETHEUS_MULTIPROC_DIR (settings set the variable
before prometheus_client is imported; default VAR_DIR/metrics), and `/metrics` sums them.
Current-state values (outbox backlog, sentinel check states) are read from the database at
scrape time by the collectors listed in settings.METRICS_COLLECTORS, so they are right whatever
process wrote them.

Domain code reports what happened through the small functions below; they never raise.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess

logger = logging.getLogger(__name__)

WEBHOOK_REQUESTS = Counter("imperium_webhook_requests", "Inbound webhook requests (POST /webhook…) by HTTP status.", ["status"])
WEBHOOK_ACCEPT_SECONDS = Histogram(
    "imperium_webhook_accept_seconds", "Time to answer an inbound webhook request (verify, dedup, store).",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
TURNS = Counter("imperium_turns", "Finished turns by decision (answer, escalate, forward) and escalation reason.", ["decision", "reason"])
TURN_SECONDS = Histogram(
    "imperium_turn_seconds", "From a turn's creation to its decision being recorded.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0, 300.0),
)
DELIVERIES = Counter("imperium_deliveries", "Outbound deliveries by outcome (sent, failed, rescheduled).", ["outcome"])
DELIVERY_ATTEMPTS = Histogram(
    "imperium_delivery_attempts", "Send attempts a delivery run took, by outcome.", ["outcome"], buckets=(1, 2, 3, 4, 5, 8, 13),
)
UNCLEAR_RESENDS = Counter(
    "imperium_delivery_unclear_resends",
    "Messages sent after an attempt with an unclear outcome (a read timeout, a crash mid-send), by whether the gateway "
    "reported the re-send as a duplicate of its Idempotency-Key.", ["gateway_duplicate"])
ESCALATIONS = Counter("imperium_escalations", "Escalations opened, by reason.", ["reason"])
TURN_TASKS = Counter(
    "imperium_turn_tasks",
    "Turn tasks by what they found: work (a turn claimed or resumed), not_due, locked, rerouted, or redundant (nothing to do: "
    "a copy of a task another worker already served; the sweeper's recovery keeps these few).", ["task", "outcome"])
CELERY_TASKS = Counter("imperium_celery_tasks", "Celery tasks by name and end state (succeeded, failed, retried).", ["task", "state"])

_WEBHOOK_PATH = re.compile(r"^/webhook(?:/[-a-zA-Z0-9_]+)?$")


def _safe(record: Callable[[], None]) -> None:
    try:
        record()
    except Exception:  # metrics must never break the work they count
        logger.warning("metrics: recording failed", exc_info=True)


def turn_finished(*, decision: str, reason: str, seconds: float | None) -> None:
    def record() -> None:
        TURNS.labels(decision=decision or "none", reason=reason or "").inc()
        if seconds is not None and seconds >= 0:
            TURN_SECONDS.observe(seconds)

    _safe(record)


def delivery_finished(*, outcome: str, attempts: int | None = None) -> None:
    def record() -> None:
        DELIVERIES.labels(outcome=outcome).inc()
        if attempts is not None:
            DELIVERY_ATTEMPTS.labels(outcome=outcome).observe(max(attempts, 0))

    _safe(record)


def delivery_resent_after_unclear(*, gateway_duplicate: bool) -> None:
    _safe(lambda: UNCLEAR_RESENDS.labels(gateway_duplicate="true" if gateway_duplicate else "false").inc())


def escalation_opened(*, reason: str) -> None:
    _safe(lambda: ESCALATIONS.labels(reason=reason or "").inc())


def turn_task_finished(*, task: str, outcome: str) -> None:
    _safe(lambda: TURN_TASKS.labels(task=task, outcome=outcome).inc())


def celery_task_finished(*, task: str, state: str) -> None:
    _safe(lambda: CELERY_TASKS.labels(task=task or "unknown", state=state).inc())


def with_metrics(app: Callable[..., Iterable[bytes]]) -> Callable[..., Iterable[bytes]]:
    """Wrap the WSGI application (outside the webhook fast path) to count webhook requests by
    status and time them; every other request passes straight through."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") != "POST" or not _WEBHOOK_PATH.match(environ.get("PATH_INFO", "")):
            return app(environ, start_response)
        started = time.perf_counter()
        status = ["500"]

        def counting_start_response(status_line: str, headers: Any, *exc_info: Any) -> Any:
            status[0] = status_line[:3]
            return start_response(status_line, headers, *exc_info)

        try:
            return app(environ, counting_start_response)
        finally:
            elapsed = time.perf_counter() - started

            def record() -> None:
                WEBHOOK_REQUESTS.labels(status=status[0]).inc()
                WEBHOOK_ACCEPT_SECONDS.observe(elapsed)

            _safe(record)

    for name in ("django_app",):
        if hasattr(app, name):
            setattr(application, name, getattr(app, name))
    application.wrapped_app = app  # type: ignore[attr-defined]
    return application


def render() -> tuple[bytes, str]:
    """The exposition text of every process's metrics plus the scrape-time collectors."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    for path in settings.METRICS_COLLECTORS:
        registry.register(import_string(path)())
    return generate_latest(registry), CONTENT_TYPE_LATEST


class SafeCollector:
    """Base of the scrape-time collectors: a failing query yields an `imperium_collector_up` 0
    instead of breaking the whole scrape."""

    name = "collector"

    def collect(self) -> Iterable[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily(f"imperium_collector_{self.name}_up", f"1 when the {self.name} collector could read its data.")
        try:
            families = list(self.families())
        except Exception as exc:
            logger.warning("metrics collector %s failed: %s", self.name, exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def families(self) -> Iterable[Any]:  # pragma: no cover - abstract
        raise NotImplementedError
