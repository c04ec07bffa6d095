"""The full `/status <tenant>` over real pipeline traffic, tenant scoping of the hand-over records,
and the conversation actions of the write-risk policy."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from conversations.conftest import message_body
from conversations.services import turn_run_due
from conversations.tests.helpers import Answering, conversation_of
from imperium.core.actors import Actor
from imperium.core.policy import action_registered, policy_execute
from imperium.telegram.models import ConversationNotice, ConversationTopic
from imperium.telegram.notifier import TelegramNotifier
from imperium.telegram.testing.updates import CEO, message_update
from incidents.errors import error_log_record
from knowledge.models import KnowledgeVersion

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)


def converse(webhook, inline, tenant, phone: str, text: str) -> None:
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant, message_body(text=text, **{"from": phone}))
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant, phone).pk)


def test_status_reports_channel_kb_traffic_escalations_delivery_and_errors(
    pipeline, salon, tenant_b, webhook, inline, fake_chatflow, telegram_bot, deliver, ceo_allowed, monkeypatch
):
    KnowledgeVersion.objects.create(tenant=salon, number=3, status="stable")
    brain = Answering("Маникюр стоит 5000 ₸.")
    monkeypatch.setattr("conversations.services.turns.decide_reply", brain)
    converse(webhook, inline, salon, "+77010000001", "Сколько стоит маникюр?")
    fake_chatflow.fail(400)  # the next answer is refused by the gateway: delivery_failed
    converse(webhook, inline, salon, "+77010000002", "А педикюр?")
    brain.action, brain.reason = "escalate", "complaint"
    converse(webhook, inline, salon, "+77010000003", "Мастер опоздал на час!")
    converse(webhook, inline, tenant_b, "+77010000004", "Другой клиент")  # another tenant's traffic
    error_log_record(where="chatflow.send", message="gateway refused", tenant=salon)

    with time_machine.travel(T0.replace(minute=12), tick=False):
        deliver(message_update("/status alpha"))
    text = telegram_bot.sent_messages(CEO["id"])[-1]["text"]

    assert "Alpha Salon (alpha)" in text
    assert "Канал релиза: stable, релиз" in text
    assert "База знаний: v3 (stable)" in text
    assert "Зависимости:" in text
    assert "входящих 3, ходов бота 3 (ответил сам 2, передал менеджеру 1)" in text
    assert "ответов бота 1, ответов менеджеров 0, «передаю менеджеру» 1" in text
    assert "Доставка: 66.7% успешно (2 доставлено, 1 не доставлено)" in text
    assert "Эскалации: 2" in text and "• жалоба или возврат: 1" in text and "• ответ не удалось доставить клиенту: 1" in text
    assert "ждут менеджера 2 (дольше всех — 11 мин)" in text
    assert "нцидент" in text  # open incidents, or a note that the incidents app is not there yet
    assert "Ошибки за 24 ч:" in text and "gateway refused" in text
    assert "Другой клиент" not in text


def test_status_of_a_quiet_tenant(telegram_bot, deliver, ceo_allowed, tenant_a):
    deliver(message_update("/status alpha"))
    text = telegram_bot.sent_messages(CEO["id"])[-1]["text"]
    assert "База знаний: нет версии для клиентов" in text
    assert "входящих 0" in text and "Доставка: отправок не было" in text and "никто не ждёт менеджера" in text


def test_an_operator_sees_only_their_tenants_topics_and_notices(
    pipeline, salon, tenant_b, webhook, inline, fake_chatflow, telegram_bot, login, operator_a
):
    tenant_b.settings.telegram_chat_id = -1002222222222
    tenant_b.settings.save()
    converse(webhook, inline, salon, "+77010000001", "Хочу записаться")
    converse(webhook, inline, tenant_b, "+77010000009", "Хочу записаться")
    assert ConversationNotice.objects.count() == 2 and ConversationTopic.objects.count() == 2
    theirs = ConversationNotice.objects.get(tenant=tenant_b)
    theirs_topic = ConversationTopic.objects.get(tenant=tenant_b)

    browser = login(operator_a)
    page = browser.get("/admin/telegram/conversationnotice/")
    assert page.status_code == 200
    assert f"#{conversation_of(salon, '+77010000001').pk}" in page.content.decode()
    assert browser.get(f"/admin/telegram/conversationnotice/{theirs.pk}/change/").status_code in (302, 403, 404)
    assert browser.get(f"/admin/telegram/conversationtopic/{theirs_topic.pk}/change/").status_code in (302, 403, 404)
    assert list(ConversationNotice.objects.visible_to(operator_a)) == [ConversationNotice.objects.get(tenant=salon)]


def test_a_repeated_notifier_call_writes_one_notice(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    converse(webhook, inline, salon, "+77010000001", "Хочу записаться")
    from conversations.models import Escalation

    escalation = Escalation.objects.get()
    with inline():
        TelegramNotifier().escalation_opened(escalation)  # the pipeline retries a notifier call it thinks failed
    assert ConversationNotice.objects.filter(escalation=escalation).count() == 1
    assert len([m for m in telegram_bot.sent_messages(salon.settings.telegram_chat_id) if "Нужен менеджер" in m["text"]]) == 1


def test_conversation_actions_run_through_the_policy_and_are_low_risk(pipeline, salon, tenant_b, webhook, inline, fake_chatflow):
    converse(webhook, inline, salon, "+77010000001", "Хочу записаться")
    conversation = conversation_of(salon, "+77010000001")
    actor = Actor.telegram(42, "@manager")
    for action in ("conversation.take_over", "conversation.return_to_bot", "conversation.close", "conversation.manager_reply"):
        assert action_registered(action)
    outcome = policy_execute("conversation.take_over", actor, {"tenant": "alpha", "conversation_id": conversation.pk}, tenant=salon)
    assert outcome.status == "executed" and outcome.result["state"] == "human"
    outcome = policy_execute("conversation.close", actor, {"tenant": "alpha", "conversation_id": conversation.pk}, tenant=salon)
    assert outcome.result == {"conversation_id": conversation.pk, "from_state": "human", "state": "closed", "changed": True,
                              "escalation_status": "resolved"}
    from imperium.core.exceptions import ApplicationError

    with pytest.raises(ApplicationError, match="bravo has no conversation"):  # another tenant's id
        policy_execute("conversation.take_over", actor, {"tenant": "bravo", "conversation_id": conversation.pk})
