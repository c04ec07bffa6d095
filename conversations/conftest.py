"""Fixtures for the pipeline tests.

- every test gets a clean webhook tenant cache and its own Redis key prefix;
- `queued`: task messages are recorded instead of being sent to a broker (autouse), so tests
  drive the pipeline step by step with services and `time_machine`;
- `fake_chatflow`: a real HTTP fake of the gateway, wired in as CHATFLOW_BASE_URL;
- `webhook`: signs requests with the `standardwebhooks` package (an implementation we did not
  write) and posts them through the Django test client.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from standardwebhooks import Webhook

from conversations import dispatch as _dispatch
from conversations.testing.fake_chatflow import FakeChatFlow
from conversations.webhook import webhook_tenant_cache_clear


@dataclass
class Queued:
    task: str
    args: list[Any]
    queue: str
    eta: datetime | None
    front: bool = False  # recovered work, taken before what already waits (dispatch._publish)


@pytest.fixture(autouse=True)
def _pipeline_isolation(settings):
    webhook_tenant_cache_clear()
    settings.WEBHOOK_DEDUP_KEY_PREFIX = f"test:{uuid.uuid4().hex}"
    settings.CHATFLOW_RETRY_BACKOFF = 0.01
    settings.CHATFLOW_RETRY_MAX_DELAY = 2.0
    settings.CHATFLOW_TIMEOUT = 2.0
    settings.CHATFLOW_BASE_URL = ""
    settings.CONVERSATION_NOTIFIER = "conversations.tests.helpers.RecordingNotifier"
    from conversations.tests.helpers import RecordingNotifier

    RecordingNotifier.reset()
    yield
    webhook_tenant_cache_clear()


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list[Queued]:
    calls: list[Queued] = []

    def record(task_name: str, args: list[Any], *, queue: str, eta: datetime | None = None, front: bool = False) -> None:
        calls.append(Queued(task_name, list(args), queue, eta, front))

    monkeypatch.setattr("conversations.dispatch._publish", record)
    return calls


# The real publisher, captured at import: the autouse `queued` fixture replaces it in each test.
_REAL_PUBLISH = _dispatch._publish


@pytest.fixture
def local_cache(settings):
    """This process's own in-memory cache: for tests of logic that keeps state in the cache (the
    circuit breaker, the queue latency), so a slow shared Redis on a loaded machine cannot fail
    them (a cache that fails is handled as "nothing known", which is what they must not see)."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "test-local"}}
    from django.core.cache import cache

    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def private_broker(tmp_path, settings, monkeypatch):
    """A private redis-server as the broker and cache of this process and of the live workers a
    test starts (pass `url` as their CELERY_BROKER_URL and REDIS_URL): every task in it is the
    test's. Publishing for real is switched on; `publish` is the real publisher, for a test that
    switches it off for a while."""
    from types import SimpleNamespace

    from conversations.testing.live import LiveRedis
    from imperium.celery import app

    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL not set: the embedded run has no Redis (CI sets it)")
    with LiveRedis(tmp_path).start() as redis_server:
        settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_server.url}}
        # The keys the workers use (the cache is private to this test anyway).
        settings.TURN_QUEUE_LATENCY_CACHE_KEY = "imperium:turn-queue-latency"
        settings.CHATFLOW_CIRCUIT_KEY_PREFIX = "imperium:chatflow-circuit"
        monkeypatch.setitem(app.conf, "broker_url", redis_server.url)
        monkeypatch.setitem(app.conf, "broker_transport_options", {})
        monkeypatch.setattr(_dispatch, "_publish", _REAL_PUBLISH)
        yield SimpleNamespace(url=redis_server.url, publish=_REAL_PUBLISH)


@pytest.fixture
def fake_chatflow(settings):
    with FakeChatFlow() as fake:
        settings.CHATFLOW_BASE_URL = fake.url
        yield fake


def message_body(**overrides: Any) -> dict[str, Any]:
    body = {"message_id": f"wamid.{uuid.uuid4().hex}", "from": "+77011234567", "name": "Айгерим", "type": "text",
            "text": "Сколько стоит маникюр?", "timestamp": int(time.time())}
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


class WebhookSender:
    def __init__(self, client: Any) -> None:
        self.client = client

    def headers(self, secret: str, body: bytes, *, msg_id: str | None = None, timestamp: datetime | None = None) -> dict[str, str]:
        msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
        timestamp = timestamp or datetime.now(tz=UTC)
        try:
            signature = Webhook(secret).sign(msg_id, timestamp, body.decode())
        except UnicodeDecodeError:  # the package signs text only; bytes that are not UTF-8 are signed by ours
            from conversations.signing import sign

            signature = sign(secret, msg_id, int(timestamp.timestamp()), body)
        return {"webhook-id": msg_id, "webhook-timestamp": str(int(timestamp.timestamp())), "webhook-signature": signature}

    def post(
        self, tenant: Any, payload: dict[str, Any] | None = None, *, raw: bytes | None = None, secret: str | None = None,
        headers: dict[str, str] | None = None, path: str | None = None, timestamp: datetime | None = None, **message: Any,
    ) -> Any:
        if raw is None:
            raw = json.dumps(payload if payload is not None else message_body(**message), ensure_ascii=False).encode()
        body = raw
        signed = self.headers(secret or tenant.settings.webhook_secret, body, timestamp=timestamp)
        if headers is not None:
            signed.update(headers)
            signed = {k: v for k, v in signed.items() if v is not None}
        return self.client.post(
            path or f"/webhook/{tenant.slug}", data=body, content_type="application/json",
            headers=signed,
        )


@pytest.fixture
def webhook(client) -> WebhookSender:
    return WebhookSender(client)


@pytest.fixture
def brain(monkeypatch):
    """brain(...) -> replace `decide_reply` for the pipeline with a scripted `Answering`."""

    def install(*args: Any, **kwargs: Any) -> Any:
        from conversations.tests.helpers import Answering

        fake = Answering(*args, **kwargs)
        monkeypatch.setattr("conversations.services.turns.decide_reply", fake)
        return fake

    return install


@pytest.fixture
def inline(django_capture_on_commit_callbacks):
    """`with inline():` — run after-commit work and queued tasks in this process, as a worker would."""
    from contextlib import contextmanager

    from conversations import dispatch

    @contextmanager
    def _inline():
        with dispatch.inline(), django_capture_on_commit_callbacks(execute=True):
            yield

    return _inline
