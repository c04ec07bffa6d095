"""A read-only view of a Telegram Update that handlers match on.

Parsing is strict about what handlers rely on (ids are integers, a message has a chat) and
lenient about everything else: Telegram adds fields all the time, and an update kind we do not
handle is still a valid update (it is stored and marked processed by nobody).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from imperium.telegram.choices import UpdateKind

_MESSAGE_KINDS = ("message", "edited_message", "channel_post", "edited_channel_post")
_COMMAND = re.compile(r"^/(?P<name>[A-Za-z0-9_]{1,32})(?:@(?P<bot>[A-Za-z0-9_]{3,64}))?(?:\s+(?P<args>.*))?$", re.DOTALL)


class MalformedUpdate(ValueError):
    """The JSON is not a Telegram Update we can trust (kept as a dead letter)."""


@dataclass(frozen=True)
class TelegramUser:
    id: int
    is_bot: bool = False
    username: str = ""
    first_name: str = ""
    last_name: str = ""

    @property
    def label(self) -> str:
        """How people recognise the user: @username, else the name, else the id."""
        if self.username:
            return f"@{self.username}"
        name = " ".join(part for part in (self.first_name, self.last_name) if part)
        return name or str(self.id)

    @classmethod
    def from_json(cls, data: Any) -> TelegramUser | None:
        if data is None:
            return None
        if not isinstance(data, dict) or not _is_int(data.get("id")):
            raise MalformedUpdate("'from' has no integer id")
        return cls(
            id=int(data["id"]),
            is_bot=bool(data.get("is_bot", False)),
            username=str(data.get("username") or ""),
            first_name=str(data.get("first_name") or ""),
            last_name=str(data.get("last_name") or ""),
        )


@dataclass(frozen=True)
class ParsedCommand:
    name: str  # lower case, without the slash and the @bot suffix
    bot_username: str  # "" when the command named no bot
    args: list[str]
    args_text: str


@dataclass(frozen=True)
class IncomingUpdate:
    update_id: int
    kind: str
    raw: dict[str, Any]
    message: dict[str, Any] | None  # the message, edited message, post, or the message a button sits on
    sender: TelegramUser | None
    chat_id: int | None
    chat_type: str
    thread_id: int | None  # forum topic of the message, when it is in one
    message_id: int | None
    text: str
    reply_to_message_id: int | None  # a real reply, not the implicit one to a topic's first message
    callback_query_id: str
    callback_data: str

    @classmethod
    def from_payload(cls, payload: Any) -> IncomingUpdate:
        if not isinstance(payload, dict):
            raise MalformedUpdate("an Update must be a JSON object")
        update_id = payload.get("update_id")
        if not _is_int(update_id) or update_id < 0:
            raise MalformedUpdate("update_id is missing or not a non-negative integer")
        kind = next((k for k in UpdateKind.values if k != UpdateKind.OTHER and k in payload), UpdateKind.OTHER)
        message: dict[str, Any] | None = None
        sender: TelegramUser | None = None
        callback_query_id = callback_data = ""
        if kind in _MESSAGE_KINDS:
            message = _message(payload[kind], kind)
            sender = TelegramUser.from_json(message.get("from"))
        elif kind == UpdateKind.CALLBACK_QUERY:
            query = payload[kind]
            if not isinstance(query, dict) or not isinstance(query.get("id"), str) or not query["id"]:
                raise MalformedUpdate("callback_query has no id")
            sender = TelegramUser.from_json(query.get("from"))
            if sender is None:
                raise MalformedUpdate("callback_query has no 'from'")
            callback_query_id = query["id"]
            data = query.get("data", "")
            if not isinstance(data, str):
                raise MalformedUpdate("callback_query.data is not a string")
            callback_data = data
            if query.get("message") is not None:
                message = _message(query["message"], "callback_query.message")
        elif kind == UpdateKind.MY_CHAT_MEMBER:
            member = payload[kind]
            if not isinstance(member, dict):
                raise MalformedUpdate("my_chat_member is not an object")
            sender = TelegramUser.from_json(member.get("from"))

        chat = (message or {}).get("chat") or {}
        thread_id = None
        reply_to = None
        if message is not None:
            if message.get("is_topic_message") and _is_int(message.get("message_thread_id")):
                thread_id = int(message["message_thread_id"])
            replied = message.get("reply_to_message")
            # In a forum topic every message "replies" to the topic's service message; only a
            # reply to another message is a real reply.
            if isinstance(replied, dict) and _is_int(replied.get("message_id")) and not replied.get("forum_topic_created"):
                if thread_id is None or replied["message_id"] != thread_id:
                    reply_to = int(replied["message_id"])
        text = (message or {}).get("text") or (message or {}).get("caption") or ""
        return cls(
            update_id=int(update_id),
            kind=kind,
            raw=payload,
            message=message,
            sender=sender,
            chat_id=int(chat["id"]) if _is_int(chat.get("id")) else None,
            chat_type=str(chat.get("type") or ""),
            thread_id=thread_id,
            message_id=int(message["message_id"]) if message is not None else None,
            text=text if isinstance(text, str) else "",
            reply_to_message_id=reply_to,
            callback_query_id=callback_query_id,
            callback_data=callback_data,
        )

    @property
    def command(self) -> ParsedCommand | None:
        """The bot command in a new message ('/deploy@imperium_bot canary alpha'), if any."""
        if self.kind != UpdateKind.MESSAGE or not self.text.startswith("/"):
            return None
        match = _COMMAND.match(self.text.strip())
        if not match:
            return None
        args_text = (match["args"] or "").strip()
        return ParsedCommand(
            name=match["name"].lower(), bot_username=match["bot"] or "", args=args_text.split(), args_text=args_text
        )


def _message(data: Any, where: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise MalformedUpdate(f"{where} is not an object")
    if not _is_int(data.get("message_id")):
        raise MalformedUpdate(f"{where} has no integer message_id")
    chat = data.get("chat")
    if not isinstance(chat, dict) or not _is_int(chat.get("id")):
        raise MalformedUpdate(f"{where} has no chat with an integer id")
    return data


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
