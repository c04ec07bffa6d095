"""Single checks: what each one judges a failure, and that a crashing check is one."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from incidents.checks import Check, CheckContext, run_check
from incidents.models import Alert, ErrorLog
from knowledge.tests.fakes import FakeServer

pytestmark = pytest.mark.django_db


def ctx(**kw):
    return CheckContext(now=timezone.now(), **kw)


def test_the_chatflow_status_probe_is_used_when_configured(settings, tenant_a):
    from conversations.sentinel_checks import ChatFlowCheck

    answers = {"status": 200}
    with FakeServer(lambda method, path, body, headers: (answers["status"], {"status": "authorized"})) as gateway:
        settings.CHATFLOW_BASE_URL, settings.CHATFLOW_STATUS_PATH = gateway.url, "/status"
        [up] = ChatFlowCheck().run(ctx())
        answers["status"] = 503
        [down] = ChatFlowCheck().run(ctx())
    assert up.ok and up.fingerprint == "chatflow:alpha" and up.tenant_id == tenant_a.pk
    assert not down.ok and "answered 503" in down.detail
    request = gateway.requests[0]
    assert request["method"] == "GET" and request["path"] == f"/status?instance_id={tenant_a.settings.chatflow_instance_id}"
    assert request["headers"]["authorization"] == f"Bearer {tenant_a.settings.chatflow_token}"  # never in the URL


def test_the_failure_rate_counts_refusals_above_a_volume(settings, tenant_a, fake_chatflow):
    from conversations.sentinel_checks import DeliveryFailureRateCheck
    from incidents.tests.conftest import deliver_reply

    settings.SENTINEL_DELIVERY_MIN_VOLUME = 4
    for i in range(3):
        deliver_reply(tenant_a, key=f"ok-{i}")
    fake_chatflow.fail(400, times=1)
    deliver_reply(tenant_a, key="refused-1")
    [observation] = DeliveryFailureRateCheck().run(ctx())
    assert observation.ok and "1 of 4 deliveries failed" in observation.detail  # 25% is at the limit

    fake_chatflow.fail(403, times=2)
    deliver_reply(tenant_a, key="refused-2", phone="+77012222222")  # other customers: a refused one is with a manager now
    deliver_reply(tenant_a, key="refused-3", phone="+77013333333")
    [observation] = DeliveryFailureRateCheck().run(ctx())
    assert not observation.ok and "3 of 6" in observation.detail and observation.data["refused"] == 3


def test_the_failure_rate_counts_5xx_and_timeouts_too(settings, tenant_a, fake_chatflow):
    from conversations.sentinel_checks import DeliveryFailureRateCheck
    from incidents.tests.conftest import deliver_reply

    settings.SENTINEL_DELIVERY_MIN_VOLUME = 4
    for i in range(2):
        deliver_reply(tenant_a, key=f"ok-{i}")
    fake_chatflow.fail(502, times=8)  # two deliveries that gave up (the window is 0 in these tests)
    deliver_reply(tenant_a, key="gave-up-1", phone="+77012222222")
    deliver_reply(tenant_a, key="gave-up-2", phone="+77013333333")
    [observation] = DeliveryFailureRateCheck().run(ctx())
    assert not observation.ok and "2 of 4 deliveries failed" in observation.detail and observation.data["refused"] == 0


def test_an_errorlog_spike_is_judged_against_the_hour_before(settings, time_machine):
    from incidents.checks.system import ErrorSpikeCheck
    from incidents.errors import error_log_record

    time_machine.move_to(timezone.now())
    settings.SENTINEL_ERROR_SPIKE_MIN = 5
    for _ in range(6):
        error_log_record(where="answering.retrieval", message="Qdrant timed out")
    [observation] = ErrorSpikeCheck().run(ctx())
    assert not observation.ok and "answering.retrieval×6" in observation.detail

    time_machine.shift(timedelta(minutes=10))  # those six are now the baseline
    for _ in range(6):
        error_log_record(where="answering.retrieval", message="Qdrant timed out")
    [observation] = ErrorSpikeCheck().run(ctx())
    assert not observation.ok  # 6 in 5 min vs 6 per hour (0.5 per 5 min)
    for _ in range(100):
        error_log_record(where="old", message="x")
    ErrorLog.objects.filter(where="old").update(created_at=timezone.now() - timedelta(minutes=30))
    [observation] = ErrorSpikeCheck().run(ctx())
    assert observation.ok


def test_the_telegram_path_fails_on_failed_or_stuck_alerts(telegram_bot, time_machine):
    from incidents.checks.system import TelegramAlertPathCheck

    time_machine.move_to(timezone.now())
    [observation] = TelegramAlertPathCheck().run(ctx())
    assert observation.ok and observation.detail == "getMe ok, outbox moving"
    Alert.objects.create(chat_id="-1001000000001", title="t", status="failed", failed_at=timezone.now(),
                         last_error="Forbidden: bot was kicked")
    [observation] = TelegramAlertPathCheck().run(ctx())
    assert not observation.ok and "bot was kicked" in observation.detail
    Alert.objects.update(failed_at=timezone.now() - timedelta(hours=1))
    Alert.objects.create(chat_id="-1001000000001", title="t2", next_attempt_at=timezone.now() - timedelta(minutes=20))
    [observation] = TelegramAlertPathCheck().run(ctx())
    assert not observation.ok and "overdue" in observation.detail
    telegram_bot.fail_next(401, method="getMe")
    Alert.objects.all().delete()
    [observation] = TelegramAlertPathCheck().run(ctx())
    assert not observation.ok and "getMe failed" in observation.detail


def test_the_web_check_reaches_the_public_url(web_server, settings):
    from incidents.checks.system import WebHealthCheck
    from knowledge.tests.fakes import closed_port_url

    [observation] = WebHealthCheck().run(ctx())
    assert observation.ok and observation.latency_ms is not None
    settings.PUBLIC_BASE_URL = closed_port_url()
    [observation] = WebHealthCheck().run(ctx())
    assert not observation.ok and "Connection refused" in observation.detail


def test_a_check_that_crashes_is_a_failing_observation_and_an_errorlog(db):
    class Broken(Check):
        name = "broken"

        def run(self, ctx):
            raise KeyError("surprise")

    [observation] = run_check(Broken(), ctx())
    assert not observation.ok and observation.fingerprint == "broken" and "check crashed: KeyError" in observation.detail
    assert ErrorLog.objects.get().where == "sentinel.check.broken"


def test_qdrant_unreachable_is_its_own_failure(settings):
    from knowledge.sentinel_checks import QdrantCheck
    from knowledge.tests.fakes import closed_port_url

    settings.QDRANT_URL, settings.QDRANT_API_KEY = closed_port_url(), "k"
    [observation] = QdrantCheck().run(ctx())
    assert not observation.ok and observation.fingerprint == "qdrant" and "unreachable" in observation.detail
