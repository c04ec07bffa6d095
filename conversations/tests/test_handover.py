from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import ConversationEvent, Escalation, InboundMessage, OutboundMessage
from conversations.services import (
    conversation_close,
    conversation_return_to_bot,
    conversation_take_over,
    escalation_notify,
    manager_reply_send,
    outbox_sweep,
    turn_run_due,
)
from conversations.tests.helpers import RecordingNotifier, conversation_of
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.models import AuditLog
from incidents.models import ErrorLog

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
MANAGER = Actor.telegram(1001, "manager_aigerim")


@pytest.fixture
def escalated(webhook, tenant_a, inline):
    """A conversation the placeholder brain handed to a human."""
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Хочу записаться на завтра")
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
    conversation = conversation_of(tenant_a)
    assert conversation.state == "human"
    return conversation


def test_take_over_return_and_close_are_audited_state_changes(escalated):
    conversation_take_over(actor=MANAGER, conversation=escalated)
    assert Escalation.objects.get().status == "taken" and Escalation.objects.get().taken_by == "manager_aigerim"

    conversation_return_to_bot(actor=MANAGER, conversation=escalated)
    assert escalated.state == "bot" and Escalation.objects.get().status == "resolved"

    conversation_close(actor=MANAGER, conversation=escalated)
    escalated.refresh_from_db()
    assert escalated.state == "closed"

    actions = list(AuditLog.objects.filter(tenant=escalated.tenant).order_by("id").values_list("action", "actor_kind"))
    assert actions[-3:] == [("conversation.take_over", "telegram"), ("conversation.return_to_bot", "telegram"),
                            ("conversation.close", "telegram")]
    events = list(ConversationEvent.objects.filter(conversation=escalated).values_list("from_state", "to_state", "source"))
    assert events == [("bot", "human", "system"), ("human", "bot", "telegram"), ("bot", "closed", "telegram")]


def test_state_changes_are_idempotent(escalated):
    conversation_return_to_bot(actor=MANAGER, conversation=escalated)
    before = AuditLog.objects.count()
    conversation_return_to_bot(actor=MANAGER, conversation=escalated)
    assert AuditLog.objects.count() == before


def test_a_manager_reply_goes_out_once_and_takes_the_conversation(tenant_a, webhook, inline, fake_chatflow):
    with time_machine.travel(T0, tick=False):
        webhook.post(tenant_a)
    conversation = conversation_of(tenant_a)
    assert conversation.state == "bot"

    with inline():
        first = manager_reply_send(actor=MANAGER, conversation=conversation, text="Здравствуйте! Запишу вас на 15:00.",
                                   idempotency_key="tg-update-77")
        again = manager_reply_send(actor=MANAGER, conversation=conversation, text="Здравствуйте! Запишу вас на 15:00.",
                                   idempotency_key="tg-update-77")

    assert first.pk == again.pk
    first.refresh_from_db()
    assert first.kind == "manager" and first.status == "sent" and first.created_by == "telegram:manager_aigerim"
    assert [m.text for m in fake_chatflow.messages] == ["Здравствуйте! Запишу вас на 15:00."]
    conversation.refresh_from_db()
    assert conversation.state == "human"
    assert AuditLog.objects.filter(action="conversation.manager_reply").count() == 1


def test_the_bot_stays_silent_after_a_manager_replied(tenant_a, webhook, inline, brain):
    fake = brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="вопрос")
        conversation = conversation_of(tenant_a)
        with inline():
            manager_reply_send(actor=MANAGER, conversation=conversation, text="Ответ менеджера", idempotency_key="k1")
        traveller.shift(3)
        with inline():
            assert turn_run_due(conversation_id=conversation.pk) == "forwarded"
    assert fake.calls == []
    assert list(OutboundMessage.objects.values_list("kind", flat=True)) == ["manager"]


@pytest.mark.parametrize(("text", "key", "error"), [("   ", "k", "empty"), ("я" * 5000, "k", "longer"), ("ok", "", "idempotency")])
def test_a_manager_reply_is_validated(escalated, text, key, error):
    with pytest.raises(ApplicationError, match=error):
        manager_reply_send(actor=MANAGER, conversation=escalated, text=text, idempotency_key=key)
    assert not OutboundMessage.objects.filter(kind="manager").exists()


def test_a_failing_notifier_is_retried_by_the_sweeper(webhook, tenant_a, inline):
    RecordingNotifier.fail_next = 1
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
        escalation = Escalation.objects.get()
        assert escalation.notified_at is None and "telegram is down" in escalation.last_notify_error
        assert ErrorLog.objects.filter(where="conversations.notifier").exists()
        traveller.shift(31)
        with inline():
            assert outbox_sweep().escalations_renotified == 1
    escalation.refresh_from_db()
    assert escalation.notified_at is not None and escalation.notify_attempts == 2
    assert RecordingNotifier.escalations == [escalation]


def test_it_alerts_when_managers_cannot_be_notified(escalated, monkeypatch):
    alerts = []
    monkeypatch.setattr("incidents.alerts.alert_raise", lambda **kw: alerts.append(kw))
    RecordingNotifier.fail_next = 10
    Escalation.objects.update(notified_at=None, notify_attempts=4)
    assert escalation_notify(escalation_id=Escalation.objects.get().pk) is False
    assert alerts and "not being notified" in alerts[0]["title"]


def test_forwarded_messages_are_notified_once_each(webhook, tenant_a, inline):
    RecordingNotifier.fail_next = 1
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="раз")
        conversation = conversation_of(tenant_a)
        conversation_take_over(actor=MANAGER, conversation=conversation)
        webhook.post(tenant_a, text="два")
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation.pk)
        assert InboundMessage.objects.filter(forwarded_at__isnull=False).count() == 0
        traveller.shift(31)
        with inline():
            assert outbox_sweep().forwards_renotified == 1
            assert outbox_sweep(now=timezone.now() + timedelta(seconds=60)).forwards_renotified == 0
    assert [m.text for m in RecordingNotifier.messages] == ["раз", "два"]
