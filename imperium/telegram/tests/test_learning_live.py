"""The learning step in a real Celery worker: a closed hand-over's task runs in `celery worker`, which
writes the suggestion and sends its card to the fake Bot API through the Telegram outbox; the
manager's «📚 В базу знаний» press (real update JSON through /telegram-webhook) changes the draft."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Escalation, InboundMessage, OutboundMessage, Turn
from conversations.testing.live import LiveWorker
from conversations.tests.helpers import conversation_new
from imperium.core.actors import Actor
from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID, BOT_TOKEN
from imperium.telegram.testing.updates import MANAGER, TENANT_GROUP, callback_query_update
from knowledge.models import KnowledgeItem, KnowledgeSuggestion, KnowledgeVersion
from knowledge.services import kb_import, kb_version_make_first_stable

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]


def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2) -> bool:
    pause = threading.Event()
    for _ in range(int(timeout / interval) + 1):
        if predicate():
            return True
        pause.wait(interval)
    return predicate()


def test_a_real_worker_learns_from_a_closed_hand_over_and_posts_the_card(tmp_path, tenant_a, telegram_bot, deliver, celery_eager):
    tenant_a.settings.telegram_chat_id = TENANT_GROUP["id"]
    tenant_a.settings.save()
    actor = Actor.system("test")
    content = json.dumps({"id": "hours", "question": "Какой у вас график?", "answer": "Ежедневно с 10:00 до 21:00."}, ensure_ascii=False)
    kb_version_make_first_stable(actor=actor, version=kb_import(actor=actor, tenant=tenant_a, file_name="kb.jsonl", content=content))
    now = timezone.now()
    conversation = conversation_new(tenant_a)
    turn = Turn.objects.create(tenant=tenant_a, conversation=conversation, status="escalated", created_at=now, finished_at=now)
    InboundMessage.objects.create(tenant=tenant_a, conversation=conversation, provider_message_id="w1", text="Есть ли у вас парковка?",
                                  received_at=now, turn=turn)
    Escalation.objects.create(tenant=tenant_a, conversation=conversation, turn=turn, reason="no_knowledge", created_at=now,
                              status="resolved", resolved_at=now + timedelta(minutes=5))
    OutboundMessage.objects.create(tenant=tenant_a, conversation=conversation, kind="manager", idempotency_key="m1", status="sent",
                                   text="Да, бесплатная парковка во дворе.", created_at=now + timedelta(minutes=1),
                                   updated_at=now + timedelta(minutes=1))

    worker = LiveWorker(tmp_path, queues="default", TELEGRAM_API_URL=telegram_bot.url, ALERT_BOT_TOKEN=BOT_TOKEN,
                        ALERT_CHAT_ID=ALERT_CHAT_ID, CONVERSATION_NOTIFIER="imperium.telegram.notifier.TelegramNotifier").start()
    try:
        worker.send("conversations.handover_learn", [conversation.pk], queue="default")
        worker.send("conversations.handover_learn", [conversation.pk], queue="default")  # a redelivery learns nothing twice
        def card_sent() -> bool:
            return any("Предложение для базы знаний" in m["text"] for m in telegram_bot.sent_messages(TENANT_GROUP["id"]))

        assert wait_until(card_sent), worker.log()
    finally:
        worker.stop()

    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.count == 1 and suggestion.kind == "new_item" and suggestion.answer == "Да, бесплатная парковка во дворе."
    [card] = [m for m in telegram_bot.sent_messages(TENANT_GROUP["id"]) if "Предложение для базы знаний" in m["text"]]
    assert [b["text"] for b in card["reply_markup"]["inline_keyboard"][0]] == ["📚 В базу знаний", "✏️ Изменить", "🚫 Не надо"]
    from incidents.models import Alert

    message = telegram_bot.message(TENANT_GROUP["id"], Alert.objects.get(dedup_key=f"kb-suggestion:{suggestion.pk}").sent_message_id)
    update = callback_query_update(f"kbs.accept:{suggestion.pk}", message=message, user=MANAGER)
    assert deliver(update).status_code == 200
    draft = KnowledgeVersion.objects.get(tenant=tenant_a, status="draft")
    assert KnowledgeItem.objects.filter(version=draft, answer="Да, бесплатная парковка во дворе.").exists()
