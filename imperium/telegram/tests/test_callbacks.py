"""Inline buttons: the alert «Принял» button and the callback infrastructure around it."""

from __future__ import annotations

import pytest

from imperium.core.models import AuditLog
from imperium.telegram.callbacks import CallbackAction, CallbackAnswer, register_callback_action, unregister_callback_action
from imperium.telegram.choices import PressStatus, UpdateStatus
from imperium.telegram.models import TelegramCallbackPress, TelegramUpdate
from imperium.telegram.testing.updates import CEO, STRANGER, callback_query_update
from incidents.alerts import alert_raise
from incidents.models import Alert, ErrorLog

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_alert(telegram_bot, celery_eager, django_capture_on_commit_callbacks):
    """An alert delivered to the alert chat: (Alert row, the Message as Telegram holds it)."""
    with django_capture_on_commit_callbacks(execute=True):
        alert = alert_raise(title="Qdrant недоступен", severity="critical", key="qdrant.down")
    alert.refresh_from_db()
    return alert, telegram_bot.message(alert.chat_id, alert.sent_message_id)


def test_it_acknowledges_an_alert_and_marks_the_message(deliver, telegram_bot, ceo_allowed, sent_alert):
    alert, message = sent_alert
    press = callback_query_update(f"alert.ack:{alert.pk}", message=message)
    assert deliver(press).status_code == 200

    alert.refresh_from_db()
    assert alert.acknowledged_at and alert.acknowledged_by == "@aidar_ceo"
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"].startswith("Принято")
    edited = telegram_bot.message(alert.chat_id, alert.sent_message_id)
    assert "Принял(а): @aidar_ceo" in edited["text"] and "Qdrant недоступен" in edited["text"]
    assert "reply_markup" not in edited
    entry = AuditLog.objects.get(action="alert.acknowledged")
    assert entry.actor_kind == "telegram" and entry.actor_id == str(CEO["id"])
    assert TelegramCallbackPress.objects.get().status == PressStatus.DONE


def test_a_press_redelivered_or_repeated_runs_once(deliver, telegram_bot, ceo_allowed, sent_alert):
    alert, message = sent_alert
    press = callback_query_update(f"alert.ack:{alert.pk}", message=message)
    deliver(press)
    deliver(press)  # Telegram redelivers the same update
    # The same callback query reaching us under another update id (e.g. polling and webhook both on).
    copy = {**press, "update_id": press["update_id"] + 100000}
    deliver(copy)
    assert AuditLog.objects.filter(action="alert.acknowledged").count() == 1
    assert TelegramCallbackPress.objects.count() == 1
    assert len(telegram_bot.calls_to("editMessageText")) == 1
    assert len(telegram_bot.calls_to("answerCallbackQuery")) == 2  # first answer + the re-answer (refused by Telegram)

    second_press = callback_query_update(f"alert.ack:{alert.pk}", message=message)  # a second tap: a new query id
    deliver(second_press)
    assert telegram_bot.answered_callbacks[second_press["callback_query"]["id"]]["text"] == "Уже принял(а) @aidar_ceo."
    assert AuditLog.objects.filter(action="alert.acknowledged").count() == 1


def test_it_refuses_a_press_by_someone_not_on_the_allow_list(deliver, telegram_bot, sent_alert):
    alert, message = sent_alert
    press = callback_query_update(f"alert.ack:{alert.pk}", message=message, user=STRANGER)
    deliver(press)
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    answer = telegram_bot.answered_callbacks[press["callback_query"]["id"]]
    assert answer["text"] == "У вас нет прав на это действие." and answer["show_alert"] == "True"
    entry = AuditLog.objects.get(action="telegram.callback_refused")
    assert entry.actor_id == str(STRANGER["id"]) and entry.payload["data"] == f"alert.ack:{alert.pk}"


@pytest.mark.parametrize("data", ["conv.take:1", "not a valid data", "alert.ack:999999", "alert.ack:x"])
def test_it_answers_a_stale_or_unknown_button(deliver, telegram_bot, ceo_allowed, sent_alert, data):
    _, message = sent_alert
    press = callback_query_update(data, message=message)
    deliver(press)
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"] in (
        "Эта кнопка больше не действует.", "Оповещение не найдено.")
    assert TelegramUpdate.objects.get(update_id=press["update_id"]).status == UpdateStatus.PROCESSED


def test_a_registered_action_runs_with_the_telegram_actor(deliver, telegram_bot, ceo_allowed, sent_alert):
    _, message = sent_alert
    seen = []

    @register_callback_action
    class Echo(CallbackAction):
        action = "test.echo"
        requires_allowlist = False

        def handle(self, press):
            seen.append((press.args, press.actor.id, press.chat_id, press.message_id))
            return CallbackAnswer("эхо")

    try:
        press = callback_query_update("test.echo:a:b", message=message, user=STRANGER)
        deliver(press)
    finally:
        unregister_callback_action("test.echo")
    assert seen == [(["a", "b"], str(STRANGER["id"]), message["chat"]["id"], message["message_id"])]
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"] == "эхо"


def test_an_action_that_crashes_is_answered_and_logged(deliver, telegram_bot, ceo_allowed, sent_alert):
    _, message = sent_alert

    @register_callback_action
    class Broken(CallbackAction):
        action = "test.broken"

        def handle(self, press):
            raise RuntimeError("service exploded")

    try:
        press = callback_query_update("test.broken:1", message=message)
        assert deliver(press).status_code == 200
    finally:
        unregister_callback_action("test.broken")
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"].startswith("Не получилось")
    assert TelegramCallbackPress.objects.get(callback_query_id=press["callback_query"]["id"]).status == PressStatus.FAILED
    assert TelegramUpdate.objects.get(update_id=press["update_id"]).status == UpdateStatus.FAILED
    assert ErrorLog.objects.filter(where="telegram.update_process", message="service exploded").exists()


def test_the_acknowledgement_stands_when_the_edit_fails(deliver, telegram_bot, ceo_allowed, sent_alert):
    alert, message = sent_alert
    telegram_bot.fail_next(400, method="editMessageText", description="Bad Request: message can't be edited")
    press = callback_query_update(f"alert.ack:{alert.pk}", message=message)
    deliver(press)
    assert Alert.objects.get(pk=alert.pk).acknowledged_at is not None
    assert telegram_bot.answered_callbacks[press["callback_query"]["id"]]["text"].startswith("Принято")
