"""POST /telegram-webhook: secret, dedup, dead letters, processing once."""

from __future__ import annotations

import pytest
from django.utils import timezone

from imperium.telegram.choices import UpdateStatus
from imperium.telegram.models import TelegramDeadLetter, TelegramUpdate
from imperium.telegram.services import telegram_update_process, telegram_updates_sweep
from imperium.telegram.testing.updates import CEO, callback_query_update, edited_message_update, message_update, topic_message_update
from imperium.telegram.tests.conftest import replies
from incidents.models import ErrorLog

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("secret", [None, "", "wrong-secret", "test-webhook-secret_012345678"])
def test_it_refuses_a_missing_or_wrong_secret_and_stores_nothing(deliver, telegram_bot, ceo_allowed, secret):
    response = deliver(message_update("/help"), secret=secret)
    assert response.status_code == 403
    assert TelegramUpdate.objects.count() == 0 and TelegramDeadLetter.objects.count() == 0
    assert telegram_bot.calls == []


def test_it_refuses_everything_when_no_secret_is_configured(deliver, settings, ceo_allowed):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    assert deliver(message_update("/help"), secret="").status_code == 403
    assert deliver(message_update("/help"), secret=None).status_code == 403
    assert TelegramUpdate.objects.count() == 0


def test_it_stores_and_processes_an_update(deliver, telegram_bot, ceo_allowed):
    update = message_update("/help")
    response = deliver(update)
    assert response.status_code == 200 and response.json() == {"status": "accepted"}
    row = TelegramUpdate.objects.get(update_id=update["update_id"])
    assert row.status == UpdateStatus.PROCESSED and row.kind == "message" and row.handler == "command"
    assert row.from_user_id == CEO["id"] and row.attempts == 1
    assert len(replies(telegram_bot, CEO["id"])) == 1


def test_it_processes_a_redelivered_update_once(deliver, telegram_bot, ceo_allowed):
    update = message_update("/help")
    assert deliver(update).json() == {"status": "accepted"}
    assert deliver(update).json() == {"status": "duplicate"}
    assert deliver(update).status_code == 200
    assert TelegramUpdate.objects.filter(update_id=update["update_id"]).count() == 1
    assert len(replies(telegram_bot, CEO["id"])) == 1
    # Even a task that runs again for the stored update does nothing.
    assert telegram_update_process(update_pk=TelegramUpdate.objects.get().pk) == "skipped"
    assert len(replies(telegram_bot, CEO["id"])) == 1


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"message": {"text": "hi"}}', "update_id"),
        (b'{"update_id": "12"}', "update_id"),
        (b'{"update_id": 12, "message": {"message_id": 1, "text": "no chat"}}', "chat"),
        (b'{"update_id": 13, "callback_query": {"from": {"id": 1}}}', "callback_query"),
        (b"{\"update_id\": 14, \"message\": \"\\ud800\"}", "not an object"),
        (b"\x00\xffnot json", "not JSON"),
        (b"[null,null]", "JSON object"),
        (b'{"update_id": 15, "x": NaN}', "NaN"),
        (b'{"update_id": 16, "x": ' + b"[" * 20000 + b"]" * 20000 + b"}", "nested"),
    ],
)
def test_it_keeps_a_malformed_update_as_a_dead_letter_and_answers_400(deliver, telegram_bot, body, reason):
    response = deliver(None, raw=body)
    assert response.status_code == 400 and response.json()["status"] == "dead_letter"
    assert reason in response.json()["error"]
    letter = TelegramDeadLetter.objects.get()
    assert reason in letter.reason and letter.source == "webhook"
    assert TelegramUpdate.objects.count() == 0 and telegram_bot.calls == []


@pytest.mark.parametrize(
    "update",
    [
        edited_message_update("/deploy canary alpha"),
        topic_message_update("Здравствуйте, записала вас на 15:00", thread_id=42),
        {"update_id": 700999001, "my_chat_member": {"chat": {"id": -100, "type": "supergroup"}, "from": CEO, "date": 0,
                                                     "old_chat_member": {}, "new_chat_member": {}}},
        {"update_id": 700999002, "poll": {"id": "1", "question": "?"}},
    ],
    ids=["edited-command", "topic-message", "my-chat-member", "unknown-kind"],
)
def test_it_stores_updates_nobody_handles_yet_as_ignored(deliver, telegram_bot, ceo_allowed, update):
    assert deliver(update).status_code == 200
    row = TelegramUpdate.objects.get(update_id=update["update_id"])
    assert row.status == UpdateStatus.PROCESSED and row.handler == "" and row.outcome.startswith("ignored")
    assert telegram_bot.sent_messages() == []


def test_it_parses_a_reply_in_a_forum_topic():
    from imperium.telegram.updates import IncomingUpdate

    implicit = IncomingUpdate.from_payload(topic_message_update("текст", thread_id=42))
    assert implicit.thread_id == 42 and implicit.reply_to_message_id is None and implicit.command is None
    bot_message = {"message_id": 60, "from": {"id": 1, "is_bot": True, "first_name": "B"},
                   "chat": {"id": -1001234567890, "type": "supergroup"}, "date": 0, "message_thread_id": 42,
                   "is_topic_message": True, "text": "Эскалация"}
    real = IncomingUpdate.from_payload(topic_message_update("ответ", thread_id=42, reply_to=bot_message))
    assert real.reply_to_message_id == 60 and real.chat_id == -1001234567890 and real.sender.username == "aliya_manager"
    press = IncomingUpdate.from_payload(callback_query_update("alert.ack:1", message=bot_message))
    assert press.kind == "callback_query" and press.message_id == 60 and press.callback_data == "alert.ack:1"


def test_it_retries_an_update_after_telegram_says_429(deliver, telegram_bot, ceo_allowed, time_machine):
    time_machine.move_to(timezone.now())
    telegram_bot.fail_next(429, retry_after=30, method="sendMessage")
    update = message_update("/help")
    deliver(update)
    row = TelegramUpdate.objects.get(update_id=update["update_id"])
    assert row.status == UpdateStatus.RECEIVED and "429" in row.error
    assert telegram_updates_sweep() == []  # not due yet
    time_machine.shift(31)
    assert telegram_updates_sweep() == [row.pk]
    assert telegram_update_process(update_pk=row.pk) in ("help", "skipped")
    row.refresh_from_db()
    assert row.status == UpdateStatus.PROCESSED and row.attempts == 2
    assert len(replies(telegram_bot, CEO["id"])) == 1


def test_it_marks_a_crashing_handler_failed_with_an_error_log(deliver, telegram_bot, ceo_allowed, monkeypatch):
    from imperium.telegram import commands

    def boom(ctx):
        raise RuntimeError("handler bug")

    monkeypatch.setitem(commands.COMMANDS, "status", commands.CommandSpec("status", "/status", commands.ALL_ROLES, boom))
    update = message_update("/status alpha")
    assert deliver(update).status_code == 200
    row = TelegramUpdate.objects.get(update_id=update["update_id"])
    assert row.status == UpdateStatus.FAILED and "handler bug" in row.error
    assert ErrorLog.objects.filter(where="telegram.update_process", message="handler bug").exists()


def test_the_sweep_picks_up_an_update_whose_task_was_lost(telegram_bot, ceo_allowed, celery_eager, time_machine,
                                                          django_capture_on_commit_callbacks):
    from imperium.telegram.services import telegram_update_store

    time_machine.move_to(timezone.now())
    update = message_update("/help")
    telegram_update_store(payload=update, enqueue=False)  # stored, but the broker lost the task
    assert telegram_updates_sweep() == []  # too fresh: its own task may still come
    time_machine.shift(60)
    with django_capture_on_commit_callbacks(execute=True):
        telegram_updates_sweep()
    assert TelegramUpdate.objects.get().status == UpdateStatus.PROCESSED
    assert len(replies(telegram_bot, CEO["id"])) == 1


def test_the_sweep_revives_an_update_whose_worker_died(telegram_bot, ceo_allowed, celery_eager, time_machine,
                                                       django_capture_on_commit_callbacks):
    from imperium.telegram.services import telegram_update_store

    time_machine.move_to(timezone.now())
    stored = telegram_update_store(payload=message_update("/help"), enqueue=False).update
    TelegramUpdate.objects.filter(pk=stored.pk).update(status=UpdateStatus.PROCESSING, claimed_at=timezone.now(), attempts=1)
    time_machine.shift(11 * 60)
    with django_capture_on_commit_callbacks(execute=True):
        telegram_updates_sweep()
    stored.refresh_from_db()
    assert stored.status == UpdateStatus.PROCESSED and stored.attempts == 2
