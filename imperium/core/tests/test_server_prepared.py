"""Server-side prepared statements for the webhook's accept (imperium.core.prepared.server_prepared_cursor).

On Postgres the accept statement is parsed and planned once per connection and then only
executed; these tests read Postgres's own `pg_prepared_statements` to prove it, and check that
Django's error wrapping, query logging and the off switch still hold. On SQLite the cursor is
Django's ordinary one.
"""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.test.utils import CaptureQueriesContext

from conversations.models import InboundMessage
from conversations.services import inbound_accept, payload_parse
from conversations.services.inbound import ACCEPTED, DUPLICATE
from imperium.core.prepared import server_prepared_cursor

pytestmark = pytest.mark.django_db

_ACCEPT_STATEMENT = "%INSERT INTO conversations_conversation%INSERT INTO conversations_inboundmessage%"


def _accept(tenant, message_id: str, phone: str = "+77011234567"):
    message = payload_parse({"message_id": message_id, "from": phone, "type": "text", "text": "Сколько стоит маникюр?"})
    return inbound_accept(tenant=tenant, message=message, webhook_id=f"msg_{message_id}")


def _prepared_accepts() -> list[tuple[int, int]]:
    """(generic plans, custom plans) of this session's prepared accept statements."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement LIKE %s", [_ACCEPT_STATEMENT])
        return cursor.fetchall()


def _postgres_only() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("server-side prepared statements are a Postgres feature (CI runs Postgres)")


def test_the_accept_is_prepared_once_per_connection_and_reused(tenant_a, settings):
    _postgres_only()
    settings.REDIS_URL = ""  # the repeat goes through the statement too
    results = [_accept(tenant_a, f"wamid.p{i}", phone=f"+7701123456{i}") for i in range(4)]
    repeat = _accept(tenant_a, "wamid.p0", phone="+77011234560")

    assert [r.status for r in results] == [ACCEPTED] * 4 and repeat.status == DUPLICATE
    assert InboundMessage.objects.filter(tenant=tenant_a).count() == 4
    statements = _prepared_accepts()
    assert len(statements) == 1  # one statement for all five executions, none re-parsed
    generic, custom = statements[0]
    assert generic + custom == 5


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again(tenant_a):
    _postgres_only()
    _accept(tenant_a, "wamid.before")
    connection.close()  # what CONN_MAX_AGE or a dropped connection does
    result = _accept(tenant_a, "wamid.after", phone="+77019998877")

    assert result.status == ACCEPTED
    assert InboundMessage.objects.filter(tenant=tenant_a, provider_message_id="wamid.after").exists()
    assert sum(g + c for g, c in _prepared_accepts()) == 1


def test_the_switch_turns_preparing_off(tenant_a, settings):
    _postgres_only()
    settings.DATABASE_PREPARED_STATEMENTS = False
    _accept(tenant_a, "wamid.off1")
    _accept(tenant_a, "wamid.off2", phone="+77019998877")

    assert _prepared_accepts() == []
    assert InboundMessage.objects.filter(tenant=tenant_a).count() == 2


def test_errors_come_wrapped_as_django_errors(tenant_a):
    with pytest.raises(DatabaseError), transaction.atomic(), server_prepared_cursor() as cursor:
        cursor.execute("SELECT no_such_column FROM conversations_inboundmessage")
    # The connection is still usable afterwards, and the accept still works.
    assert _accept(tenant_a, "wamid.after-error").status == ACCEPTED


def test_prepared_statements_are_logged_like_any_query(tenant_a, settings):
    settings.REDIS_URL = ""  # only the database in the log
    with CaptureQueriesContext(connection) as captured:
        _accept(tenant_a, "wamid.logged")
    accepts = [q["sql"] for q in captured.captured_queries if "INSERT INTO conversations_inboundmessage" in q["sql"]]
    assert len(accepts) == 1
    if connection.vendor == "postgresql":
        assert len(captured.captured_queries) == 1  # the whole accept is one statement
