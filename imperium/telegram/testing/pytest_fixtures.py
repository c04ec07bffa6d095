"""Pytest fixtures for anything that talks to Telegram (registered in the root conftest.py).

- `fake_bot_api`: a running FakeBotApi (nothing configured to use it);
- `telegram_bot`: the same, with settings pointing the real client at it (token, alert chat,
  webhook secret), so code under test sends real HTTP to the fake;
- `celery_eager`: tasks run inline (with `django_capture_on_commit_callbacks(execute=True)`
  the on-commit enqueues run too).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from imperium.telegram.messaging import bot_username_cache_key
from imperium.telegram.testing.fake_bot_api import FakeBotApi

BOT_TOKEN = "123456789:AAH-test-token-for-the-fake-bot-api"
ALERT_CHAT_ID = "-1001000000001"
WEBHOOK_SECRET = "test-webhook-secret_0123456789"


@pytest.fixture
def fake_bot_api() -> Iterator[FakeBotApi]:
    with FakeBotApi() as api:
        yield api


@pytest.fixture
def telegram_bot(fake_bot_api: FakeBotApi, settings) -> Iterator[FakeBotApi]:  # type: ignore[no-untyped-def]
    settings.TELEGRAM_API_URL = fake_bot_api.url
    settings.ALERT_BOT_TOKEN = BOT_TOKEN
    settings.ALERT_CHAT_ID = ALERT_CHAT_ID
    settings.ALERT_TOPIC_ID = None
    settings.TELEGRAM_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.TELEGRAM_TIMEOUT = 2.0
    cache.delete(bot_username_cache_key())
    yield fake_bot_api
    cache.delete(bot_username_cache_key())


@pytest.fixture
def celery_eager() -> Iterator[None]:
    from imperium.celery import app

    previous = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous
