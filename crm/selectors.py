"""Reads of the CRM app, always scoped to one tenant."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Avg, Count, Q, QuerySet

from crm.choices import OPEN_SESSION_STATUSES, ConnectionStatus, RecordStatus
from crm.models import BookingSession, CrmCall, CrmConnection, CrmRecord, CrmService, VisitOptOut


def crm_connection_of(tenant: Any) -> CrmConnection | None:
    """The tenant's CRM connection whatever its status (None: never connected).

    A tenant read with `select_related("crm_connection")` (the turn's claim read does, so a turn
    of a tenant without a CRM costs no query here) answers from what was loaded with it."""
    relation = getattr(type(tenant), "crm_connection", None)
    if relation is not None and relation.is_cached(tenant):
        return relation.related.get_cached_value(tenant)
    return CrmConnection.objects.for_tenant(tenant).first()


def crm_connections_active() -> QuerySet[CrmConnection]:
    return CrmConnection.objects.filter(status=ConnectionStatus.ACTIVE, tenant__status="active").select_related("tenant")


def crm_connections_watched() -> QuerySet[CrmConnection]:
    """Connections the sentinel watches: active or broken (not disconnected) of active tenants."""
    return CrmConnection.objects.exclude(status=ConnectionStatus.DISABLED).filter(tenant__status="active").select_related("tenant")


def crm_services(tenant: Any) -> list[CrmService]:
    return list(CrmService.objects.for_tenant(tenant).filter(active=True).order_by("title"))


def booking_session_open(tenant: Any, conversation_id: int) -> BookingSession | None:
    return BookingSession.objects.for_tenant(tenant).filter(conversation_id=conversation_id, status__in=OPEN_SESSION_STATUSES).first()


def booking_session_latest(tenant: Any, conversation_id: int) -> BookingSession | None:
    return BookingSession.objects.for_tenant(tenant).filter(conversation_id=conversation_id).order_by("-updated_at", "-id").first()


def records_of_customer(tenant: Any, customer_key: str, *, upcoming_after: datetime | None = None) -> QuerySet[CrmRecord]:
    rows = CrmRecord.objects.for_tenant(tenant).filter(customer_key=customer_key)
    if upcoming_after is not None:
        rows = rows.filter(status=RecordStatus.UPCOMING, starts_at__gt=upcoming_after)
    return rows.order_by("starts_at", "id")


def customer_opted_out(tenant: Any, customer_key: str) -> bool:
    return VisitOptOut.objects.for_tenant(tenant).filter(customer_key=customer_key).exists()


def records_due_for_messages(*, now: datetime, lookahead: timedelta = timedelta(hours=30),
                             lookback: timedelta = timedelta(days=120)) -> QuerySet[CrmRecord]:
    """Records whose visit messages may be due: upcoming within the look-ahead (reminders),
    or past (thank-you, nudge), of active connections."""
    return (CrmRecord.objects.filter(status=RecordStatus.UPCOMING, starts_at__gte=now - lookback, starts_at__lte=now + lookahead,
                                     tenant__crm_connection__status=ConnectionStatus.ACTIVE)
            .select_related("tenant__crm_connection", "tenant").order_by("starts_at", "id"))


def crm_call_stats(tenant: Any, *, since: datetime) -> dict[str, Any]:
    rows = CrmCall.objects.for_tenant(tenant).filter(created_at__gte=since)
    stats = rows.aggregate(total=Count("id"), failed=Count("id", filter=Q(ok=False)), avg_ms=Avg("ms"))
    last = rows.order_by("-created_at", "-id").first()
    stats["last"] = last
    return stats


def crm_cache_key(tenant_id: int, *parts: object) -> str:
    """The cache key of a CRM read (slots, dates, masters) of one tenant, under CRM_CACHE_KEY_PREFIX."""
    return ":".join([settings.CRM_CACHE_KEY_PREFIX, str(tenant_id), *map(str, parts)])
