"""The sweeper under a backlog: a turn task that is only waiting in a long queue is not queued again."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Conversation, Escalation, InboundMessage
from conversations.services import outbox_sweep
from conversations.services.turns import turn_run_due
from conversations.tests.helpers import conversation_new

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_latency_writer(monkeypatch):
    """Each test starts as a fresh worker process: no latency written by this process yet."""
    from conversations.services import queue_latency

    monkeypatch.setattr(queue_latency, "_last_written", -1e9)
    monkeypatch.setattr(queue_latency, "_written", {})
    monkeypatch.setattr(queue_latency, "_last_read", {})


def _due_conversations(tenant, count, *, queued_ago, now):
    for n in range(count):
        conversation_new(tenant, key=f"k{n}", phone=f"+7701{n:07d}")
    Conversation.objects.update(reply_due_at=now - timedelta(seconds=queued_ago), dispatched_at=now - timedelta(seconds=queued_ago))


def _turn_tasks(queued):
    return [q for q in queued if q.task == "conversations.turn_run"]


def test_a_backlog_does_not_make_itself_worse(tenant_a, queued, webhook, local_cache):
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


def test_what_the_sweeper_recovers_goes_to_the_front_of_the_queue(tenant_a, queued):
    """Recovered work is older than the fresh backlog: it is published to be taken next."""
    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _due_conversations(tenant_a, 3, queued_ago=40, now=now)
        outbox_sweep()
    assert [q.front for q in _turn_tasks(queued)] == [True, True, True]


def test_the_front_of_a_real_redis_queue_is_where_workers_pop(settings):
    """`front=True` is an RPUSH: the end kombu's BRPOP takes from, ahead of everything waiting."""
    import redis

    from imperium.celery import app
    from imperium.core.celery_lpush import celery_lpush

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (a real Redis)")
    queue = f"test-front-{timezone.now().timestamp()}"
    client = redis.Redis.from_url(settings.REDIS_URL)
    try:
        for n, front in ((1, False), (2, False), (3, True)):
            message = app.amqp.as_task_v2(f"task-{n}", "conversations.turn_run", args=[n], kwargs={})
            celery_lpush(settings.REDIS_URL, queue, "conversations.turn_run", message, front=front)
        popped = [json.loads(client.rpop(queue))["headers"]["id"] for _ in range(3)]
    finally:
        client.delete(queue)
    assert popped == ["task-3", "task-1", "task-2"]  # the recovered one first, then the rest in order


def _unnotified_escalations(tenant, count, *, age, now, prefix="e"):
    conversations = [conversation_new(tenant, key=f"{prefix}{n}", phone=f"+7702{n:07d}") for n in range(count)]
    born = now - timedelta(seconds=age)
    Escalation.objects.bulk_create([
        Escalation(tenant=tenant, conversation=c, reason="other", created_at=born, notify_dispatched_at=born) for c in conversations
    ])


def _notify_tasks(queued):
    return [q for q in queued if q.task == "conversations.escalation_notify"]


def test_an_escalation_waiting_in_a_long_notice_queue_is_not_notified_again(tenant_a, queued, local_cache):
    """The notice queue reports its own latency (the escalation_notify task): 90 s. Escalations
    queued 60 s ago are waiting, not lost."""
    from conversations.services.handover import escalation_notify

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        _unnotified_escalations(tenant_a, 1, age=90, now=now)
        assert escalation_notify(escalation_id=Escalation.objects.get().pk) is True  # waited 90 s in the queue
        _unnotified_escalations(tenant_a, 20, age=60, now=now, prefix="w")
        report = outbox_sweep()
    assert report.escalations_renotified == 0 and _notify_tasks(queued) == []


def test_a_lost_notice_is_sent_again_at_doubling_intervals_not_every_sweep(tenant_a, queued):
    """Nobody takes the notice (its task is lost each time): over 10 minutes of sweeps every 5 s
    (120 sweeps) it is queued again 4 times (at 30 s, 60 s, 2 min and 4 min; the next would be 8 min
    after the one before), not once per sweep."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        _unnotified_escalations(tenant_a, 1, age=0, now=start)
    sent_at = []
    for n in range(1, 121):
        at = start + timedelta(seconds=5 * n)
        with time_machine.travel(at, tick=False):
            if outbox_sweep().escalations_renotified:
                sent_at.append(round((at - start).total_seconds()))
    assert sent_at == [30, 60, 120, 240, 480]
    assert len(_notify_tasks(queued)) == 5 and all(q.front for q in _notify_tasks(queued))


def test_re_notifies_are_capped_per_tenant_per_minute(tenant_a, tenant_b, queued, settings, local_cache):
    settings.OUTBOX_RENOTIFY_PER_TENANT_PER_MINUTE = 10
    now = timezone.now().replace(second=1)
    with time_machine.travel(now, tick=False):
        _unnotified_escalations(tenant_a, 25, age=40, now=now)
        _unnotified_escalations(tenant_b, 3, age=40, now=now)
        first = outbox_sweep()
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        second = outbox_sweep()  # same minute: tenant A's budget is spent
    with time_machine.travel(now + timedelta(seconds=65), tick=False):
        third = outbox_sweep()  # a new minute: the next ten of tenant A (and B's three, 65 s after their first)

    assert (first.escalations_renotified, second.escalations_renotified, third.escalations_renotified) == (13, 0, 13)
    tenants = dict(Escalation.objects.values_list("pk", "tenant_id"))
    per_tenant = [tenants[q.args[0]] for q in _notify_tasks(queued)]
    assert per_tenant.count(tenant_a.pk) == 20 and per_tenant.count(tenant_b.pk) == 6


def test_a_cache_that_fails_for_a_moment_keeps_the_last_latency(tenant_a, queued, monkeypatch):
    """A slow cache under load must not make the sweeper flood the queue: the last estimate holds."""
    from django.core.cache import cache

    from conversations.services.queue_latency import queue_latency_estimate, queue_latency_observe

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        queue_latency_observe(queued_at=now - timedelta(seconds=60), due_at=None, now=now)
        assert queue_latency_estimate(now=now) == 60

        def timeout(*args, **kwargs):
            raise TimeoutError("cache read timed out")

        monkeypatch.setattr(cache, "get_many", timeout)
        _due_conversations(tenant_a, 50, queued_ago=40, now=now)
        report = outbox_sweep()
    assert report.turns_dispatched == 0 and _turn_tasks(queued) == []


def test_a_short_queue_reported_later_does_not_hide_a_long_one(tenant_a, queued, local_cache):
    """Two workers: one with a 60 s backlog, one idle. The idle one's report must not make the
    sweeper call the busy one's waiting tasks lost."""
    from conversations.services.queue_latency import queue_latency_estimate, queue_latency_observe

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        queue_latency_observe(queued_at=now - timedelta(seconds=60), due_at=None, now=now)
        queue_latency_observe(queued_at=now, due_at=None, now=now + timedelta(seconds=1))
        assert queue_latency_estimate(now=now + timedelta(seconds=2)) == 60


def test_work_the_queue_has_passed_is_recovered_without_waiting_twice_the_latency(tenant_a, queued, local_cache):
    """A 10-minute backlog: waiting turns are left alone, but one due long before what workers
    are claiming now (its task died with a killed worker) is queued again at once, not after
    twice the 10 minutes."""
    from conversations.services.queue_latency import queue_latency_observe

    now = timezone.now()
    with time_machine.travel(now, tick=False):
        # Workers now claim work due 10 minutes ago.
        queue_latency_observe(queued_at=now - timedelta(seconds=603), due_at=now - timedelta(seconds=600), now=now)
        _due_conversations(tenant_a, 20, queued_ago=590, now=now)  # due after that: still waiting
        lost = conversation_new(tenant_a, key="lost", phone="+77019999999")
        Conversation.objects.filter(pk=lost.pk).update(reply_due_at=now - timedelta(seconds=700),
                                                       dispatched_at=now - timedelta(seconds=703))
        report = outbox_sweep()
        again = outbox_sweep()
    assert report.turns_dispatched == 1 and [q.args for q in _turn_tasks(queued)] == [[lost.pk]]
    assert again.turns_dispatched == 0  # queued again just now: not passed again until later work is served
