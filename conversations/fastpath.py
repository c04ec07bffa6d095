"""WSGI fast path for the inbound webhook.

`POST /webhook/<slug>` and `POST /webhook` are answered here, before Django's request handler
and middleware stack (sessions, CSRF, messages, auth, history…), none of which a signed
machine-to-machine call needs: they cost about as much CPU as the whole accept itself. The
logic is the same function the Django view calls (`conversations.webhook.webhook_receive`);
this wrapper adds what Django would have done for it: database connection housekeeping
(`request_started` / `request_finished`, without the per-request health check), the correlation id (accepted from `X-Correlation-ID`,
always returned), and a 500 with a log line and an ErrorLog for an unexpected error.

Enabled by WEBHOOK_FAST_PATH (default true); every other URL goes to Django unchanged.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from django.core import signals
from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger("conversations.webhook")

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Exactly the URL patterns of conversations/urls.py (slug converter: [-a-zA-Z0-9_]+).
_ROUTE = re.compile(r"^/webhook(?:/([-a-zA-Z0-9_]+))?$")


class WebhookFastPath:
    """Marker sender for the request signals sent on the fast path."""


def with_webhook_fast_path(django_app: WSGIApp) -> WSGIApp:
    from django.conf import settings

    if not settings.WEBHOOK_FAST_PATH:
        return django_app

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("REQUEST_METHOD") == "POST":
            match = _ROUTE.match(environ.get("PATH_INFO", ""))
            if match is not None:
                return _webhook(environ, start_response, match.group(1))
        return django_app(environ, start_response)

    application.django_app = django_app  # type: ignore[attr-defined]
    return application


def _webhook(environ: dict[str, Any], start_response: Callable[..., Any], client_slug: str | None) -> Iterable[bytes]:
    from conversations.webhook import MAX_BODY_BYTES, TOO_LARGE, declared_length, webhook_receive
    from imperium.core.correlation import HEADER, correlation_scope

    signals.request_started.send(sender=WebhookFastPath, environ=environ)
    # Skip the per-request `SELECT 1` of CONN_HEALTH_CHECKS here — one round trip saved on every
    # delivery. A connection that died since the last request (a database restart, a failover) is
    # noticed when the accept fails instead: it is closed and the request runs once more on a new
    # one (`_receive`).
    connection.health_check_done = True
    try:
        with correlation_scope(environ.get("HTTP_X_CORRELATION_ID")) as correlation_id:
            try:
                length = declared_length(environ)
                if length > MAX_BODY_BYTES:
                    status, payload = 413, json.dumps({"error": TOO_LARGE}).encode()
                else:
                    stream = environ["wsgi.input"]
                    body = stream.read(length) if length else stream.read(MAX_BODY_BYTES + 1)
                    status, payload = _receive(webhook_receive, client_slug=client_slug, meta=environ, body=body,
                                               correlation_id=correlation_id)
            except Exception as exc:  # the caller (ChatFlow) retries on 5xx; the ErrorLog says what broke
                logger.exception("webhook failed for %s", client_slug)
                from incidents.errors import error_log_record

                error_log_record(where=f"http POST {environ.get('PATH_INFO', '')}"[:200], exc=exc,
                                 context={"path": environ.get("PATH_INFO", "")[:500], "fast_path": True})
                status, payload = 500, b'{"error":"internal error"}'
    finally:
        signals.request_finished.send(sender=WebhookFastPath)
    start_response(
        f"{status} {_REASONS.get(status, 'Error')}",
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload))), (HEADER, correlation_id)],
    )
    return [payload]


def _receive(webhook_receive: Callable[..., tuple[int, bytes]], **kwargs: Any) -> tuple[int, bytes]:
    """`webhook_receive`, run once more on a new connection when the database connection turned
    out to be gone. Safe to repeat: the accept is one idempotent statement (a retry of a message
    that did commit answers `duplicate`, and the sweeper queues its turn); the Redis key the first
    try set is confirmed against the database, never trusted."""
    try:
        return webhook_receive(**kwargs)
    except (OperationalError, InterfaceError):
        # Not when no connection was open (the database is down: a second try would only wait
        # again), nor when the connection still answers `SELECT 1` (the statement's own error: a
        # timeout, a lock).
        if connection.connection is None or not connection.errors_occurred or connection.is_usable():
            raise
        connection.close()
        logger.warning("webhook for %s: the database connection was gone; retrying on a new one", kwargs.get("client_slug"))
        return webhook_receive(**kwargs)


_REASONS = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 413: "Payload Too Large", 500: "Internal Server Error"}
