"""The hand-written SQL of the webhook's accept (`conversations.services.inbound.inbound_accept`).

Measured (docs/BENCHMARKS.md): on Postgres the accept is one statement (data-modifying CTEs, one
round trip, server-side prepared by `imperium.core.prepared`); the ORM's two round trips and
per-call SQL building cost more than the database work. Kept apart from the service so the
business rules read as Python and the SQL is found in one place. Built once per database vendor;
table names come from model metadata, every value is a query parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import connection

from conversations.models import Conversation, InboundMessage

_CONVERSATION_COLUMNS = """tenant_id, customer_key, customer_phone, customer_phone_masked, customer_name, state,
                        created_at, updated_at, last_inbound_at, reply_due_at, dispatched_at"""
_CONVERSATION_VALUES = "%(tenant)s, %(key)s, %(phone)s, %(masked)s, %(name)s, 'bot', %(now)s, %(now)s, %(now)s, %(due)s, %(now)s"
# A message opens a coalescing window only when none is open; a closed conversation reopens.
_CONVERSATION_CONFLICT = """ON CONFLICT (tenant_id, customer_key) DO UPDATE SET
        last_inbound_at = excluded.last_inbound_at,
        updated_at = excluded.updated_at,
        customer_name = CASE WHEN excluded.customer_name <> '' THEN excluded.customer_name ELSE {conv}.customer_name END,
        state = CASE WHEN {conv}.state = 'closed' THEN 'bot' ELSE {conv}.state END,
        reply_due_at = COALESCE({conv}.reply_due_at, excluded.reply_due_at),
        dispatched_at = CASE WHEN {conv}.reply_due_at IS NULL THEN excluded.dispatched_at ELSE {conv}.dispatched_at END
    RETURNING id, CASE WHEN dispatched_at = %(now)s THEN 1 ELSE 0 END AS started"""
_MESSAGE_COLUMNS = """tenant_id, conversation_id, provider_message_id, message_type, text, payload,
                           provider_timestamp, received_at, webhook_id, correlation_id"""
_MESSAGE_CONFLICT = "ON CONFLICT (tenant_id, provider_message_id) DO NOTHING RETURNING id, conversation_id"

# Postgres: the whole accept as one statement (data-modifying CTEs): one round trip, no
# BEGIN/COMMIT. The NOT EXISTS guard keeps a repeat from touching the conversation; a concurrent
# repeat that passes it loses on the unique index (DO NOTHING) and changes nothing but the
# conversation's last_inbound_at by a few milliseconds.
_COMBINED = """
WITH conv AS (
    INSERT INTO {conv} ({conv_columns})
    SELECT {conv_values}
    WHERE NOT EXISTS (SELECT 1 FROM {inbound} WHERE tenant_id = %(tenant)s AND provider_message_id = %(mid)s)
    {conv_conflict}
), msg AS (
    INSERT INTO {inbound} ({message_columns})
    SELECT %(tenant)s, conv.id, %(mid)s, %(type)s, %(text)s, CAST(%(payload)s AS jsonb), %(pts)s, %(now)s, %(wid)s, %(cid)s
    FROM conv
    {message_conflict}
)
SELECT msg.id, msg.conversation_id, conv.started FROM msg JOIN conv ON conv.id = msg.conversation_id
"""
_UPSERT = "INSERT INTO {conv} ({conv_columns}) VALUES ({conv_values}) {conv_conflict}"
_INSERT = """INSERT INTO {inbound} ({message_columns})
    VALUES (%(tenant)s, %(conversation)s, %(mid)s, %(type)s, %(text)s, %(payload)s, %(pts)s, %(now)s, %(wid)s, %(cid)s)
    {message_conflict}"""
_EXISTS = "SELECT 1 FROM {inbound} WHERE tenant_id = %(tenant)s AND provider_message_id = %(mid)s"


@dataclass(frozen=True)
class _Statements:
    combined: str  # Postgres
    upsert: str  # elsewhere (SQLite has no data-modifying CTEs): two statements in one transaction
    insert: str
    exists: str


_SQL: dict[str, _Statements] = {}


def accept_statements() -> _Statements:
    """The accept's statements for the current database vendor, built on first use."""
    vendor = connection.vendor
    if vendor not in _SQL:
        conv = Conversation._meta.db_table
        parts = {
            "conv": conv, "inbound": InboundMessage._meta.db_table, "conv_columns": _CONVERSATION_COLUMNS,
            "conv_values": _CONVERSATION_VALUES, "conv_conflict": _CONVERSATION_CONFLICT.format(conv=conv),
            "message_columns": _MESSAGE_COLUMNS, "message_conflict": _MESSAGE_CONFLICT,
        }
        _SQL[vendor] = _Statements(
            combined=_COMBINED.format(**parts), upsert=_UPSERT.format(**parts), insert=_INSERT.format(**parts),
            exists=_EXISTS.format(**parts),
        )
    return _SQL[vendor]
