"""Bounded recovery with real processes: a Celery worker on a real Redis broker (a private
redis-server, so every task in the queue is this test's), the fake ChatFlow, the sweeper run by
the test on its schedule. Counted, not timed: redundant turn tasks (the worker's own metric),
what the sweeper queued again, messages at the gateway.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.db.models import F
from django.utils import timezone

from conversations import dispatch
from conversations.models import Conversation, OutboundMessage, Turn
from conversations.services import inbound_accept, outbox_sweep, payload_parse
from conversations.testing.live import LiveWorker, worker_counter
from tenants.tests.factories import ClientFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

def _accept(tenant, n, run):
    message = payload_parse({"message_id": f"wamid.{run}-{n}", "from": f"+7705{n:07d}", "type": "text", "text": "Здравствуйте!"})
    return inbound_accept(tenant=tenant, message=message).conversation_id


def test_a_backlog_and_a_killed_worker_cost_no_redundant_turn_tasks(tmp_path, private_broker, fake_chatflow, settings, monkeypatch):
    """40 customers queued while no worker runs, 3 more whose broker message was lost. Sweeps
    then queue exactly the 3 lost ones again — at the front, so a worker takes them first — and
    none of the 40 that are visibly waiting in the queue (the latency rule alone, with no worker
    reporting, would have queued all 43). A worker starts, is SIGKILLed mid-backlog, another
    starts: every customer gets exactly one message, and no turn task finds nothing to do."""
    settings.OUTBOX_REDISPATCH_SECONDS = 1
    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    fake_chatflow.delay(0.05, times=1000)  # a gateway that takes 50 ms: the backlog lasts a few seconds

    monkeypatch.setattr(dispatch, "_publish", lambda *args, **kwargs: None)  # lost broker messages
    lost = [_accept(tenant, n, "lost") for n in range(3)]
    Conversation.objects.filter(pk__in=lost).update(dispatched_at=F("dispatched_at") - timedelta(seconds=10))  # lost a while ago
    monkeypatch.setattr(dispatch, "_publish", private_broker.publish)
    waiting = [_accept(tenant, n, "queued") for n in range(3, 43)]
    everyone = lost + waiting

    requeued = []
    with time_machine.travel(timezone.now() + timedelta(seconds=60), tick=False):  # long after they were queued
        for _ in range(3):
            requeued.append(outbox_sweep().turns_dispatched)
    assert requeued == [3, 0, 0]  # the lost ones, once; none of the ones waiting in the queue

    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    env = dict(CELERY_BROKER_URL=private_broker.url, REDIS_URL=private_broker.url, CHATFLOW_BASE_URL=fake_chatflow.url,
               CHATFLOW_TIMEOUT="2", CHATFLOW_RETRY_MAX_DELAY="0.5", TURN_LEASE_SECONDS="5", PROMETHEUS_MULTIPROC_DIR=str(metrics_dir),
               LOG_LEVEL="warning")
    swept = {"turns": 0, "resumed": 0, "deliveries": 0}
    pause = threading.Event()

    def sweep_until(predicate, timeout):
        for _ in range(int(timeout / 0.5)):
            if predicate():
                return True
            report = outbox_sweep()  # beat's job, every 0.5 s here
            swept["turns"] += report.turns_dispatched
            swept["resumed"] += report.turns_resumed
            swept["deliveries"] += report.deliveries_dispatched
            pause.wait(0.5)
        return predicate()

    worker = LiveWorker(tmp_path, queues="stable,default", **env).start()
    try:
        assert fake_chatflow.wait_for(lambda f: len(f.messages) >= 12, timeout=60), worker.log()
        worker.kill()  # SIGKILL mid-backlog: whatever it held is lost with it
    finally:
        worker.stop()
    answered_before_restart = len(fake_chatflow.messages)
    assert answered_before_restart < len(everyone)

    worker = LiveWorker(tmp_path, queues="stable,default", **env).start()
    try:
        done = sweep_until(lambda: len(fake_chatflow.messages) >= len(everyone)
                           and not OutboundMessage.objects.exclude(status="sent").exists(), timeout=45)
    finally:
        worker.stop()

    phones = sorted(m.to for m in fake_chatflow.messages)
    expected = sorted(Conversation.objects.filter(pk__in=everyone).values_list("customer_phone", flat=True))
    assert done and phones == expected, worker.log()  # every customer, exactly once
    assert Turn.objects.count() == len(everyone)
    first_served = list(Turn.objects.order_by("created_at", "id").values_list("conversation_id", flat=True)[:3])
    assert sorted(first_served) == sorted(lost)  # recovered work went first, not behind the 40

    redundant = worker_counter(metrics_dir, "imperium_turn_tasks", outcome="redundant")
    work = worker_counter(metrics_dir, "imperium_turn_tasks", task="turn_run", outcome="work")
    assert work >= len(everyone) - 1  # the task the kill interrupted may have been finished by a resume
    assert redundant <= 0.05 * len(everyone)  # the bound: under 5 % of turns
    assert swept["turns"] <= 1  # after the restart: at most the one task the killed worker held
