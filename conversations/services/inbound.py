"""Accepting inbound webhook messages: parse, deduplicate, store, mark the conversation due.

This is the hot path of the webhook (ACK first): no work here that a worker can do later. It
upserts the conversation (opening a coalescing window if none is open) and inserts the message
with `ON CONFLICT DO NOTHING` — one statement on Postgres (data-modifying CTEs), two in one
transaction elsewhere. The unique constraint (tenant, provider message id) is the truth of
deduplication; with REDIS_URL set, a Redis `SET NX` in front answers most repeats without a
transaction (a hit is confirmed by one indexed SELECT, so a key left by a crashed request can
never make us drop a message).
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from conversations.choices import DeadLetterStatus, MessageType
from conversations.customers import customer_key, mask_phones_in_text, phone_normalize
from conversations.inbound_accept_sql import accept_statements
from conversations.models import Conversation, DeadLetter
from imperium.core.actors import Actor
from imperium.core.crypto import mask_phone
from imperium.core.prepared import server_prepared_cursor
from imperium.core.safejson import storable_text, text_clean
from imperium.core.services import audit_record

logger = logging.getLogger(__name__)

MAX_TEXT_LENGTH = 10_000
_SURROGATE = re.compile("[\ud800-\udfff]")
ACCEPTED = "accepted"
DUPLICATE = "duplicate"


class MalformedPayload(ValueError):
    """The body is not a message we understand; `str(exc)` says why (shown to the caller)."""


@dataclass(frozen=True)
class InboundPayload:
    message_id: str
    phone: str
    name: str
    message_type: str
    text: str
    provider_timestamp: datetime | None
    stored_payload: str  # JSON of the body with the phone masked


@dataclass(frozen=True)
class AcceptResult:
    status: str  # ACCEPTED | DUPLICATE
    conversation_id: int | None = None
    inbound_id: int | None = None
    burst_started: bool = False


def _str_field(data: dict[str, Any], name: str, *, required: bool, max_length: int) -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise MalformedPayload(f"'{name}' is required")
        return ""
    if not isinstance(value, str):
        raise MalformedPayload(f"'{name}' must be a string")
    if len(value) > max_length:
        raise MalformedPayload(f"'{name}' is longer than {max_length} characters")
    return text_clean(value)


def payload_parse(data: Any) -> InboundPayload:
    """Validate a decoded webhook body (docs/CONTRACTS.md "Inbound webhook"). Raises MalformedPayload."""
    if not isinstance(data, dict):
        raise MalformedPayload("body must be a JSON object")
    message_id = _str_field(data, "message_id", required=True, max_length=200)
    phone = phone_normalize(data.get("from"))
    if phone is None:
        raise MalformedPayload("'from' must be a phone number like +77011234567")
    name = _str_field(data, "name", required=False, max_length=200)
    message_type = _str_field(data, "type", required=False, max_length=20).lower() or MessageType.TEXT
    text = _str_field(data, "text", required=False, max_length=MAX_TEXT_LENGTH)
    if message_type == MessageType.TEXT and not text.strip():
        raise MalformedPayload("'text' is required for a text message")
    provider_timestamp = None
    raw_ts = data.get("timestamp")
    if raw_ts is not None:
        if isinstance(raw_ts, bool) or not isinstance(raw_ts, int | float):
            raise MalformedPayload("'timestamp' must be unix seconds")
        try:
            provider_timestamp = datetime.fromtimestamp(raw_ts, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise MalformedPayload("'timestamp' is out of range") from None
    stored = dict(data)
    stored["from"] = mask_phone(phone)
    try:
        stored_payload = json.dumps(stored, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError):
        raise MalformedPayload("body cannot be stored as JSON") from None
    if "\\u0000" in stored_payload or _SURROGATE.search(stored_payload):
        # Only for callers that did not decode with imperium.core.safejson.loads_safe.
        raise MalformedPayload("body holds a NUL character or a lone surrogate")
    return InboundPayload(
        message_id=message_id, phone=phone, name=name, message_type=message_type, text=text,
        provider_timestamp=provider_timestamp, stored_payload=stored_payload,
    )


# --- Redis fast path ------------------------------------------------------------------------
_redis_error_logged_at = 0.0


def _redis() -> Any:
    if not settings.REDIS_URL:
        return None
    from imperium.core.redisline import RedisLine

    return RedisLine.for_url(settings.REDIS_URL, timeout=settings.WEBHOOK_REDIS_TIMEOUT)


def _dedup_key(tenant_id: int, message_id: str) -> str:
    return f"{settings.WEBHOOK_DEDUP_KEY_PREFIX}:{tenant_id}:{message_id}"


def _redis_seen_before(tenant_id: int, message_id: str) -> bool:
    """SET NX the message key; True when it already existed. Never raises: Redis is only a cache."""
    global _redis_error_logged_at
    client = _redis()
    if client is None:
        return False
    try:
        return not client.set(_dedup_key(tenant_id, message_id), b"1", nx=True, ex=settings.WEBHOOK_DEDUP_TTL_SECONDS)
    except Exception as exc:  # any Redis failure: fall back to the database alone
        if time.monotonic() - _redis_error_logged_at > 30:
            _redis_error_logged_at = time.monotonic()
            logger.error("webhook dedup: Redis unavailable (%s); using the database only", type(exc).__name__)
        return False


# --- the accept (its SQL: conversations/inbound_accept_sql.py) ------------------------------
class _Duplicate(Exception):
    pass


_phone_field = Conversation._meta.get_field("customer_phone")


def inbound_accept(
    *,
    tenant: Any,
    message: InboundPayload,
    webhook_id: str = "",
    correlation_id: str = "",
    now: datetime | None = None,
) -> AcceptResult:
    """Store one inbound message exactly once and open (or join) its conversation's coalescing window.

    Idempotent: a repeat of (tenant, message_id) changes nothing and returns DUPLICATE;
    concurrent repeats are serialised by the unique index. When this message opens a new
    window, the turn task is queued after commit, due when the window closes.
    """
    statements = accept_statements()
    params: dict[str, Any] = {"tenant": tenant.pk, "mid": message.message_id}
    if _redis_seen_before(tenant.pk, message.message_id):
        with connection.cursor() as cursor:
            cursor.execute(statements.exists, params)
            if cursor.fetchone() is not None:
                return AcceptResult(status=DUPLICATE)
    now = now or timezone.now()
    tenant_settings = tenant.settings
    first_due = now + timedelta(seconds=min(tenant_settings.coalesce_window_seconds, tenant_settings.coalesce_max_seconds))
    adapt = connection.ops.adapt_datetimefield_value
    params.update(
        key=customer_key(message.phone), phone=_phone_field.get_prep_value(message.phone), masked=mask_phone(message.phone),
        name=message.name, now=adapt(now), due=adapt(first_due), type=message.message_type, text=message.text,
        payload=message.stored_payload, pts=adapt(message.provider_timestamp) if message.provider_timestamp else None,
        wid=webhook_id[:200], cid=correlation_id[:128],
    )
    if connection.vendor == "postgresql":
        # Prepared on the server: planning this statement costs Postgres twice what running it does.
        with server_prepared_cursor() as cursor:
            cursor.execute(statements.combined, params)
            row = cursor.fetchone()
        if row is None:
            return AcceptResult(status=DUPLICATE)
        inbound_id, conversation_id, started = row
    else:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(statements.upsert, params)
                params["conversation"], started = cursor.fetchone()
                cursor.execute(statements.insert, params)
                row = cursor.fetchone()
                if row is None:
                    raise _Duplicate  # roll the conversation upsert back: a repeat changes nothing
        except _Duplicate:
            return AcceptResult(status=DUPLICATE)
        inbound_id, conversation_id = row
    if started:
        from conversations.dispatch import dispatch_turn

        # After commit (outside a transaction the single statement above has committed already).
        transaction.on_commit(lambda: dispatch_turn(conversation_id=conversation_id, tenant=tenant, eta=first_due, fresh=False))
    return AcceptResult(status=ACCEPTED, conversation_id=conversation_id, inbound_id=inbound_id, burst_started=bool(started))


def dead_letter_record(
    *, tenant: Any, body: bytes, error: str, webhook_id: str = "", headers: dict[str, str] | None = None, correlation_id: str = ""
) -> DeadLetter:
    """Keep a correctly signed delivery we could not parse or store and raise an alert after
    commit: a changed gateway format must not go unnoticed. `body` is readable text with phone
    numbers masked; `raw_body` keeps the exact bytes (base64, encrypted at rest) for a replay."""
    letter = DeadLetter.objects.create(
        tenant=tenant, webhook_id=text_clean(webhook_id[:200]), error=text_clean(error[:2000]),
        body=mask_phones_in_text(storable_text(body)), raw_body=base64.b64encode(body).decode(),
        headers={k: text_clean(v) for k, v in (headers or {}).items()}, correlation_id=text_clean(correlation_id[:128]),
    )

    def _alert() -> None:
        from incidents.alerts import alert_raise

        alert_raise(
            title=f"Webhook dead letter for {tenant.slug}",
            text=f"A signed delivery could not be understood: {error[:200]} (dead letter {letter.pk}).",
            severity="warning", tenant=tenant, key=f"dead_letter:{tenant.slug}",
        )

    transaction.on_commit(_alert)
    return letter


@transaction.atomic
def dead_letter_resolve(*, actor: Actor, dead_letter: DeadLetter) -> DeadLetter:
    """Mark a dead letter handled. Idempotent; audited as `conversation.dead_letter_resolved`."""
    updated = DeadLetter.objects.filter(pk=dead_letter.pk, status=DeadLetterStatus.NEW).update(
        status=DeadLetterStatus.RESOLVED, resolved_at=timezone.now(), resolved_by=actor.label[:150]
    )
    dead_letter.refresh_from_db()
    if updated:
        audit_record(actor=actor, action="conversation.dead_letter_resolved", tenant=dead_letter.tenant_id, obj=dead_letter)
    return dead_letter
