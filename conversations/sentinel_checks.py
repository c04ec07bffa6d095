"""Sentinel checks of the reply path (listed in settings.SENTINEL_CHECKS).

They read this app's rows through `conversations.selectors` and return observations; the
sentinel (`incidents.sentinel`) records them and runs the incident lifecycle.

- `chatflow` (per active tenant): is the gateway delivering? The status probe when
  CHATFLOW_STATUS_PATH is set; otherwise the tenant's latest finished delivery — failed with a
  5xx/429/timeout means the gateway is down for it, until a newer delivery (or the fixer's
  resend) succeeds;
- `pipeline.silent` (per active tenant): inbound messages older than SENTINEL_SILENT_MINUTES
  with neither a sent reply nor an escalation;
- `outbox.backlog` (system): due work older than SENTINEL_OUTBOX_MAX_AGE_SECONDS;
  Deliveries waiting in the outbox for a retry after a 5xx/429/timeout for longer than
  SENTINEL_DELIVERY_WAITING_SECONDS are an outage too (they fail only after the retry window);
- `delivery.failure_rate` (per active tenant): share of deliveries that failed — refused (4xx),
  5xx, 429 or timeouts — over SENTINEL_DELIVERY_WINDOW_MINUTES;
- `delivery.unclear_resends` (per active tenant): messages re-sent after an unclear outcome (a
  timeout, a crash mid-send) that the gateway did not report as duplicates. Exactly once at the
  customer then rests on the gateway's Idempotency-Key handling; many such re-sends mean it may
  have stopped deduplicating (customers get doubles).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings

from conversations import selectors
from imperium.core.sentinel import Check, CheckContext, Observation, timed
from tenants.selectors import clients_active

CHATFLOW_LOOKBACK = timedelta(hours=24)


def _tenants(kind: str, ctx: CheckContext) -> list[Any]:
    wanted = ctx.wants_target_of(kind)
    if ctx.only is not None and wanted is None:
        return []
    tenants = clients_active()
    return list(tenants.filter(slug=wanted) if wanted else tenants)


def _age(now: Any, then: Any) -> str:
    minutes = int((now - then).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


class ChatFlowCheck(Check):
    name = "chatflow"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        if not settings.CHATFLOW_BASE_URL:
            return [self.skip("sandbox (CHATFLOW_BASE_URL empty): sends are recorded, nothing to watch")]
        return [self._tenant(tenant, ctx) for tenant in _tenants(self.name, ctx)]

    def _tenant(self, tenant: Any, ctx: CheckContext) -> Observation:
        fields = {"target": tenant.slug, "tenant_id": tenant.pk}
        if settings.CHATFLOW_STATUS_PATH:
            return self._probe(tenant, fields)
        waiting = selectors.deliveries_waiting_on_gateway(
            tenant=tenant, older_than=ctx.now - timedelta(seconds=settings.SENTINEL_DELIVERY_WAITING_SECONDS))
        oldest = waiting.first()
        if oldest is not None:
            count = waiting.count()
            detail = (f"gateway not delivering: {count} message(s) waiting for a retry, the oldest written "
                      f"{_age(ctx.now, oldest.created_at)} ago ({oldest.last_error[:200] or 'no answer'})")
            return self.observe(False, detail, data={"waiting": count, "last_outbound_id": oldest.pk,
                                                     "last_status_code": oldest.last_status_code}, **fields)
        latest = selectors.delivery_latest_finished(tenant=tenant, since=ctx.now - CHATFLOW_LOOKBACK)
        if latest is None:
            return self.skip("no deliveries in 24 h to judge by", **fields)
        if latest.status == "sent" or not selectors.delivery_failed_transiently(latest):
            return self.observe(True, f"last delivery {latest.status} {_age(ctx.now, latest.updated_at)} ago", **fields)
        failed = selectors.deliveries_failed_transiently(tenant=tenant, since=ctx.now - CHATFLOW_LOOKBACK).count()
        detail = (f"gateway not delivering: the last delivery failed {_age(ctx.now, latest.updated_at)} ago "
                  f"({latest.last_error[:200] or 'no answer'}); {failed} failed in 24 h")
        return self.observe(False, detail, data={"failed": failed, "last_outbound_id": latest.pk,
                                                 "last_status_code": latest.last_status_code}, **fields)

    def _probe(self, tenant: Any, fields: dict[str, Any]) -> Observation:
        from conversations.clients.chatflow import chatflow_client
        from imperium.core.exceptions import IntegrationError

        tenant_settings = tenant.settings
        client = chatflow_client()
        try:
            status, ms = timed(lambda: client.status(token=tenant_settings.chatflow_token, instance_id=tenant_settings.chatflow_instance_id,
                                                     path=settings.CHATFLOW_STATUS_PATH, timeout=settings.HEALTH_CHECK_TIMEOUT))
        except IntegrationError as exc:
            return self.observe(False, f"status probe failed: {exc.message}"[:500], data={"status": exc.status}, **fields)
        return self.observe(True, f"status probe answered {status}", latency_ms=ms, **fields)


class SilentFailureCheck(Check):
    name = "pipeline.silent"
    severity = "critical"

    def run(self, ctx: CheckContext) -> list[Observation]:
        tenants = _tenants(self.name, ctx)
        if not tenants:
            return []
        minutes = settings.SENTINEL_SILENT_MINUTES
        silent = selectors.silent_messages_by_tenant(now=ctx.now, older_than=timedelta(minutes=minutes))
        observations = []
        for tenant in tenants:
            fields = {"target": tenant.slug, "tenant_id": tenant.pk}
            found = silent.get(tenant.pk)
            if not found:
                observations.append(self.observe(True, f"every message older than {minutes} min was answered or escalated", **fields))
                continue
            detail = (f"{found['count']} message(s) older than {minutes} min with neither a sent reply nor an escalation; "
                      f"oldest {_age(ctx.now, found['oldest'])} ago (inbound ids {found['sample_ids']})")
            observations.append(self.observe(False, detail, data={"count": found["count"], "sample_ids": found["sample_ids"],
                                                                  "oldest": found["oldest"].isoformat()}, **fields))
        return observations


class OutboxBacklogCheck(Check):
    name = "outbox.backlog"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        max_age = timedelta(seconds=settings.SENTINEL_OUTBOX_MAX_AGE_SECONDS)
        backlog = selectors.outbox_backlog(now=ctx.now)
        late = {kind: row for kind, row in backlog.items() if row["oldest"] is not None and ctx.now - row["oldest"] > max_age}
        summary = {kind: {"count": row["count"], "age_seconds": int((ctx.now - row["oldest"]).total_seconds()),
                          "tenant_ids": row["tenant_ids"]} for kind, row in backlog.items() if row["oldest"] is not None}
        if not late:
            queued = sum(row["count"] for row in backlog.values())
            return [self.observe(True, f"{queued} item(s) due, none older than {int(max_age.total_seconds())} s", data=summary)]
        parts = [f"{kind}: {row['count']}, oldest {_age(ctx.now, row['oldest'])}" for kind, row in late.items()]
        detail = "due work not moving (is a worker or the outbox-sweep beat job down?): " + "; ".join(parts)
        return [self.observe(False, detail, data=summary)]


class DeliveryFailureRateCheck(Check):
    name = "delivery.failure_rate"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        tenants = _tenants(self.name, ctx)
        if not tenants:
            return []
        window = settings.SENTINEL_DELIVERY_WINDOW_MINUTES
        outcomes = selectors.delivery_outcomes_by_tenant(since=ctx.now - timedelta(minutes=window))
        threshold, minimum = settings.SENTINEL_DELIVERY_FAILURE_RATE, settings.SENTINEL_DELIVERY_MIN_VOLUME
        observations = []
        for tenant in tenants:
            fields = {"target": tenant.slug, "tenant_id": tenant.pk}
            row = outcomes.get(tenant.pk, {"sent": 0, "failed": 0, "refused": 0})
            volume = row["sent"] + row["failed"]
            rate = row["failed"] / volume if volume else 0.0
            data = {**row, "rate": round(rate, 4), "window_minutes": window}
            if volume < minimum:
                observations.append(self.observe(True, f"{volume} deliveries in {window} min (under {minimum}: rate not judged)",
                                                 data=data, **fields))
                continue
            ok = rate <= threshold
            detail = (f"{row['failed']} of {volume} deliveries failed in {window} min ({row['refused']} refused, "
                      f"{row['failed'] - row['refused']} 5xx/429/timeouts; {rate:.0%}, limit {threshold:.0%})")
            observations.append(self.observe(ok, detail, data=data, **fields))
        return observations




class UnclearResendCheck(Check):
    name = "delivery.unclear_resends"
    severity = "warning"

    def run(self, ctx: CheckContext) -> list[Observation]:
        tenants = _tenants(self.name, ctx)
        if not tenants or not settings.CHATFLOW_BASE_URL:
            return []
        window = settings.SENTINEL_DELIVERY_WINDOW_MINUTES
        counts = selectors.unclear_resends_by_tenant(since=ctx.now - timedelta(minutes=window))
        limit = settings.SENTINEL_UNCLEAR_RESENDS_MAX
        observations = []
        for tenant in tenants:
            fields = {"target": tenant.slug, "tenant_id": tenant.pk}
            row = counts.get(tenant.pk, {"resent": 0, "duplicate": 0, "not_duplicate": 0})
            data = {**row, "window_minutes": window, "limit": limit}
            ok = row["not_duplicate"] < limit
            detail = (f"{row['resent']} message(s) re-sent after an unclear outcome in {window} min, "
                      f"{row['duplicate']} reported duplicate by the gateway")
            if not ok:
                detail += (f"; {row['not_duplicate']} not — if the first attempts did reach customers, they got doubles: "
                           "is the gateway still honouring Idempotency-Key?")
            observations.append(self.observe(ok, detail, data=data, **fields))
        return observations
