from __future__ import annotations

import json

import pytest

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
    from imperium.actors import Actor
    from releases import services

    services.release_create_draft(actor=Actor.system("test"), version="1.1.0")
    return services.release_start_canary(actor=Actor.system("test"), version="1.1.0")
