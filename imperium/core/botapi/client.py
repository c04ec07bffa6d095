"""The one client for the Telegram Bot API (pyTelegramBotAPI's `telebot.apihelper` underneath).

This module is a base piece: it imports no Imperium app, so any layer (incidents' alert outbox,
the conversations pipeline, the Telegram control plane) may use it.

- Address: `TELEGRAM_API_URL` (default https://api.telegram.org), so tests and demos talk to the
  local fake server (`imperium.telegram.testing.fake_bot_api`) with the real client code.
- Token: `ALERT_BOT_TOKEN` (one bot for alerts, manager topics and CEO commands).
- Errors: every failure is a `TelegramError` (an `IntegrationError`):
  permanent for 400/401/403/404/409 (repeating cannot help), retryable for 429 (with the
  server's `retry_after` seconds), 5xx, timeouts and connection errors.
- No retries here: callers own their retry policy (the alert outbox retries from the database,
  update processing retries the update).
- Results are the Bot API's JSON objects as dicts (`Message`, `ForumTopic`, `Update`...).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests
from django.conf import settings
from telebot import apihelper, types

from imperium.core.crypto import mask
from imperium.core.exceptions import IntegrationError

logger = logging.getLogger(__name__)

# Telegram's own limits.
MAX_MESSAGE_LENGTH = 4096
MAX_CALLBACK_ANSWER_LENGTH = 200

_PERMANENT_CODES = frozenset({400, 401, 403, 404, 409})
_NOT_MODIFIED = "message is not modified"


class TelegramError(IntegrationError):
    """A Bot API call failed. `status` is Telegram's error_code (or the HTTP status); None for
    network failures. `retry_after` is set for 429 (seconds to wait before the next call)."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        method: str,
        status: int | None = None,
        retry_after: float | None = None,
        description: str = "",
    ) -> None:
        super().__init__(message, permanent=permanent, status=status, retry_after=retry_after)
        self.method = method
        self.description = description


class TelegramNotConfigured(TelegramError):
    def __init__(self, method: str = "") -> None:
        super().__init__(
            "Telegram is not configured: ALERT_BOT_TOKEN is empty.", permanent=True, method=method, description="not configured"
        )


def _markup_json(markup: dict[str, Any] | types.InlineKeyboardMarkup | None) -> str | None:
    if markup is None:
        return None
    if isinstance(markup, types.JsonSerializable):
        return markup.to_json()
    return json.dumps(markup, ensure_ascii=False)


class TelegramClient:
    def __init__(self, *, token: str | None = None, api_url: str | None = None, timeout: float | None = None) -> None:
        self.token = settings.ALERT_BOT_TOKEN if token is None else token
        self.api_url = (settings.TELEGRAM_API_URL if api_url is None else api_url).rstrip("/")
        self.timeout = settings.TELEGRAM_TIMEOUT if timeout is None else timeout

    @property
    def configured(self) -> bool:
        return bool(self.token)

    # --- transport --------------------------------------------------------------------------
    def _call(self, method: str, func: Any, *args: Any, **kwargs: Any) -> Any:
        if not self.token:
            raise TelegramNotConfigured(method)
        # pyTelegramBotAPI keeps its address and default timeouts in module globals. Every client
        # in a process reads the same settings, so setting them per call is consistent; methods
        # that take a `timeout` argument get it explicitly as well.
        apihelper.API_URL = self.api_url + "/bot{0}/{1}"
        apihelper.CONNECT_TIMEOUT = self.timeout
        apihelper.READ_TIMEOUT = self.timeout
        try:
            return func(self.token, *args, **kwargs)
        except apihelper.ApiTelegramException as exc:
            raise self._from_api_error(method, exc) from None
        except apihelper.ApiHTTPException as exc:
            status = getattr(exc.result, "status_code", None)
            raise TelegramError(
                self._scrub(f"Telegram {method}: HTTP {status} without a Bot API body"),
                permanent=status in _PERMANENT_CODES,
                method=method,
                status=status,
                retry_after=_header_retry_after(exc.result) if status == 429 else None,
            ) from None
        except apihelper.ApiInvalidJSONException:
            raise TelegramError(f"Telegram {method}: invalid JSON in the answer", permanent=False, method=method) from None
        except requests.Timeout:
            raise TelegramError(f"Telegram {method}: timed out after {self.timeout}s", permanent=False, method=method) from None
        except requests.RequestException as exc:
            # requests puts the URL (with the bot token in its path) into the message.
            raise TelegramError(
                self._scrub(f"Telegram {method}: {type(exc).__name__}: {exc}"), permanent=False, method=method
            ) from None

    def _from_api_error(self, method: str, exc: apihelper.ApiTelegramException) -> TelegramError:
        code = int(exc.error_code)
        parameters = exc.result_json.get("parameters") or {}
        retry_after = parameters.get("retry_after") if code == 429 else None
        if code == 429 and retry_after is None:
            retry_after = _header_retry_after(exc.result)
        return TelegramError(
            self._scrub(f"Telegram {method}: {code} {exc.description}"),
            permanent=code in _PERMANENT_CODES,
            method=method,
            status=code,
            retry_after=float(retry_after) if retry_after is not None else None,
            description=str(exc.description),
        )

    def _scrub(self, text: str) -> str:
        return text.replace(self.token, mask(self.token)) if self.token else text

    # --- methods ----------------------------------------------------------------------------
    def get_me(self) -> dict[str, Any]:
        return self._call("getMe", apihelper.get_me)

    def send_message(
        self,
        *,
        chat_id: int | str,
        text: str,
        thread_id: int | None = None,
        reply_markup: dict[str, Any] | None = None,
        reply_to_message_id: int | None = None,
        disable_notification: bool | None = None,
    ) -> dict[str, Any]:
        """Send plain text (no parse_mode: what you pass is what people read). Text over
        Telegram's 4096-character limit is cut with an ellipsis rather than refused."""
        reply_parameters = (
            types.ReplyParameters(message_id=reply_to_message_id, allow_sending_without_reply=True)
            if reply_to_message_id
            else None
        )
        return self._call(
            "sendMessage",
            apihelper.send_message,
            chat_id,
            truncate_text(text),
            reply_markup=_markup_json(reply_markup),
            disable_notification=disable_notification,
            timeout=self.timeout,
            message_thread_id=thread_id,
            reply_parameters=reply_parameters,
        )

    def edit_message_text(
        self, *, chat_id: int | str, message_id: int, text: str, reply_markup: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Replace a message's text (and keyboard: omitted `reply_markup` removes it).
        Returns None when Telegram says nothing changed, which callers treat as done."""
        try:
            return self._call(
                "editMessageText",
                apihelper.edit_message_text,
                truncate_text(text),
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=_markup_json(reply_markup),
                timeout=self.timeout,
            )
        except TelegramError as exc:
            if exc.status == 400 and _NOT_MODIFIED in exc.description:
                return None
            raise

    def edit_message_reply_markup(
        self, *, chat_id: int | str, message_id: int, reply_markup: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Replace (or, with None, remove) a message's inline keyboard. None when unchanged."""
        try:
            return self._call(
                "editMessageReplyMarkup",
                apihelper.edit_message_reply_markup,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=_markup_json(reply_markup),
                timeout=self.timeout,
            )
        except TelegramError as exc:
            if exc.status == 400 and _NOT_MODIFIED in exc.description:
                return None
            raise

    def answer_callback_query(self, *, callback_query_id: str, text: str = "", show_alert: bool = False) -> bool:
        return bool(
            self._call(
                "answerCallbackQuery",
                apihelper.answer_callback_query,
                callback_query_id,
                text=text[:MAX_CALLBACK_ANSWER_LENGTH] or None,
                show_alert=show_alert or None,
            )
        )

    def get_chat(self, *, chat_id: int | str) -> dict[str, Any]:
        """The `ChatFullInfo` of a chat (`is_forum` is present and true for a forum supergroup)."""
        return self._call("getChat", apihelper.get_chat, chat_id)

    def create_forum_topic(self, *, chat_id: int | str, name: str) -> dict[str, Any]:
        """Create a topic in a forum supergroup; the result's `message_thread_id` addresses it."""
        return self._call("createForumTopic", apihelper.create_forum_topic, chat_id, name[:128])

    def set_webhook(
        self, *, url: str, secret_token: str, allowed_updates: list[str] | None = None, drop_pending_updates: bool | None = None
    ) -> bool:
        return bool(
            self._call(
                "setWebhook",
                apihelper.set_webhook,
                url=url,
                secret_token=secret_token,
                allowed_updates=allowed_updates,
                drop_pending_updates=drop_pending_updates,
                timeout=self.timeout,
            )
        )

    def delete_webhook(self, *, drop_pending_updates: bool | None = None) -> bool:
        return bool(
            self._call("deleteWebhook", apihelper.delete_webhook, drop_pending_updates=drop_pending_updates, timeout=self.timeout)
        )

    def get_webhook_info(self) -> dict[str, Any]:
        return self._call("getWebhookInfo", apihelper.get_webhook_info, timeout=self.timeout)

    def get_updates(
        self, *, offset: int | None = None, long_poll_seconds: int = 25, limit: int | None = None,
        allowed_updates: list[str] | None = None,
    ) -> list[dict[str, Any]]:
        """Long polling: waits up to `long_poll_seconds` for updates with update_id >= offset
        (asking with an offset confirms, and so drops, every earlier update)."""
        return self._call(
            "getUpdates",
            apihelper.get_updates,
            offset=offset,
            limit=limit,
            allowed_updates=allowed_updates,
            # pyTelegramBotAPI replaces 0 with its default of 10 s; 1 s is the shortest real poll.
            long_polling_timeout=max(1, long_poll_seconds),
        ) or []


def truncate_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> str:
    # Telegram counts UTF-16 code units; a small margin keeps astral characters (emoji) safe.
    limit = limit - 96
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header_retry_after(response: Any) -> float | None:
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def get_client() -> TelegramClient:
    """A client configured from settings (cheap: create one per use)."""
    return TelegramClient()
