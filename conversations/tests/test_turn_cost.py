"""The turn's cost discipline (docs/BENCHMARKS.md, "Reply pipeline"): what one turn costs in
statements and cache round trips, counted, so a change that adds a query or a cache call to
every turn fails here instead of showing up months later as fewer turns per second.

Load-independent: counts, never timings. The budgets are those of the benchmarked path (a turn
delivered over HTTP to the gateway, the real serving context), SAVEPOINTs excluded (the test's
own transaction turns the turn's transactions into savepoints).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conversations.conftest import message_body
from conversations.models import Turn
from conversations.services.turns import turn_run_now
from conversations.tests.helpers import conversation_of

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 6, 10, 0, tzinfo=UTC)
# Statements of one turn (claim, decide, finish, deliver), the benchmark's budgets: 13 for an
# answer, 16 for an escalation (its escalation row, state change, event and holding message).
ANSWER_STATEMENTS = 13
ESCALATION_STATEMENTS = 16
# Cache round trips of one turn: the gateway circuit's look before the send and after it.
CACHE_CALLS = 2


def _statements(captured) -> list[str]:
    return [q["sql"] for q in captured.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT", "ROLLBACK TO SAVEPOINT"))]


@pytest.fixture
def cache_calls(monkeypatch):
    """Counts cache calls."""
    from django.core.cache import cache

    calls: Counter[str] = Counter()
    for name in ("get", "set", "add", "delete", "delete_many", "get_many", "set_many", "incr", "touch"):
        original = getattr(cache, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(cache, name, spy)
    return calls


def _one_turn(webhook, tenant, *, queued_seconds_ago: float = 3):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant, text="Сколько стоит маникюр?")
        conversation = conversation_of(tenant)
        traveller.move_to(T0 + timedelta(seconds=queued_seconds_ago))
        return conversation


def _run(conversation, monkeypatch):
    """The turn of a worker in its steady state: it wrote its queue latency a moment ago (that
    write happens at most once a second per process: the backlog test below)."""
    from types import SimpleNamespace

    from conversations.services import queue_latency

    monkeypatch.setattr(queue_latency, "time", SimpleNamespace(monotonic=lambda: 5000.0))  # the worker's clock, held
    monkeypatch.setattr(queue_latency, "_last_written", 5000.0)
    with CaptureQueriesContext(connection) as captured:
        status = turn_run_now(conversation.pk, "stable")
    return status, _statements(captured)


def test_an_answer_turn_stays_within_its_statement_and_cache_budget(webhook, tenant_a, brain, fake_chatflow, cache_calls, monkeypatch):
    brain("Маникюр — 5000 ₸.")
    conversation = _one_turn(webhook, tenant_a)
    cache_calls.clear()
    status, statements = _run(conversation, monkeypatch)
    assert status == "answered" and len(fake_chatflow.messages) == 1
    assert len(statements) <= ANSWER_STATEMENTS, "\n".join(statements)
    assert sum(cache_calls.values()) <= CACHE_CALLS, cache_calls
    # The tenant's CRM connection (none) comes with the claim read, not a query of its own.
    assert not any('"crm_crmconnection"' in sql and sql.startswith("SELECT \"crm_crmconnection\"") for sql in statements)


def test_an_escalation_turn_stays_within_its_statement_and_cache_budget(webhook, tenant_a, brain, fake_chatflow, cache_calls, monkeypatch):
    brain(action="escalate", reason="complaint")
    conversation = _one_turn(webhook, tenant_a)
    cache_calls.clear()
    status, statements = _run(conversation, monkeypatch)
    assert status == "escalated" and len(fake_chatflow.messages) == 1  # the holding reply
    assert len(statements) <= ESCALATION_STATEMENTS, "\n".join(statements)
    assert sum(cache_calls.values()) <= CACHE_CALLS, cache_calls


def test_a_backlog_writes_the_queue_latency_once_a_second_not_once_a_turn(webhook, tenant_a, brain, fake_chatflow, cache_calls,
                                                                          monkeypatch):
    """Ten turns that each waited a minute in the queue (a backlog), claimed within one second of
    the worker's clock: one latency write, not ten; the next second's turn writes again."""
    from types import SimpleNamespace

    from conversations.services import queue_latency

    clock = SimpleNamespace(now=5000.0)
    monkeypatch.setattr(queue_latency, "time", SimpleNamespace(monotonic=lambda: clock.now))  # the worker's own clock, held
    monkeypatch.setattr(queue_latency, "_last_written", -1e9)
    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        for n in range(11):
            webhook.post(tenant_a, message_body(**{"from": f"+7701000{n:04d}", "text": "Сколько стоит маникюр?"}))
        conversations = [conversation_of(tenant_a, f"+7701000{n:04d}") for n in range(11)]
        traveller.move_to(T0 + timedelta(seconds=60))
        cache_calls.clear()
        for conversation in conversations[:10]:
            assert turn_run_now(conversation.pk, "stable") == "answered"
        assert cache_calls["set"] == 1
        assert queue_latency.queue_latency_estimate(now=T0 + timedelta(seconds=60)) >= 57  # and the sweeper sees it
        clock.now += 1.0
        assert turn_run_now(conversations[10].pk, "stable") == "answered"
        assert cache_calls["set"] == 2
    assert Turn.objects.filter(status="answered").count() == 11
