"""Gateway outages against a live worker: a Celery worker process on a private Redis broker, the
fake ChatFlow answering 502 for a while, the sweeper run by the test on its schedule (beat's job).

Outages delay, they do not silence: every customer gets the answer exactly once after the gateway
is back, nobody is handed over as `delivery_failed`, and no holding reply goes out in place of an
answer that is only waiting. Beyond the retry window the message is handed over with a clear
reason, and the fixer's remediation re-sends it once the gateway answers again.

Time is compressed where the issue's outage is minutes long: DELIVERY_RETRY_BASE_SECONDS,
DELIVERY_RETRY_MAX_INTERVAL_SECONDS and DELIVERY_RETRY_WINDOW_SECONDS are settings (env), so the
worker runs the same schedule 60 times faster (5 s → 0.1 s base; a 5 s outage stands for 5 min).
"""

from __future__ import annotations

import threading

import pytest
from django.conf import settings as django_settings

from conversations.models import Escalation, OutboundMessage
from conversations.services import inbound_accept, outbox_sweep, payload_parse
from conversations.testing.live import LiveWorker
from imperium.core.actors import Actor
from tenants.models import DEFAULT_HOLDING_REPLY
from tenants.tests.factories import ClientFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

QUESTION = "Что такое Lotus Beauty и какие услуги вы оказываете?"  # a question the public Lotus KB answers


def _answering_tenant():
    from knowledge.services import kb_import, kb_version_make_first_stable

    tenant = ClientFactory(settings__coalesce_window_seconds=0)
    path = django_settings.BASE_DIR / "knowledge" / "fixtures" / "eval" / "lotus-beauty" / "kb.jsonl"
    version = kb_import(actor=Actor.system("test"), tenant=tenant, file_name=path.name, content=path.read_text(encoding="utf-8"),
                        index=False)
    kb_version_make_first_stable(actor=Actor.system("test"), version=version)
    return tenant


def _customers(tenant, count):
    for n in range(count):
        message = payload_parse({"message_id": f"wamid.outage-{n}", "from": f"+7706{n:07d}", "type": "text", "text": QUESTION})
        inbound_accept(tenant=tenant, message=message)
    return [f"+7706{n:07d}" for n in range(count)]


def _sweep_until(predicate, timeout):
    """The sweeper every 0.5 s (beat's OUTBOX_SWEEP_SECONDS, compressed) until `predicate` holds."""
    pause = threading.Event()
    for _ in range(int(timeout / 0.5)):
        if predicate():
            return True
        outbox_sweep()
        pause.wait(0.5)
    return predicate()


def _worker(tmp_path, private_broker, fake_chatflow, **schedule):
    return LiveWorker(tmp_path, queues="stable,default", CELERY_BROKER_URL=private_broker.url, REDIS_URL=private_broker.url,
                      CHATFLOW_BASE_URL=fake_chatflow.url, CHATFLOW_TIMEOUT="2", CHATFLOW_MAX_RETRIES="1",
                      CHATFLOW_RETRY_BACKOFF="0.05", CHATFLOW_RETRY_MAX_DELAY="0.5", LOG_LEVEL="warning", **schedule).start()


def _assert_answered_once(fake_chatflow, phones):
    delivered = sorted(m.to for m in fake_chatflow.messages)
    assert delivered == sorted(phones)  # every customer, exactly once
    assert DEFAULT_HOLDING_REPLY not in {m.text for m in fake_chatflow.messages}
    assert set(OutboundMessage.objects.values_list("kind", "status")) == {("reply", "sent")}  # answers, no holding reply
    assert not Escalation.objects.exists()  # nobody handed over, `delivery_failed` or otherwise


def test_a_15_second_outage_delays_every_customer_and_silences_none(tmp_path, private_broker, fake_chatflow):
    """The production schedule (5 s doubling): 10 customers while the gateway answers 502 for 15 s."""
    tenant = _answering_tenant()
    worker = _worker(tmp_path, private_broker, fake_chatflow)
    try:
        fake_chatflow.outage(15, status=502)  # from the moment the customers write
        phones = _customers(tenant, 10)
        done = _sweep_until(lambda: len(fake_chatflow.messages) >= 10 and not OutboundMessage.objects.exclude(status="sent").exists(),
                            timeout=60)
    finally:
        worker.stop()
    assert done, worker.log()
    _assert_answered_once(fake_chatflow, phones)
    failed_sends = [r for r in fake_chatflow.requests if r.outcome == "fault:502"]
    assert 1 <= len(failed_sends) < 10 * 2  # the circuit breaker kept most deliveries from hammering the dead gateway


def test_a_5_minute_outage_inside_the_retry_window_delays_and_silences_none(tmp_path, private_broker, fake_chatflow):
    """Compressed 60×: base 0.1 s doubling, 5 s cap, 30 s window; the gateway is down for 5 s
    (5 minutes at production speed): several retry steps, inside the window."""
    tenant = _answering_tenant()
    worker = _worker(tmp_path, private_broker, fake_chatflow, DELIVERY_RETRY_BASE_SECONDS="0.1",
                     DELIVERY_RETRY_MAX_INTERVAL_SECONDS="5", DELIVERY_RETRY_WINDOW_SECONDS="30")
    try:
        fake_chatflow.outage(5, status=502)
        phones = _customers(tenant, 5)
        done = _sweep_until(lambda: len(fake_chatflow.messages) >= 5 and not OutboundMessage.objects.exclude(status="sent").exists(),
                            timeout=45)
    finally:
        worker.stop()
    assert done, worker.log()
    _assert_answered_once(fake_chatflow, phones)
    assert len([r for r in fake_chatflow.requests if r.outcome == "fault:502"]) >= 4  # more than a few retry steps went by


def test_an_outage_beyond_the_window_hands_over_with_a_reason_and_the_fixer_resends(tmp_path, private_broker, fake_chatflow):
    """Compressed: a 3 s retry window, the gateway down for 8 s. Each message fails after its
    window and is handed over (`delivery_failed`, the reason says why, no holding reply through a
    dead gateway); once the gateway answers, the fixer's remediation re-sends them with their keys."""
    from conversations.services.recovery import deliveries_resend_failed

    tenant = _answering_tenant()
    worker = _worker(tmp_path, private_broker, fake_chatflow, DELIVERY_RETRY_BASE_SECONDS="0.1",
                     DELIVERY_RETRY_MAX_INTERVAL_SECONDS="1", DELIVERY_RETRY_WINDOW_SECONDS="3")
    try:
        fake_chatflow.outage(8, status=502)
        phones = _customers(tenant, 3)
        assert _sweep_until(lambda: OutboundMessage.objects.filter(status="failed").count() == 3, timeout=30), worker.log()
        escalations = list(Escalation.objects.all())
        assert [e.reason for e in escalations] == ["delivery_failed"] * 3
        assert all("kept failing for 3 s of retries" in e.detail["error"] for e in escalations)  # a clear reason
        assert fake_chatflow.messages == []

        report = deliveries_resend_failed(actor=Actor.system("fixer"), tenant=tenant)  # still down: nothing changes
        assert report.as_dict().get("gateway") == "down" and OutboundMessage.objects.filter(status="failed").count() == 3
        assert _sweep_until(lambda: not fake_chatflow.down, timeout=15)
        resent = deliveries_resend_failed(actor=Actor.system("fixer"), tenant=tenant)  # back: re-sent with their keys
        assert resent.resent == 3, resent
        done = _sweep_until(lambda: not OutboundMessage.objects.exclude(status="sent").exists(), timeout=20)
    finally:
        worker.stop()
    assert done, list(OutboundMessage.objects.values_list("status", "attempts", "last_error"))
    assert sorted(m.to for m in fake_chatflow.messages) == sorted(phones)  # once each, never twice

