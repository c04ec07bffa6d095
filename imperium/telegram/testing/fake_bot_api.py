"""A local fake of the Telegram Bot API, for tests and demos without Telegram.

Speaks the real protocol (`/bot<token>/<method>`, parameters in the query string, a form or JSON;
`{"ok": ...}` answers with the matching HTTP status), refuses what the real API refuses (empty or
over-long text, callback_data over 64 bytes, unknown or unmodified messages, getUpdates while a
webhook is set), records every call and can fail the next ones (429 with retry_after, 400, 403,
5xx, hang). In tests: the `fake_bot_api` / `telegram_bot` fixtures; standalone for `make run`:
`python -m imperium.telegram.testing.fake_bot_api --port 9200`, with a control API under `/_fake/`
(`calls`, `fail`, `updates`, `reset`).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from imperium.core.testing.local_http import LocalHTTPServer, send_body, send_json

logger = logging.getLogger(__name__)

_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>[A-Za-z]+)$")
_JSON_PARAMS = {"reply_markup", "reply_parameters", "allowed_updates", "entities", "link_preview_options"}
_DESCRIPTIONS = {
    400: "Bad Request: chat not found",
    401: "Unauthorized",
    403: "Forbidden: bot was kicked from the supergroup chat",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    token: str
    http_method: str
    status: int = 200
    at: float = field(default_factory=time.time)


@dataclass
class _Failure:
    status: int
    method: str | None
    retry_after: int | None
    description: str | None
    html: bool
    hang_seconds: float


class _ApiError(Exception):
    def __init__(self, status: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = parameters


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        logger.debug("fake-bot-api: connection error from %s", client_address, exc_info=True)


class FakeBotApi(LocalHTTPServer):
    """The fake server. Thread-safe; `port=0` picks a free port (see `.url`)."""

    thread_name = "fake-bot-api"
    poll_interval = 0.02  # keeps stop() (and so every test's teardown) fast

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        valid_tokens: set[str] | None = None,
        long_poll_cap: float = 0.0,
        control_api: bool = False,
    ) -> None:
        self.valid_tokens = valid_tokens
        self.long_poll_cap = long_poll_cap  # tests: never hold getUpdates; standalone: hold like Telegram
        self.control_api = control_api
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self._failures: list[_Failure] = []
        self.reset()
        self.bind(self._handler_class(), host, port, server_class=_QuietServer)

    # --- lifecycle --------------------------------------------------------------------------
    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            self._lock.notify_all()  # long polls in progress return at once
        super().stop()

    # --- test controls ----------------------------------------------------------------------
    def reset(self) -> None:
        with self._lock:
            self.calls: list[Call] = []
            self._failures = []
            self._messages: dict[tuple[str, int], dict[str, Any]] = {}
            self._message_ids = itertools.count(1001)
            self._topic_ids = itertools.count(501)
            self._updates: list[dict[str, Any]] = []
            self.webhook: dict[str, Any] = {}
            self.answered_callbacks: dict[str, dict[str, Any]] = {}
            self.chats: dict[str, dict[str, Any]] = {}

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        method: str | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        html: bool = False,
        hang_seconds: float = 0.0,
    ) -> None:
        """Answer the next `count` calls (of `method`, or any) with an error.

        `retry_after` goes into `parameters` (429 defaults to 5 s); `html=True` answers a
        non-JSON body like a proxy in front of Telegram; `hang_seconds` delays the answer."""
        if status == 429 and retry_after is None:
            retry_after = 5
        with self._lock:
            for _ in range(count):
                self._failures.append(_Failure(status, method, retry_after, description, html, hang_seconds))

    def delay_next(self, seconds: float, *, count: int = 1, method: str | None = None) -> None:
        """Hold the next `count` calls for `seconds` before answering them normally (to make a
        client with a shorter timeout give up)."""
        with self._lock:
            for _ in range(count):
                self._failures.append(_Failure(0, method, None, None, False, seconds))

    def set_chat(self, chat_id: int | str, **fields: Any) -> None:
        """Override what the fake says about a chat (getChat, messages' `chat`), e.g.
        `set_chat(-100123, is_forum=False)` for a plain supergroup without topics."""
        with self._lock:
            self.chats[str(chat_id)] = {**self.chats.get(str(chat_id), {}), **fields}

    def queue_update(self, update: dict[str, Any]) -> None:
        """Queue an Update object for getUpdates (long polls waiting now return it)."""
        with self._lock:
            self._updates.append(update)
            self._lock.notify_all()

    def calls_to(self, method: str, *, ok_only: bool = False) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    def sent_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Parameters of sendMessage calls Telegram accepted (optionally into one chat)."""
        return [
            c.params for c in self.calls_to("sendMessage", ok_only=True)
            if chat_id is None or str(c.params.get("chat_id")) == str(chat_id)
        ]

    def message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        """The current state of a message the fake holds (after edits)."""
        with self._lock:
            return self._messages.get((str(chat_id), int(message_id)))

    # --- request handling -------------------------------------------------------------------
    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 60

            def do_GET(self) -> None:
                api._handle(self)

            def do_POST(self) -> None:
                api._handle(self)

            def log_message(self, fmt: str, *args: Any) -> None:
                logger.debug("fake-bot-api " + fmt, *args)

        return Handler

    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(request.path)
        length = int(request.headers.get("Content-Length") or 0)
        body = request.rfile.read(length) if length else b""
        if self.control_api and parts.path.startswith("/_fake/"):
            self._control(request, parts.path, body)
            return
        match = _PATH.match(parts.path)
        if not match:
            self._reply(request, 404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        token, method = match["token"], match["method"]
        try:
            params = self._params(parts.query, body, request.headers.get("Content-Type", ""))
        except ValueError:
            self._reply(request, 400, {"ok": False, "error_code": 400, "description": "Bad Request: can't parse request body"})
            return
        call = Call(method=method, params=params, token=token, http_method=request.command)
        with self._lock:
            self.calls.append(call)
            failure = self._take_failure(method)
        if failure is not None:
            if failure.hang_seconds:
                self._stopping.wait(failure.hang_seconds)
            if failure.status:
                call.status = failure.status
                self._reply_failure(request, failure)
                return
        if self.valid_tokens is not None and token not in self.valid_tokens:
            call.status = 401
            self._reply(request, 401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            result = self._dispatch(method, params, token)
        except _ApiError as exc:
            call.status = exc.status
            payload: dict[str, Any] = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                payload["parameters"] = exc.parameters
            self._reply(request, exc.status, payload)
            return
        self._reply(request, 200, {"ok": True, "result": result})

    def _take_failure(self, method: str) -> _Failure | None:
        for index, failure in enumerate(self._failures):
            if failure.method in (None, method):
                return self._failures.pop(index)
        return None

    @staticmethod
    def _params(query: str, body: bytes, content_type: str) -> dict[str, Any]:
        params: dict[str, Any] = {k: v[-1] for k, v in parse_qs(query, keep_blank_values=True).items()}
        if body:
            if content_type.startswith("application/json"):
                decoded = json.loads(body)
                if not isinstance(decoded, dict):
                    raise ValueError("JSON body is not an object")
                params.update(decoded)
            else:
                params.update({k: v[-1] for k, v in parse_qs(body.decode(), keep_blank_values=True).items()})
        for key in _JSON_PARAMS & params.keys():
            if isinstance(params[key], str):
                params[key] = json.loads(params[key])
        return params

    def _reply(self, request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
        send_json(request, status, payload)

    def _reply_failure(self, request: BaseHTTPRequestHandler, failure: _Failure) -> None:
        if failure.html:
            send_body(request, failure.status, f"<html><body><h1>{failure.status}</h1></body></html>".encode(), content_type="text/html",
                      headers={"Retry-After": str(failure.retry_after)} if failure.retry_after is not None else None)
            return
        description = failure.description or _DESCRIPTIONS.get(failure.status, "Error").format(retry_after=failure.retry_after)
        payload: dict[str, Any] = {"ok": False, "error_code": failure.status, "description": description}
        if failure.retry_after is not None:
            payload["parameters"] = {"retry_after": failure.retry_after}
        self._reply(request, failure.status, payload)

    # --- Bot API methods --------------------------------------------------------------------
    def _dispatch(self, method: str, params: dict[str, Any], token: str) -> Any:
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            raise _ApiError(404, "Not Found")
        return handler(params, token)

    @staticmethod
    def _bot_user(token: str) -> dict[str, Any]:
        bot_id = token.split(":", 1)[0]
        return {
            "id": int(bot_id) if bot_id.isdigit() else 100000001,
            "is_bot": True,
            "first_name": "Imperium",
            "username": "imperium_test_bot",
        }

    def _chat(self, chat_id: str) -> dict[str, Any]:
        if chat_id.startswith("@"):
            chat: dict[str, Any] = {"id": -1009000000001, "type": "channel", "title": chat_id[1:], "username": chat_id[1:]}
        elif int(chat_id) > 0:
            chat = {"id": int(chat_id), "type": "private", "first_name": "Test"}
        else:
            chat = {"id": int(chat_id), "type": "supergroup", "title": "Test group", "is_forum": True}
        chat.update(self.chats.get(chat_id, {}))
        chat.pop("missing", None)
        if not chat.get("is_forum", True):
            chat.pop("is_forum")  # Telegram omits false booleans
        return chat

    @staticmethod
    def _require(params: dict[str, Any], name: str, description: str) -> Any:
        value = params.get(name)
        if value in (None, ""):
            raise _ApiError(400, description)
        return value

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        if not isinstance(markup, dict):
            raise _ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if len(str(button.get("callback_data", "")).encode()) > 64:
                    raise _ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                if not button.get("text"):
                    raise _ApiError(400, "Bad Request: text buttons are unallowed in the inline keyboard")

    def _m_getMe(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        return {**self._bot_user(token), "can_join_groups": True, "can_read_all_group_messages": False,
                "supports_inline_queries": False}

    def _m_sendMessage(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat_id = str(self._require(params, "chat_id", "Bad Request: chat_id is empty"))
        text = str(self._require(params, "text", "Bad Request: message text is empty"))
        if len(text.encode("utf-16-le")) // 2 > 4096:
            raise _ApiError(400, "Bad Request: message is too long")
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            message_id = next(self._message_ids)
            message: dict[str, Any] = {
                "message_id": message_id,
                "from": self._bot_user(token),
                "chat": self._chat(chat_id),
                "date": int(time.time()),
                "text": text,
            }
            thread_id = params.get("message_thread_id")
            if thread_id not in (None, ""):
                message["message_thread_id"] = int(thread_id)
                message["is_topic_message"] = True
            reply = params.get("reply_parameters") or {}
            if reply.get("message_id"):
                original = self._messages.get((chat_id, int(reply["message_id"])))
                if original is not None:
                    message["reply_to_message"] = original
                elif not reply.get("allow_sending_without_reply"):
                    raise _ApiError(400, "Bad Request: message to be replied not found")
            if markup:
                message["reply_markup"] = markup
            self._messages[(chat_id, message_id)] = message
        return message

    def _edited(self, params: dict[str, Any]) -> tuple[str, int, dict[str, Any]]:
        chat_id = str(self._require(params, "chat_id", "Bad Request: chat_id is empty"))
        message_id = int(self._require(params, "message_id", "Bad Request: message identifier is not specified"))
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise _ApiError(400, "Bad Request: message to edit not found")
        return chat_id, message_id, message

    def _m_editMessageText(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        text = str(self._require(params, "text", "Bad Request: text must be non-empty"))
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            chat_id, message_id, message = self._edited(params)
            if message.get("text") == text and message.get("reply_markup") == markup:
                raise _ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                     "markup are exactly the same as a current content and reply markup of the message")
            updated = {**message, "text": text, "edit_date": int(time.time())}
            updated.pop("reply_markup", None)
            if markup:
                updated["reply_markup"] = markup
            self._messages[(chat_id, message_id)] = updated
        return updated

    def _m_editMessageReplyMarkup(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        markup = params.get("reply_markup")
        self._check_markup(markup)
        with self._lock:
            chat_id, message_id, message = self._edited(params)
            if message.get("reply_markup") == markup:
                raise _ApiError(400, "Bad Request: message is not modified: specified new message content and reply "
                                     "markup are exactly the same as a current content and reply markup of the message")
            updated = {**message, "edit_date": int(time.time())}
            updated.pop("reply_markup", None)
            if markup:
                updated["reply_markup"] = markup
            self._messages[(chat_id, message_id)] = updated
        return updated

    def _m_answerCallbackQuery(self, params: dict[str, Any], token: str) -> bool:
        query_id = str(self._require(params, "callback_query_id", "Bad Request: QUERY_ID_INVALID"))
        with self._lock:
            if query_id in self.answered_callbacks:
                raise _ApiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
            self.answered_callbacks[query_id] = params
        return True

    def _m_createForumTopic(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat_id = str(self._require(params, "chat_id", "Bad Request: chat_id is empty"))
        name = str(self._require(params, "name", "Bad Request: topic name is empty"))
        if not chat_id.startswith("-100") or not self._chat(chat_id).get("is_forum"):
            raise _ApiError(400, "Bad Request: the chat is not a forum")
        with self._lock:
            return {"message_thread_id": next(self._topic_ids), "name": name, "icon_color": 7322096}

    def _m_getChat(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        chat_id = str(self._require(params, "chat_id", "Bad Request: chat_id is empty"))
        with self._lock:
            if self.chats.get(chat_id, {}).get("missing"):
                raise _ApiError(400, "Bad Request: chat not found")
            chat = self._chat(chat_id)
        return {**chat, "accent_color_id": 0, "max_reaction_count": 11}

    def _m_setWebhook(self, params: dict[str, Any], token: str) -> bool:
        url = str(params.get("url") or "")
        with self._lock:
            self.webhook = {"url": url, "secret_token": params.get("secret_token", ""),
                            "allowed_updates": params.get("allowed_updates")} if url else {}
        return True

    def _m_deleteWebhook(self, params: dict[str, Any], token: str) -> bool:
        with self._lock:
            self.webhook = {}
            if str(params.get("drop_pending_updates", "")).lower() == "true":
                self._updates = []
        return True

    def _m_getWebhookInfo(self, params: dict[str, Any], token: str) -> dict[str, Any]:
        with self._lock:
            return {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                    "pending_update_count": len(self._updates)}

    def _m_getUpdates(self, params: dict[str, Any], token: str) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        limit = int(params.get("limit") or 100)
        wait = min(float(params.get("timeout") or 0), self.long_poll_cap)
        deadline = time.monotonic() + wait
        with self._lock:
            if self.webhook:
                raise _ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                     "use deleteWebhook to delete the webhook first")
            while True:
                if offset:
                    # Asking with an offset confirms every earlier update: Telegram forgets them.
                    self._updates = [u for u in self._updates if u["update_id"] >= offset]
                if self._updates or self._stopping.is_set():
                    return self._updates[:limit]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return []
                self._lock.wait(remaining)

    # --- control API (standalone mode) ------------------------------------------------------
    def _control(self, request: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        data = json.loads(body) if body else {}
        if path == "/_fake/calls":
            with self._lock:
                calls = [{"method": c.method, "params": c.params, "status": c.status, "at": c.at} for c in self.calls]
            self._reply(request, 200, {"calls": calls})
        elif path == "/_fake/fail":
            self.fail_next(int(data.get("status", 429)), count=int(data.get("count", 1)), method=data.get("method"),
                           retry_after=data.get("retry_after"), description=data.get("description"))
            self._reply(request, 200, {"ok": True})
        elif path == "/_fake/updates":
            self.queue_update(data)
            self._reply(request, 200, {"ok": True})
        elif path == "/_fake/reset":
            self.reset()
            self._reply(request, 200, {"ok": True})
        else:
            self._reply(request, 404, {"ok": False})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake Telegram Bot API for local development and tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9200)
    parser.add_argument("--token", action="append", help="accept only these bot tokens (repeatable); default: any")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    api = FakeBotApi(args.host, args.port, valid_tokens=set(args.token) if args.token else None, long_poll_cap=30.0,
                     control_api=True)
    print(f"Fake Telegram Bot API on {api.url} (set TELEGRAM_API_URL={api.url}); control API under {api.url}/_fake/", flush=True)
    try:
        api.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        api.stop()  # serve_forever ran in this thread, so stop() only closes the socket


if __name__ == "__main__":
    main()
