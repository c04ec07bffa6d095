"""A fake ChatFlow gateway: the real `send-text` protocol, with fault injection.

Used by the tests (in a thread, `FakeChatFlow().start()`), by the benchmarks and by hand:

    python -m conversations.testing.fake_chatflow --port 9100

Like the real gateway it drops repeats of an idempotency key: the first request with a key
delivers the message; later ones answer 200 with the same message id (and `"duplicate": true`)
and deliver nothing. Faults apply to the next requests, in order:

    status  - answer with an HTTP status (500, 429 with Retry-After, 400 …); nothing delivered
    delay   - deliver the message, then answer only after N seconds (slow gateway)
    hang    - deliver nothing and answer 504 only after N seconds (client timeout)

An outage (`outage(seconds, status=502)`, or POST /_control/outage {"seconds": 15, "status": 502})
answers every send with that status until the time is up, then the gateway works again.

Control endpoints (JSON): POST /_control/faults  [{"kind": "status", "status": 500}, …],
GET /_control/messages, GET /_control/requests, POST /_control/reset.
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from imperium.core.testing.local_http import LocalHTTPServer, send_json


@dataclass
class Fault:
    kind: str  # status | delay | hang
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0
    body: dict[str, Any] | None = None


@dataclass
class RecordedRequest:
    key: str
    to: str
    text: str
    token: str
    instance_id: str
    received_at: float
    outcome: str  # delivered | duplicate | fault:<kind> | rejected


@dataclass
class DeliveredMessage:
    message_id: str
    key: str
    to: str
    text: str
    instance_id: str
    received_at: float
    repeats: int = 0


@dataclass
class _State:
    faults: list[Fault] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    delivered: dict[str, DeliveredMessage] = field(default_factory=dict)


class FakeChatFlow(LocalHTTPServer):
    thread_name = "fake-chatflow"

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, require_token: str | None = None) -> None:
        self._state = _State()
        self._lock = threading.Condition()
        self._stopping = threading.Event()
        self.require_token = require_token
        # False: a gateway that stopped deduplicating — a repeated key is delivered again (a double).
        self.honour_idempotency = True
        self._down_until = 0.0  # time.time() until which every send answers `_down_status`
        self._down_status = 502
        self.bind(self._handler_class(), host, port)

    def stop(self) -> None:
        self._stopping.set()  # slow answers in progress return at once
        super().stop()

    # --- control ------------------------------------------------------------------------
    def add_faults(self, *faults: Fault) -> None:
        with self._lock:
            self._state.faults.extend(faults)

    def fail(self, status: int = 500, times: int = 1, *, retry_after: str | None = None, body: dict[str, Any] | None = None) -> None:
        self.add_faults(*[Fault(kind="status", status=status, retry_after=retry_after, body=body) for _ in range(times)])

    def delay(self, seconds: float, times: int = 1) -> None:
        self.add_faults(*[Fault(kind="delay", seconds=seconds) for _ in range(times)])

    def hang(self, seconds: float, times: int = 1) -> None:
        self.add_faults(*[Fault(kind="hang", seconds=seconds) for _ in range(times)])

    def outage(self, seconds: float, status: int = 502) -> None:
        """Answer every send with `status` (nothing delivered) for the next `seconds`."""
        with self._lock:
            self._down_until, self._down_status = time.time() + seconds, status

    @property
    def down(self) -> bool:
        return time.time() < self._down_until

    def reset(self) -> None:
        with self._lock:
            self._state = _State()

    @property
    def messages(self) -> list[DeliveredMessage]:
        with self._lock:
            return list(self._state.delivered.values())

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.requests)

    def requests_for(self, key: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.key == key]

    def wait_for(self, predicate: Callable[[FakeChatFlow], bool], timeout: float = 10.0) -> bool:
        """Block until `predicate(self)` holds after some request, or `timeout` passes."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(remaining)
        return True

    # --- protocol -----------------------------------------------------------------------
    def _handle_send(self, body: dict[str, Any], header_key: str | None) -> tuple[int, dict[str, Any], dict[str, str], float]:
        """Returns (status, json body, headers, seconds to wait before answering)."""
        key = str(body.get("msg_id") or "")
        record = RecordedRequest(
            key=key, to=str(body.get("to") or ""), text=str(body.get("text") or ""), token=str(body.get("token") or ""),
            instance_id=str(body.get("instance_id") or ""), received_at=time.time(), outcome="rejected",
        )
        with self._lock:
            try:
                if not (key and record.to and record.text and record.instance_id is not None):
                    return 400, {"success": False, "error": "to, text and msg_id are required"}, {}, 0.0
                if header_key != key:
                    return 400, {"success": False, "error": "Idempotency-Key header must equal msg_id"}, {}, 0.0
                if self.require_token is not None and record.token != self.require_token:
                    return 401, {"success": False, "error": "bad token"}, {}, 0.0
                if record.received_at < self._down_until:
                    record.outcome = f"fault:{self._down_status}"
                    return self._down_status, {"success": False, "error": "gateway outage"}, {}, 0.0
                fault = self._state.faults.pop(0) if self._state.faults else None
                if fault is not None and fault.kind == "status":
                    record.outcome = f"fault:{fault.status}"
                    headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
                    return fault.status, fault.body or {"success": False, "error": f"injected {fault.status}"}, headers, 0.0
                if fault is not None and fault.kind == "hang":
                    record.outcome = "fault:hang"
                    return 504, {"success": False, "error": "gateway timeout"}, {}, fault.seconds
                existing = self._state.delivered.get(key)
                if existing is not None and not self.honour_idempotency:
                    key = f"{key}#{len(self._state.delivered) + 1}"
                    existing = None
                if existing is not None:
                    existing.repeats += 1
                    record.outcome = "duplicate"
                    return 200, {"success": True, "message_id": existing.message_id, "duplicate": True}, {}, 0.0
                message = DeliveredMessage(
                    message_id=f"fake-{len(self._state.delivered) + 1}", key=key, to=record.to, text=record.text,
                    instance_id=record.instance_id, received_at=record.received_at,
                )
                self._state.delivered[key] = message
                record.outcome = "delivered"
                wait = fault.seconds if fault is not None and fault.kind == "delay" else 0.0
                return 200, {"success": True, "message_id": message.message_id}, {}, wait
            finally:
                self._state.requests.append(record)
                self._lock.notify_all()

    def _control(self, method: str, path: str, body: Any) -> tuple[int, Any]:
        if method == "POST" and path == "/_control/faults":
            self.add_faults(*[Fault(**item) for item in (body or [])])
            return 200, {"queued": len(self._state.faults)}
        if method == "POST" and path == "/_control/outage":
            self.outage(float((body or {}).get("seconds", 0)), int((body or {}).get("status", 502)))
            return 200, {"down_until": self._down_until}
        if method == "POST" and path == "/_control/reset":
            self.reset()
            return 200, {"reset": True}
        if method == "GET" and path == "/_control/messages":
            return 200, [asdict(m) for m in self.messages]
        if method == "GET" and path == "/_control/requests":
            return 200, [asdict(r) for r in self.requests]
        return 404, {"error": "not found"}

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, a keep-alive client's delayed
            # ACK would hold the body back ~40 ms.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _read_json(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw) if raw else None

            def _answer(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                send_json(self, status, payload, headers=headers)

            def do_GET(self) -> None:
                status, payload = fake._control("GET", self.path, None)
                self._answer(status, payload)

            def do_POST(self) -> None:
                try:
                    body = self._read_json()
                except ValueError:
                    self._answer(400, {"success": False, "error": "body must be JSON"})
                    return
                if self.path.startswith("/_control/"):
                    status, payload = fake._control("POST", self.path, body)
                    self._answer(status, payload)
                    return
                if self.path.rstrip("/") != "/send-text" or not isinstance(body, dict):
                    self._answer(404, {"success": False, "error": "not found"})
                    return
                status, payload, headers, wait = fake._handle_send(body, self.headers.get("Idempotency-Key"))
                if wait:
                    fake._stopping.wait(wait)
                self._answer(status, payload, headers)

        return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Fake ChatFlow gateway (send-text) with fault injection.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--token", default=None, help="Refuse requests with another token (401).")
    args = parser.parse_args(argv)
    fake = FakeChatFlow(args.host, args.port, require_token=args.token)
    print(f"fake ChatFlow listening on {fake.url} (POST /send-text; control under /_control/)", flush=True)
    try:
        fake.server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        fake.server.server_close()


if __name__ == "__main__":
    main()
