"""System-wide checks: the web process, database, Redis, broker, ErrorLog spikes, the Telegram
alert path and the sentinel's own heartbeat."""

from __future__ import annotations

import re
from datetime import timedelta

import requests
from django.conf import settings
from django.db.models import Count

from imperium.core import health
from imperium.core.health import HealthResult
from incidents.checks.base import Check, CheckContext, Observation, timed
from incidents.choices import AlertKind, AlertStatus
from incidents.models import Alert, ErrorLog, SentinelRun


def _from_health(check: Check, result: HealthResult) -> Observation:
    if not result.configured:
        return check.skip(result.detail, latency_ms=result.latency_ms)
    return check.observe(result.ok, result.detail, latency_ms=result.latency_ms)


def _short_error(exc: Exception) -> str:
    if isinstance(exc, requests.Timeout):
        return f"no answer within {settings.HEALTH_CHECK_TIMEOUT:g} s"
    reason = re.search(r"\[Errno -?\d+\][^'\")]*", str(exc))
    return f"{type(exc).__name__}: {reason.group(0) if reason else str(exc)[:200]}"


class WebHealthCheck(Check):
    """GET {PUBLIC_BASE_URL}/health answers 200 `{"status": "ok"}` — the address gateways and
    Telegram use, so a dead web process or a broken proxy shows here."""

    name = "web.health"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/health"
        try:
            response, ms = timed(lambda: requests.get(url, timeout=settings.HEALTH_CHECK_TIMEOUT, allow_redirects=False))
        except requests.RequestException as exc:
            return [self.observe(False, f"{url} unreachable: {_short_error(exc)}", data={"url": url})]
        try:
            status = response.json().get("status") if response.status_code == 200 else None
        except ValueError:
            status = None
        ok = response.status_code == 200 and status == "ok"
        detail = f"{url} answered {response.status_code}" + ("" if ok else f": {response.text[:200]}")
        return [self.observe(ok, detail, latency_ms=ms, data={"url": url, "status": response.status_code})]


class DatabaseCheck(Check):
    name = "database"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        return [_from_health(self, health.check_database())]


class RedisCheck(Check):
    name = "redis"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        return [_from_health(self, health.check_redis())]


class BrokerCheck(Check):
    name = "broker"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        return [_from_health(self, health.check_broker())]


class ErrorSpikeCheck(Check):
    """More ErrorLogs in the last SENTINEL_ERROR_SPIKE_WINDOW_MINUTES than SENTINEL_ERROR_SPIKE_MIN
    and SENTINEL_ERROR_SPIKE_FACTOR times the rate of the hour before."""

    name = "errors.spike"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        window = timedelta(minutes=settings.SENTINEL_ERROR_SPIKE_WINDOW_MINUTES)
        recent = ErrorLog.objects.filter(created_at__gte=ctx.now - window, created_at__lte=ctx.now)
        count = recent.count()
        before = ErrorLog.objects.filter(created_at__gte=ctx.now - window - timedelta(hours=1), created_at__lt=ctx.now - window).count()
        baseline = before * (window / timedelta(hours=1))
        spike = count >= settings.SENTINEL_ERROR_SPIKE_MIN and count > settings.SENTINEL_ERROR_SPIKE_FACTOR * baseline
        top = list(recent.values("where").annotate(n=Count("id")).order_by("-n")[:5]) if count else []
        where = ", ".join(f"{row['where']}×{row['n']}" for row in top)
        detail = f"{count} errors in {window.seconds // 60} min (previous hour: {baseline:.1f} per {window.seconds // 60} min)"
        if where:
            detail += f"; top: {where}"
        return [self.observe(not spike, detail, data={"count": count, "baseline": round(baseline, 2), "top": top})]


class TelegramAlertPathCheck(Check):
    """The bot answers getMe, and the alert outbox is moving: nothing failed in the last 15
    minutes (except "not configured") and nothing due waits for more than 10 minutes."""

    name = "telegram.alerts"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        if not settings.ALERT_BOT_TOKEN or not settings.ALERT_CHAT_ID:
            return [self.skip("not configured (ALERT_BOT_TOKEN / ALERT_CHAT_ID empty): alerts are only logged and stored")]
        from imperium.core.botapi.client import TelegramClient, TelegramError

        problems = []
        latency = None
        try:
            me, latency = timed(lambda: TelegramClient(timeout=settings.HEALTH_CHECK_TIMEOUT).get_me())
        except TelegramError as exc:
            problems.append(f"getMe failed: {exc}"[:300])
        failed = Alert.objects.filter(
            kind__in=[AlertKind.ALERT, AlertKind.NOTIFICATION], status=AlertStatus.FAILED,
            failed_at__gte=ctx.now - timedelta(minutes=15),
        ).exclude(last_error__contains="not configured")
        failed_count = failed.count()
        if failed_count:
            last = failed.order_by("-failed_at").first()
            problems.append(f"{failed_count} message(s) failed in 15 min, last: {last.last_error[:200] if last else ''}")
        stuck = Alert.objects.filter(status=AlertStatus.PENDING, next_attempt_at__lt=ctx.now - timedelta(minutes=10)).count()
        if stuck:
            problems.append(f"{stuck} message(s) overdue by more than 10 min (is the alerts-sweep beat job running?)")
        detail = "; ".join(problems) if problems else "getMe ok, outbox moving"
        return [self.observe(not problems, detail, latency_ms=latency, data={"failed": failed_count, "overdue": stuck})]


class SentinelHeartbeatCheck(Check):
    """The sentinel's own pulse. During a sentinel run it reports the gap since the previous
    run (a long gap is noted, the sentinel is running now); the fixer's watchdog runs it with
    `ctx.watchdog` and fails when the last run is older than SENTINEL_STALE_SECONDS."""

    name = "sentinel.heartbeat"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        last = SentinelRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
        stale = timedelta(seconds=settings.SENTINEL_STALE_SECONDS)
        if last is None:
            return [self.skip("the sentinel has not finished a run yet")]
        age = ctx.now - last.finished_at
        seconds = int(age.total_seconds())
        if ctx.watchdog:
            ok = age <= stale
            detail = f"last sentinel run finished {seconds} s ago"
            if not ok:
                detail += f" (more than {int(stale.total_seconds())} s: is celery beat running?)"
            return [self.observe(ok, detail, data={"age_seconds": seconds})]
        note = f"previous run finished {seconds} s ago"
        if age > stale:
            note += f" — the sentinel had stopped for {seconds // 60} min"
        return [self.observe(True, note, data={"age_seconds": seconds})]
