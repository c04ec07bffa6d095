from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.clients.chatflow import parse_retry_after, retry_delay
from conversations.models import Conversation, Escalation, OutboundMessage, SandboxMessage
from conversations.services import outbound_deliver, outbound_enqueue, outbox_sweep
from conversations.tests.helpers import conversation_new
from incidents.models import ErrorLog
from tenants.tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def conversation(tenant_a):
    return conversation_new(tenant_a)


@pytest.fixture
def alerts(monkeypatch):
    raised = []
    monkeypatch.setattr("incidents.alerts.alert_raise", lambda **kw: raised.append(kw))
    return raised


def _reply(conversation, key="t-1", text="Маникюр стоит 5000 ₸."):
    return outbound_enqueue(tenant=conversation.tenant, conversation=conversation, text=text, kind="reply", idempotency_key=key,
                            dispatch=False)


def test_it_sends_with_the_contract_body_and_idempotency_key(fake_chatflow, conversation):
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)

    assert outbound.status == "sent" and outbound.attempts == 1
    [message] = fake_chatflow.messages
    assert (message.key, message.to, message.text) == ("t-1", "+77011234567", "Маникюр стоит 5000 ₸.")
    assert message.instance_id == conversation.tenant.settings.chatflow_instance_id
    assert fake_chatflow.requests[0].token == conversation.tenant.settings.chatflow_token
    assert outbound.provider_message_id == message.message_id


def test_gateway_500_twice_then_200_is_one_message_in_three_attempts(fake_chatflow, conversation):
    fake_chatflow.fail(500, times=2)

    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)

    assert outbound.status == "sent" and outbound.attempts == 3
    assert len(fake_chatflow.messages) == 1
    assert [r.outcome for r in fake_chatflow.requests] == ["fault:500", "fault:500", "delivered"]


def test_gateway_400_is_final_without_retry_and_escalates(fake_chatflow, conversation, alerts, inline):
    fake_chatflow.fail(400, body={"success": False, "error": "invalid number +77011234567"})

    with inline():
        outbound = outbound_deliver(outbound_id=_reply(conversation).pk)

    assert outbound.status == "failed" and outbound.attempts == 1 and outbound.last_status_code == 400
    assert "77011234567" not in outbound.last_error  # phone masked in the stored error
    assert len(fake_chatflow.requests) == 1 and fake_chatflow.messages == []
    escalation = Escalation.objects.get()
    assert escalation.reason == "delivery_failed"
    conversation.refresh_from_db()
    assert conversation.state == "human"
    assert OutboundMessage.objects.count() == 1  # no holding reply through a gateway that refuses
    assert ErrorLog.objects.get(where="chatflow.send").tenant == conversation.tenant
    assert alerts == []  # no alert per message: the sentinel makes one incident of an outage (incidents/tests)


def test_a_failed_run_is_retried_later_from_the_outbox_not_failed(fake_chatflow, conversation, alerts, inline, queued):
    fake_chatflow.fail(503, times=10)
    with inline():
        outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "pending" and outbound.attempts == 4
    assert outbound.next_attempt_at > timezone.now() and outbound.dispatched_at is None  # the sweeper queues it when due
    assert len(fake_chatflow.requests) == 4
    assert not Escalation.objects.exists() and alerts == []
    assert not any(q.task == "conversations.outbound_deliver" for q in queued)  # no broker ETA: the database drives it


def test_it_gives_up_only_when_the_retry_window_is_over(fake_chatflow, conversation, alerts, inline, settings):
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 600
    fake_chatflow.fail(503, times=1000)
    outbound = _reply(conversation)
    with inline():
        outbound = outbound_deliver(outbound_id=outbound.pk)
    runs = 1
    while outbound.status == "pending":
        with time_machine.travel(outbound.next_attempt_at + timedelta(seconds=1)), inline():
            outbound = outbound_deliver(outbound_id=outbound.pk)
        runs += 1
        assert runs < 20
    assert outbound.status == "failed" and runs >= 5  # 5, 10, 20, 40, 80… s apart: minutes of retries
    escalation = Escalation.objects.get()
    assert escalation.reason == "delivery_failed"
    assert "kept failing for 10 min" in escalation.detail["error"]


def test_a_15_second_outage_delays_every_customer_and_silences_none(fake_chatflow, tenant_a, alerts, inline, queued, local_cache):
    """10 customers answered while the gateway answers 502: the first delivery's run fails and opens
    the tenant's circuit; the others wait without calling the gateway; when the retry time comes one
    probe goes, succeeds, and releases the rest. Every customer gets exactly one message."""
    conversations = [conversation_new(tenant_a, key=f"k{n}", phone=f"+7701000{n:04d}") for n in range(10)]
    fake_chatflow.fail(502, times=4)  # the gateway's outage: one whole run of attempts
    replies = [_reply(c, key=f"t-{n}") for n, c in enumerate(conversations)]
    # The clock stands still while the ten runs happen (on a loaded machine they can outlast the
    # circuit's 5 s, which would make a later one the probe): the test is about the circuit, not speed.
    with time_machine.travel(timezone.now(), tick=False), inline():
        states = [outbound_deliver(outbound_id=r.pk).status for r in replies]
    assert states == ["pending"] * 10
    assert len(fake_chatflow.requests) == 4  # the circuit kept the other nine from hammering the gateway

    due = max(OutboundMessage.objects.values_list("next_attempt_at", flat=True))
    with time_machine.travel(due + timedelta(seconds=5)):
        for _ in range(3):  # the sweeper, run by beat every few seconds, queues what is due
            report = outbox_sweep()
            for outbound_id in [q.args[0] for q in queued if q.task == "conversations.outbound_deliver"]:
                outbound_deliver(outbound_id=outbound_id)
            queued.clear()
            if not report.deliveries_dispatched:
                break

    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"sent"}
    delivered = sorted(m.to for m in fake_chatflow.messages)
    assert delivered == sorted(c.customer_phone for c in conversations)  # once each
    assert not Escalation.objects.filter(reason="delivery_failed").exists()


def test_it_retries_a_timeout(fake_chatflow, conversation, settings):
    settings.CHATFLOW_TIMEOUT = 0.3
    fake_chatflow.hang(1.0)
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "sent" and outbound.attempts == 2
    assert len(fake_chatflow.messages) == 1


def test_it_retries_a_slow_answer_with_the_same_key_and_the_gateway_drops_the_repeat(fake_chatflow, conversation, settings):
    settings.CHATFLOW_TIMEOUT = 0.3
    fake_chatflow.delay(1.0)  # delivered, but the answer comes after our timeout
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "sent" and outbound.attempts == 2
    assert len(fake_chatflow.messages) == 1
    assert [r.outcome for r in fake_chatflow.requests] == ["delivered", "duplicate"]
    outbound.refresh_from_db()
    assert outbound.unclear_attempts == 1 and outbound.gateway_duplicate is True  # exactly once rested on the key


def test_a_gateway_that_stops_honouring_the_key_is_noticed(fake_chatflow, tenant_a, settings):
    from conversations.sentinel_checks import UnclearResendCheck
    from incidents.checks import CheckContext

    settings.CHATFLOW_TIMEOUT = 0.3
    settings.SENTINEL_UNCLEAR_RESENDS_MAX = 2
    fake_chatflow.honour_idempotency = False
    for n in range(2):
        fake_chatflow.delay(1.0)  # delivered, answered after our timeout: re-sent with the same key
        conversation = conversation_new(tenant_a, key=f"k{n}", phone=f"+7701000000{n}")
        outbound = outbound_deliver(outbound_id=_reply(conversation, key=f"t-{n}").pk)
        assert outbound.status == "sent" and outbound.gateway_duplicate is False

    assert len(fake_chatflow.messages) == 4  # the customers got doubles
    [observation] = UnclearResendCheck().run(CheckContext(now=timezone.now()))
    assert not observation.ok and "Idempotency-Key" in observation.detail
    assert observation.data["not_duplicate"] == 2


def test_it_honours_a_short_retry_after(fake_chatflow, conversation):
    fake_chatflow.fail(429, retry_after="1")
    started = timezone.now()
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "sent" and outbound.attempts == 2
    assert (timezone.now() - started) >= timedelta(seconds=1)


def test_it_reschedules_a_long_retry_after_instead_of_holding_the_worker(fake_chatflow, conversation, queued):
    fake_chatflow.fail(429, retry_after="120")
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)

    assert outbound.status == "pending" and outbound.attempts == 1
    assert outbound.next_attempt_at > timezone.now() + timedelta(seconds=100)
    assert queued[-1].task == "conversations.outbound_deliver" and queued[-1].eta == outbound.next_attempt_at
    assert outbound_deliver(outbound_id=outbound.pk).attempts == 1  # too early: nothing sent
    with time_machine.travel(outbound.next_attempt_at + timedelta(seconds=1)):
        assert outbound_deliver(outbound_id=outbound.pk).status == "sent"
    assert len(fake_chatflow.messages) == 1


def test_a_crash_mid_send_is_resent_with_the_same_key_and_delivered_once(fake_chatflow, conversation, inline):
    outbound = _reply(conversation)
    # A worker sent the message and died before recording the answer: the gateway has it.
    import requests

    requests.post(f"{fake_chatflow.url}/send-text", json={"token": "x", "instance_id": "i", "to": "+77011234567", "text": outbound.text,
                                                          "msg_id": outbound.idempotency_key},
                  headers={"Idempotency-Key": outbound.idempotency_key}, timeout=5)
    OutboundMessage.objects.filter(pk=outbound.pk).update(
        status="sending", attempts=1, lease_expires_at=timezone.now() + timedelta(seconds=40)
    )

    assert outbox_sweep().deliveries_marked_unknown == 0  # lease still valid
    with time_machine.travel(timezone.now() + timedelta(seconds=41)), inline():
        report = outbox_sweep()

    assert report.deliveries_marked_unknown == 1 and report.deliveries_dispatched == 1
    outbound.refresh_from_db()
    assert outbound.status == "sent" and outbound.attempts == 2
    assert len(fake_chatflow.messages) == 1
    assert len(fake_chatflow.requests_for(outbound.idempotency_key)) == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_one_message_send_it_once(fake_chatflow, conversation):
    fake_chatflow.delay(0.5)
    outbound = _reply(conversation)
    results = []

    def deliver():
        from django.db import connection

        try:
            results.append(outbound_deliver(outbound_id=outbound.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(fake_chatflow.requests) == 1
    assert sorted(results).count("sent") >= 1 and len(results) == 3


def test_a_tenant_without_a_chatflow_token_fails_loudly(fake_chatflow, settings, inline, alerts):
    tenant = ClientFactory(settings__chatflow_token="")
    now = timezone.now()
    conversation = Conversation.objects.create(tenant=tenant, customer_key="k", customer_phone="+77010000000",
                                               customer_phone_masked="x", created_at=now, updated_at=now)
    with inline():
        outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "failed" and "no ChatFlow token" in outbound.last_error
    assert fake_chatflow.requests == []


def test_the_sandbox_records_sends_and_drops_repeats_of_a_key(conversation):
    outbound = outbound_deliver(outbound_id=_reply(conversation).pk)
    assert outbound.status == "sent"
    from conversations.clients.chatflow import SandboxChatFlow

    again = SandboxChatFlow().send_text(tenant_id=conversation.tenant_id, token="", instance_id="", to="+77011234567",
                                        text=outbound.text, idempotency_key=outbound.idempotency_key)
    assert again.duplicate
    row = SandboxMessage.objects.get()
    assert row.repeats == 1 and row.to_masked.startswith("+7701•••4567·")


def test_a_bot_reply_not_yet_sent_is_cancelled_when_a_manager_took_over(conversation, fake_chatflow):
    outbound = _reply(conversation)
    Conversation.objects.filter(pk=conversation.pk).update(state="human")
    assert outbound_deliver(outbound_id=outbound.pk).status == "cancelled"
    assert fake_chatflow.requests == []


def test_it_enqueues_idempotently(conversation):
    first = _reply(conversation, key="same")
    second = _reply(conversation, key="same", text="other")
    assert first.pk == second.pk and OutboundMessage.objects.count() == 1


def test_retry_after_parsing_and_backoff(settings):
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None
    settings.CHATFLOW_RETRY_BACKOFF = 1.0
    for retry in (1, 2, 3):
        assert 2 ** (retry - 1) / 2 <= retry_delay(retry) <= 2 ** (retry - 1)
    assert retry_delay(1, retry_after=7) == 7


def test_a_message_born_claimed_is_sent_only_by_its_creator_or_after_its_lease(fake_chatflow, conversation, inline):
    from conversations.services.delivery import deliver_loaded, outbound_create

    outbound = outbound_create(conversation=conversation, text="ответ", kind="reply", idempotency_key="t-born",
                               claim_for_inline_delivery=True)
    # Another worker loading the row must not take the creator's claim.
    assert outbound_deliver(outbound_id=outbound.pk).status == "sending"
    assert fake_chatflow.requests == []
    # The creator died before sending: after the lease the sweeper re-sends, once.
    with time_machine.travel(timezone.now() + timedelta(seconds=60)), inline():
        assert outbox_sweep().deliveries_marked_unknown == 1
    assert OutboundMessage.objects.get(pk=outbound.pk).status == "sent"
    with time_machine.travel(timezone.now() + timedelta(seconds=61)):
        assert deliver_loaded(outbound).status == "sent"  # the creator waking up late sends nothing more
    assert len(fake_chatflow.messages) == 1 and len(fake_chatflow.requests) == 1
