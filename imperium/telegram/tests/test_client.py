"""The Telegram client against the fake Bot API: real HTTP, real pyTelegramBotAPI code."""

from __future__ import annotations

import socket

import pytest

from imperium.core.botapi.callback_data import CallbackDataError, callback_data_build, callback_data_parse
from imperium.core.botapi.client import TelegramClient, TelegramError, TelegramNotConfigured
from imperium.core.botapi.keyboards import InlineButton, inline_keyboard
from imperium.core.exceptions import IntegrationError
from imperium.telegram.testing.pytest_fixtures import BOT_TOKEN


@pytest.fixture
def client(telegram_bot):
    return TelegramClient()


def test_it_sends_plain_text_into_a_topic_with_buttons_and_a_reply(client, telegram_bot):
    first = client.send_message(chat_id=-1001234567890, text="Эскалация <b>не HTML</b> & co", thread_id=42)
    keyboard = inline_keyboard([[InlineButton("Взять", "conv.take:17"), InlineButton("Закрыть", "conv.close:17")]])
    second = client.send_message(chat_id=-1001234567890, text="Ответ", thread_id=42, reply_markup=keyboard,
                                 reply_to_message_id=first["message_id"])

    assert first["message_thread_id"] == 42 and first["text"] == "Эскалация <b>не HTML</b> & co"
    assert second["reply_to_message"]["message_id"] == first["message_id"]
    params = telegram_bot.sent_messages()[1]
    assert params["chat_id"] == "-1001234567890" and params["message_thread_id"] == "42"
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Взять", "callback_data": "conv.take:17"},
                                                          {"text": "Закрыть", "callback_data": "conv.close:17"}]]}
    assert "parse_mode" not in params
    assert telegram_bot.calls[0].token == BOT_TOKEN


def test_it_cuts_text_over_the_telegram_limit_instead_of_failing(client, telegram_bot):
    message = client.send_message(chat_id=1, text="я" * 5000)
    assert len(message["text"]) < 4096 and message["text"].endswith("…")


@pytest.mark.parametrize(("status", "permanent"), [(400, True), (403, True), (401, True), (500, False), (502, False)])
def test_it_types_bot_api_errors_as_permanent_or_retryable(client, telegram_bot, status, permanent):
    telegram_bot.fail_next(status)
    with pytest.raises(TelegramError) as caught:
        client.send_message(chat_id=1, text="x")
    assert isinstance(caught.value, IntegrationError)
    assert caught.value.status == status and caught.value.permanent is permanent


def test_it_reports_retry_after_on_429(client, telegram_bot):
    telegram_bot.fail_next(429, retry_after=17)
    with pytest.raises(TelegramError) as caught:
        client.send_message(chat_id=1, text="x")
    assert caught.value.permanent is False and caught.value.retry_after == 17.0 and caught.value.status == 429
    assert "Too Many Requests" in caught.value.description


def test_it_treats_a_proxy_error_page_as_retryable(client, telegram_bot):
    telegram_bot.fail_next(502, html=True)
    with pytest.raises(TelegramError) as caught:
        client.send_message(chat_id=1, text="x")
    assert caught.value.permanent is False and caught.value.status == 502


def test_it_gives_up_after_its_timeout_as_retryable(telegram_bot):
    telegram_bot.delay_next(2.0)
    with pytest.raises(TelegramError) as caught:
        TelegramClient(timeout=0.2).send_message(chat_id=1, text="x")
    assert caught.value.permanent is False and "timed out" in str(caught.value)


def test_it_never_puts_the_token_in_an_error(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = TelegramClient(token="987654:SUPER-SECRET-TOKEN-VALUE", api_url=f"http://127.0.0.1:{port}", timeout=1)
    with pytest.raises(TelegramError) as caught:
        client.get_me()
    assert caught.value.permanent is False
    assert "SUPER-SECRET" not in str(caught.value)


def test_it_refuses_to_call_without_a_token(settings):
    settings.ALERT_BOT_TOKEN = ""
    with pytest.raises(TelegramNotConfigured) as caught:
        TelegramClient().send_message(chat_id=1, text="x")
    assert caught.value.permanent is True


def test_it_treats_an_unchanged_edit_as_done(client, telegram_bot):
    sent = client.send_message(chat_id=5, text="same")
    assert client.edit_message_text(chat_id=5, message_id=sent["message_id"], text="same") is None
    edited = client.edit_message_text(chat_id=5, message_id=sent["message_id"], text="changed")
    assert edited["text"] == "changed"
    with pytest.raises(TelegramError) as caught:
        client.edit_message_text(chat_id=5, message_id=999999, text="x")
    assert caught.value.permanent and "not found" in caught.value.description


def test_it_edits_and_removes_a_keyboard(client, telegram_bot):
    keyboard = inline_keyboard([[InlineButton("A", "a:1")]])
    sent = client.send_message(chat_id=5, text="t", reply_markup=keyboard)
    client.edit_message_reply_markup(chat_id=5, message_id=sent["message_id"])
    assert "reply_markup" not in telegram_bot.message(5, sent["message_id"])


def test_it_answers_callbacks_creates_topics_and_manages_the_webhook(client, telegram_bot):
    assert client.answer_callback_query(callback_query_id="42", text="Готово") is True
    assert telegram_bot.answered_callbacks["42"]["text"] == "Готово"
    topic = client.create_forum_topic(chat_id=-1001234567890, name="Айгерим +7701•••4567")
    assert topic["message_thread_id"] > 0
    assert client.set_webhook(url="https://imperium.example/telegram-webhook", secret_token="s3cret") is True
    assert telegram_bot.webhook["secret_token"] == "s3cret"
    assert client.delete_webhook() is True and telegram_bot.webhook == {}


def test_it_long_polls_and_confirms_with_the_offset(client, telegram_bot):
    telegram_bot.queue_update({"update_id": 10, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}, "date": 0}})
    telegram_bot.queue_update({"update_id": 11, "message": {"message_id": 2, "chat": {"id": 1, "type": "private"}, "date": 0}})
    assert [u["update_id"] for u in client.get_updates(long_poll_seconds=0)] == [10, 11]
    assert [u["update_id"] for u in client.get_updates(offset=11, long_poll_seconds=0)] == [11]
    assert client.get_updates(offset=12, long_poll_seconds=0) == []


def test_it_keeps_callback_data_within_64_bytes():
    assert callback_data_build("alert.ack", 42) == "alert.ack:42"
    assert callback_data_parse("conv.take:17:x") == ("conv.take", ["17", "x"])
    with pytest.raises(CallbackDataError):
        callback_data_build("conv.take", "я" * 40)
    with pytest.raises(CallbackDataError):
        callback_data_build("Bad Action", 1)
    with pytest.raises(CallbackDataError):
        callback_data_parse("conv.take::")
    with pytest.raises(ValueError):
        InlineButton("x", "a" * 65).as_dict()


def test_the_fake_refuses_what_telegram_refuses(client, telegram_bot):
    with pytest.raises(TelegramError, match="message text is empty") as caught:
        client.send_message(chat_id=1, text="")
    assert caught.value.permanent is True
    with pytest.raises(TelegramError, match="BUTTON_DATA_INVALID"):
        client.send_message(chat_id=1, text="x", reply_markup={"inline_keyboard": [[{"text": "x", "callback_data": "a" * 65}]]})
    assert client.answer_callback_query(callback_query_id="7") is True
    with pytest.raises(TelegramError, match="query is too old"):
        client.answer_callback_query(callback_query_id="7")
