"""What the write-risk policy runs for CRM actions (docs/IMPERIUM_DECISIONS.yaml).

- `crm.book` (low: the customer confirmed with «да»): write a claimed booking session to the
  CRM exactly once (`crm.booking.booking_write`).
- `crm.cancel` (low: the customer's own record, found by the phone it was made with — the
  write refuses any other record): delete it in the CRM.
- `crm.cancel_other` (high): cancel any record of a tenant (an operator's request), after a
  verifier approves.
"""

from __future__ import annotations

from typing import Any

from crm.booking import booking_write
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action


@register_action("crm.book", summary="Book session {session_id} of {tenant} in its CRM")
def book(*, actor: Actor, tenant: str, session_id: int, recover: bool = False) -> dict[str, Any]:
    return booking_write(session_id=int(session_id), recover=bool(recover))


@register_action("crm.cancel", summary="Cancel the customer's own record (session {session_id} of {tenant})")
def cancel(*, actor: Actor, tenant: str, session_id: int, recover: bool = False) -> dict[str, Any]:
    return booking_write(session_id=int(session_id), recover=bool(recover))


@register_action("crm.cancel_other", summary="Cancel record {record_id} of {tenant} in its CRM")
def cancel_other(*, actor: Actor, tenant: str, record_id: int) -> dict[str, Any]:
    from crm.clients.altegio import CrmError
    from crm.selectors import crm_connection_of
    from crm.services import crm_client_for, crm_record_mark_cancelled
    from tenants.models import Client

    client = Client.objects.filter(slug=tenant).first()
    connection = crm_connection_of(client) if client else None
    if connection is None:
        raise ApplicationError(f"{tenant} has no CRM connection.")
    try:
        crm_client_for(connection).record_delete(record_id=int(record_id))
    except CrmError as exc:
        if exc.status != 404:
            raise ApplicationError(f"The CRM did not cancel record {record_id}: {exc.message}") from exc
    crm_record_mark_cancelled(tenant=client, record_id=int(record_id))
    return {"record_id": int(record_id), "status": "cancelled"}
