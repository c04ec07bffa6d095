"""The sweeper under a backlog: a turn task that is only waiting in a long queue is not queued again."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Conversation, InboundMessage
from conversations.services import outbox_sweep
from conversations.services.turns import turn_run_due
from conversations.tests.helpers import conversation_new

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_latency_writer(monkeypatch):
    """Each test starts as a fresh worker process: no latency written by this process yet."""
    from conversations.services import queue_latency

    monkeypatch.setattr(queue_latency, "_last_written", -1e9)


def _due_conversations(tenant, count, *, queued_ago, now):
    for n in range(count):
        conversation_new(tenant, key=f"k{n}", phone=f"+7701{n:07d}")
    Conversation.objects.update(reply_due_at=now - timedelta(seconds=queued_ago), dispatched_at=now - timedelta(seconds=queued_ago))


def _turn_tasks(queued):
    return [q for q in queued if q.task == "conversations.turn_run"]


def test_a_backlog_does_not_make_itself_worse(tenant_a, queued, webhook):
    """100 conversations whose turn tasks were queued 40 s ago and still wait: workers report a
    60 s queue, so the sweeper queues none of them again (it used to queue every one, each sweep)."""
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        # A worker claims a turn that waited 60 s in the queue and says so.
        webhook.post(tenant_a, message_id="wamid.first")
        first = Conversation.objects.get()
        InboundMessage.objects.update(received_at=now - timedelta(seconds=60))
        Conversation.objects.filter(pk=first.pk).update(reply_due_at=now - timedelta(seconds=60),
                                                        dispatched_at=now - timedelta(seconds=60))
        assert turn_run_due(conversation_id=first.pk) in ("answered", "escalated", "forwarded", "suppressed")
        queued.clear()

        _due_conversations(tenant_a, 100, queued_ago=40, now=now)
        report = outbox_sweep()

    redundant = len(_turn_tasks(queued))
    assert report.turns_dispatched == 0 and redundant == 0  # < 5 % of 100 turns, as the issue asks


def test_a_task_lost_for_longer_than_the_queue_takes_is_queued_again(tenant_a, queued):
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _due_conversations(tenant_a, 10, queued_ago=40, now=now)  # no worker reported anything: nothing to wait for
        report = outbox_sweep()
    assert report.turns_dispatched == 10 and len(_turn_tasks(queued)) == 10


def test_an_old_latency_report_does_not_hold_recovery_back(tenant_a, queued, settings):
    from conversations.services.queue_latency import queue_latency_observe

    now = timezone.now()
    queue_latency_observe(queued_at=now - timedelta(seconds=600), due_at=None, now=now)  # a 10-minute queue, once
    later = now + timedelta(minutes=5)  # workers died since: no fresh report
    with time_machine.travel(later, tick=False):
        _due_conversations(tenant_a, 5, queued_ago=40, now=later)
        report = outbox_sweep()
    assert report.turns_dispatched == 5
