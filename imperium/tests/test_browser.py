"""The operator console in a real browser (headless Chromium through Selenium) against a live
server on the test database: an operator of one salon logs in, sees the customer waiting on the
home page, opens the conversation, takes it, answers — exactly one message reaches the gateway
(the fake ChatFlow, through the real client) — and returns it to the bot. A screenshot of every
step lands in var/screenshots/operator-console/ (CI keeps the folder)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from conversations import dispatch
from conversations.models import Conversation, InboundMessage, OutboundMessage
from conversations.services import escalation_open, outbox_sweep
from conversations.testing.fake_chatflow import FakeChatFlow
from imperium.core.models import AuditLog
from imperium.core.testing.browser import Browser, missing_browser
from tenants.tests.factories import ClientFactory, MembershipFactory

pytestmark = [pytest.mark.live, pytest.mark.django_db(transaction=True)]

REPLY = "Здравствуйте, Айгерим! Да, запишу вас на завтра на 15:00."


@pytest.fixture
def chatflow(settings):
    with FakeChatFlow() as fake:
        settings.CHATFLOW_BASE_URL = fake.url
        settings.CHATFLOW_RETRY_BACKOFF = 0.01
        yield fake


@pytest.fixture
def no_broker(monkeypatch):
    """Deliveries are queued by the live server's thread; the test runs the outbox sweep inline
    (what the beat sweeper does) instead of a broker and a worker."""
    monkeypatch.setattr("conversations.dispatch._publish", lambda *args, **kwargs: None)


@pytest.fixture
def browser(live_server):
    reason = missing_browser()
    if reason:
        pytest.fail(reason)
    opened = Browser(live_server.url, scenario="operator-console")
    yield opened
    opened.close()


def _salon_with_a_waiting_customer():
    salon = ClientFactory(slug="lotus", name="Салон «Лотос»", timezone="Asia/Almaty")
    other = ClientFactory(slug="other", name="Другой салон")
    operator = MembershipFactory(client=salon, role="operator", user__username="dina").user
    now = timezone.now()
    for tenant, phone, name, text in ((salon, "+77011234567", "Айгерим", "Можно записаться на завтра на 15:00?"),
                                      (other, "+77019998877", "Чужой клиент", "Сообщение другого салона")):
        at = now - timedelta(minutes=22)
        conversation = Conversation.objects.create(
            tenant=tenant, customer_key=f"k{phone}", customer_phone=phone, customer_phone_masked=phone[:5] + "•••" + phone[-4:],
            customer_name=name, created_at=at, updated_at=at, last_inbound_at=at)
        InboundMessage.objects.create(tenant=tenant, conversation=conversation, provider_message_id=f"wamid.{phone}", text=text,
                                      received_at=at)
        escalation_open(conversation=conversation, reason="booking", send_holding=False, now=at)
    return salon, operator, Conversation.objects.get(tenant=salon)


def test_an_operator_finds_answers_and_returns_a_waiting_customer(browser, chatflow, no_broker):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    salon, operator, conversation = _salon_with_a_waiting_customer()
    page = browser.driver

    browser.get("/admin/login/?next=/admin/")
    browser.wait(ec.presence_of_element_located((By.ID, "id_username")))
    browser.shot("login")
    page.find_element(By.ID, "id_username").send_keys("dina")
    page.find_element(By.ID, "id_password").send_keys("pw")
    page.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    waiting = browser.wait(ec.presence_of_element_located((By.ID, "waiting-customers")))
    browser.shot("home with the waiting customer")
    assert "Клиенты ждут менеджера (1)" in waiting.text
    assert "Айгерим" in waiting.text and "Можно записаться на завтра на 15:00?" in waiting.text
    assert "Запись, перенос или отмена" in waiting.text and "22 минуты" in waiting.text and "никто" in waiting.text
    assert "Чужой клиент" not in page.page_source and "Другой салон" not in page.page_source

    waiting.find_element(By.LINK_TEXT, "Айгерим").click()
    chat = browser.wait(ec.presence_of_element_located((By.ID, "chat")))
    browser.shot("the conversation")
    assert "Можно записаться на завтра на 15:00?" in chat.text and "Эскалация: Запись, перенос или отмена" in chat.text
    assert not page.find_elements(By.NAME, "_save")

    page.find_element(By.ID, "take-button").click()
    browser.wait(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), "Вы взяли диалог"))
    browser.shot("taken")
    assert "dina" in page.find_element(By.ID, "chat").text

    page.find_element(By.ID, "reply-text").send_keys(REPLY)
    page.find_element(By.ID, "reply-send").click()
    browser.wait(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), "Отправлено клиенту в WhatsApp"))
    browser.shot("reply queued")
    with dispatch.inline():
        outbox_sweep(redispatch_seconds=0)
        outbox_sweep(redispatch_seconds=0)  # a second pass finds nothing left to send
    delivered = [m for m in chatflow.messages if m.text == REPLY]
    assert len(delivered) == 1 and delivered[0].to == "+77011234567"
    assert OutboundMessage.objects.get(kind="manager").status == "sent"

    page.refresh()
    chat = browser.wait(ec.presence_of_element_located((By.ID, "chat")))
    assert REPLY in chat.text and "доставлено" in chat.text
    browser.shot("reply delivered")

    page.find_element(By.ID, "return-button").click()
    browser.wait(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), "Диалог возвращён боту"))
    browser.shot("returned to the bot")
    assert "Сейчас: Отвечает бот" in page.find_element(By.ID, "conversation-controls").text
    conversation.refresh_from_db()
    assert conversation.state == "bot"
    actions = set(AuditLog.objects.filter(actor_label="dina").values_list("action", flat=True))
    assert {"conversation.take_over", "conversation.manager_reply", "conversation.return_to_bot"} <= actions

    browser.get("/admin/")
    browser.wait(ec.presence_of_element_located((By.ID, "waiting-customers")))
    assert "Никто не ждёт" in page.find_element(By.ID, "waiting-customers").text
    browser.shot("home with nobody waiting")


@pytest.fixture
def wrong_answer_browser(live_server):
    reason = missing_browser()
    if reason:
        pytest.fail(reason)
    opened = Browser(live_server.url, scenario="wrong-answer")
    yield opened
    opened.close()


def test_an_operator_marks_a_bot_answer_wrong_on_the_conversation_page(wrong_answer_browser, chatflow, no_broker):
    """«❌ Бот ответил неверно» on a bot bubble: the mark, the incident and the hand-over, and the
    bubble says it was marked (var/screenshots/wrong-answer/)."""
    import json

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec

    from conversations.models import Turn, WrongAnswerMark
    from conversations.services import inbound_accept, payload_parse, turn_run_due
    from imperium.core.actors import Actor
    from knowledge.services import kb_import, kb_version_make_first_stable

    browser = wrong_answer_browser
    salon = ClientFactory(slug="lotus", name="Салон «Лотос»", timezone="Asia/Almaty", settings__coalesce_window_seconds=0)
    MembershipFactory(client=salon, role="operator", user__username="dina")
    actor = Actor.system("test")
    item = {"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием гель-лаком стоит 5000 ₸."}
    kb_version_make_first_stable(actor=actor, version=kb_import(actor=actor, tenant=salon, file_name="kb.jsonl",
                                                                  content=json.dumps(item, ensure_ascii=False)))
    accepted = inbound_accept(tenant=salon, message=payload_parse(
        {"message_id": "wamid.w1", "from": "+77011234567", "name": "Айгерим", "type": "text", "text": "Сколько стоит маникюр?"}))
    with dispatch.inline():
        turn_run_due(conversation_id=accepted.conversation_id)
    turn = Turn.objects.get()
    assert turn.status == "answered"
    page = browser.driver

    browser.get("/admin/login/?next=/admin/")
    browser.wait(ec.presence_of_element_located((By.ID, "id_username")))
    page.find_element(By.ID, "id_username").send_keys("dina")
    page.find_element(By.ID, "id_password").send_keys("pw")
    page.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.wait(ec.presence_of_element_located((By.ID, "waiting-customers")))
    browser.get(f"/admin/conversations/conversation/{accepted.conversation_id}/change/")
    chat = browser.wait(ec.presence_of_element_located((By.ID, "chat")))
    assert "Маникюр с покрытием гель-лаком стоит 5000 ₸." in chat.text
    button = page.find_element(By.ID, f"wrong-{turn.pk}")
    assert button.text == "❌ Бот ответил неверно"
    browser.shot("a bot answer with its button")

    button.click()
    browser.wait(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), "Ответ отмечен как неверный"))
    browser.shot("marked wrong")
    assert "отмечен как неверный" in page.find_element(By.ID, "chat").text
    assert not page.find_elements(By.ID, f"wrong-{turn.pk}")
    assert "У менеджера" in page.find_element(By.ID, "conversation-controls").text
    mark = WrongAnswerMark.objects.get()
    assert mark.turn == turn and mark.actor_label == "dina" and mark.sources == ["price-manicure"] and mark.incident_id
    assert Conversation.objects.get(pk=accepted.conversation_id).state == "human"
    # The hand-over has its own reason, stored and shown (not «Другое»).
    from conversations.models import Escalation

    assert Escalation.objects.get(conversation_id=accepted.conversation_id).reason == "wrong_answer"
    chat_text = page.find_element(By.ID, "chat").text
    assert "Эскалация: Бот ответил неверно." in chat_text and "Другое" not in chat_text
    browser.shot("the hand-over with its reason")
