"""The webhook with a Redis that accepts connections and never answers: bounded, database dedup."""

from __future__ import annotations

import time

import pytest

from imperium.core.redisline import RedisLine
from imperium.core.testing.silent_tcp import SilentServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def silent():
    RedisLine._lines.clear()
    with SilentServer() as server:
        yield server
    RedisLine._lines.clear()


def test_the_webhook_falls_back_to_database_dedup_when_redis_hangs(webhook, tenant_a, settings, silent):
    from conversations.models import InboundMessage

    settings.REDIS_URL = silent.url
    settings.WEBHOOK_REDIS_TIMEOUT = 0.2
    settings.REDIS_RETRY_AFTER_SECONDS = 60

    started = time.monotonic()
    answers = [webhook.post(tenant_a, message_id=f"wamid.hang{n % 3}").json()["status"] for n in range(6)]
    waited = time.monotonic() - started

    assert answers == ["accepted"] * 3 + ["duplicate"] * 3
    assert InboundMessage.objects.count() == 3
    assert silent.accepted == 1  # one timeout, then Redis is skipped for REDIS_RETRY_AFTER_SECONDS
    assert waited < 5
