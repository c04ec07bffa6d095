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
from imperium.telegram.testing.updates import MANAGER, TENANT_GROUP, callback_query_update, topic_message_update
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
        def card_sent() -> bool:  # the fake got it and the worker recorded it (stopping may end a task mid-way)
            from incidents.models import Alert

            return any("Предложение для базы знаний" in m["text"] for m in telegram_bot.sent_messages(TENANT_GROUP["id"])) and \
                Alert.objects.filter(dedup_key__startswith="kb-suggestion:", sent_message_id__isnull=False).exists()

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


# --- the whole loop through real processes -------------------------------------------------------
LOOP_KB = [
    {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием гель-лаком стоит 5000 ₸."},
    {"id": "hours", "question": "Какой у вас график работы?", "answer": "Мы работаем ежедневно с 10:00 до 21:00."},
    {"id": "address", "question": "Где вы находитесь?", "answer": "Мы находимся по адресу: ул. Абая, 10, 2 этаж."},
]
PARKING = "Да, у нас бесплатная парковка во дворе на 20 машин."


class _Loop:
    """gunicorn (webhooks) and a Celery worker sharing one filesystem broker, the fake Bot API and
    the fake ChatFlow: everything a press or a customer message sets off runs in those processes."""

    def __init__(self, tmp_path, telegram_bot, chatflow, tenant):
        from conversations.testing.live import LiveWeb
        from imperium.telegram.testing.pytest_fixtures import WEBHOOK_SECRET

        env = {"TELEGRAM_API_URL": telegram_bot.url, "ALERT_BOT_TOKEN": BOT_TOKEN, "ALERT_CHAT_ID": ALERT_CHAT_ID,
               "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET, "CONVERSATION_NOTIFIER": "imperium.telegram.notifier.TelegramNotifier",
               "CHATFLOW_BASE_URL": chatflow.url, "CHATFLOW_RETRY_BACKOFF": "0.01", "WEBHOOK_TENANT_CACHE_SECONDS": "0"}
        self.secret = WEBHOOK_SECRET
        self.api, self.chatflow, self.tenant = telegram_bot, chatflow, tenant
        self.web = LiveWeb(tmp_path, workers=1, **env).start()
        try:
            self.worker = LiveWorker(tmp_path, queues="default,stable,canary", concurrency=2, **env).start()
        except Exception:
            self.web.stop()
            raise

    def stop(self):
        self.worker.stop()
        self.web.stop()

    def log(self):
        return f"--- worker\n{self.worker.log()[-6000:]}\n--- web\n{self.web.log()[-3000:]}"

    def customer(self, text, *, phone, name):
        import uuid

        import requests

        from conversations.signing import signed_headers

        body = json.dumps({"message_id": f"wamid.{uuid.uuid4().hex}", "from": phone, "name": name, "type": "text", "text": text},
                          ensure_ascii=False).encode()
        headers = signed_headers(self.tenant.settings.webhook_secret, body, msg_id=f"msg_{uuid.uuid4().hex}")
        response = requests.post(f"{self.web.url}/webhook/{self.tenant.slug}", data=body, headers=headers, timeout=30)
        assert response.status_code == 200, response.text

    def telegram(self, update):
        import requests

        response = requests.post(f"{self.web.url}/telegram-webhook", data=json.dumps(update, ensure_ascii=False).encode(),
                                 headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": self.secret}, timeout=30)
        assert response.status_code == 200, response.text

    def press(self, message, data, user=MANAGER):
        update = callback_query_update(data, message=message, user=user)
        self.telegram(update)
        query = update["callback_query"]["id"]
        assert wait_until(lambda: query in self.api.answered_callbacks), self.log()
        return self.api.answered_callbacks[query]["text"]

    def card(self, key_prefix):
        from incidents.models import Alert

        def sent():
            alert = Alert.objects.filter(dedup_key__startswith=key_prefix).order_by("-id").first()
            return alert is not None and bool(alert.sent_message_id)

        assert wait_until(sent), f"{key_prefix} was not sent\n{self.log()}"
        alert = Alert.objects.filter(dedup_key__startswith=key_prefix).order_by("-id").first()
        return self.api.message(alert.chat_id, alert.sent_message_id)


def test_the_loop_through_real_processes_a_manager_answer_reaches_the_next_customer_after_the_ceo_approves(
    tmp_path, tenant_a, telegram_bot, fake_chatflow
):
    """An escalated question → the manager's reply in the topic → close → the suggestion card with
    its three buttons → «📚 В базу знаний» → the draft → the CEO's verification approved with a tap
    → a different customer's paraphrase through the signed webhook is answered with the manager's
    fact, delivered by the fake ChatFlow. Every step runs in gunicorn and a Celery worker."""
    from conversations.models import OutboundMessage
    from conversations.tests.helpers import conversation_of
    from imperium.core.models import VerificationRequest
    from imperium.telegram.models import ConversationTopic, TelegramAllowedUser
    from imperium.telegram.testing.updates import CEO

    tenant_a.settings.telegram_chat_id = TENANT_GROUP["id"]
    tenant_a.settings.coalesce_window_seconds = 0
    tenant_a.settings.save()
    TelegramAllowedUser.objects.create(telegram_user_id=CEO["id"], role="ceo", label="CEO")
    actor = Actor.system("test")
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in LOOP_KB)
    served = kb_version_make_first_stable(actor=actor, version=kb_import(actor=actor, tenant=tenant_a, file_name="kb.jsonl",
                                                                           content=content))
    loop = _Loop(tmp_path, telegram_bot, fake_chatflow, tenant_a)
    try:
        loop.customer("Подскажите, у вас есть парковка?", phone="+77011234567", name="Айгерим")
        assert wait_until(lambda: Escalation.objects.filter(tenant=tenant_a).exists()), loop.log()
        first = conversation_of(tenant_a, "+77011234567")
        from imperium.telegram.models import ConversationNotice

        def escalation_sent():
            notice = ConversationNotice.objects.filter(conversation=first, kind="escalation").select_related("alert").first()
            return notice is not None and notice.alert is not None and bool(notice.alert.sent_message_id)

        assert wait_until(escalation_sent), loop.log()
        notice = ConversationNotice.objects.filter(conversation=first, kind="escalation").select_related("alert").get()
        escalation_card = telegram_bot.message(notice.alert.chat_id, notice.alert.sent_message_id)
        assert wait_until(lambda: ConversationTopic.objects.filter(conversation=first).exclude(thread_id=None).exists()), loop.log()
        thread = ConversationTopic.objects.get(conversation=first).thread_id

        loop.telegram(topic_message_update(PARKING, thread_id=thread))  # the manager answers in the topic
        assert wait_until(lambda: any(m.text == PARKING for m in fake_chatflow.messages)), loop.log()
        assert loop.press(escalation_card, f"conversation.close:{first.pk}")
        assert wait_until(lambda: KnowledgeSuggestion.objects.exists()), loop.log()
        suggestion = KnowledgeSuggestion.objects.get()
        assert suggestion.kind == "new_item" and suggestion.answer == PARKING and suggestion.conversation_id == first.pk

        suggestion_card = loop.card("kb-suggestion:")
        assert [b["text"] for b in suggestion_card["reply_markup"]["inline_keyboard"][0]] == [
            "📚 В базу знаний", "✏️ Изменить", "🚫 Не надо"]
        assert loop.press(suggestion_card, f"kbs.accept:{suggestion.pk}").startswith("Добавлено в черновик")
        draft = KnowledgeVersion.objects.get(tenant=tenant_a, status="draft")
        assert KnowledgeItem.objects.filter(version=draft, answer=PARKING).exists()
        assert draft.content_hash != served.content_hash

        # The worker evaluates the draft and asks the CEO (no evaluation set: never automatic).
        assert wait_until(lambda: VerificationRequest.objects.filter(action="kb.promote_learned").exists()), loop.log()
        request = VerificationRequest.objects.get(action="kb.promote_learned")
        assert request.status == "pending" and request.params == {"tenant": tenant_a.slug, "version": draft.number}
        announcement = loop.card("verification:")
        assert str(announcement["chat"]["id"]) == ALERT_CHAT_ID
        assert loop.press(announcement, f"verify.approve:{request.pk}", user=CEO) == "Подтверждено и выполнено."
        draft.refresh_from_db()
        assert draft.status == "stable"

        sends = len(fake_chatflow.messages)
        loop.customer("Парковка для клиентов есть?", phone="+77019998877", name="Ержан")
        assert wait_until(lambda: len(fake_chatflow.messages) > sends), loop.log()
        # The gateway got it; the worker marks the row sent just after (do not race it).
        assert wait_until(lambda: OutboundMessage.objects.filter(conversation=conversation_of(tenant_a, "+77019998877"), kind="reply",
                                                                 status="sent").exists()), loop.log()
    finally:
        loop.stop()
    [reply] = [m for m in fake_chatflow.messages[sends:]]
    assert reply.to == "+77019998877" and "бесплатная парковка во дворе" in reply.text
    second = conversation_of(tenant_a, "+77019998877")
    answer = OutboundMessage.objects.get(conversation=second, kind="reply")
    assert answer.status == "sent" and answer.turn.kb_version == draft.number
    assert not Escalation.objects.filter(conversation=second).exists()


def test_through_real_processes_a_personal_reply_teaches_nothing_and_two_wrong_marks_pause_the_item(
    tmp_path, tenant_a, telegram_bot, fake_chatflow
):
    """In gunicorn and a Celery worker: a manager's reply naming the customer and a date becomes no
    suggestion; two «❌ Бот ответил неверно» presses under bot answers from the same item (each in a
    conversation managers dealt with) pause that item, and the next customer asking it is handed over."""
    from conversations.models import Turn
    from conversations.tests.helpers import conversation_of
    from imperium.telegram.models import ConversationNotice, ConversationTopic
    from incidents.models import Alert
    from knowledge.models import KnowledgeItemPause

    tenant_a.settings.telegram_chat_id = TENANT_GROUP["id"]
    tenant_a.settings.coalesce_window_seconds = 0
    tenant_a.settings.save()
    actor = Actor.system("test")
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in LOOP_KB)
    kb_version_make_first_stable(actor=actor, version=kb_import(actor=actor, tenant=tenant_a, file_name="kb.jsonl", content=content))

    def notice_card(conversation, kind, key=None):
        def sent():
            rows = ConversationNotice.objects.filter(conversation=conversation, kind=kind).select_related("alert")
            if key is not None:
                rows = rows.filter(key=key)
            notice = rows.order_by("-id").first()
            return notice is not None and notice.alert is not None and bool(notice.alert.sent_message_id)

        assert wait_until(sent), loop.log()
        rows = ConversationNotice.objects.filter(conversation=conversation, kind=kind).select_related("alert")
        notice = (rows.filter(key=key) if key is not None else rows).order_by("-id").first()
        return telegram_bot.message(notice.alert.chat_id, notice.alert.sent_message_id)

    def handed_over_and_closed(phone, name, question, reply):
        loop.customer(question, phone=phone, name=name)
        assert wait_until(lambda: Escalation.objects.filter(tenant=tenant_a, conversation__customer_name=name).exists()), loop.log()
        conversation = conversation_of(tenant_a, phone)
        card = notice_card(conversation, "escalation")
        assert wait_until(lambda: ConversationTopic.objects.filter(conversation=conversation).exclude(thread_id=None).exists())
        loop.telegram(topic_message_update(reply, thread_id=ConversationTopic.objects.get(conversation=conversation).thread_id))
        assert wait_until(lambda: any(m.text == reply for m in fake_chatflow.messages)), loop.log()
        loop.press(card, f"conversation.close:{conversation.pk}")
        escalation = Escalation.objects.filter(conversation=conversation).order_by("id").first()
        assert wait_until(lambda: "learned" in Escalation.objects.get(pk=escalation.pk).detail), loop.log()  # the worker learned from it
        return conversation

    def answered_then_marked_wrong(conversation, phone, name):
        answers = Turn.objects.filter(conversation=conversation, status="answered").count()
        loop.customer("Сколько стоит маникюр?", phone=phone, name=name)
        assert wait_until(lambda: Turn.objects.filter(conversation=conversation, status="answered").count() > answers), loop.log()
        turn = Turn.objects.filter(conversation=conversation, status="answered").order_by("-id").first()
        card = notice_card(conversation, "bot_answer", key=f"ans:{turn.pk}")  # the answer shown in the topic, with ❌
        assert [b["text"] for row in card["reply_markup"]["inline_keyboard"] for b in row] == ["❌ Бот ответил неверно"]
        return loop.press(card, f"conversation.wrong:{turn.pk}")

    loop = _Loop(tmp_path, telegram_bot, fake_chatflow, tenant_a)
    try:
        first = handed_over_and_closed("+77011230001", "Айгерим", "Подскажите, у вас есть парковка?",
                                       "Айгерим, для вас оставим место у входа завтра в 15:00.")
        assert Escalation.objects.get(conversation=first).detail["learned"] == "customer_name"
        assert not KnowledgeSuggestion.objects.exists() and not Alert.objects.filter(dedup_key__startswith="kb-suggestion:").exists()

        answered_then_marked_wrong(first, "+77011230001", "Айгерим")
        assert not KnowledgeItemPause.objects.exists()  # one mark: an incident and a hand-over, no pause
        second = handed_over_and_closed("+77011230002", "Дана", "Есть ли у вас детская комната?", "Да, детская комната есть на 2 этаже.")
        answered_then_marked_wrong(second, "+77011230002", "Дана")
        assert wait_until(lambda: KnowledgeItemPause.objects.filter(resolved_at__isnull=True).exists()), loop.log()
        assert KnowledgeItemPause.objects.get().external_id == "price-manicure"

        loop.customer("Сколько стоит маникюр?", phone="+77011230003", name="Ержан")
        third_turns = lambda: Turn.objects.filter(conversation__customer_name="Ержан").exclude(status="processing")  # noqa: E731
        assert wait_until(lambda: third_turns().exists()), loop.log()
    finally:
        loop.stop()
    assert third_turns().get().status == "escalated"  # the paused item answers no one
    assert Escalation.objects.filter(conversation__customer_name="Ержан").exists()
