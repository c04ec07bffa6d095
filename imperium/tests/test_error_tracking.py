"""Sentry: off without SENTRY_DSN; with it, events reach the ingest endpoint tagged with tenant
and correlation id, and without phone numbers or message texts."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import threading
import zlib

from conversations.testing.live import ROOT
from imperium.core.errortracking import FILTERED, before_breadcrumb, before_send
from imperium.core.testing.local_http import LocalHTTPServer, QuietHandler, send_json

SCRIPT = r"""
import logging, django
django.setup()
import sentry_sdk
from imperium.core.errortracking import init_error_tracking
from imperium.core.correlation import correlation_scope
assert init_error_tracking("worker")
with correlation_scope("corr-sentry-1", tenant="alpha"):
    try:
        raise ValueError("delivery to +7 701 123 45 67 failed")
    except ValueError:
        sentry_sdk.capture_exception()
    logging.getLogger("conversations.webhook").error(
        "reply to 87011234567 failed", extra={"text": "Запишите меня на маникюр, мой номер +77011234567"})
sentry_sdk.flush(10)
print("flushed")
"""


class FakeSentry(LocalHTTPServer):
    """Sentry's ingest endpoint: POST /api/<project>/envelope/ with a (compressed) envelope."""

    thread_name = "fake-sentry"

    def __init__(self) -> None:
        self.envelopes: list[bytes] = []
        self.paths: list[str] = []
        self.received = threading.Event()
        fake = self

        class Handler(QuietHandler):
            def handle_method(self, method: str) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                encoding = (self.headers.get("Content-Encoding") or "").lower()
                if encoding == "gzip":
                    body = gzip.decompress(body)
                elif encoding == "deflate":
                    body = zlib.decompress(body)
                fake.paths.append(self.path)
                fake.envelopes.append(body)
                fake.received.set()
                send_json(self, 200, {"id": "0" * 32})

        self.bind(Handler)

    def events(self) -> list[dict]:
        found = []
        for envelope in self.envelopes:
            for line in envelope.splitlines():
                try:
                    item = json.loads(line)
                except ValueError:
                    continue
                if isinstance(item, dict) and "event_id" in item and ("exception" in item or "logentry" in item):
                    found.append(item)
        return found


def test_events_reach_the_ingest_endpoint_scrubbed_and_tagged(tmp_path):
    with FakeSentry() as sentry:
        host, port = sentry.server.server_address[:2]
        env = {"PATH": "/usr/bin:/bin", "DJANGO_SETTINGS_MODULE": "imperium.settings", "VAR_DIR": str(tmp_path),
               "SENTRY_DSN": f"http://publickey@{host}:{port}/42", "LOG_LEVEL": "error"}
        result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0 and "flushed" in result.stdout, result.stderr
        events = sentry.events()

    assert all(path.startswith("/api/42/envelope/") for path in sentry.paths)
    assert len(events) == 2, sentry.envelopes
    raw = json.dumps(events, ensure_ascii=False)
    for secret in ("701 123 45 67", "87011234567", "77011234567", "маникюр"):
        assert secret not in raw
    exception_event = next(e for e in events if "exception" in e)
    assert exception_event["exception"]["values"][0]["value"] == "delivery to [phone] failed"
    log_event = next(e for e in events if "logentry" in e)
    assert "[phone]" in json.dumps(log_event["logentry"], ensure_ascii=False)
    for event in events:
        assert event["tags"]["tenant"] == "alpha" and event["tags"]["correlation_id"] == "corr-sentry-1"
        assert event["tags"]["component"] == "worker"


def test_it_is_off_without_a_dsn(settings):
    from imperium.core.errortracking import init_error_tracking

    settings.SENTRY_DSN = ""
    assert init_error_tracking("web") is False


def test_before_send_drops_request_bodies_locals_and_secret_headers():
    event = {
        "request": {"url": "https://imperium.example.com/webhook/alpha", "data": '{"text": "hi"}', "cookies": {"sessionid": "s"},
                    "headers": {"Authorization": "Bearer abc", "Webhook-Signature": "v1,xyz", "User-Agent": "ChatFlow"}},
        "exception": {"values": [{"type": "KeyError", "value": "+77011234567",
                                  "stacktrace": {"frames": [{"function": "f", "vars": {"text": "Привет"}}]}}]},
        "extra": {"outbound": {"to": "+77011234567", "text": "Маникюр стоит 5000", "attempts": 3}},
    }
    scrubbed = before_send(event, {})
    assert "data" not in scrubbed["request"] and "cookies" not in scrubbed["request"]
    assert scrubbed["request"]["headers"]["Authorization"] == FILTERED
    assert scrubbed["request"]["headers"]["Webhook-Signature"] == FILTERED
    assert scrubbed["request"]["headers"]["User-Agent"] == "ChatFlow"
    assert "vars" not in scrubbed["exception"]["values"][0]["stacktrace"]["frames"][0]
    assert scrubbed["exception"]["values"][0]["value"] == "[phone]"
    assert scrubbed["extra"]["outbound"] == {"to": FILTERED, "text": FILTERED, "attempts": 3}
    crumb = before_breadcrumb({"message": "sent to 8 (701) 123-45-67", "category": "x"}, {})
    assert crumb["message"] == "sent to [phone]"
