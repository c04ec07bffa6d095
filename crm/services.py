"""Writes of the CRM app: connecting a tenant, the service map, call bookkeeping, records.

The booking conversation itself (state machine, exactly-once write) is in `crm.booking`.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.choices import ConnectionStatus, CrmKind, RecordSource, RecordStatus
from crm.clients.altegio import CallStat, CrmClient, CrmError
from crm.models import CrmCall, CrmConnection, CrmRecord, CrmService, VisitOptOut
from crm.selectors import crm_cache_key
from imperium.core.actors import Actor
from imperium.core.crypto import mask
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record

logger = logging.getLogger(__name__)


# --- the client ----------------------------------------------------------------------------
def crm_client_for(connection: CrmConnection, *, record_calls: bool = True, timeout: float | None = None) -> CrmClient:
    """A client for the tenant's CRM that records each call (`CrmCall`) and marks the connection
    broken on a 401/403 (once: the alert goes out on the change only)."""

    def on_call(stat: CallStat) -> None:
        if record_calls:
            crm_call_record(connection=connection, stat=stat)
        if not stat.ok and stat.status_code in (401, 403):
            crm_connection_mark_broken(connection=connection, error=stat.error)

    return CrmClient(base_url=connection.api_base, company_id=connection.company_id, partner_token=connection.partner_token,
                     user_token=connection.user_token, timeout=timeout or settings.CRM_TIMEOUT, on_call=on_call)


def crm_call_record(*, connection: CrmConnection, stat: CallStat) -> None:
    try:
        CrmCall.objects.create(tenant_id=connection.tenant_id, endpoint=stat.endpoint[:32], ok=stat.ok, status_code=stat.status_code,
                               ms=stat.ms, error=stat.error[:300], created_at=timezone.now())
    except Exception:  # bookkeeping must never break a customer's booking
        logger.exception("could not record a CRM call")


def crm_calls_prune(*, older_than: timedelta = timedelta(days=2)) -> int:
    """Drop call rows the sentinel no longer reads (it looks at the last SENTINEL_CRM_WINDOW_MINUTES)."""
    deleted, _ = CrmCall.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


def crm_connection_mark_broken(*, connection: CrmConnection, error: str) -> bool:
    """ACTIVE → BROKEN with one alert; the bot stops calling this CRM. True when this call changed it."""
    from incidents.alerts import alert_raise

    now = timezone.now()
    changed = CrmConnection.objects.filter(pk=connection.pk, status=ConnectionStatus.ACTIVE).update(
        status=ConnectionStatus.BROKEN, status_changed_at=now, last_error=error[:1000], updated_at=now)
    connection.status = ConnectionStatus.BROKEN
    if changed:
        tenant = connection.tenant
        audit_record(actor=Actor.system("crm"), action="crm.connection_broken", tenant=connection.tenant_id, obj=connection,
                     payload={"error": error[:300]})
        alert_raise(title=f"CRM of {tenant.slug} refuses our credentials",
                    text=(f"{connection.get_kind_display()} company {connection.company_id} answered {error[:200]}. "
                          "The bot stopped calling it and hands bookings to managers. "
                          f"Reconnect: manage.py crm_connect --tenant {tenant.slug} …"),
                    severity="critical", tenant=tenant, key=f"crm-broken:{tenant.slug}")
    return bool(changed)


# --- connecting ------------------------------------------------------------------------------
def crm_credentials_check(*, kind: str, company_id: int, partner_token: str, user_token: str, base_url: str = "") -> list[dict[str, Any]]:
    """One read call (`book_services`) with these credentials; returns the services found.
    Raises ApplicationError with a clear message when the CRM refuses or cannot be reached."""
    if kind not in CrmKind.values:
        raise ApplicationError(_("Unknown CRM kind %(kind)s: use one of %(kinds)s.")
                               % {"kind": repr(kind), "kinds": ", ".join(CrmKind.values)})
    if not partner_token or not user_token:
        raise ApplicationError(_("Both the partner token and the user token are required."))
    probe = CrmConnection(kind=kind, company_id=int(company_id), base_url=base_url.strip())
    client = CrmClient(base_url=probe.api_base, company_id=probe.company_id, partner_token=partner_token, user_token=user_token,
                       timeout=settings.CRM_TIMEOUT)
    try:
        return client.services()
    except CrmError as exc:
        if exc.kind == "auth":
            raise ApplicationError(_("The CRM refused these credentials (%(status)s): check the partner and user tokens "
                                     "for company %(company)s.") % {"status": exc.status, "company": company_id}) from exc
        raise ApplicationError(_("Could not read services from %(url)s for company %(company)s: %(error)s")
                               % {"url": probe.api_base, "company": company_id, "error": exc.message}) from exc


def crm_connect(*, actor: Actor, tenant: Any, kind: str, company_id: int, partner_token: str, user_token: str,
                base_url: str = "", checked_services: list[dict[str, Any]] | None = None) -> tuple[CrmConnection, list[CrmService]]:
    """Check the credentials with one read (`book_services`), then store the connection (tokens
    encrypted) and seed the service map from the CRM's titles (existing keywords are kept).
    `checked_services`: the answer of a `crm_credentials_check` made just before (admin form).

    Raises ApplicationError with a clear message when the CRM refuses or cannot be reached;
    nothing is stored then. Audited as `crm.connect` (tokens masked)."""
    services = checked_services if checked_services is not None else crm_credentials_check(
        kind=kind, company_id=company_id, partner_token=partner_token, user_token=user_token, base_url=base_url)
    now = timezone.now()
    with transaction.atomic():
        connection, created = CrmConnection.objects.update_or_create(
            tenant=tenant,
            defaults={"kind": kind, "company_id": int(company_id), "base_url": base_url.strip(), "partner_token": partner_token,
                      "user_token": user_token, "status": ConnectionStatus.ACTIVE, "status_changed_at": now, "last_error": ""},
        )
        seeded = crm_services_sync(tenant=tenant, services=services)
        audit_record(actor=actor, action="crm.connect", tenant=tenant, obj=connection,
                     payload={"kind": kind, "company_id": int(company_id), "base_url": base_url, "partner_token": mask(partner_token),
                              "user_token": mask(user_token), "services": len(seeded), "created": created})
    crm_cache_clear(tenant)
    return connection, seeded


def crm_disconnect(*, actor: Actor, tenant: Any) -> bool:
    """Turn the tenant's CRM off (the row and the service map are kept). True when it was on."""
    now = timezone.now()
    with transaction.atomic():
        connection = CrmConnection.objects.for_tenant(tenant).select_for_update().first()
        if connection is None or connection.status == ConnectionStatus.DISABLED:
            return False
        connection.status, connection.status_changed_at = ConnectionStatus.DISABLED, now
        connection.save(update_fields=["status", "status_changed_at", "updated_at"])
        audit_record(actor=actor, action="crm.disconnect", tenant=tenant, obj=connection, payload={})
    return True


def crm_services_sync(*, tenant: Any, services: list[dict[str, Any]]) -> list[CrmService]:
    """Create or update the service map from the CRM's `book_services` (titles, prices, lengths).
    Keywords typed by operators are kept; services gone from the CRM are deactivated."""
    seen: list[int] = []
    out: list[CrmService] = []
    for item in services:
        try:
            crm_id = int(item["id"])
        except (KeyError, TypeError, ValueError):
            continue
        seen.append(crm_id)
        row, _ = CrmService.objects.update_or_create(
            tenant=tenant, crm_id=crm_id,
            defaults={"title": str(item.get("title") or f"service {crm_id}")[:200], "price_min": _money(item.get("price_min")),
                      "price_max": _money(item.get("price_max")), "seance_length": int(item.get("seance_length") or 0), "active": True},
        )
        out.append(row)
    CrmService.objects.for_tenant(tenant).exclude(crm_id__in=seen).update(active=False)
    return out


def _money(value: Any) -> Decimal | None:
    try:
        return None if value in (None, "") else Decimal(str(value))
    except ArithmeticError:
        return None


def crm_cache_clear(tenant: Any) -> None:
    cache.delete_many([crm_cache_key(tenant.pk, "staff")])


# --- records ---------------------------------------------------------------------------------
def crm_record_upsert(*, tenant: Any, record_id: int, customer_key: str, customer_phone: str, customer_name: str, starts_at: datetime,
                      source: str, service_id: int | None = None, service_title: str = "", staff_id: int | None = None,
                      staff_name: str = "", seance_length: int = 0, conversation_id: int | None = None) -> CrmRecord:
    """Remember a record (booked by the bot or synced). Idempotent by (tenant, record_id); a
    synced row never overwrites the bot's conversation link or the messages already sent."""
    now = timezone.now()
    fields = {"customer_key": customer_key, "customer_phone": customer_phone, "customer_name": customer_name[:200],
              "starts_at": starts_at, "service_id": service_id, "service_title": service_title[:200], "staff_id": staff_id,
              "staff_name": staff_name[:200], "seance_length": seance_length, "updated_at": now}
    existing = CrmRecord.objects.for_tenant(tenant).filter(record_id=record_id).first()
    if existing is not None:
        if existing.starts_at != starts_at:  # moved in the CRM: the reminders start over
            fields.update(reminded_day_before_at=None, reminded_two_hours_at=None)
        if conversation_id and not existing.conversation_id:
            fields["conversation_id"] = conversation_id
        CrmRecord.objects.filter(pk=existing.pk).update(**fields)
        existing.refresh_from_db()
        return existing
    try:
        with transaction.atomic():
            return CrmRecord.objects.create(tenant=tenant, record_id=record_id, source=source, conversation_id=conversation_id,
                                            created_at=now, **fields)
    except IntegrityError:
        return CrmRecord.objects.for_tenant(tenant).get(record_id=record_id)


def crm_record_mark_cancelled(*, tenant: Any, record_id: int) -> None:
    CrmRecord.objects.for_tenant(tenant).filter(record_id=record_id).update(status=RecordStatus.CANCELLED, updated_at=timezone.now())


def visit_opt_out(*, tenant: Any, customer_key: str) -> bool:
    """The customer wrote «стоп»: no more visit messages. True when it is new."""
    try:
        with transaction.atomic():
            VisitOptOut.objects.create(tenant=tenant, customer_key=customer_key, created_at=timezone.now())
    except IntegrityError:
        return False
    return True


def crm_records_sync(*, connection: CrmConnection, days: int = 2, phone_key: Any = None) -> int:
    """Pull the records of today and the coming `days` from the CRM (`GET records`) into
    `CrmRecord`, so visit messages also cover records made by the salon itself. Returns how
    many records were seen. `phone_key(phone) -> customer key` (the pipeline's keyed hash)."""
    from zoneinfo import ZoneInfo

    tenant = connection.tenant
    tz = ZoneInfo(tenant.timezone)
    today = timezone.now().astimezone(tz).date()
    client = crm_client_for(connection)
    seen = 0
    page = 1
    while True:
        rows = client.records(start_date=today.isoformat(), end_date=(today + timedelta(days=days)).isoformat(), page=page, count=200)
        for row in rows:
            client_info = row.get("client") or {}
            phone = str(client_info.get("phone") or "")
            try:
                starts_at = datetime.fromisoformat(str(row.get("datetime")))
                record_id = int(row["id"])
            except (KeyError, TypeError, ValueError):
                continue
            if not phone or row.get("deleted"):
                if row.get("deleted"):
                    crm_record_mark_cancelled(tenant=tenant, record_id=record_id)
                continue
            if not phone.startswith("+"):
                phone = f"+{phone}"
            services = row.get("services") or [{}]
            staff = row.get("staff") or {}
            crm_record_upsert(tenant=tenant, record_id=record_id, customer_key=phone_key(phone) if phone_key else phone,
                              customer_phone=phone, customer_name=str(client_info.get("name") or ""), starts_at=starts_at,
                              source=RecordSource.SYNC, service_id=services[0].get("id"), service_title=str(services[0].get("title") or ""),
                              staff_id=row.get("staff_id"), staff_name=str(staff.get("name") or ""),
                              seance_length=int(row.get("seance_length") or 0))
            seen += 1
        if len(rows) < 200:
            return seen
        page += 1
