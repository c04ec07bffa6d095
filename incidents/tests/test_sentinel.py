"""The sentinel against real fakes: faults injected at the client seams open exactly one
incident with exactly one alert in the fake Telegram chat; repeats add nothing; recovery
resolves with one alert; a healthy system makes no noise."""

from __future__ import annotations

import pytest
from django.db import OperationalError
from django.utils import timezone

from incidents.choices import IncidentEventKind, IncidentStatus
from incidents.models import CheckResult, Incident, IncidentEvent, SentinelRun
from incidents.tests.conftest import alert_texts, deliver_reply

pytestmark = pytest.mark.django_db


def test_it_sends_nothing_when_everything_is_healthy(healthy, sentinel, telegram_bot):
    report = sentinel(times=3)

    states = {o.fingerprint: o.state for o in report.observations}
    assert report.failing == [], [o.detail for o in report.failing]
    for fingerprint in ("web.health", "database", "broker", "qdrant.collection", "qdrant.points:alpha", "chatflow:alpha",
                        "pipeline.silent:alpha", "outbox.backlog", "delivery.failure_rate:alpha", "errors.spike", "telegram.alerts",
                        "sentinel.heartbeat"):
        assert states[fingerprint] == "ok", fingerprint
    assert not Incident.objects.exists()
    assert telegram_bot.calls_to("sendMessage") == []
    assert SentinelRun.objects.filter(finished_at__isnull=False).count() == 3
    # Repeated passes are not stored every minute: one row per check until something changes.
    assert CheckResult.objects.filter(fingerprint="database").count() == 1


class _BrokenConnection:
    """What the database driver does when the server is gone."""

    vendor = "postgresql"

    def cursor(self):
        raise OperationalError('connection to server at "db" (10.0.0.5), port 5432 failed: Connection refused')


def test_a_failing_database_opens_one_incident_with_one_alert_and_recovery_closes_it(
    healthy, sentinel, telegram_bot, monkeypatch, time_machine
):
    time_machine.move_to(timezone.now())
    monkeypatch.setattr("imperium.core.health.connection", _BrokenConnection())

    report = sentinel()
    assert [o.fingerprint for o in report.failing] == ["database"]
    assert not Incident.objects.exists() and alert_texts(telegram_bot) == []  # one failure is not an incident yet

    time_machine.shift(60)
    sentinel()
    incident = Incident.objects.get()
    assert incident.kind == "database" and incident.status == IncidentStatus.OPEN and incident.tenant is None
    assert incident.severity == "critical" and "Connection refused" in incident.summary
    [text] = alert_texts(telegram_bot)
    assert text.startswith(f"🔴 Критично: Инцидент #{incident.pk}: База данных недоступна") and "Connection refused" in text
    [sent] = telegram_bot.sent_messages()
    assert sent["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"incident.ack:{incident.pk}"

    for _ in range(4):
        time_machine.shift(60)
        sentinel()
    assert len(alert_texts(telegram_bot)) == 1 and Incident.objects.count() == 1
    incident.refresh_from_db()
    assert incident.failure_count == 6

    monkeypatch.undo()
    time_machine.shift(60)
    sentinel()  # one pass: not resolved yet (SENTINEL_RESOLVE_AFTER=2)
    assert Incident.objects.get().status == IncidentStatus.OPEN and len(alert_texts(telegram_bot)) == 1
    time_machine.shift(60)
    sentinel()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == "sentinel"
    texts = alert_texts(telegram_bot)
    assert len(texts) == 2 and f"Инцидент #{incident.pk} закрыт" in texts[1] and "2 проверки подряд без ошибок" in texts[1]

    time_machine.shift(60)
    sentinel(times=3)
    assert len(alert_texts(telegram_bot)) == 2
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert kinds == [IncidentEventKind.OPENED, IncidentEventKind.ALERT_SENT, IncidentEventKind.RESOLVED, IncidentEventKind.ALERT_SENT]


def test_a_deleted_qdrant_collection_is_rebuilt_by_the_fixer_and_its_incident_resolves_by_itself(
    healthy, sentinel, fixer, telegram_bot, fake_qdrant, settings
):
    fake_qdrant.drop_collection(settings.QDRANT_COLLECTION)

    sentinel(times=2)
    incident = Incident.objects.get()
    assert incident.fingerprint == "qdrant.collection" and incident.status == IncidentStatus.OPEN
    [opened] = alert_texts(telegram_bot)
    assert "Коллекция Qdrant пропала" in opened and "пересоберу индекс" in opened
    sentinel(times=2)
    assert len(alert_texts(telegram_bot)) == 1

    report = fixer()

    assert report.resolved == [incident.pk]
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and incident.resolved_by == "fixer"
    assert fake_qdrant.count(settings.QDRANT_COLLECTION, tenant=healthy.pk) == 3
    texts = alert_texts(telegram_bot)
    assert len(texts) == 2 and "исправлено автоматически" in texts[1]
    kinds = list(IncidentEvent.objects.filter(incident=incident).values_list("kind", flat=True))
    assert IncidentEventKind.REMEDIATION_STARTED in kinds and IncidentEventKind.REMEDIATION_SUCCEEDED in kinds
    from imperium.core.models import AuditLog

    entry = AuditLog.objects.get(action="policy.executed", payload__action="fixer.reindex_tenant")
    assert entry.actor_label == "fixer" and entry.payload["risk"] == "low"

    report = sentinel(times=2)
    assert report.failing == [] and len(alert_texts(telegram_bot)) == 2


def test_a_tenant_whose_points_do_not_match_is_reindexed(healthy, sentinel, fixer, telegram_bot, fake_qdrant, settings):
    from knowledge.clients.qdrant import QdrantStore

    store = QdrantStore(url=settings.QDRANT_URL, api_key=settings.QDRANT_API_KEY, collection=settings.QDRANT_COLLECTION)
    version = healthy.settings.client.__class__.objects.get(pk=healthy.pk)  # fresh tenant
    from knowledge.selectors import kb_version_stable

    stable = kb_version_stable(version)
    store.delete_version(tenant_id=healthy.pk, version_id=stable.pk)

    sentinel(times=2)
    incident = Incident.objects.get()
    assert incident.fingerprint == "qdrant.points:alpha" and incident.tenant == healthy
    assert "0 points in Qdrant, 3 items in Postgres" in incident.summary
    [opened] = alert_texts(telegram_bot)
    assert "Клиент: Alpha Salon (alpha)" in opened

    fixer()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED
    assert store.count(healthy.pk, stable.pk) == 3


def test_chatflow_answering_500_opens_one_incident_and_the_fixer_resends_once_it_answers(
    healthy, sentinel, fixer, telegram_bot, fake_chatflow, time_machine
):
    from conversations.models import Escalation, OutboundMessage

    time_machine.move_to(timezone.now())
    fake_chatflow.fail(500, times=100)
    failed = deliver_reply(healthy, key="t-500", text="Мы работаем с 10:00 до 21:00.")  # window 0: gave up at once
    assert failed.status == "failed" and failed.last_status_code == 500
    assert Escalation.objects.get().reason == "delivery_failed"
    assert alert_texts(telegram_bot) == []  # a failed message alone is not an alert: the sentinel decides

    sentinel(times=2)
    incident = Incident.objects.get()
    assert incident.fingerprint == "chatflow:alpha" and "ChatFlow answered 500" in incident.summary
    assert len(alert_texts(telegram_bot)) == 1 and "ChatFlow не доставляет ответы" in alert_texts(telegram_bot)[0]
    sentinel(times=3)
    assert len(alert_texts(telegram_bot)) == 1

    report = fixer()  # the gateway is still down: nothing is resent, the fixer waits
    assert report.waiting == [incident.pk]
    assert OutboundMessage.objects.get(pk=failed.pk).status == "failed"
    assert fake_chatflow.messages == [] or all(m.key != "t-500" for m in fake_chatflow.messages)
    time_machine.shift(60)
    fixer()
    assert IncidentEvent.objects.filter(incident=incident, kind=IncidentEventKind.NOTE).count() == 1  # said once

    fake_chatflow.reset()  # the gateway answers again
    time_machine.shift(60)
    report = fixer()

    incident.refresh_from_db()
    assert report.resolved == [incident.pk] and incident.status == IncidentStatus.RESOLVED and incident.resolved_by == "fixer"
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m.key for m in fake_chatflow.messages] == ["t-500"]  # delivered once, never a double
    assert fake_chatflow.messages[0].repeats == 1  # the row's own delivery was dropped as a repeat of the key
    texts = alert_texts(telegram_bot)
    assert len(texts) == 2 and "закрыт" in texts[1]
    sentinel(times=2)
    assert len(alert_texts(telegram_bot)) == 2


def test_a_gateway_outage_opens_an_incident_while_messages_wait_and_nobody_is_handed_over(
    healthy, sentinel, telegram_bot, fake_chatflow, time_machine, settings
):
    """With the default retry window a failing gateway delays messages instead of failing them:
    the chatflow check still sees the outage (deliveries waiting on the gateway) and opens one incident."""
    from conversations.models import Escalation, OutboundMessage

    settings.DELIVERY_RETRY_WINDOW_SECONDS = 1800
    time_machine.move_to(timezone.now())
    fake_chatflow.fail(502, times=100)
    waiting = deliver_reply(healthy, key="t-502", text="Мы работаем с 10:00 до 21:00.")
    assert waiting.status == "pending" and waiting.next_attempt_at is not None
    assert not Escalation.objects.exists()  # waiting, not silenced and not handed over

    time_machine.shift(settings.SENTINEL_DELIVERY_WAITING_SECONDS + 5)
    sentinel(times=2)

    incident = Incident.objects.get()
    assert incident.fingerprint == "chatflow:alpha" and "waiting for a retry" in incident.summary
    assert len(alert_texts(telegram_bot)) == 1
    assert OutboundMessage.objects.get(pk=waiting.pk).status == "pending"


def test_an_inbound_message_left_without_a_reply_opens_one_incident_and_the_fixer_requeues_it(
    healthy, sentinel, fixer, telegram_bot, fake_chatflow, time_machine
):
    from conversations.models import Conversation, InboundMessage
    from incidents.tests.conftest import accept_message

    time_machine.move_to(timezone.now())
    accepted = accept_message(healthy)
    # The fault: the pipeline lost track of the message (no turn, no "reply due" marker), so the
    # outbox sweeper cannot see it either — only the customer-level invariant can.
    Conversation.objects.filter(pk=accepted.conversation_id).update(reply_due_at=None, dispatched_at=None)

    time_machine.shift(5 * 60)
    assert sentinel(times=2).failing == []  # younger than SENTINEL_SILENT_MINUTES: not yet a failure
    time_machine.shift(6 * 60)
    sentinel(times=2)
    incident = Incident.objects.get()
    assert incident.fingerprint == "pipeline.silent:alpha" and incident.tenant == healthy
    assert f"inbound ids [{accepted.inbound_id}]" in incident.summary
    [opened] = alert_texts(telegram_bot)
    assert "Клиенты остались без ответа" in opened and "Клиент: Alpha Salon (alpha)" in opened
    sentinel(times=2)
    assert len(alert_texts(telegram_bot)) == 1

    report = fixer()  # restores the marker and queues the turn; it runs after commit
    assert report.waiting == [incident.pk]
    message = InboundMessage.objects.get(pk=accepted.inbound_id)
    assert message.turn is not None and message.turn.status in ("answered", "escalated")

    time_machine.shift(60)
    report = fixer()
    incident.refresh_from_db()
    assert report.resolved == [incident.pk] and incident.status == IncidentStatus.RESOLVED
    assert len(alert_texts(telegram_bot)) == 2


def test_a_stuck_outbox_opens_one_incident_and_the_fixer_requeues_the_work(
    healthy, sentinel, fixer, telegram_bot, queued, time_machine, django_capture_on_commit_callbacks
):
    from conversations.models import InboundMessage
    from incidents.tests.conftest import accept_message

    time_machine.move_to(timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        accepted = accept_message(healthy)
    assert [q.task for q in queued] == ["conversations.turn_run"]  # published, then lost: no worker, no sweeper

    time_machine.shift(6 * 60)
    sentinel(times=2)
    incident = Incident.objects.get()
    assert incident.fingerprint == "outbox.backlog" and "turns_due: 1" in incident.summary
    assert len(alert_texts(telegram_bot)) == 1

    fixer()
    assert InboundMessage.objects.get(pk=accepted.inbound_id).turn is not None
    time_machine.shift(60)
    fixer()
    incident.refresh_from_db()
    assert incident.status == IncidentStatus.RESOLVED and len(alert_texts(telegram_bot)) == 2
    assert not Incident.objects.filter(kind="pipeline.silent").exists()
