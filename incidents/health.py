"""The sentinel's heartbeat in /admin/health (settings.HEALTH_CHECKS)."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from imperium.core.health import HealthResult, in_caller_thread


@in_caller_thread
def check_sentinel() -> HealthResult:
    """When the sentinel last finished a run. Stale (older than SENTINEL_STALE_SECONDS) fails:
    nobody is watching. Never run yet is not configured (start celery beat), not a failure."""
    from incidents.models import SentinelRun

    try:
        last = SentinelRun.objects.filter(finished_at__isnull=False).order_by("-finished_at").first()
    except Exception as exc:  # the database entry reports the database itself
        return HealthResult(name="sentinel", ok=False, detail=f"cannot read the heartbeat: {type(exc).__name__}")
    if last is None:
        return HealthResult(name="sentinel", ok=True, configured=False,
                            detail="the sentinel has not run yet (celery beat runs it every SENTINEL_INTERVAL_SECONDS)")
    age = (timezone.now() - last.finished_at).total_seconds()
    extra = {"last_run_at": last.finished_at.isoformat(), "age_seconds": round(age), "failing": last.failing, "checks": last.checks,
             "duration_ms": last.duration_ms}
    if age > settings.SENTINEL_STALE_SECONDS:
        return HealthResult(name="sentinel", ok=False, detail=f"stale: last run {round(age)} s ago "
                            f"(more than {settings.SENTINEL_STALE_SECONDS} s; is celery beat running?)", extra=extra)
    return HealthResult(name="sentinel", ok=True, detail=f"last run {round(age)} s ago, {last.failing} of {last.checks} failing",
                        extra=extra)
