"""Escalation SLA follow-ups: reminders in the conversation's topic (once per SLA period, capped)
and one more holding message for a customer still waiting — through POST /reminders/process and
the beat job's service, against the fake Bot API and the fake ChatFlow."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations.conftest import message_body
from conversations.models import Escalation, OutboundMessage
from conversations.services import escalation_reminders_process, turn_run_due
from conversations.tests.helpers import conversation_of
from imperium.core.models import AuditLog
from imperium.telegram.models import ConversationNotice, ConversationTopic
from imperium.telegram.testing.updates import MANAGER, TENANT_GROUP, callback_query_update, topic_message_update
from tenants.models import DEFAULT_HOLDING_FOLLOWUP

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
ESCALATED_AT = T0 + timedelta(seconds=3)
CHAT = TENANT_GROUP["id"]
ADMIN = {"HTTP_AUTHORIZATION": "Bearer test-admin-token"}


@pytest.fixture
def escalated(pipeline, salon, webhook, inline, fake_chatflow, telegram_bot):
    """Escalated at T0+3s (SLA 15 min); the card is in the conversation's topic."""
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(salon, message_body(text="Хочу записаться на завтра"))
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(salon).pk)
    return conversation_of(salon)


def process_at(client, inline, minutes: float) -> dict:
    """POST /reminders/process at ESCALATED_AT + minutes, with the queued work run."""
    with time_machine.travel(ESCALATED_AT + timedelta(minutes=minutes), tick=False), inline():
        response = client.post("/reminders/process", **ADMIN)
    assert response.status_code == 200
    return response.json()["report"]


def reminders_in_topic(api, conversation) -> list[dict]:
    thread = str(ConversationTopic.objects.get(conversation=conversation).thread_id)
    return [m for m in api.sent_messages(CHAT) if m["text"].startswith("⏰") and m.get("message_thread_id") == thread]


def test_a_reminder_goes_once_per_sla_period_and_stops_at_the_cap(escalated, client, inline, telegram_bot):
    assert process_at(client, inline, 14)["reminders_sent"] == 0
    first = process_at(client, inline, 15)
    assert first["reminders"] == [{"escalation_id": Escalation.objects.get().pk, "conversation_id": escalated.pk, "number": 1}]
    assert process_at(client, inline, 16)["reminders_sent"] == 0  # the same SLA period
    assert process_at(client, inline, 29)["reminders_sent"] == 0
    assert process_at(client, inline, 30)["reminders"][0]["number"] == 2
    # The sweeper was down for an hour: one reminder when it comes back, not a burst.
    assert process_at(client, inline, 95)["reminders_sent"] == 1
    assert process_at(client, inline, 110)["reminders_sent"] == 0  # capped at 3
    assert process_at(client, inline, 200)["reminders_sent"] == 0

    sent = reminders_in_topic(telegram_bot, escalated)
    assert [m["text"].split(":")[0] for m in sent] == ["⏰ Напоминание 1 из 3", "⏰ Напоминание 2 из 3", "⏰ Напоминание 3 из 3"]
    assert "ждёт ответа уже 15 мин" in sent[0]["text"]
    card = ConversationNotice.objects.get(kind="escalation").alert
    assert all(m["reply_parameters"]["message_id"] == card.sent_message_id for m in sent)  # threaded under the card
    assert "conversation.take_over" in str(sent[0]["reply_markup"])
    assert Escalation.objects.get().reminders_sent == 3
    assert AuditLog.objects.filter(action="reminders.process").count() == 8


def test_no_reminder_once_a_manager_took_the_conversation(escalated, client, inline, telegram_bot, tg):
    process_at(client, inline, 15)
    card = telegram_bot.message(CHAT, ConversationNotice.objects.get(kind="escalation").alert.sent_message_id)
    tg(callback_query_update(f"conversation.take_over:{escalated.pk}", message=card, user=MANAGER))
    assert process_at(client, inline, 30)["reminders_sent"] == 0
    assert len(reminders_in_topic(telegram_bot, escalated)) == 1


def test_the_waiting_customer_gets_one_more_holding_message_once(escalated, client, inline, fake_chatflow):
    assert process_at(client, inline, 10)["holding_followups_sent"] == 0
    report = process_at(client, inline, 15)
    assert report["holding_followups_sent"] == 1 and report["holding_followups"][0]["conversation_id"] == escalated.pk
    assert process_at(client, inline, 30)["holding_followups_sent"] == 0
    assert process_at(client, inline, 120)["holding_followups_sent"] == 0

    texts = [m.text for m in fake_chatflow.messages]
    assert texts == [escalated.tenant.settings.holding_reply_template, DEFAULT_HOLDING_FOLLOWUP]
    followup = OutboundMessage.objects.get(idempotency_key__endswith="-followup")
    assert followup.kind == "holding" and followup.status == "sent"


def test_the_tenant_template_is_used_for_the_extra_holding_message(escalated, client, inline, fake_chatflow):
    escalated.tenant.settings.holding_followup_template = "Мы не забыли про вас! Администратор скоро ответит."
    escalated.tenant.settings.save()
    process_at(client, inline, 16)
    assert fake_chatflow.messages[-1].text == "Мы не забыли про вас! Администратор скоро ответит."


def test_no_extra_holding_message_after_a_manager_answered(escalated, client, inline, fake_chatflow, tg):
    thread = ConversationTopic.objects.get(conversation=escalated).thread_id
    with time_machine.travel(ESCALATED_AT + timedelta(minutes=5), tick=False):
        tg(topic_message_update("Здравствуйте! Уточню и напишу.", thread_id=thread))
    report = process_at(client, inline, 20)
    assert report["holding_followups_sent"] == 0 and report["reminders_sent"] == 0
    assert [m.text for m in fake_chatflow.messages][-1] == "Здравствуйте! Уточню и напишу."


def test_no_extra_holding_message_when_the_first_never_reached_the_customer(pipeline, salon, webhook, inline, fake_chatflow):
    fake_chatflow.fail(400)  # the holding reply is refused for good: a delivery_failed escalation follows
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(salon, message_body(text="Хочу записаться"))
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(salon).pk)
        traveller.shift(3600)
        with inline():
            report = escalation_reminders_process()
    assert report.holding_followups == [] and Escalation.objects.count() == 2
    assert fake_chatflow.messages == []


def test_reminders_wait_while_the_sweep_runs_concurrently(escalated, inline):
    """Two sweeps at the same moment (beat and the endpoint): one reminder, one follow-up."""
    with time_machine.travel(ESCALATED_AT + timedelta(minutes=15), tick=False), inline():
        first = escalation_reminders_process()
        second = escalation_reminders_process()
    assert len(first.reminders) == 1 and len(first.holding_followups) == 1
    assert second.reminders == [] and second.holding_followups == []


def test_the_endpoint_needs_a_company_role_or_the_admin_token(client, login, operator_a, superuser, db):
    from tenants.tests.factories import UserFactory

    for headers in ({}, {"HTTP_AUTHORIZATION": "Bearer wrong"}):
        assert client.post("/reminders/process", **headers).status_code in (401, 403)
    assert login(UserFactory(is_staff=False)).post("/reminders/process").status_code == 403
    assert login(operator_a).post("/reminders/process").status_code == 403  # a tenant's operator: not company-wide
    assert not AuditLog.objects.filter(action="reminders.process").exists()
    response = login(superuser).post("/reminders/process")
    assert response.status_code == 200 and response.json()["report"]["checked"] == 0


def test_the_endpoint_is_in_the_openapi_schema(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert "post" in schema["paths"]["/reminders/process"]


def test_changing_the_follow_up_text_waits_for_the_ceo(login, operator_a, tenant_a, superuser):
    from django.urls import reverse

    from imperium.core.actors import Actor
    from imperium.core.models import VerificationRequest
    from imperium.core.policy import verification_approve
    from tenants.tests.test_scoping import settings_form_data

    browser = login(operator_a)
    url = reverse("admin:tenants_clientsettings_change", args=[tenant_a.settings.pk])
    data = settings_form_data(browser, url)
    data.update({"holding_followup_template": "Уже бежим к вам!"})
    assert browser.post(url, data).status_code == 302
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.holding_followup_template == DEFAULT_HOLDING_FOLLOWUP  # customer-facing: waits
    request = VerificationRequest.objects.get(action="tenant.holding_reply_change")
    assert request.params == {"tenant": "alpha", "holding_followup_template": "Уже бежим к вам!"}
    assert verification_approve(request_id=request.pk, actor=Actor.from_user(superuser)).status == "executed"
    tenant_a.settings.refresh_from_db()
    assert tenant_a.settings.holding_followup_template == "Уже бежим к вам!"
