"""Code canary: a tenant's turn tasks go to the queue of its channel and follow a flip.

The flips are made the way the CEO makes them — Telegram commands through the webhook — and the
messages arrive through the signed customer webhook. The webhook routes by its per-process tenant
cache (at most WEBHOOK_TENANT_CACHE_SECONDS old); a turn that lands on the old queue in those
seconds is re-routed by the worker before it is processed, so a tenant rolled back off a canary
is never served by the canary image again.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

from conversations.conftest import _pipeline_isolation, message_body, queued, webhook  # noqa: F401
from conversations.services import outbox_sweep
from conversations.tests.helpers import conversation_of
from conversations.webhook import webhook_tenant_cache_clear
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
    webhook_tenant_cache_clear()  # the webhook's tenant cache expires (WEBHOOK_TENANT_CACHE_SECONDS)
    new_burst(webhook, tenant_a, "+77010000002", django_capture_on_commit_callbacks)
    new_burst(webhook, tenant_b, "+77010000003", django_capture_on_commit_callbacks)  # another tenant stays on stable
    assert turn_queues(queued) == ["stable", "canary", "stable"]

    deliver(message_update("/rollback alpha"))
    assert "канал canary → stable" in replies(telegram_bot, CEO["id"])[-1]
    webhook_tenant_cache_clear()
    new_burst(webhook, tenant_a, "+77010000004", django_capture_on_commit_callbacks)
    assert turn_queues(queued) == ["stable", "canary", "stable", "stable"]


def test_a_turn_queued_on_the_old_channel_is_rerouted_not_processed(webhook, queued, deliver, ceo_allowed,  # noqa: F811
                                                                     canary_release, tenant_a,  # noqa: F811
                                                                     django_capture_on_commit_callbacks):
    from conversations.models import Turn
    from conversations.tasks import turn_run

    deliver(message_update("/deploy canary alpha"))
    webhook_tenant_cache_clear()
    new_burst(webhook, tenant_a, "+77010000001", django_capture_on_commit_callbacks)  # cached: canary
    deliver(message_update("/rollback alpha"))
    new_burst(webhook, tenant_a, "+77010000002", django_capture_on_commit_callbacks)  # the cache still says canary
    assert turn_queues(queued) == ["canary", "canary"]
    conversation = conversation_of(tenant_a, "+77010000002")

    queued.clear()
    # The canary worker takes the stale task: it sends it on to the stable queue and does nothing else.
    result = turn_run.apply(args=[conversation.pk], routing_key="canary").get()
    assert result == "rerouted to stable"
    assert [(q.task, q.queue, q.args) for q in queued] == [("conversations.turn_run", "stable", [conversation.pk])]
    assert not Turn.objects.filter(conversation=conversation).exists()
    # On the right queue the guard lets it through.
    assert turn_run.apply(args=[conversation.pk], routing_key="stable").get() != "rerouted to stable"


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
