"""Nothing lost: learning from a resolved hand-over and showing a bot answer to the managers are
recorded on their rows (`Escalation.learn_due_at`, `Turn.answer_notify_due_at`) before the task is
queued; a task the broker lost is queued again by the outbox sweeper, and done exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Escalation, Turn
from conversations.services import conversation_close, conversation_return_to_bot, manager_reply_send, outbox_sweep, turn_run_due
from conversations.services.learning import handover_learn
from conversations.tests.helpers import RecordingNotifier, conversation_of
from imperium.core.actors import Actor
from knowledge.models import KnowledgeSuggestion

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)
MANAGER = Actor.telegram(1001, "manager_aigerim")
PARKING = "Да, у нас бесплатная парковка во дворе на 20 машин."


def escalate(webhook, tenant, inline, traveller, text="Подскажите, у вас есть парковка?"):
    webhook.post(tenant, text=text)
    traveller.shift(3)
    with inline():
        turn_run_due(conversation_id=conversation_of(tenant).pk)
    return conversation_of(tenant)


def test_a_lost_learning_task_is_queued_again_by_the_sweeper_and_learns_once(webhook, tenant_a, inline, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        with inline():
            manager_reply_send(actor=MANAGER, conversation=conversation, text=PARKING, idempotency_key="m1")
        traveller.shift(60)
        queued.clear()
        conversation_close(actor=MANAGER, conversation=conversation)  # its after-commit publish never happens: a lost task
        escalation = Escalation.objects.get()
        assert escalation.status == "resolved" and escalation.learn_due_at == timezone.now()
        assert not KnowledgeSuggestion.objects.exists() and queued == []

        assert outbox_sweep().learning_redispatched == 0  # not before the redispatch delay: it may still be in a queue
        traveller.shift(31)
        report = outbox_sweep()  # a worker takes the queued task
        assert report.learning_redispatched == 1
        assert [(q.task, q.args) for q in queued] == [("conversations.handover_learn", [conversation.pk])]
        handover_learn(conversation_id=conversation.pk)
        handover_learn(conversation_id=conversation.pk)  # the original message arrives late after all

        traveller.shift(31)
        assert outbox_sweep().learning_redispatched == 0  # done: nothing is due any more
    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.count == 1 and suggestion.answer == PARKING and suggestion.conversation_ids == [conversation.pk]
    assert RecordingNotifier.suggestions == [suggestion.pk]  # one card
    escalation.refresh_from_db()
    assert escalation.learn_due_at is None and escalation.detail["suggestion_id"] == suggestion.pk


def test_learning_is_given_up_after_a_day(webhook, tenant_a, inline, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        conversation_return_to_bot(actor=MANAGER, conversation=conversation)
        traveller.shift(timedelta(days=1, minutes=1))
        assert outbox_sweep().learning_redispatched == 0
    assert Escalation.objects.get().learn_due_at is not None and not KnowledgeSuggestion.objects.exists()


def test_a_lost_answer_notice_is_queued_again_and_shown_once(webhook, tenant_a, inline, brain, queued):
    answering = brain(action="escalate", reason="no_knowledge")
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        with inline():
            conversation_return_to_bot(actor=MANAGER, conversation=conversation)
        answering.action = "answer"
        webhook.post(tenant_a, text="Сколько стоит маникюр?")
        traveller.shift(3)
        queued.clear()
        turn_run_due(conversation_id=conversation.pk)  # answered; the notice's publish is lost with the commit hook
        turn = Turn.objects.get(status="answered")
        assert turn.answer_notify_due_at == timezone.now() and RecordingNotifier.answers == []
        assert "conversations.answer_notify" not in [q.task for q in queued]

        RecordingNotifier.fail_next = 1  # the first retry meets a notifier failure: the marker stays
        traveller.shift(31)
        with inline():
            assert outbox_sweep().answer_notices_redispatched == 1
        turn.refresh_from_db()
        assert turn.answer_notify_due_at is not None and RecordingNotifier.answers == []
        traveller.shift(31)
        with inline():
            assert outbox_sweep().answer_notices_redispatched == 1
        traveller.shift(31)
        with inline():
            assert outbox_sweep().answer_notices_redispatched == 0
    turn.refresh_from_db()
    assert turn.answer_notify_due_at is None and RecordingNotifier.answers == [turn.pk]


def test_an_answer_without_an_earlier_hand_over_records_no_notice(webhook, tenant_a, inline, brain):
    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Сколько стоит маникюр?")
        traveller.shift(3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
    assert Turn.objects.get().status == "answered" and Turn.objects.get().answer_notify_due_at is None
    assert RecordingNotifier.answers == []
