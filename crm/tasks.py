"""Celery entry points of the CRM app. Thin: a selector or service call each.

`visit_messages_send` is where the CRM meets the reply pipeline: crm decides what is due and
claims it; the message goes out through `conversations`' exactly-once outbound path (keyed by
record and kind), which only an entry point may combine with `crm`.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="crm.records_sync")
def records_sync() -> dict[str, int]:
    """Beat job: pull the coming days' records of every active CRM connection."""
    from django.conf import settings

    from conversations.customers import customer_key
    from crm.clients.altegio import CrmError
    from crm.selectors import crm_connections_active
    from crm.services import crm_records_sync

    report = {"tenants": 0, "records": 0, "failed": 0}
    for connection in crm_connections_active():
        report["tenants"] += 1
        try:
            report["records"] += crm_records_sync(connection=connection, days=settings.CRM_SYNC_DAYS, phone_key=customer_key)
        except CrmError as exc:
            report["failed"] += 1
            logger.warning("CRM records sync failed for %s: %s", connection.tenant.slug, exc.message)
    return report


def visit_messages_send_now(now: Any = None) -> dict[str, int]:
    from conversations.services.visits import visit_message_enqueue
    from crm.visits import visit_message_claim, visit_messages_due

    report = {"due": 0, "sent": 0}
    for message in visit_messages_due(now=now):
        report["due"] += 1
        if visit_message_claim(message=message, now=now):
            visit_message_enqueue(tenant=message.record.tenant, phone=message.record.customer_phone, name=message.record.customer_name,
                                  text=message.text, idempotency_key=message.idempotency_key)
            report["sent"] += 1
    return report


@shared_task(name="crm.visit_messages_send")
def visit_messages_send() -> dict[str, int]:
    """Beat job: reminders, thank-yous and nudges that are due (quiet hours and «стоп» respected)."""
    return visit_messages_send_now()
