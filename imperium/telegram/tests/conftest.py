from __future__ import annotations

import json

import pytest

from conversations.conftest import inline  # noqa: F401  (the pipeline's own `with inline():` fixture)
from imperium.telegram.models import TelegramAllowedUser
from imperium.telegram.testing.pytest_fixtures import WEBHOOK_SECRET
from imperium.telegram.testing.updates import CEO, MANAGER


@pytest.fixture
def deliver(client, telegram_bot, celery_eager, django_capture_on_commit_callbacks):
    """deliver(update, secret=...) -> response: POST to /telegram-webhook as Telegram does, with
    the on-commit task running inline (the whole store → task → handler → Bot API path)."""

    def _deliver(update, *, secret=WEBHOOK_SECRET, raw: bytes | None = None):
        headers = {} if secret is None else {"HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN": secret}
        body = raw if raw is not None else json.dumps(update, ensure_ascii=False).encode()
        with django_capture_on_commit_callbacks(execute=True):
            return client.post("/telegram-webhook", data=body, content_type="application/json", **headers)

    return _deliver


@pytest.fixture
def ceo_allowed(db):
    return TelegramAllowedUser.objects.create(telegram_user_id=CEO["id"], role="ceo", label="CEO Айдар")


@pytest.fixture
def operator_allowed(db):
    return TelegramAllowedUser.objects.create(telegram_user_id=MANAGER["id"], role="operator", label="Оператор Алия")


def replies(api, chat_id):
    """Texts the bot sent into a chat."""
    return [params["text"] for params in api.sent_messages(chat_id)]


@pytest.fixture
def canary_release(db):
    """A canary release to deploy tenants to (deploy canary is refused without one)."""
    from imperium.core.actors import Actor
    from releases import services

    services.release_create_draft(actor=Actor.system("test"), version="1.1.0")
    return services.release_start_canary(actor=Actor.system("test"), version="1.1.0")


# --- the manager hand-over: the pipeline wired to the fake Bot API and the fake ChatFlow ------
@pytest.fixture
def pipeline(settings, monkeypatch, telegram_bot, celery_eager):
    """The reply pipeline with the Telegram notifier (the default), fast ChatFlow retries and no
    broker: pipeline tasks are recorded (returned list) and run only inside `inline()`; Celery
    tasks (Telegram outbox, notice flushes, update processing) run eagerly."""
    import uuid

    from conversations.webhook import webhook_tenant_cache_clear

    webhook_tenant_cache_clear()
    settings.CONVERSATION_NOTIFIER = "imperium.telegram.notifier.TelegramNotifier"
    settings.TELEGRAM_TOPIC_PER_CONVERSATION = True
    settings.ESCALATION_REMINDERS_MAX = 3
    settings.WEBHOOK_DEDUP_KEY_PREFIX = f"test:{uuid.uuid4().hex}"
    settings.CHATFLOW_RETRY_BACKOFF = 0.01
    settings.CHATFLOW_RETRY_MAX_DELAY = 2.0
    settings.CHATFLOW_TIMEOUT = 2.0
    queued: list[tuple[str, list]] = []
    monkeypatch.setattr("conversations.dispatch._publish", lambda name, args, **kwargs: queued.append((name, list(args))))
    yield queued
    webhook_tenant_cache_clear()


@pytest.fixture
def fake_chatflow(settings):
    from conversations.testing.fake_chatflow import FakeChatFlow

    with FakeChatFlow() as fake:
        settings.CHATFLOW_BASE_URL = fake.url
        yield fake


@pytest.fixture
def webhook(client):
    """Signed ChatFlow webhook calls (the pipeline tests' sender)."""
    from conversations.conftest import WebhookSender

    return WebhookSender(client)


@pytest.fixture
def salon(tenant_a):
    """Tenant A with its managers' chat: the forum supergroup TENANT_GROUP."""
    from imperium.telegram.testing.updates import TENANT_GROUP

    tenant_a.settings.telegram_chat_id = TENANT_GROUP["id"]
    tenant_a.settings.save()
    return tenant_a




@pytest.fixture
def tg(deliver):
    """tg(update) -> response: deliver a Telegram update with the pipeline running inline (a
    manager's reply is delivered to the fake ChatFlow before this returns)."""
    from conversations import dispatch

    def _tg(update, **kwargs):
        with dispatch.inline():
            return deliver(update, **kwargs)

    return _tg
