"""Fixtures for the sentinel, incident and fixer tests.

- every test: task messages are recorded instead of published (`queued`), the direct-alert
  marker lives in a temporary VAR_DIR, the process-wide knowledge index starts empty;
- `healthy`: a system where every check can pass — a real web process (Django's WSGI app in a
  thread) at PUBLIC_BASE_URL, the fake Bot API, a fake Qdrant server holding tenant A's KB,
  the fake ChatFlow with one delivered reply;
- `sentinel(times=1)`: run the sentinel as beat would, with after-commit work (alert sends)
  run inline, so every alert reaches the fake Telegram server.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

import pytest
from django.utils import timezone

from imperium.core.actors import Actor
from imperium.telegram.tests.conftest import ceo_allowed, deliver  # noqa: F401  (fixtures)
from knowledge.testing.fake_qdrant import FakeQdrant

KB = "\n".join([
    '{"id": "price-manicure", "question": "Сколько стоит маникюр?", "answer": "Маникюр стоит 5000 тенге."}',
    '{"id": "hours", "question": "Когда вы работаете?", "answer": "Каждый день с 10:00 до 21:00."}',
    '{"id": "address", "question": "Где вы находитесь?", "answer": "Алматы, ул. Толе би, 101."}',
])
QDRANT_KEY = "test-qdrant-key"


@dataclass
class Queued:
    task: str
    args: list[Any]
    queue: str


@pytest.fixture(autouse=True)
def queued(monkeypatch) -> list[Queued]:
    calls: list[Queued] = []

    def record(task_name: str, args: list[Any], *, queue: str, eta: Any = None, front: bool = False) -> None:
        calls.append(Queued(task_name, list(args), queue))

    monkeypatch.setattr("conversations.dispatch._publish", record)
    return calls


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    from conversations.tests.helpers import RecordingNotifier
    from conversations.webhook import webhook_tenant_cache_clear
    from knowledge.index import reset_index
    from knowledge.retrieval import clear_caches

    settings.VAR_DIR = tmp_path
    settings.CHATFLOW_BASE_URL = ""
    # These tests drive the incident machinery with deliveries that gave up at once; waiting in the
    # outbox for minutes first (the default) is tested in conversations/tests/test_delivery.py and
    # by test_sentinel.py's outage test, which sets the window back.
    settings.DELIVERY_RETRY_WINDOW_SECONDS = 0
    settings.CHATFLOW_RETRY_BACKOFF = 0.01
    settings.CHATFLOW_RETRY_MAX_DELAY = 1.0
    settings.CHATFLOW_TIMEOUT = 2.0
    settings.HEALTH_CHECK_TIMEOUT = 2.0
    settings.CONVERSATION_NOTIFIER = "conversations.tests.helpers.RecordingNotifier"
    RecordingNotifier.reset()
    webhook_tenant_cache_clear()
    reset_index()
    clear_caches()
    yield
    reset_index()
    clear_caches()


class _Quiet(WSGIRequestHandler):
    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def web_server(settings) -> Iterator[str]:
    """The real Django WSGI application in a thread, at PUBLIC_BASE_URL."""
    from django.core.wsgi import get_wsgi_application

    server = make_server("127.0.0.1", 0, get_wsgi_application(), handler_class=_Quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}"
    settings.PUBLIC_BASE_URL = url
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def fake_qdrant(settings) -> Iterator[FakeQdrant]:
    with FakeQdrant(api_key=QDRANT_KEY) as qdrant:
        settings.QDRANT_URL, settings.QDRANT_API_KEY = qdrant.url, QDRANT_KEY
        yield qdrant


@pytest.fixture
def fake_chatflow(settings):
    from conversations.testing.fake_chatflow import FakeChatFlow

    with FakeChatFlow() as fake:
        settings.CHATFLOW_BASE_URL = fake.url
        yield fake


def stable_kb(tenant: Any) -> Any:
    """Tenant's first KB version, indexed and stable (serving)."""
    from knowledge.services import kb_import, kb_version_make_first_stable

    version = kb_import(actor=Actor.system("test"), tenant=tenant, file_name="kb.jsonl", content=KB)
    return kb_version_make_first_stable(actor=Actor.system("test"), version=version)


def conversation_for(tenant: Any, phone: str = "+77011234567") -> Any:
    from conversations.models import Conversation

    now = timezone.now()
    conversation, _ = Conversation.objects.get_or_create(
        tenant=tenant, customer_key=f"k-{phone}",
        defaults={"customer_phone": phone, "customer_phone_masked": phone[:5] + "•••" + phone[-4:], "created_at": now,
                  "updated_at": now},
    )
    return conversation


def deliver_reply(tenant: Any, *, key: str, text: str = "Маникюр стоит 5000 тенге.", phone: str = "+77011234567") -> Any:
    """Write and deliver one bot reply with the real delivery code (against whatever gateway
    is configured). Returns the OutboundMessage."""
    from conversations.services import outbound_deliver, outbound_enqueue

    outbound = outbound_enqueue(tenant=tenant, conversation=conversation_for(tenant, phone), text=text, kind="reply", idempotency_key=key,
                                dispatch=False)
    return outbound_deliver(outbound_id=outbound.pk)


@pytest.fixture
def healthy(web_server, telegram_bot, celery_eager, fake_qdrant, fake_chatflow, tenant_a):
    """Everything up: web, database, broker, Telegram, Qdrant with tenant A's KB, ChatFlow."""
    stable_kb(tenant_a)
    assert deliver_reply(tenant_a, key="healthy-1").status == "sent"
    return tenant_a


@pytest.fixture
def sentinel(django_capture_on_commit_callbacks):
    """sentinel(times=1) -> the last SentinelReport; alert sends run inline after each run."""
    from incidents.sentinel import sentinel_run

    def run(times: int = 1, **kwargs: Any) -> Any:
        report = None
        for _ in range(times):
            with django_capture_on_commit_callbacks(execute=True):
                report = sentinel_run(**kwargs)
        return report

    return run


@pytest.fixture
def fixer(django_capture_on_commit_callbacks):
    """fixer() -> FixerReport; queued pipeline work and alert sends run inline after commit."""
    from conversations import dispatch
    from incidents.fixer import fixer_run

    def run(**kwargs: Any) -> Any:
        with dispatch.inline(), django_capture_on_commit_callbacks(execute=True):
            return fixer_run(**kwargs)

    return run


def alert_texts(telegram_bot: Any) -> list[str]:
    """What reached the CEO chat."""
    from imperium.telegram.testing.pytest_fixtures import ALERT_CHAT_ID

    return [m["text"] for m in telegram_bot.sent_messages(ALERT_CHAT_ID)]


def accept_message(tenant: Any, text: str = "Сколько стоит маникюр?", phone: str = "+77011234567") -> Any:
    """A customer's message accepted as the webhook would (its turn task is only recorded)."""
    import time
    import uuid

    from conversations.services import inbound_accept, payload_parse

    body = {"message_id": f"wamid.{uuid.uuid4().hex}", "from": phone, "name": "Айгерим", "type": "text", "text": text,
            "timestamp": int(time.time())}
    return inbound_accept(tenant=tenant, message=payload_parse(body), webhook_id=f"msg_{uuid.uuid4().hex}")


def run_due_turn(conversation_id: int) -> str:
    """What the turn task does (decide with the real brain, deliver inline)."""
    from conversations.services.turns import turn_run_now

    return turn_run_now(conversation_id)
