"""Incidents in Telegram: /incident <id> answers the RCA summary, the «Принял» button
acknowledges, /status shows the tenant's open incidents."""

from __future__ import annotations

import pytest
from django.utils import timezone

from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID
from imperium.telegram.testing.updates import CEO, STRANGER, callback_query_update, message_update
from incidents.choices import IncidentEventKind, IncidentStatus
from incidents.models import Alert, ErrorLog, Incident, IncidentEvent
from incidents.tests.conftest import accept_message, run_due_turn, stable_kb

pytestmark = pytest.mark.django_db


def opened_alert(incident):
    return Alert.objects.get(dedup_key=f"incident:{incident.pk}:opened:0")


def last_text(api, chat_id):
    return api.sent_messages(chat_id)[-1]["text"]


@pytest.fixture
def chatflow_incident(tenant_a, web_server, fake_chatflow, telegram_bot, celery_eager, sentinel, time_machine):
    """A real turn whose reply the gateway refused with 500s, and the incident it became."""
    time_machine.move_to(timezone.now())
    stable_kb(tenant_a)
    fake_chatflow.fail(500, times=100)
    accepted = accept_message(tenant_a, "Сколько стоит маникюр?")
    time_machine.shift(20)
    assert run_due_turn(accepted.conversation_id) == "answered"
    sentinel(times=2)
    [incident] = Incident.objects.all()
    assert incident.fingerprint == "chatflow:alpha"
    return incident


def test_incident_command_answers_the_bundle_with_the_injected_error(chatflow_incident, deliver, ceo_allowed, telegram_bot):
    error = ErrorLog.objects.get(where="chatflow.send")
    assert "ChatFlow answered 500" in error.message

    deliver(message_update(f"/incident {chatflow_incident.pk}"))

    text = last_text(telegram_bot, CEO["id"])
    assert text.startswith(f"🔴 Критично · инцидент #{chatflow_incident.pk}: ChatFlow не доставляет ответы")
    assert "Клиент: Alpha Salon (alpha)" in text
    assert "chatflow.send: IntegrationError ChatFlow answered 500" in text
    assert f"отправка failed, ошибки {error.pk}" in text  # the trace of the turn, linked to its ErrorLog
    assert "Действует: канал stable" in text and "база знаний v1" in text
    assert "opened" in text and "alert_sent" in text


def test_incident_command_for_an_unknown_incident(deliver, ceo_allowed, telegram_bot):
    deliver(message_update("/incident 424242"))
    assert last_text(telegram_bot, CEO["id"]) == "Инцидент не найден."


def test_the_ack_button_acknowledges_once_and_marks_the_alert(chatflow_incident, deliver, ceo_allowed, telegram_bot):
    alert = telegram_bot.sent_messages(ALERT_CHAT_ID)[-1]
    assert alert["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == f"incident.ack:{chatflow_incident.pk}"
    message_id = opened_alert(chatflow_incident).sent_message_id
    message = telegram_bot.message(ALERT_CHAT_ID, message_id)

    press = callback_query_update(f"incident.ack:{chatflow_incident.pk}", message=message)
    deliver(press)

    chatflow_incident.refresh_from_db()
    assert chatflow_incident.status == IncidentStatus.ACKNOWLEDGED and chatflow_incident.acknowledged_by == "@aidar_ceo"
    event = IncidentEvent.objects.get(incident=chatflow_incident, kind=IncidentEventKind.ACKNOWLEDGED)
    assert event.source == "telegram" and event.actor_kind == "telegram"
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"].startswith("Принято")
    edited = telegram_bot.message(ALERT_CHAT_ID, message_id)
    assert "Принял(а): @aidar_ceo" in edited["text"] and "reply_markup" not in edited

    again = callback_query_update(f"incident.ack:{chatflow_incident.pk}", message=message)
    deliver(again)
    assert "уже принят" in telegram_bot.answered_callbacks[again["callback_query"]["id"]]["text"]
    assert IncidentEvent.objects.filter(kind=IncidentEventKind.ACKNOWLEDGED).count() == 1


def test_the_ack_button_is_refused_to_strangers(chatflow_incident, deliver, telegram_bot):
    message_id = opened_alert(chatflow_incident).sent_message_id
    press = callback_query_update(f"incident.ack:{chatflow_incident.pk}", message=telegram_bot.message(ALERT_CHAT_ID, message_id),
                                  user=STRANGER)
    deliver(press)
    chatflow_incident.refresh_from_db()
    assert chatflow_incident.status == IncidentStatus.OPEN


def test_status_lists_the_tenants_open_incidents(chatflow_incident, deliver, ceo_allowed, telegram_bot):
    deliver(message_update("/status alpha"))
    text = last_text(telegram_bot, CEO["id"])
    assert "Открытых инцидентов: 1" in text and f"#{chatflow_incident.pk} ChatFlow не доставляет ответы" in text
