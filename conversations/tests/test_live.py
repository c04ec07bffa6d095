"""The pipeline with real processes: gunicorn serving the webhook, a Celery worker running turns.

These start subprocesses against the test database (committed data: transactional tests).
"""

from __future__ import annotations

import io
import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import requests
import time_machine
from django.core.management import call_command

from conversations.models import Escalation, InboundMessage, OutboundMessage, SandboxMessage, Turn
from conversations.services import inbound_accept, outbox_sweep, payload_parse, turn_run_due
from conversations.signing import signed_headers
from conversations.testing.live import LiveWeb, LiveWorker
from conversations.tests.helpers import conversation_of
from tenants.tests.factories import ClientFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll `predicate` until it holds or `timeout` passes (for state in another process)."""
    pause = threading.Event()
    deadline = timeout / interval
    for _ in range(int(deadline) + 1):
        if predicate():
            return True
        pause.wait(interval)
    return predicate()


def test_concurrent_duplicate_deliveries_store_one_message_and_one_reply(tmp_path, inline):
    tenant = ClientFactory()
    body = json.dumps({"message_id": "wamid.same", "from": "+77011234567", "type": "text", "text": "Привет"}).encode()
    with LiveWeb(tmp_path, workers=3, WEBHOOK_TENANT_CACHE_SECONDS="0").start() as web:
        def deliver(_):
            # Each delivery is signed separately, as a gateway retry would be.
            headers = signed_headers(tenant.settings.webhook_secret, body, msg_id=f"msg_{uuid.uuid4().hex}")
            return requests.post(f"{web.url}/webhook/{tenant.slug}", data=body, headers=headers, timeout=30)

        with ThreadPoolExecutor(max_workers=16) as pool:
            responses = list(pool.map(deliver, range(24)))

    assert {r.status_code for r in responses} == {200}, [r.text for r in responses]
    statuses = sorted(r.json()["status"] for r in responses)
    assert statuses.count("accepted") == 1 and statuses.count("duplicate") == 23
    assert InboundMessage.objects.count() == 1
    conversation = conversation_of(tenant)
    with time_machine.travel(conversation.reply_due_at + timedelta(seconds=1)), inline():
        turn_run_due(conversation_id=conversation.pk)
        turn_run_due(conversation_id=conversation.pk)
    assert Turn.objects.count() == 1
    assert SandboxMessage.objects.count() == 1  # one holding reply, whatever the number of deliveries


def test_a_worker_killed_mid_send_then_the_sweeper_delivers_exactly_once(tmp_path, fake_chatflow, inline):
    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    message = payload_parse({"message_id": "wamid.kill", "from": "+77011234567", "type": "text", "text": "Сколько стоит маникюр?"})
    accepted = inbound_accept(tenant=tenant, message=message)
    fake_chatflow.delay(60)  # the gateway takes the message, then answers slowly

    worker = LiveWorker(tmp_path, CHATFLOW_BASE_URL=fake_chatflow.url, CHATFLOW_TIMEOUT="30").start()
    try:
        worker.send("conversations.turn_run", [accepted.conversation_id], queue="stable")
        assert fake_chatflow.wait_for(lambda f: len(f.requests) >= 1, timeout=60), worker.log()
        worker.kill()  # SIGKILL while the send is in flight
    finally:
        worker.stop()

    outbound = OutboundMessage.objects.get()
    assert outbound.status == "sending" and outbound.attempts == 1
    assert outbox_sweep().deliveries_marked_unknown == 0  # the lease protects a possibly live worker
    with inline():
        report = outbox_sweep(now=outbound.lease_expires_at + timedelta(seconds=1))
    assert report.deliveries_marked_unknown == 1 and report.deliveries_dispatched == 1

    outbound.refresh_from_db()
    assert outbound.status == "sent" and outbound.attempts == 2
    assert len(fake_chatflow.messages) == 1  # exactly one message reached the customer
    assert [r.outcome for r in fake_chatflow.requests_for(outbound.idempotency_key)] == ["delivered", "duplicate"]
    assert Turn.objects.get().status == "escalated"


def test_a_signed_webhook_ends_in_a_sandbox_send_through_web_and_worker(tmp_path):
    """The `make run` shape: gunicorn + Celery worker on the filesystem broker, sandbox gateway."""
    tenant = ClientFactory(settings__coalesce_window_seconds=1)
    web = LiveWeb(tmp_path, workers=1, CHATFLOW_BASE_URL="").start()
    worker = LiveWorker(tmp_path, CHATFLOW_BASE_URL="").start()
    try:
        call_command("webhook_send", "--tenant", tenant.slug, "--url", web.url, "Здравствуйте!", "Сколько стоит маникюр?",
                     stdout=io.StringIO())
        assert wait_until(lambda: SandboxMessage.objects.exists(), timeout=30), worker.log()
    finally:
        worker.stop()
        web.stop()
    turn = Turn.objects.get()
    assert turn.message_count == 2  # the burst was answered once
    assert Escalation.objects.get().reason == "no_knowledge"  # the placeholder brain
    assert SandboxMessage.objects.get().text == tenant.settings.holding_reply_template
