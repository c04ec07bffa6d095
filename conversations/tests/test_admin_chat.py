"""The conversation page as a chat: bubbles, the reply box (exactly once, through the manager
reply path), Take / Return to bot / Close with the Telegram buttons' rules and audit, and a
managers' notice that is called delivered only when it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine
from django.urls import reverse

from conversations.models import ConversationEvent, Escalation, OutboundMessage
from conversations.services import turn_run_due
from conversations.tests.helpers import RecordingNotifier, conversation_of
from imperium.core.models import AuditLog
from tenants.tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)


@pytest.fixture
def escalated(webhook, tenant_a, tenant_b, inline):
    """Each tenant: a customer whose question escalated (no knowledge), managers notified."""
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Можно записаться на завтра?", name="Айгерим", **{"from": "+77011111111"})
        webhook.post(tenant_b, text="Вопрос клиента Б", **{"from": "+77022222222"})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77011111111").pk)
            turn_run_due(conversation_id=conversation_of(tenant_b, "+77022222222").pk)
    return conversation_of(tenant_a, "+77011111111")


def _page(conversation):
    return reverse("admin:conversations_conversation_change", args=[conversation.pk])


def _url(conversation, what):
    return reverse(f"admin:conversations_conversation_{what}", args=[conversation.pk])


def test_it_shows_the_conversation_as_bubbles_in_russian_without_save_buttons(escalated, login, operator_a, tenant_a):
    response = login(operator_a).get(_page(escalated))
    page = response.content.decode()
    assert response.status_code == 200
    assert 'class="imperium-bubble imperium-customer' in page and "Можно записаться на завтра?" in page
    assert 'imperium-holding' in page and tenant_a.settings.holding_reply_template in page
    assert "Эскалация" in page and "Менеджеры уведомлены" in page
    assert page.index("Можно записаться на завтра?") < page.index(tenant_a.settings.holding_reply_template)  # in order
    assert 'name="_save"' not in page and 'name="_continue"' not in page  # nothing to save on a read-only page
    assert 'id="reply-form"' in page and 'id="take-button"' in page and 'id="return-button"' in page
    assert "+77011111111" not in page


def test_a_viewer_sees_the_chat_but_no_reply_box_or_buttons(escalated, login, tenant_a):
    viewer = MembershipFactory(client=tenant_a, role="viewer").user
    client = login(viewer)
    page = client.get(_page(escalated)).content.decode()
    assert "Можно записаться на завтра?" in page and 'id="reply-form"' not in page and 'id="take-button"' not in page
    assert client.post(_url(escalated, "take")).status_code == 403
    assert client.post(_url(escalated, "reply"), {"text": "Здравствуйте", "reply_key": "k1"}).status_code == 403
    assert not OutboundMessage.objects.filter(kind="manager").exists()


def test_an_operator_of_another_tenant_cannot_act_on_the_conversation(escalated, login, operator_b):
    client = login(operator_b)
    assert client.get(_page(escalated)).status_code in (302, 404)
    assert client.post(_url(escalated, "reply"), {"text": "Чужой ответ", "reply_key": "k2"}).status_code == 404
    assert client.post(_url(escalated, "close")).status_code == 404
    escalated.refresh_from_db()
    assert escalated.state == "human" and not OutboundMessage.objects.filter(kind="manager").exists()


def test_the_reply_box_sends_once_even_when_submitted_twice(escalated, login, operator_a, tenant_a, fake_chatflow, inline):
    client = login(operator_a)
    page = client.get(_page(escalated)).content.decode()
    key = page.split('name="reply_key" value="', 1)[1].split('"', 1)[0]
    with inline():
        first = client.post(_url(escalated, "reply"), {"text": "Да, запишу вас на 15:00", "reply_key": key}, follow=True)
        second = client.post(_url(escalated, "reply"), {"text": "Да, запишу вас на 15:00", "reply_key": key}, follow=True)
    assert first.status_code == second.status_code == 200
    assert "Отправлено клиенту в WhatsApp" in first.content.decode()
    assert "уже отправлен" in second.content.decode()
    sent = [r for r in fake_chatflow.requests if r.text == "Да, запишу вас на 15:00"]
    assert len(sent) == 1 and sent[0].to == "+77011111111"
    assert len([m for m in fake_chatflow.messages if m.text == "Да, запишу вас на 15:00"]) == 1
    outbound = OutboundMessage.objects.get(kind="manager")
    assert outbound.status == "sent" and outbound.created_by == "user:op-a"
    assert AuditLog.objects.filter(action="conversation.manager_reply", actor_label="op-a", tenant=tenant_a).count() == 1
    escalated.refresh_from_db()
    assert escalated.state == "human"
    assert Escalation.objects.get(conversation=escalated).taken_by == "op-a"
    assert "Да, запишу вас на 15:00" in client.get(_page(escalated)).content.decode()


def test_an_empty_reply_is_refused_and_nothing_is_sent(escalated, login, operator_a):
    response = login(operator_a).post(_url(escalated, "reply"), {"text": "   ", "reply_key": "k3"}, follow=True)
    assert "Ответ пустой" in response.content.decode()
    assert not OutboundMessage.objects.filter(kind="manager").exists()


def test_a_get_never_changes_anything(escalated, login, operator_a):
    client = login(operator_a)
    assert client.get(_url(escalated, "close")).status_code == 403
    escalated.refresh_from_db()
    assert escalated.state == "human"


def test_take_return_and_close_run_the_audited_services_like_the_telegram_buttons(escalated, login, operator_a, tenant_a):
    client = login(operator_a)
    taken = client.post(_url(escalated, "take"), follow=True)
    assert "Вы взяли диалог" in taken.content.decode()
    assert Escalation.objects.get(conversation=escalated).status == "taken"
    again = client.post(_url(escalated, "take"), follow=True)
    assert "уже у менеджера" in again.content.decode()
    client.post(_url(escalated, "return"))
    escalated.refresh_from_db()
    assert escalated.state == "bot" and Escalation.objects.get(conversation=escalated).status == "resolved"
    client.post(_url(escalated, "close"))
    escalated.refresh_from_db()
    assert escalated.state == "closed"
    actions = list(AuditLog.objects.filter(tenant=tenant_a, actor_label="op-a").order_by("id").values_list("action", flat=True))
    assert [a for a in actions if a.startswith("conversation.")] == [
        "conversation.take_over", "conversation.return_to_bot", "conversation.close"]
    assert actions.count("policy.executed") == 3  # through the write-risk policy, like the buttons; the repeat ran nothing
    events = ConversationEvent.objects.filter(conversation=escalated, source="web").values_list("to_state", flat=True)
    assert list(events) == ["bot", "closed"]  # take found it held already (escalated): the escalation was taken, not the state


def test_managers_notified_is_said_only_when_the_notice_was_delivered(webhook, tenant_a, inline, login, operator_a):
    RecordingNotifier.fail_next = 10  # the managers' channel is down
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Жалоба на мастера", **{"from": "+77013333333"})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77013333333").pk)
    conversation = conversation_of(tenant_a, "+77013333333")
    page = login(operator_a).get(_page(conversation)).content.decode()
    assert "Менеджеры уведомлены" not in page
    assert 'id="notice-warning"' in page and "Менеджеры НЕ уведомлены" in page and "telegram is down" in page


def test_the_telegram_notifier_reports_a_card_that_failed_as_not_delivered(webhook, tenant_a, inline, login, operator_a, settings):
    settings.CONVERSATION_NOTIFIER = "imperium.telegram.notifier.TelegramNotifier"
    settings.ALERT_BOT_TOKEN = ""  # Telegram not configured: the card's outbox row fails
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Позовите администратора", **{"from": "+77014444444"})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77014444444").pk)
    conversation = conversation_of(tenant_a, "+77014444444")
    assert Escalation.objects.get(conversation=conversation).notified_at is not None  # the notifier took the call...
    page = login(operator_a).get(_page(conversation)).content.decode()
    assert "Менеджеры уведомлены" not in page  # ...but no manager got it, and the page says so
    assert 'id="notice-warning"' in page


# --- «❌ Бот ответил неверно» on a bot bubble ---------------------------------------------------
MANICURE_KB = [{"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр с покрытием гель-лаком стоит 5000 ₸."}]


def _answered(webhook, tenant, inline, phone, at):
    with time_machine.travel(at, tick=False) as traveller:
        webhook.post(tenant, text="Сколько стоит маникюр?", **{"from": phone})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant, phone).pk)
    return conversation_of(tenant, phone)


@pytest.fixture
def manicure_kb(tenant_a):
    import json

    from imperium.core.actors import Actor
    from knowledge.services import kb_import, kb_version_make_first_stable

    actor = Actor.system("test")
    content = "\n".join(json.dumps(row, ensure_ascii=False) for row in MANICURE_KB)
    return kb_version_make_first_stable(actor=actor, version=kb_import(actor=actor, tenant=tenant_a, file_name="kb.jsonl", content=content))


def _csrf_client(user):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_bot_answer_is_marked_wrong_from_its_bubble_and_the_second_mark_pauses_the_item(
    webhook, tenant_a, inline, manicure_kb, operator_a, login, operator_b
):
    from conversations.models import Turn, WrongAnswerMark
    from incidents.models import Incident, IncidentEvent
    from knowledge.models import KnowledgeItemPause

    first = _answered(webhook, tenant_a, inline, "+77015550001", T0)
    second = _answered(webhook, tenant_a, inline, "+77015550002", T0.replace(hour=11))
    turn = Turn.objects.get(conversation=first, status="answered")
    client = _csrf_client(operator_a)
    page = client.get(_page(first)).content.decode()
    assert "Маникюр с покрытием гель-лаком стоит 5000 ₸." in page
    assert f'id="wrong-{turn.pk}"' in page and "❌ Бот ответил неверно" in page
    wrong_url = reverse("admin:conversations_conversation_wrong", args=[first.pk, turn.pk])

    assert client.post(wrong_url).status_code == 403  # no CSRF token: refused, nothing recorded
    assert login(operator_b).post(wrong_url).status_code == 404  # another tenant's operator
    assert not WrongAnswerMark.objects.exists()

    token = page.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    with inline():
        response = client.post(wrong_url, {"csrfmiddlewaretoken": token}, follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "Ответ отмечен как неверный" in page
    mark = WrongAnswerMark.objects.get()
    assert mark.turn == turn and mark.sources == ["price-manicure"] and mark.actor_label == "op-a" and mark.source == "web"
    incident = Incident.objects.get(pk=mark.incident_id)
    opened = IncidentEvent.objects.get(incident=incident, kind="opened")
    assert incident.kind == "quality.wrong_answer" and f"trace {turn.trace.pk}" in incident.summary
    assert opened.data["turn"] == turn.pk and opened.data["trace"] == turn.trace.pk and opened.data["sources"] == ["price-manicure"]
    first.refresh_from_db()
    handover = Escalation.objects.get(conversation=first)
    assert first.state == "human" and handover.detail["wrong_answer"] == mark.pk and handover.reason == "wrong_answer"
    assert "Эскалация: Бот ответил неверно." in page and "Эскалация: Другое" not in page  # its own reason on the chat page
    assert f'id="wrong-{turn.pk}"' not in page and "отмечен как неверный" in page  # the bubble says it, no second button
    assert not KnowledgeItemPause.objects.exists()  # one mark pauses nothing
    again = client.post(wrong_url, {"csrfmiddlewaretoken": token}, follow=True).content.decode()
    assert "уже отмечен как неверный" in again and WrongAnswerMark.objects.count() == 1

    # The second mark within a week for an answer from the same item pauses it.
    second_turn = Turn.objects.get(conversation=second, status="answered")
    with inline():
        response = client.post(reverse("admin:conversations_conversation_wrong", args=[second.pk, second_turn.pk]),
                               {"csrfmiddlewaretoken": token}, follow=True)
    assert "на паузу: price-manicure" in response.content.decode()
    pause = KnowledgeItemPause.objects.get(resolved_at__isnull=True)
    assert pause.external_id == "price-manicure" and pause.marks == 2
    assert AuditLog.objects.filter(action="conversation.wrong_answer", actor_label="op-a").count() == 2

    # The bot now hands that question to a human instead of answering from the paused item.
    third = _answered(webhook, tenant_a, inline, "+77015550003", T0.replace(hour=12))
    assert Turn.objects.get(conversation=third).status == "escalated"


def test_only_bot_answers_carry_the_wrong_answer_button_and_only_for_operators(escalated, login, tenant_a, operator_a):
    page = login(operator_a).get(_page(escalated)).content.decode()
    assert "❌ Бот ответил неверно" not in page  # a holding reply is not an answer
    from conversations.models import Turn

    turn = Turn.objects.get(conversation=escalated)
    response = login(operator_a).post(reverse("admin:conversations_conversation_wrong", args=[escalated.pk, turn.pk]), follow=True)
    assert response.status_code == 200 and "Неверным можно отметить только ответ, который отправил бот" in response.content.decode()
    from conversations.models import WrongAnswerMark

    assert not WrongAnswerMark.objects.exists()
    viewer = MembershipFactory(client=tenant_a, role="viewer").user
    assert login(viewer).post(reverse("admin:conversations_conversation_wrong", args=[escalated.pk, turn.pk])).status_code == 403


def test_a_managers_answer_given_in_admin_becomes_a_suggestion_when_the_conversation_is_closed(
    webhook, tenant_a, inline, login, operator_a, fake_chatflow
):
    """Learning from hand-overs works from admin as from Telegram: reply box, then «Закрыть»."""
    from knowledge.models import KnowledgeSuggestion

    parking = "Да, у нас бесплатная парковка во дворе на 20 машин."
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Подскажите, у вас есть парковка?", **{"from": "+77013333333"})
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a, "+77013333333").pk)
        conversation = conversation_of(tenant_a, "+77013333333")
        assert Escalation.objects.get(conversation=conversation).reason == "no_knowledge"
        client = login(operator_a)
        page = client.get(_page(conversation)).content.decode()
        key = page.split('name="reply_key" value="', 1)[1].split('"', 1)[0]
        traveller.shift(60)
        with inline():
            client.post(_url(conversation, "reply"), {"text": parking, "reply_key": key})
        assert not KnowledgeSuggestion.objects.exists()  # not before the hand-over is over
        traveller.shift(60)
        with inline():
            client.post(_url(conversation, "close"))
    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.tenant == tenant_a and suggestion.kind == "new_item" and suggestion.status == "pending"
    assert suggestion.question == "Подскажите, у вас есть парковка?" and suggestion.answer == parking
    assert suggestion.conversation_ids == [conversation.pk] and RecordingNotifier.suggestions == [suggestion.pk]
    escalation = Escalation.objects.get(conversation=conversation)
    assert escalation.learn_due_at is None and escalation.learn_attempts == 1 and escalation.detail["suggestion_id"] == suggestion.pk
