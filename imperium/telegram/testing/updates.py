"""Builders of Telegram Update objects in the exact shapes the Bot API sends (for tests and
for feeding the fake server's getUpdates). Ids are unique per process unless given."""

from __future__ import annotations

import itertools
import time
from typing import Any

_update_ids = itertools.count(700000001)
_message_ids = itertools.count(5001)
_callback_ids = itertools.count(1)

CEO = {"id": 1111111, "is_bot": False, "first_name": "Айдар", "last_name": "К.", "username": "aidar_ceo", "language_code": "ru"}
MANAGER = {"id": 2222222, "is_bot": False, "first_name": "Алия", "username": "aliya_manager", "language_code": "ru"}
STRANGER = {"id": 9999999, "is_bot": False, "first_name": "Stranger", "language_code": "en"}
BOT = {"id": 123456789, "is_bot": True, "first_name": "Imperium", "username": "imperium_test_bot"}
TENANT_GROUP = {"id": -1001234567890, "title": "Alpha Salon — менеджеры", "is_forum": True, "type": "supergroup"}
PLAIN_GROUP = {"id": -1002345678901, "title": "Bravo Barbers — менеджеры", "type": "supergroup"}  # no topics
OTHER_GROUP = {"id": -1009876543210, "title": "Чужая группа", "is_forum": True, "type": "supergroup"}


def private_chat(user: dict[str, Any]) -> dict[str, Any]:
    chat = {"id": user["id"], "first_name": user.get("first_name", ""), "type": "private"}
    if user.get("username"):
        chat["username"] = user["username"]
    return chat


def _entities(text: str) -> list[dict[str, Any]]:
    if not text.startswith("/"):
        return []
    return [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]


def message_update(
    text: str,
    *,
    user: dict[str, Any] = CEO,
    chat: dict[str, Any] | None = None,
    update_id: int | None = None,
    message_id: int | None = None,
    reply_to: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new message (a command when `text` starts with '/') in a private chat by default;
    `reply_to` (a Message, e.g. the card the bot sent) makes it a reply to that message."""
    message: dict[str, Any] = {
        "message_id": message_id or next(_message_ids),
        "from": user,
        "chat": chat or private_chat(user),
        "date": int(time.time()),
        "text": text,
    }
    if _entities(text):
        message["entities"] = _entities(text)
    if reply_to is not None:
        message["reply_to_message"] = reply_to
    return {"update_id": update_id or next(_update_ids), "message": message}


def topic_message_update(
    text: str,
    *,
    thread_id: int,
    user: dict[str, Any] = MANAGER,
    chat: dict[str, Any] = TENANT_GROUP,
    reply_to: dict[str, Any] | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A message in a forum topic. Without `reply_to` it carries the implicit reply to the
    topic's service message, exactly as Telegram sends it; with `reply_to` (a Message the
    bot sent) it is a real reply to that message."""
    now = int(time.time())
    replied = reply_to or {
        "message_id": thread_id,
        "from": MANAGER,
        "chat": chat,
        "date": now - 3600,
        "message_thread_id": thread_id,
        "forum_topic_created": {"name": "Диалог", "icon_color": 7322096},
        "is_topic_message": True,
    }
    message = {
        "message_id": next(_message_ids),
        "from": user,
        "chat": chat,
        "date": now,
        "message_thread_id": thread_id,
        "reply_to_message": replied,
        "text": text,
        "is_topic_message": True,
    }
    return {"update_id": update_id or next(_update_ids), "message": message}


def edited_message_update(text: str, *, user: dict[str, Any] = CEO, message_id: int = 5000,
                          update_id: int | None = None, chat: dict[str, Any] | None = None,
                          thread_id: int | None = None) -> dict[str, Any]:
    """An edit of an earlier message (private chat by default; `chat` + `thread_id` for a forum topic)."""
    now = int(time.time())
    message: dict[str, Any] = {
        "message_id": message_id, "from": user, "chat": chat or private_chat(user), "date": now - 60, "edit_date": now, "text": text,
    }
    if thread_id is not None:
        message.update(message_thread_id=thread_id, is_topic_message=True)
    return {"update_id": update_id or next(_update_ids), "edited_message": message}


def callback_query_update(
    data: str,
    *,
    message: dict[str, Any],
    user: dict[str, Any] = CEO,
    callback_query_id: str | None = None,
    update_id: int | None = None,
) -> dict[str, Any]:
    """A press of an inline button under `message` (a Message dict as the bot sent it, e.g.
    the fake server's sendMessage result)."""
    return {
        "update_id": update_id or next(_update_ids),
        "callback_query": {
            "id": callback_query_id or f"{4382000000000000000 + next(_callback_ids)}",
            "from": user,
            "message": message,
            "chat_instance": "-8242937382938512345",
            "data": data,
        },
    }
