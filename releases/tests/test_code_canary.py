"""Code canary: a tenant's turn tasks go to the queue of its channel, and follow a flip at once.

The flips are made the way the CEO makes them — Telegram commands through the webhook — and the
messages arrive through the signed customer webhook, whose per-process tenant cache still holds
the tenant as it was before the flip (the queue is read fresh, not from that copy).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from conversations.conftest import _pipeline_isolation, message_body, queued, webhook  # noqa: F401
from conversations.services import outbox_sweep
from conversations.tests.helpers import conversation_of
from imperium.telegram.testing.updates import CEO, message_update
from imperium.telegram.tests.conftest import canary_release, ceo_allowed, deliver, replies  # noqa: F401

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def new_burst(webhook, tenant, phone, django_capture_on_commit_callbacks):  # noqa: F811
    with django_capture_on_commit_callbacks(execute=True):
        assert webhook.post(tenant, payload=message_body(**{"from": phone})).status_code == 200


def turn_queues(queued) -> list[str]:  # noqa: F811
    return [q.queue for q in queued if q.task == "conversations.turn_run"]


def test_turn_tasks_follow_deploy_canary_and_rollback_made_in_telegram(webhook, queued, deliver, telegram_bot, ceo_allowed,  # noqa: F811
                                                                       canary_release, tenant_a, tenant_b,  # noqa: F811
                                                                       django_capture_on_commit_callbacks):
    new_burst(webhook, tenant_a, "+77010000001", django_capture_on_commit_callbacks)
    assert turn_queues(queued) == ["stable"]

    deliver(message_update("/deploy canary alpha"))
    assert "канал stable → canary" in replies(telegram_bot, CEO["id"])[-1]
    new_burst(webhook, tenant_a, "+77010000002", django_capture_on_commit_callbacks)
    new_burst(webhook, tenant_b, "+77010000003", django_capture_on_commit_callbacks)  # another tenant stays on stable
    assert turn_queues(queued) == ["stable", "canary", "stable"]

    deliver(message_update("/rollback alpha"))
    assert "канал canary → stable" in replies(telegram_bot, CEO["id"])[-1]
    new_burst(webhook, tenant_a, "+77010000004", django_capture_on_commit_callbacks)
    assert turn_queues(queued) == ["stable", "canary", "stable", "stable"]


def test_the_sweeper_requeues_on_the_channel_the_tenant_is_on_now(webhook, queued, deliver, ceo_allowed, canary_release,  # noqa: F811
                                                                    tenant_a, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False) as traveller:
        new_burst(webhook, tenant_a, "+77010000001", django_capture_on_commit_callbacks)  # queued on stable, then lost
        deliver(message_update("/deploy canary alpha"))
        traveller.shift(60)
        queued.clear()
        assert outbox_sweep().turns_dispatched == 1
        conversation = conversation_of(tenant_a, "+77010000001")
        assert [(q.task, q.queue, q.args) for q in queued] == [("conversations.turn_run", "canary", [conversation.pk])]

        deliver(message_update("/rollback alpha"))
        traveller.shift(60)
        queued.clear()
        assert outbox_sweep().turns_dispatched == 1
        assert turn_queues(queued) == ["stable"]
