"""The manager hand-over loop end to end: ChatFlow webhook → pipeline → escalation card in the
tenant's Telegram topic (fake Bot API) → buttons and replies (real update JSON through
/telegram-webhook) → the customer (fake ChatFlow)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from conversations.conftest import message_body
from conversations.models import ConversationNote, Escalation, OutboundMessage
from conversations.services import turn_run_due
from conversations.tests.helpers import Answering, conversation_of
from imperium.core.models import AuditLog
from imperium.telegram.choices import NoticeStatus, TopicStatus
from imperium.telegram.models import ConversationNotice, ConversationTopic, TelegramUpdate
from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID
from imperium.telegram.testing.updates import (
    MANAGER,
    OTHER_GROUP,
    PLAIN_GROUP,
    STRANGER,
    TENANT_GROUP,
    callback_query_update,
    edited_message_update,
    message_update,
    topic_message_update,
)
from incidents.models import Alert

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
PHONE = "+77011234567"
CHAT = TENANT_GROUP["id"]


def customer_writes(webhook, inline, traveller, salon, **message):
    """The customer's message, its coalescing window, then the turn (no KB here: a hand-over)."""
    webhook.post(salon, message_body(**message))
    traveller.shift(3)
    with inline():
        turn_run_due(conversation_id=conversation_of(salon).pk)


@pytest.fixture
def escalated(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    """A customer asked to book; the bot (no knowledge base) handed the conversation to a human."""
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться на завтра в 15:00", name="Айгерим")
    conversation = conversation_of(salon)
    assert conversation.state == "human"
    return conversation


def card_of(api, conversation, *, kind="escalation"):
    """The card as Telegram holds it now (after edits), and its notice."""
    notice = ConversationNotice.objects.filter(conversation=conversation, kind=kind).select_related("alert").latest("id")
    assert notice.alert is not None and notice.alert.sent_message_id, "the card was not sent"
    return api.message(notice.alert.chat_id, notice.alert.sent_message_id), notice


def buttons(message):
    return [b["callback_data"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def topic_id(conversation):
    return ConversationTopic.objects.get(conversation=conversation).thread_id


def test_it_posts_the_escalation_card_in_the_conversations_own_topic(escalated, telegram_bot, fake_chatflow):
    topic = ConversationTopic.objects.get(conversation=escalated)
    assert topic.status == TopicStatus.CREATED and topic.chat_id == CHAT
    created = telegram_bot.calls_to("createForumTopic", ok_only=True)
    assert len(created) == 1 and created[0].params["name"].startswith("Айгерим · +7701•••4567·")

    card, notice = card_of(telegram_bot, escalated)
    assert str(card["chat"]["id"]) == str(CHAT) and card["message_thread_id"] == topic.thread_id
    text = card["text"]
    assert "Айгерим" in text and "+7701•••4567" in text and PHONE not in text
    local = (T0 + timedelta(seconds=0)).astimezone(ZoneInfo(escalated.tenant.timezone)).strftime("%H:%M")
    assert f"• {local} Хочу записаться на завтра в 15:00" in text  # the recent messages, in the tenant's time
    assert "Причина: в базе знаний нет ответа" in text
    assert f"/admin/conversations/conversation/{escalated.pk}/change/" in text
    assert buttons(card) == [f"conversation.take_over:{escalated.pk}", f"conversation.return_to_bot:{escalated.pk}",
                             f"conversation.close:{escalated.pk}"]
    assert notice.status == NoticeStatus.QUEUED and notice.text == text
    # The customer got the holding reply, and only that.
    assert [m.text for m in fake_chatflow.messages] == [escalated.tenant.settings.holding_reply_template]


def test_a_press_on_take_silences_the_bot_and_forwards_the_customer_to_the_topic(
    escalated, tg, telegram_bot, fake_chatflow, webhook, inline
):
    card, _ = card_of(telegram_bot, escalated)
    press = callback_query_update(f"conversation.take_over:{escalated.pk}", message=card, user=MANAGER)
    assert tg(press).status_code == 200

    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"].startswith("Диалог ваш")
    edited, _ = card_of(telegram_bot, escalated)
    assert "✋ Взял(а): @aliya_manager" in edited["text"] and "Хочу записаться" in edited["text"]
    assert buttons(edited) == [f"conversation.return_to_bot:{escalated.pk}", f"conversation.close:{escalated.pk}"]
    escalation = Escalation.objects.get(conversation=escalated)
    assert escalation.status == "taken" and escalation.taken_by == "@aliya_manager"
    take = AuditLog.objects.get(action="conversation.take_over")
    assert take.actor_kind == "telegram" and take.actor_id == str(MANAGER["id"])
    assert AuditLog.objects.get(action="policy.executed").payload["action"] == "conversation.take_over"

    sends_before = len(fake_chatflow.messages)
    with time_machine.travel(T0.replace(minute=5), tick=False) as traveller:
        webhook.post(escalated.tenant, message_body(text="Алло, вы тут?"))
        traveller.shift(3)
        with inline():
            assert turn_run_due(conversation_id=escalated.pk) == "forwarded"
    assert len(fake_chatflow.messages) == sends_before  # the bot stays silent
    forwarded = telegram_bot.sent_messages(CHAT)[-1]
    assert forwarded["text"] == "💬 Клиент: Алло, вы тут?" and forwarded["message_thread_id"] == str(topic_id(escalated))


def test_pressing_take_twice_or_a_redelivered_press_changes_nothing_more(escalated, tg, telegram_bot):
    card, _ = card_of(telegram_bot, escalated)
    press = callback_query_update(f"conversation.take_over:{escalated.pk}", message=card, user=MANAGER)
    tg(press)
    tg(press)  # Telegram redelivers the same update
    again = callback_query_update(f"conversation.take_over:{escalated.pk}", message=card, user=STRANGER)  # a second tap
    tg(again)

    assert AuditLog.objects.filter(action="conversation.take_over").count() == 1
    assert AuditLog.objects.filter(action="policy.executed").count() == 1
    assert len(telegram_bot.calls_to("editMessageText", ok_only=True)) == 1
    assert telegram_bot.answered_callbacks[again["callback_query"]["id"]]["text"] == "Диалог уже у менеджера (@aliya_manager)."


def test_a_manager_reply_in_the_topic_reaches_the_customer_exactly_once(escalated, tg, telegram_bot, fake_chatflow):
    reply = topic_message_update("Здравствуйте! Записала вас на завтра в 15:00.", thread_id=topic_id(escalated))
    tg(reply)
    tg(reply)  # redelivered by Telegram: same update_id
    tg({**reply, "update_id": reply["update_id"] + 1})  # the same message under another update id (polling + webhook)

    sent = [m.text for m in fake_chatflow.messages]
    assert sent.count("Здравствуйте! Записала вас на завтра в 15:00.") == 1
    assert TelegramUpdate.objects.count() == 2
    outbound = OutboundMessage.objects.get(kind="manager")
    assert outbound.status == "sent" and outbound.created_by == "telegram:@aliya_manager"
    assert AuditLog.objects.filter(action="conversation.manager_reply").count() == 1
    # Answering took the conversation over, and the card says who.
    escalation = Escalation.objects.get(conversation=escalated)
    assert escalation.status == "taken" and escalation.taken_by == "@aliya_manager"
    card, _ = card_of(telegram_bot, escalated)
    assert "✋ Взял(а): @aliya_manager" in card["text"] and "(ответил(а) клиенту)" in card["text"]


def test_a_reply_to_the_card_in_a_group_without_topics_goes_to_the_customer(
    pipeline, salon, webhook, inline, fake_chatflow, telegram_bot, tg
):
    salon.settings.telegram_chat_id = PLAIN_GROUP["id"]
    salon.settings.telegram_topic_id = None
    salon.settings.save()
    telegram_bot.set_chat(PLAIN_GROUP["id"], is_forum=False)
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться")
    conversation = conversation_of(salon)
    assert ConversationTopic.objects.get(conversation=conversation).status == TopicStatus.UNAVAILABLE
    assert not telegram_bot.calls_to("createForumTopic")
    card, _ = card_of(telegram_bot, conversation)
    assert "message_thread_id" not in card and "Ответьте на это сообщение (reply)" in card["text"]

    tg(message_update("Да, конечно, ждём вас!", user=MANAGER, chat=PLAIN_GROUP, reply_to=card))
    assert fake_chatflow.messages[-1].text == "Да, конечно, ждём вас!"
    # Managers chatting in the group (no reply to a card) are not sent anywhere.
    tg(message_update("Кто возьмёт?", user=MANAGER, chat=PLAIN_GROUP))
    assert fake_chatflow.messages[-1].text == "Да, конечно, ждём вас!"
    assert TelegramUpdate.objects.latest("id").outcome == "ignored: no handler matches"

    # The customer writes again: the message goes to the group as a reply to the card.
    with time_machine.travel(T0.replace(minute=3), tick=False) as traveller:
        webhook.post(salon, message_body(text="Спасибо!"))
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation.pk)
    forwarded = telegram_bot.sent_messages(PLAIN_GROUP["id"])[-1]
    assert "Спасибо!" in forwarded["text"] and forwarded["reply_parameters"]["message_id"] == card["message_id"]


def test_a_note_is_kept_on_the_conversation_and_not_sent(escalated, tg, fake_chatflow, login, superuser):
    sends_before = len(fake_chatflow.messages)
    note = topic_message_update("note: клиентка просила перезвонить после 18:00", thread_id=topic_id(escalated))
    tg(note)
    tg({**note, "update_id": note["update_id"] + 1})

    assert len(fake_chatflow.messages) == sends_before
    saved = ConversationNote.objects.get()
    assert saved.text == "клиентка просила перезвонить после 18:00" and saved.actor_label == "@aliya_manager"
    assert saved.conversation == escalated and saved.source == "telegram"
    assert AuditLog.objects.filter(action="conversation.note").count() == 1
    assert not OutboundMessage.objects.filter(kind="manager").exists()
    escalated.refresh_from_db()
    assert Escalation.objects.get(conversation=escalated).status == "open"  # a note takes nothing over
    page = login(superuser).get(f"/admin/conversations/conversation/{escalated.pk}/change/").content.decode()
    assert "клиентка просила перезвонить после 18:00" in page and "клиенту не отправляется" in page


def test_an_edited_message_is_not_sent_again_and_the_manager_is_told(escalated, tg, telegram_bot, fake_chatflow):
    reply = topic_message_update("Ждём вас в 15:00", thread_id=topic_id(escalated))
    tg(reply)
    edit = edited_message_update("Ждём вас в 16:00", user=MANAGER, chat=TENANT_GROUP, thread_id=topic_id(escalated),
                                 message_id=reply["message"]["message_id"])
    tg(edit)

    assert [m.text for m in fake_chatflow.messages].count("Ждём вас в 15:00") == 1
    assert "Ждём вас в 16:00" not in [m.text for m in fake_chatflow.messages]
    told = telegram_bot.sent_messages(CHAT)[-1]
    assert told["text"].startswith("✏️ Исправления не отправляются клиенту")
    assert TelegramUpdate.objects.get(update_id=edit["update_id"]).outcome.startswith("edited message ignored")


def test_media_from_a_manager_is_not_sent(escalated, tg, telegram_bot, fake_chatflow):
    update = topic_message_update("", thread_id=topic_id(escalated))
    message = update["message"]
    message.pop("text")
    message.update(photo=[{"file_id": "AgAC", "file_unique_id": "AQAD", "width": 90, "height": 90}], caption="Вот прайс")
    before = len(fake_chatflow.messages)
    tg(update)
    assert len(fake_chatflow.messages) == before
    assert telegram_bot.sent_messages(CHAT)[-1]["text"].startswith("📎 Клиенту уходят только текстовые сообщения")


def test_return_to_bot_makes_the_bot_answer_again(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot, tg, monkeypatch):
    brain = Answering(action="escalate", reason="complaint")
    monkeypatch.setattr("conversations.services.turns.decide_reply", brain)
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Мне не понравилась стрижка")
    conversation = conversation_of(salon)
    card, _ = card_of(telegram_bot, conversation)
    assert "Причина: жалоба или возврат" in card["text"]

    tg(callback_query_update(f"conversation.return_to_bot:{conversation.pk}", message=card, user=MANAGER))
    conversation.refresh_from_db()
    assert conversation.state == "bot" and Escalation.objects.get().status == "resolved"
    edited, _ = card_of(telegram_bot, conversation)
    assert "🤖 Вернул(а) боту: @aliya_manager" in edited["text"]
    assert buttons(edited) == [f"conversation.take_over:{conversation.pk}", f"conversation.close:{conversation.pk}"]

    brain.action, brain.text = "answer", "Маникюр стоит 5000 ₸."
    with time_machine.travel(T0.replace(minute=10), tick=False) as traveller:
        webhook.post(salon, message_body(text="Сколько стоит маникюр?"))
        traveller.shift(3)
        with inline():
            assert turn_run_due(conversation_id=conversation.pk) == "answered"
    assert fake_chatflow.messages[-1].text == "Маникюр стоит 5000 ₸."

    # «Закрыть» from the card: closed, the buttons go.
    tg(callback_query_update(f"conversation.close:{conversation.pk}", message=edited, user=MANAGER))
    conversation.refresh_from_db()
    closed, _ = card_of(telegram_bot, conversation)
    assert conversation.state == "closed" and "✅ Закрыл(а): @aliya_manager" in closed["text"] and buttons(closed) == []


def test_a_press_from_another_chat_is_refused(escalated, tg, telegram_bot):
    card, _ = card_of(telegram_bot, escalated)
    foreign = {**card, "chat": OTHER_GROUP}  # the card's buttons, pressed in a chat that is not the tenant's
    press = callback_query_update(f"conversation.take_over:{escalated.pk}", message=foreign, user=STRANGER)
    tg(press)

    escalated.refresh_from_db()
    assert escalated.state == "human" and Escalation.objects.get(conversation=escalated).status == "open"
    answer = telegram_bot.answered_callbacks[press["callback_query"]["id"]]
    assert answer["text"] == "У вас нет прав на это действие."
    refused = AuditLog.objects.get(action="telegram.callback_refused")
    assert refused.actor_id == str(STRANGER["id"]) and refused.payload["chat_id"] == OTHER_GROUP["id"]
    assert not AuditLog.objects.filter(action="conversation.take_over").exists()
    # A reply typed in a foreign chat, to a message id that happens to match the card's, reaches nobody.
    tg(message_update("Привет", user=STRANGER, chat=OTHER_GROUP, reply_to=foreign))
    assert not OutboundMessage.objects.filter(kind="manager").exists()


def test_a_tenant_without_a_chat_gets_its_cards_in_the_ceo_chat_without_buttons(
    pipeline, tenant_b, webhook, inline, fake_chatflow, telegram_bot
):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_b, message_body(text="Хочу записаться"))
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_b).pk)
    sent = telegram_bot.sent_messages(ALERT_CHAT_ID)
    assert len(sent) == 1 and "Bravo Barbers" in sent[0]["text"] and "Нужен менеджер" in sent[0]["text"]
    assert "reply_markup" not in sent[0]
    assert not ConversationTopic.objects.exists()


def test_when_telegram_is_down_the_card_waits_and_the_customer_is_not_kept_waiting(
    pipeline, salon, webhook, inline, fake_chatflow, telegram_bot
):
    telegram_bot.fail_next(502, count=100)
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться")
        conversation = conversation_of(salon)
        # The holding reply left at once; managers have not been told yet.
        assert [m.text for m in fake_chatflow.messages] == [salon.settings.holding_reply_template]
        notice = ConversationNotice.objects.get(conversation=conversation)
        assert notice.status == NoticeStatus.WAITING and notice.attempts == 1 and "502" in notice.last_error
        assert Escalation.objects.get().notified_at is not None  # handed over to the Telegram side
        assert not telegram_bot.sent_messages(CHAT)

        telegram_bot.reset()  # Telegram is back
        traveller.shift(10)
        from imperium.telegram.notices import notices_sweep

        with inline():
            assert notices_sweep() == []  # not due yet: the backoff holds
        traveller.shift(60)
        with inline():
            assert notices_sweep() == [conversation.pk]
    card, notice = card_of(telegram_bot, conversation)
    assert notice.status == NoticeStatus.QUEUED and "Нужен менеджер" in card["text"]
    assert card["message_thread_id"] == topic_id(conversation)


def test_a_429_on_the_card_is_honoured_and_the_card_sent_later(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    from incidents.alerts import alerts_sweep_due

    telegram_bot.fail_next(429, retry_after=7, method="sendMessage")
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться")
        alert = ConversationNotice.objects.get().alert
        assert alert.status == "pending" and alert.last_error_status == 429
        traveller.shift(5)
        with inline():
            assert alerts_sweep_due() == []  # Telegram said 7 s
        traveller.shift(3)
        with inline():
            assert alerts_sweep_due() == [alert.pk]
    alert.refresh_from_db()
    assert alert.status == "sent" and Alert.objects.filter(status="sent", chat_id=str(CHAT)).count() == 1


def test_a_429_on_opening_the_topic_waits_the_time_telegram_asked(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    from imperium.telegram.notices import notices_sweep

    telegram_bot.fail_next(429, retry_after=40, method="createForumTopic")
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться")
        conversation = conversation_of(salon)
        notice = ConversationNotice.objects.get()
        assert notice.status == NoticeStatus.WAITING and (notice.next_attempt_at - T0).total_seconds() == pytest.approx(43)
        traveller.shift(50)  # 40 s asked + the sweep's grace for fresh rows not yet over
        with inline():
            assert notices_sweep() == []
        traveller.shift(20)
        with inline():
            assert notices_sweep() == [conversation.pk]
    assert len(telegram_bot.calls_to("createForumTopic")) == 2
    card, _ = card_of(telegram_bot, conversation)
    assert card["message_thread_id"] == topic_id(conversation)


def test_a_bot_that_may_not_open_topics_posts_in_the_tenant_topic(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    salon.settings.telegram_topic_id = 77
    salon.settings.save()
    telegram_bot.fail_next(400, method="createForumTopic", description="Bad Request: not enough rights to create a topic")
    with time_machine.travel(T0, tick=False) as traveller:
        customer_writes(webhook, inline, traveller, salon, text="Хочу записаться")
    conversation = conversation_of(salon)
    topic = ConversationTopic.objects.get(conversation=conversation)
    assert topic.status == TopicStatus.UNAVAILABLE and "not enough rights" in topic.last_error
    card, _ = card_of(telegram_bot, conversation)
    assert card["message_thread_id"] == 77 and "Ответьте на это сообщение (reply)" in card["text"]


def test_a_reply_from_a_chat_the_tenant_left_is_not_sent(escalated, tg, fake_chatflow):
    thread = topic_id(escalated)
    escalated.tenant.settings.telegram_chat_id = PLAIN_GROUP["id"]  # the tenant moved its managers elsewhere
    escalated.tenant.settings.save()
    before = len(fake_chatflow.messages)
    tg(topic_message_update("Я ещё тут", thread_id=thread))
    assert len(fake_chatflow.messages) == before
    assert AuditLog.objects.get(action="telegram.manager_message_refused").payload["chat_id"] == CHAT
