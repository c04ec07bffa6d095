"""The knowledge base learns from the managers, end to end: a customer's question the KB lacks →
escalation card → the manager's reply in the topic → close → the suggestion card with its buttons
→ «📚 В базу знаний» → the draft changed → the CEO approves the promotion → another customer's
paraphrase is answered by the bot with the manager's fact (ChatFlow webhook, the pipeline, the
fake Bot API, real update JSON through /telegram-webhook)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import time_machine

from conversations.conftest import message_body
from conversations.models import OutboundMessage
from conversations.services.turns import turn_run_now
from conversations.tests.helpers import conversation_of
from imperium.core.actors import Actor
from imperium.core.models import AuditLog, VerificationRequest
from imperium.telegram.models import ConversationNotice, ConversationTopic
from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID
from imperium.telegram.testing.updates import (
    CEO,
    MANAGER,
    STRANGER,
    TENANT_GROUP,
    callback_query_update,
    message_update,
    topic_message_update,
)
from incidents.models import Alert
from knowledge.models import KnowledgeItem, KnowledgeSuggestion, KnowledgeVersion
from knowledge.services import kb_import, kb_version_make_first_stable

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
CHAT = TENANT_GROUP["id"]
KB = [
    {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием гель-лаком стоит 5000 ₸.",
     "tags": ["price"]},
    {"id": "hours", "question": "Какой у вас график работы?", "answer": "Мы работаем ежедневно с 10:00 до 21:00.", "tags": ["hours"]},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Мы находимся по адресу: ул. Абая, 10, 2 этаж.", "tags": ["address"]},
]
PARKING_REPLY = "Да, у нас бесплатная парковка во дворе на 20 машин."


@pytest.fixture
def served(salon):
    actor = Actor.system("test")
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in KB)
    version = kb_import(actor=actor, tenant=salon, file_name="kb.jsonl", content=content)
    return kb_version_make_first_stable(actor=actor, version=version)


def customer_writes(webhook, inline, salon, text, *, phone="+77011234567", name="Айгерим", at=T0):
    with time_machine.travel(at, tick=False) as traveller:
        webhook.post(salon, message_body(text=text, name=name, **{"from": phone}))
        traveller.shift(3)
        with inline():
            return turn_run_now(conversation_of(salon, phone).pk)


def card(api, key_prefix):
    alert = Alert.objects.filter(dedup_key__startswith=key_prefix).latest("id")
    assert alert.sent_message_id, f"{key_prefix} was not sent"
    return api.message(alert.chat_id, alert.sent_message_id)


def labels(message):
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]


def press(tg, api, message, data, user=MANAGER):
    update = callback_query_update(data, message=message, user=user)
    assert tg(update).status_code == 200
    return api.answered_callbacks[update["callback_query"]["id"]]["text"]


def manager_answers_and_closes(tg, api, conversation, text):
    thread = ConversationTopic.objects.get(conversation=conversation).thread_id
    assert tg(topic_message_update(text, thread_id=thread)).status_code == 200
    notice = ConversationNotice.objects.filter(conversation=conversation, kind="escalation").select_related("alert").latest("id")
    escalation_card = api.message(notice.alert.chat_id, notice.alert.sent_message_id)
    press(tg, api, escalation_card, f"conversation.close:{conversation.pk}")


def test_a_managers_answer_becomes_knowledge_the_bot_answers_from_after_the_ceo_approves(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot, ceo_allowed
):
    assert customer_writes(webhook, inline, salon, "Подскажите, у вас есть парковка?") == "escalated"
    first = conversation_of(salon)
    manager_answers_and_closes(tg, telegram_bot, first, PARKING_REPLY)
    assert fake_chatflow.messages[-1].text == PARKING_REPLY  # the customer got the manager's answer

    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.kind == "new_item" and suggestion.status == "pending" and suggestion.count == 1
    assert suggestion.question == "Подскажите, у вас есть парковка?" and suggestion.answer == PARKING_REPLY
    assert suggestion.conversation_id == first.pk and suggestion.tenant == salon
    suggestion_card = card(telegram_bot, "kb-suggestion:")
    assert str(suggestion_card["chat"]["id"]) == str(CHAT)
    assert labels(suggestion_card) == ["📚 В базу знаний", "✏️ Изменить", "🚫 Не надо"]
    assert "Подскажите, у вас есть парковка?" in suggestion_card["text"] and PARKING_REPLY in suggestion_card["text"]

    # A stranger's press from elsewhere is refused; the manager's press accepts, a second one does nothing.
    stranger_card = {**suggestion_card, "chat": {"id": -100555, "type": "supergroup", "title": "x"}}
    assert press(tg, telegram_bot, stranger_card, f"kbs.accept:{suggestion.pk}", user=STRANGER) == "У вас нет прав на это действие."
    assert press(tg, telegram_bot, suggestion_card, f"kbs.accept:{suggestion.pk}").startswith("Добавлено в черновик")
    assert press(tg, telegram_bot, suggestion_card, f"kbs.accept:{suggestion.pk}").startswith("Уже решено")

    suggestion.refresh_from_db()
    draft = KnowledgeVersion.objects.get(tenant=salon, status="draft")
    assert suggestion.status == "accepted" and suggestion.version == draft and suggestion.decided_by == "@aliya_manager"
    item = KnowledgeItem.objects.get(version=draft, external_id=suggestion.item_external_id)
    assert item.answer == PARKING_REPLY and item.question == suggestion.question
    assert draft.item_count == len(KB) + 1 and draft.content_hash != served.content_hash
    assert AuditLog.objects.filter(action="kb.draft_edited", payload__item=item.external_id).exists()
    edited = card(telegram_bot, "kb-suggestion:")
    assert "Добавил(а) в базу знаний: @aliya_manager" in edited["text"] and labels(edited) == []

    # The promotion waits for the CEO: one verification request with the evaluation in it.
    request = VerificationRequest.objects.get(action="kb.promote_learned")
    assert request.status == "pending" and request.params == {"tenant": salon.slug, "version": draft.number}
    announcement = card(telegram_bot, "verification:")
    assert str(announcement["chat"]["id"]) == ALERT_CHAT_ID and "принято предложений — 1" in announcement["text"]

    # Not yet promoted: another customer's paraphrase still goes to a human.
    assert customer_writes(webhook, inline, salon, "а парковка есть?", phone="+77017654321", name="Дана") == "escalated"

    assert press(tg, telegram_bot, announcement, f"verify.approve:{request.pk}", user=CEO) == "Подтверждено и выполнено."
    draft.refresh_from_db()
    assert draft.status == "stable"

    sends = len(fake_chatflow.messages)
    assert customer_writes(webhook, inline, salon, "Парковка для клиентов есть?", phone="+77019998877", name="Ержан") == "answered"
    reply = fake_chatflow.messages[sends:][0].text
    assert "бесплатная парковка во дворе" in reply
    assert OutboundMessage.objects.filter(conversation=conversation_of(salon, "+77019998877"), kind="reply").exists()


def test_a_personal_reply_becomes_no_suggestion(pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot):
    assert customer_writes(webhook, inline, salon, "Подскажите, у вас есть парковка?", name="Айгерим") == "escalated"
    manager_answers_and_closes(tg, telegram_bot, conversation_of(salon), "Айгерим, для вас оставим место у входа завтра в 15:00.")
    assert not KnowledgeSuggestion.objects.exists()
    assert not Alert.objects.filter(dedup_key__startswith="kb-suggestion:").exists()


def test_a_corrected_answer_replying_to_the_card_goes_into_the_draft(
    pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot
):
    customer_writes(webhook, inline, salon, "Подскажите, у вас есть парковка?")
    manager_answers_and_closes(tg, telegram_bot, conversation_of(salon), PARKING_REPLY)
    suggestion = KnowledgeSuggestion.objects.get()
    suggestion_card = card(telegram_bot, "kb-suggestion:")
    assert press(tg, telegram_bot, suggestion_card, f"kbs.edit:{suggestion.pk}").startswith("Ответьте (reply)")
    corrected = "Бесплатная парковка во дворе на 25 машин, въезд с ул. Абая."
    assert tg(message_update(corrected, user=MANAGER, chat=TENANT_GROUP, reply_to=suggestion_card)).status_code == 200
    suggestion.refresh_from_db()
    assert suggestion.status == "accepted" and suggestion.answer == corrected
    assert KnowledgeItem.objects.get(version=suggestion.version, external_id=suggestion.item_external_id).answer == corrected
    assert press(tg, telegram_bot, suggestion_card, f"kbs.reject:{suggestion.pk}").startswith("Уже решено")


def test_no_thanks_rejects_the_suggestion_and_changes_no_draft(pipeline, salon, served, webhook, inline, tg, fake_chatflow, telegram_bot):
    customer_writes(webhook, inline, salon, "Подскажите, у вас есть парковка?")
    manager_answers_and_closes(tg, telegram_bot, conversation_of(salon), PARKING_REPLY)
    suggestion = KnowledgeSuggestion.objects.get()
    suggestion_card = card(telegram_bot, "kb-suggestion:")
    assert press(tg, telegram_bot, suggestion_card, f"kbs.reject:{suggestion.pk}") == "Хорошо, не добавляем."
    suggestion.refresh_from_db()
    assert suggestion.status == "rejected" and suggestion.decided_by == "@aliya_manager" and suggestion.version is None
    assert not KnowledgeVersion.objects.filter(tenant=salon, status="draft").exists()
    assert not VerificationRequest.objects.filter(action="kb.promote_learned").exists()
    edited = card(telegram_bot, "kb-suggestion:")
    assert "🚫 Не надо: @aliya_manager" in edited["text"] and labels(edited) == []
    assert press(tg, telegram_bot, suggestion_card, f"kbs.accept:{suggestion.pk}").startswith("Уже решено")
    assert not KnowledgeVersion.objects.filter(tenant=salon, status="draft").exists()
