"""telegram_set_webhook and telegram_poll against the fake Bot API."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from imperium.telegram.choices import UpdateStatus
from imperium.telegram.models import TelegramDeadLetter, TelegramUpdate
from imperium.telegram.testing.pytest_fixtures import WEBHOOK_SECRET
from imperium.telegram.testing.updates import CEO, message_update
from imperium.telegram.tests.conftest import replies

pytestmark = pytest.mark.django_db


def test_it_sets_the_webhook_to_the_public_url_with_the_secret(telegram_bot, settings, capsys):
    settings.PUBLIC_BASE_URL = "https://imperium.example.com"
    call_command("telegram_set_webhook")
    assert telegram_bot.webhook["url"] == "https://imperium.example.com/telegram-webhook"
    assert telegram_bot.webhook["secret_token"] == WEBHOOK_SECRET
    assert "callback_query" in telegram_bot.webhook["allowed_updates"]
    out = capsys.readouterr().out
    assert "Webhook set" in out and WEBHOOK_SECRET not in out
    call_command("telegram_set_webhook", "--delete")
    assert telegram_bot.webhook == {}


def test_it_refuses_to_set_a_webhook_without_a_secret_or_a_token(telegram_bot, settings):
    settings.TELEGRAM_WEBHOOK_SECRET = ""
    with pytest.raises(CommandError, match="TELEGRAM_WEBHOOK_SECRET"):
        call_command("telegram_set_webhook")
    settings.ALERT_BOT_TOKEN = ""
    with pytest.raises(CommandError, match="ALERT_BOT_TOKEN"):
        call_command("telegram_set_webhook")
    assert telegram_bot.webhook == {}


def test_it_polls_once_and_processes_inline(telegram_bot, ceo_allowed):
    update = message_update("/help")
    telegram_bot.queue_update(update)
    telegram_bot.queue_update({"update_id": update["update_id"] + 1, "message": "garbage"})
    call_command("telegram_poll", "--once", "--inline")
    assert TelegramUpdate.objects.get(update_id=update["update_id"]).status == UpdateStatus.PROCESSED
    assert TelegramDeadLetter.objects.get().source == "polling"
    assert len(replies(telegram_bot, CEO["id"])) == 1
    # The batch was confirmed: polling again gets nothing and sends nothing.
    call_command("telegram_poll", "--once", "--inline")
    assert TelegramUpdate.objects.count() == 1 and len(replies(telegram_bot, CEO["id"])) == 1


def test_polling_feeds_the_same_task_path_as_the_webhook(telegram_bot, ceo_allowed, celery_eager,
                                                         django_capture_on_commit_callbacks):
    update = message_update("/help")
    telegram_bot.queue_update(update)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("telegram_poll", "--once")
    assert TelegramUpdate.objects.get().status == UpdateStatus.PROCESSED
    telegram_bot.queue_update(update)  # delivered again (e.g. confirmation lost): stored once, answered once
    call_command("telegram_poll", "--once", "--inline")
    assert len(replies(telegram_bot, CEO["id"])) == 1


def test_polling_while_a_webhook_is_set_explains_itself(telegram_bot, ceo_allowed):
    telegram_bot.webhook = {"url": "https://x/telegram-webhook"}
    with pytest.raises(CommandError, match="webhook is active"):
        call_command("telegram_poll", "--once")
    telegram_bot.queue_update(message_update("/help"))
    call_command("telegram_poll", "--once", "--inline", "--delete-webhook")
    assert TelegramUpdate.objects.count() == 1
