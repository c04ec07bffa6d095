"""Answering people in Telegram from handlers (synchronously, inside the update task).

Replies to a command or a button go straight through the client: the person is waiting, and
a retryable failure (429, timeout) makes the whole update retry later. Messages nobody is
waiting for (alerts, escalations, reminders) go through the outbox in `incidents.alerts`.
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.cache import cache

from imperium.core.botapi.client import TelegramError, get_client
from imperium.telegram.updates import IncomingUpdate

logger = logging.getLogger(__name__)


def bot_username_cache_key() -> str:
    return f"{settings.TELEGRAM_CACHE_KEY_PREFIX}:bot-username"


def reply_to(update: IncomingUpdate, text: str, *, reply_markup: dict[str, Any] | None = None) -> dict[str, Any]:
    """Answer in the same chat and topic, as a reply to the update's message."""
    if update.chat_id is None:
        raise ValueError(f"update {update.update_id} has no chat to reply to")
    return get_client().send_message(
        chat_id=update.chat_id, text=text, thread_id=update.thread_id, reply_markup=reply_markup,
        reply_to_message_id=update.message_id,
    )


def answer_callback(callback_query_id: str, text: str = "", *, show_alert: bool = False) -> bool:
    """Answer a button press (stops the spinner on the button). Best effort: Telegram refuses
    answers to queries older than ~15 minutes or already answered; that is logged, not raised."""
    try:
        return get_client().answer_callback_query(callback_query_id=callback_query_id, text=text, show_alert=show_alert)
    except TelegramError as exc:
        logger.warning("answerCallbackQuery %s failed: %s", callback_query_id, exc)
        return False


def bot_username() -> str:
    """Our bot's @username (from getMe, cached for a day); "" when Telegram cannot say."""
    username = cache.get(bot_username_cache_key())
    if username is None:
        try:
            username = str(get_client().get_me().get("username") or "")
        except TelegramError as exc:
            logger.warning("getMe failed: %s", exc)
            return ""
        cache.set(bot_username_cache_key(), username, 24 * 3600)
    return username
