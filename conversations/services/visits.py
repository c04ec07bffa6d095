"""Visit messages (crm.visits) to a customer, through the same exactly-once outbound path."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from conversations.choices import OutboundKind
from conversations.customers import customer_key
from conversations.models import Conversation, OutboundMessage
from conversations.services.delivery import outbound_enqueue
from imperium.core.crypto import mask_phone


def conversation_for_phone(*, tenant: Any, phone: str, name: str = "") -> Conversation:
    """The customer's conversation with the tenant, created when they never wrote."""
    key = customer_key(phone)
    existing = Conversation.objects.for_tenant(tenant).filter(customer_key=key).first()
    if existing is not None:
        return existing
    now = timezone.now()
    try:
        with transaction.atomic():
            return Conversation.objects.create(tenant=tenant, customer_key=key, customer_phone=phone,
                                               customer_phone_masked=mask_phone(phone),
                                               customer_name=name[:200], created_at=now, updated_at=now)
    except IntegrityError:
        return Conversation.objects.for_tenant(tenant).get(customer_key=key)


def visit_message_enqueue(*, tenant: Any, phone: str, name: str, text: str, idempotency_key: str) -> OutboundMessage:
    """Queue one visit message (idempotent by key: a repeat returns the first row, sends nothing)."""
    conversation = conversation_for_phone(tenant=tenant, phone=phone, name=name)
    conversation.tenant = tenant
    return outbound_enqueue(tenant=tenant, conversation=conversation, text=text, kind=OutboundKind.VISIT, idempotency_key=idempotency_key)
