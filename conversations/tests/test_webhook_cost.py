"""The webhook's cost discipline (docs/BENCHMARKS.md, "Webhook ingest"): per accepted request one
statement and one dedup command, and nothing that grows with the number of requests — metric
label sets, event counters, kept connections and compiled statements stay bounded whatever
slugs, ids and statuses arrive. Load-independent: counts and sizes, never timings."""

from __future__ import annotations

import json
import uuid

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.signing import signed_headers
from conversations.tests.test_metrics import _wsgi_post


def _body(n: int) -> bytes:
    return json.dumps({"message_id": f"wamid.cost-{uuid.uuid4().hex}", "from": f"+7701{n:07d}", "type": "text",
                       "text": "Сколько стоит маникюр?"}).encode()


def _label_sets(metric) -> set[tuple[str, ...]]:
    return set(metric._metrics)


@pytest.mark.django_db(transaction=True)
def test_an_accept_is_one_statement_and_one_redis_command_and_nothing_grows_per_request(tenant_a, monkeypatch):
    from conversations import inbound_accept_sql
    from imperium.core import counters, metrics
    from imperium.core.redisline import RedisLine

    commands: list[str] = []
    original = RedisLine.execute

    def counting(self, *args):
        commands.append(str(args[0]))
        return original(self, *args)

    monkeypatch.setattr(RedisLine, "execute", counting)
    secret = tenant_a.settings.webhook_secret
    _wsgi_post(f"/webhook/{tenant_a.slug}", _body(0), signed_headers(secret, _body(0)))  # warm: tenant cached, SQL built

    def burst(start: int, count: int) -> tuple[int, int]:
        statements = accepted = 0
        for n in range(start, start + count):
            body = _body(n)
            with CaptureQueriesContext(connection) as captured:
                status = _wsgi_post(f"/webhook/{tenant_a.slug}", body, signed_headers(secret, body))
            accepted += status.startswith("200")
            statements += len(captured.captured_queries)
            # Refused requests from the internet, each with another slug or a wrong signature.
            _wsgi_post(f"/webhook/nobody-{uuid.uuid4().hex[:12]}", body, signed_headers(secret, body))
            _wsgi_post(f"/webhook/{tenant_a.slug}", body, signed_headers("whsec_" + "A" * 32, body))
        return statements, accepted

    commands.clear()
    statements, accepted = burst(1, 20)
    assert accepted == 20
    if connection.vendor == "postgresql":
        assert statements == 20  # the whole accept is one statement
    # The dedup SET NX per accepted request (the turn's LPUSH is recorded by the `queued` fixture).
    # Without REDIS_URL (the embedded run) the database's unique key alone deduplicates: no Redis command.
    assert commands.count("SET") == (20 if settings.REDIS_URL else 0)

    sizes = (len(_label_sets(metrics.WEBHOOK_REQUESTS)), len(counters.counters_snapshot()), len(RedisLine._lines),
             len(inbound_accept_sql._SQL))
    burst(21, 40)
    assert (len(_label_sets(metrics.WEBHOOK_REQUESTS)), len(counters.counters_snapshot()), len(RedisLine._lines),
            len(inbound_accept_sql._SQL)) == sizes
    assert {labels[0] for labels in _label_sets(metrics.WEBHOOK_REQUESTS)} <= {"200", "400", "401", "404", "413", "500"}
