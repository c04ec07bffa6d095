"""Sentinel check `crm:<tenant>`: is the tenant's CRM answering, fast enough?

Judged from the calls the bot made (`CrmCall`) over SENTINEL_CRM_WINDOW_MINUTES: an error rate
above SENTINEL_CRM_ERROR_RATE (with at least SENTINEL_CRM_MIN_CALLS calls) or an average
latency above SENTINEL_CRM_SLOW_MS fails; without calls in the window a `book_dates` probe
decides. A connection marked broken (the CRM refused our credentials) fails until reconnected.
The sentinel turns failures into the usual incident and alert.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings

from crm import selectors
from crm.choices import ConnectionStatus
from crm.clients.altegio import CrmError
from imperium.core.sentinel import Check, CheckContext, Observation, timed


class CrmCheck(Check):
    name = "crm"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        wanted = ctx.wants_target_of(self.name)
        if ctx.only is not None and wanted is None:
            return []
        connections = selectors.crm_connections_watched()
        if wanted:
            connections = connections.filter(tenant__slug=wanted)
        return [self._one(connection, ctx) for connection in connections]

    def _one(self, connection, ctx: CheckContext) -> Observation:  # type: ignore[no-untyped-def]
        tenant = connection.tenant
        fields = {"target": tenant.slug, "tenant_id": tenant.pk}
        if connection.status == ConnectionStatus.BROKEN:
            return self.observe(False, f"connection broken: {connection.last_error[:200]} (reconnect with crm_connect)",
                                data={"status": "broken"}, **fields)
        window = settings.SENTINEL_CRM_WINDOW_MINUTES
        stats = selectors.crm_call_stats(tenant, since=ctx.now - timedelta(minutes=window))
        total, failed, avg_ms = stats["total"] or 0, stats["failed"] or 0, stats["avg_ms"]
        if total == 0:
            return self._probe(connection, fields)
        rate = failed / total
        data = {"calls": total, "failed": failed, "error_rate": round(rate, 4), "avg_ms": round(avg_ms or 0, 1), "window_minutes": window}
        if total >= settings.SENTINEL_CRM_MIN_CALLS and rate > settings.SENTINEL_CRM_ERROR_RATE:
            last = stats["last"]
            return self.observe(False, f"{failed} of {total} CRM calls failed in {window} min ({rate:.0%}); last: "
                                       f"{(last.error if last else '')[:150]}", data=data, latency_ms=avg_ms, **fields)
        if avg_ms is not None and avg_ms > settings.SENTINEL_CRM_SLOW_MS and total >= settings.SENTINEL_CRM_MIN_CALLS:
            return self.observe(False, f"CRM slow: {avg_ms:.0f} ms on average over {total} calls", data=data, latency_ms=avg_ms, **fields)
        return self.observe(True, f"{total} calls in {window} min, {failed} failed, {avg_ms or 0:.0f} ms on average",
                            data=data, latency_ms=avg_ms, **fields)

    def _probe(self, connection, fields: dict) -> Observation:  # type: ignore[no-untyped-def]
        from crm.services import crm_client_for

        client = crm_client_for(connection, timeout=settings.HEALTH_CHECK_TIMEOUT)
        try:
            _, ms = timed(lambda: client.dates())
        except CrmError as exc:
            return self.observe(False, f"probe failed: {exc.message}"[:500], data={"status": exc.status}, **fields)
        if ms > settings.SENTINEL_CRM_SLOW_MS:
            return self.observe(False, f"CRM slow: the probe took {ms:.0f} ms", latency_ms=ms, **fields)
        return self.observe(True, f"probe answered in {ms:.0f} ms", latency_ms=ms, **fields)
