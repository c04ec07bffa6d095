"""Small local HTTP servers speaking the outside services' protocols, so the real clients
(timeouts, retries, parsing) run in tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from imperium.core.testing.local_http import LocalHTTPServer, QuietHandler, send_body

Responder = Callable[[str, str, dict[str, Any], dict[str, str]], tuple[int, Any]]


class FakeServer(LocalHTTPServer):
    """Answers each request with `responder(method, path, json_body, headers) -> (status, body)`.
    Records every request in `self.requests`."""

    def __init__(self, responder: Responder) -> None:
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(QuietHandler):
            def handle_method(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {"raw": raw.decode(errors="replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append({"method": method, "path": self.path, "json": body, "headers": headers})
                status, payload, *extra = outer.responder(method, self.path, body, headers)
                send_body(self, status, payload if isinstance(payload, bytes) else json.dumps(payload).encode(),
                          headers=extra[0] if extra else None)

        self.bind(Handler)


def closed_port_url() -> str:
    """An address nothing listens on (connection refused at once)."""
    import socket

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return f"http://127.0.0.1:{port}"
