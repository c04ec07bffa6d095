"""What every local fake server (ChatFlow, Telegram Bot API, Qdrant, LLM/embeddings) shares: a
threaded HTTP server on a free port with start/stop, and writing one complete response.

    class FakeThing(LocalHTTPServer):
        thread_name = "fake-thing"

        def __init__(self) -> None:
            self.bind(self._handler_class())       # host 127.0.0.1, port 0 (any free port)

    with FakeThing() as fake:                   # start() … stop()
        client = Client(base_url=fake.url)
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


def send_body(handler: BaseHTTPRequestHandler, status: int, data: bytes, *, content_type: str = "application/json",
              headers: dict[str, str] | None = None) -> None:
    """Write a whole response. A client that already hung up (a timeout test) is not an error."""
    try:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)
    except (BrokenPipeError, ConnectionResetError):
        handler.close_connection = True


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any, *, headers: dict[str, str] | None = None) -> None:
    send_body(handler, status, json.dumps(payload, ensure_ascii=False).encode(), headers=headers)


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that routes every method to `handle_method(method)` and logs nothing."""

    def handle_method(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:
        self.handle_method("GET")

    def do_POST(self) -> None:
        self.handle_method("POST")

    def do_PUT(self) -> None:
        self.handle_method("PUT")

    def do_DELETE(self) -> None:
        self.handle_method("DELETE")

    def log_message(self, format: str, *args: Any) -> None:
        pass


class LocalHTTPServer:
    """Lifecycle of a fake server: `bind()` in `__init__`, then `start()`/`stop()` or `with`."""

    thread_name = "fake-http"
    poll_interval = 0.05  # short: stop() (every test's teardown) waits up to this long

    def bind(self, handler_class: type[BaseHTTPRequestHandler], host: str = "127.0.0.1", port: int = 0,
             server_class: type[ThreadingHTTPServer] = ThreadingHTTPServer) -> None:
        self.server = server_class((host, port), handler_class)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": self.poll_interval},
                                        name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self.server.server_close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
