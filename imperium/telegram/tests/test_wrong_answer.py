"""«❌ Бот ответил неверно»: the button under the managers' card records a quality incident with
the turn's trace and sources, hands the conversation to a human, and the second mark on answers
from the same KB item within a week pauses it — the next customer asking it gets a human."""

from __future__ import annotations

from datetime import timedelta

import pytest

from conversations.models import Escalation, MessageTrace, Turn, WrongAnswerMark
from conversations.tests.helpers import conversation_of
from imperium.core.models import AuditLog
from imperium.telegram.testing.updates import STRANGER
from imperium.telegram.tests.test_learning import T0, customer_writes, labels, press
from imperium.telegram.tests.test_learning import served as served
from incidents.models import Incident
from knowledge.models import KnowledgeItemPause

pytestmark = pytest.mark.django_db


def answered_then_escalated(webhook, inline, salon, phone, at):
    assert customer_writes(webhook, inline, salon, "Сколько стоит маникюр?", phone=phone, at=at) == "answered"
    later = at + timedelta(minutes=1)
    assert customer_writes(webhook, inline, salon, "Позовите менеджера, пожалуйста", phone=phone, at=later) == "escalated"
    conversation = conversation_of(salon, phone)
    turn = Turn.objects.filter(conversation=conversation, status="answered").get()
    return conversation, turn


def escalation_card(api, conversation):
    from imperium.telegram.models import ConversationNotice

    notice = ConversationNotice.objects.filter(conversation=conversation, kind="escalation").select_related("alert").latest("id")
    return api.message(notice.alert.chat_id, notice.alert.sent_message_id)


def test_two_wrong_answer_marks_pause_the_item(pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot):
    first, first_turn = answered_then_escalated(webhook, inline, salon, "+77010000001", T0)
    message = escalation_card(telegram_bot, first)
    assert "❌ Бот ответил неверно" in labels(message)
    assert press(tg, telegram_bot, {**message, "chat": {"id": -100777, "type": "supergroup"}}, f"conversation.wrong:{first_turn.pk}",
                 user=STRANGER) == "У вас нет прав на это действие."
    assert press(tg, telegram_bot, message, f"conversation.wrong:{first_turn.pk}").startswith("Спасибо, записали")
    assert press(tg, telegram_bot, message, f"conversation.wrong:{first_turn.pk}") == "Этот ответ уже отмечен как неверный."

    mark = WrongAnswerMark.objects.get()
    trace = MessageTrace.objects.get(turn=first_turn)
    assert mark.turn == first_turn and mark.sources == trace.sources == ["price-manicure"] and mark.actor_label == "@aliya_manager"
    incident = Incident.objects.get(pk=mark.incident_id)
    assert incident.kind == "quality.wrong_answer" and incident.tenant == salon and "price-manicure" in incident.summary
    assert str(trace.pk) in incident.summary
    assert Escalation.objects.filter(conversation=first, status__in=["open", "taken"]).exists()
    assert not KnowledgeItemPause.objects.exists()  # one mark pauses nothing
    assert "❌ Бот ответил неверно" not in labels(escalation_card(telegram_bot, first))  # the card lost the button

    second, second_turn = answered_then_escalated(webhook, inline, salon, "+77010000002", T0 + timedelta(days=2))
    answer = press(tg, telegram_bot, escalation_card(telegram_bot, second), f"conversation.wrong:{second_turn.pk}")
    assert "price-manicure" in answer and "больше не отвечает" in answer
    pause = KnowledgeItemPause.objects.get()
    assert pause.external_id == "price-manicure" and pause.marks == 2 and pause.resolved_at is None
    assert AuditLog.objects.filter(action="kb.item_paused").count() == 1

    # The next customer asking it gets a human, not the paused answer.
    sends = len(fake_chatflow.messages)
    assert customer_writes(webhook, inline, salon, "Сколько стоит маникюр?", phone="+77010000003", at=T0 + timedelta(days=2, hours=1)) \
        == "escalated"
    assert "5000" not in " ".join(m.text for m in fake_chatflow.messages[sends:])
    trace = MessageTrace.objects.filter(conversation=conversation_of(salon, "+77010000003")).latest("id")
    assert trace.reason == "no_knowledge" and trace.detail.get("paused_items") == ["price-manicure"]


def test_marks_a_week_apart_pause_nothing(pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot):
    first, turn = answered_then_escalated(webhook, inline, salon, "+77010000001", T0)
    press(tg, telegram_bot, escalation_card(telegram_bot, first), f"conversation.wrong:{turn.pk}")
    WrongAnswerMark.objects.update(created_at=T0 - timedelta(days=8))
    second, turn = answered_then_escalated(webhook, inline, salon, "+77010000002", T0 + timedelta(days=1))
    assert press(tg, telegram_bot, escalation_card(telegram_bot, second), f"conversation.wrong:{turn.pk}").startswith("Спасибо")
    assert not KnowledgeItemPause.objects.exists()


def test_an_escalated_turn_cannot_be_marked_wrong(pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot):
    assert customer_writes(webhook, inline, salon, "Позовите менеджера", phone="+77010000009") == "escalated"
    conversation = conversation_of(salon, "+77010000009")
    turn = Turn.objects.get(conversation=conversation)
    assert "❌ Бот ответил неверно" not in labels(escalation_card(telegram_bot, conversation))
    assert press(tg, telegram_bot, escalation_card(telegram_bot, conversation), f"conversation.wrong:{turn.pk}").startswith("⚠️")
    assert not WrongAnswerMark.objects.exists()


def test_a_bot_answer_after_a_hand_over_is_shown_in_the_topic_with_the_button(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot
):
    conversation, _ = answered_then_escalated(webhook, inline, salon, "+77010000004", T0)
    press(tg, telegram_bot, escalation_card(telegram_bot, conversation), f"conversation.return_to_bot:{conversation.pk}")
    assert customer_writes(webhook, inline, salon, "Какой у вас график работы?", phone="+77010000004",
                           at=T0 + timedelta(minutes=10)) == "answered"
    turn = Turn.objects.filter(conversation=conversation, status="answered").latest("id")
    from imperium.telegram.models import ConversationNotice, ConversationTopic

    notice = ConversationNotice.objects.select_related("alert").get(conversation=conversation, kind="bot_answer")
    shown = telegram_bot.message(notice.alert.chat_id, notice.alert.sent_message_id)
    assert shown["text"].startswith("🤖 Бот ответил: ") and "10:00" in shown["text"]
    assert shown["message_thread_id"] == ConversationTopic.objects.get(conversation=conversation).thread_id
    assert labels(shown) == ["❌ Бот ответил неверно"]
    assert press(tg, telegram_bot, shown, f"conversation.wrong:{turn.pk}").startswith("Спасибо, записали")
    assert WrongAnswerMark.objects.get().turn == turn
    handover = Escalation.objects.filter(conversation=conversation).latest("id")
    assert handover.reason == "wrong_answer" and handover.status == "open" and handover.turn == turn
    assert "бот ответил неверно" in escalation_card(telegram_bot, conversation)["text"]  # the managers' card says why
    edited = telegram_bot.message(notice.alert.chat_id, notice.alert.sent_message_id)
    assert "❌ Ответ бота отмечен неверным: @aliya_manager" in edited["text"] and labels(edited) == []


def test_a_customer_the_managers_never_saw_gets_no_answer_notice(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot
):
    assert customer_writes(webhook, inline, salon, "Сколько стоит маникюр?", phone="+77010000005") == "answered"
    from imperium.telegram.models import ConversationNotice

    assert not ConversationNotice.objects.exists() and telegram_bot.sent_messages() == []
