"""Nothing lost, nothing silent: learning from a resolved hand-over and showing a bot answer to the
managers are recorded on their rows (`Escalation.learn_due_at`, `Turn.answer_notify_due_at`) before
the task is queued; a task the broker lost or a run that failed is queued again by the outbox
sweeper at doubling intervals, and done exactly once — or, after MAX_NOTIFY_ATTEMPTS runs or a day,
given up with one incident (one alert) per tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from conversations.models import Escalation, Turn
from conversations.services import conversation_close, conversation_return_to_bot, manager_reply_send, outbox_sweep, turn_run_due
from conversations.services.handover import MAX_NOTIFY_ATTEMPTS
from conversations.services.learning import handover_learn
from conversations.tests.helpers import RecordingNotifier, conversation_of
from imperium.core.actors import Actor
from incidents.models import Alert, ErrorLog, Incident
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


def test_learning_lost_for_a_day_is_given_up_with_an_incident(webhook, tenant_a, inline, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        conversation_return_to_bot(actor=MANAGER, conversation=conversation)  # its task is lost
        traveller.shift(timedelta(days=1, minutes=1))
        report = outbox_sweep()
        assert report.learning_redispatched == 0 and report.side_work_given_up == 1
        assert outbox_sweep().side_work_given_up == 0  # once
    assert Escalation.objects.get().learn_due_at is None and not KnowledgeSuggestion.objects.exists()
    incident = Incident.objects.get()
    assert incident.kind == "side_work.learning" and incident.tenant == tenant_a and incident.status == "open"
    assert f"hand-over {Escalation.objects.get().pk}" in incident.summary
    assert incident_alerts() == [incident.pk]


def sweeps(traveller, expected, *, start=0, end=1200, every=10, near=2):
    """Runs the sweeper as beat would every second from `start` to `end`, in a tenth of the sweeps:
    moves the clock to, and yields, every second within `near` of a second at which the test expects
    a run, and every `every`-th second elsewhere. A sweep that finds nothing due changes nothing, so
    a run that is due on time still happens at its expected second, and one due early or late (or
    anywhere else) happens at a second the test does not expect."""
    at = 0
    for second in range(start, end):
        if second % every == 0 or any(abs(second - run) <= near for run in expected):
            traveller.shift(second - at)
            at = second
            yield second


def incident_alerts() -> list[int]:
    """The incidents the CEO chat was alerted about (one alert row per opening)."""
    return [int(a.dedup_key.split(":")[1]) for a in Alert.objects.filter(kind="alert", dedup_key__startswith="incident:").order_by("id")]


def answered_after_hand_over(webhook, tenant, inline, traveller, brain, phone="+77011234567"):
    """A conversation a manager dealt with, then a bot answer in it whose notice task is lost."""
    answering = brain(action="escalate", reason="no_knowledge")
    webhook.post(tenant, text="Подскажите, у вас есть парковка?", **{"from": phone})
    traveller.shift(3)
    with inline():
        turn_run_due(conversation_id=conversation_of(tenant, phone).pk)
    conversation = conversation_of(tenant, phone)
    with inline():
        conversation_return_to_bot(actor=MANAGER, conversation=conversation)
    answering.action = "answer"
    webhook.post(tenant, text="Сколько стоит маникюр?", **{"from": phone})
    traveller.shift(3)
    turn_run_due(conversation_id=conversation.pk)  # answered; the notice's publish is lost with the commit hook
    return Turn.objects.filter(conversation=conversation, status="answered").latest("id")


def test_a_failing_answer_notice_backs_off_and_is_given_up_after_the_limit_with_one_incident(
    webhook, tenant_a, inline, brain, queued
):
    with time_machine.travel(T0, tick=False) as traveller:
        turn = answered_after_hand_over(webhook, tenant_a, inline, traveller, brain)
        RecordingNotifier.fail_next = 1000  # the managers' channel is down for good
        runs = []  # seconds after the answer at which a run happened
        for second in sweeps(traveller, [30, 60, 120, 240, 480]):
            with inline():
                report = outbox_sweep()
            if report.answer_notices_redispatched:
                runs.append(second)
        turn.refresh_from_db()
    # Five runs: the first once the task counts as lost (30 s), then each waits as long as the
    # notice had waited before the previous run (the doubling of every manager notice).
    assert runs == [30, 60, 120, 240, 480]
    assert turn.answer_notify_attempts == MAX_NOTIFY_ATTEMPTS == 5 and turn.answer_notify_due_at is None
    assert RecordingNotifier.answers == []
    assert ErrorLog.objects.filter(where="conversations.notifier").count() == 5
    incident = Incident.objects.get()
    assert incident.kind == "side_work.answer_notice" and incident.tenant == tenant_a
    assert f"turn {turn.pk}" in incident.summary and "5 attempt" in incident.summary
    assert incident_alerts() == [incident.pk]  # one alert, not one per attempt
    alert = Alert.objects.get(kind="alert")
    assert f"Открыт инцидент #{incident.pk}" in alert.text and "Проверка не прошла" not in alert.text

    # The managers' channel works again: the next notice is shown and the incident resolved (one more alert).
    RecordingNotifier.fail_next = 0
    with time_machine.travel(T0 + timedelta(hours=1), tick=False) as traveller:
        later = answered_after_hand_over(webhook, tenant_a, inline, traveller, brain, phone="+77010000009")
        traveller.shift(30)
        with inline():
            assert outbox_sweep().answer_notices_redispatched == 1
    assert RecordingNotifier.answers == [later.pk]
    incident.refresh_from_db()
    assert incident.status == "resolved" and Alert.objects.filter(kind="alert").count() == 2


def test_a_second_notice_given_up_while_the_incident_is_open_is_not_alerted_again(webhook, tenant_a, inline, brain, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        first = answered_after_hand_over(webhook, tenant_a, inline, traveller, brain, phone="+77010000001")
        second = answered_after_hand_over(webhook, tenant_a, inline, traveller, brain, phone="+77010000002")
        RecordingNotifier.fail_next = 1000
        for _ in range(0, 1200, 10):
            with inline():
                outbox_sweep()
            traveller.shift(10)
    assert Turn.objects.filter(pk__in=[first.pk, second.pk], answer_notify_due_at__isnull=True, answer_notify_attempts=5).count() == 2
    incident = Incident.objects.get()
    told = incident.summary + " ".join(incident.events.filter(kind="check_failed").values_list("message", flat=True))
    assert incident.failure_count == 2 and f"turn {first.pk} " in told and f"turn {second.pk} " in told
    assert incident_alerts() == [incident.pk]


def test_an_answer_notice_that_works_again_before_the_limit_is_shown_once_and_cleared(webhook, tenant_a, inline, brain, queued):
    with time_machine.travel(T0, tick=False) as traveller:
        turn = answered_after_hand_over(webhook, tenant_a, inline, traveller, brain)
        RecordingNotifier.fail_next = 3  # down for three runs, then back
        for _ in sweeps(traveller, [30, 60, 120, 240, 480]):
            with inline():
                outbox_sweep()
    turn.refresh_from_db()
    assert RecordingNotifier.answers == [turn.pk]  # exactly once
    assert turn.answer_notify_due_at is None and turn.answer_notify_attempts == 4
    assert not Incident.objects.exists() and incident_alerts() == []


def test_failing_learning_is_retried_then_given_up_with_one_incident(webhook, tenant_a, inline, queued, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("suggestion store unavailable")

    monkeypatch.setattr("conversations.services.learning.kb_suggestion_propose", broken)
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        with inline():
            manager_reply_send(actor=MANAGER, conversation=conversation, text=PARKING, idempotency_key="m1")
            conversation_close(actor=MANAGER, conversation=conversation)  # the first run fails at once
        escalation = Escalation.objects.get()
        assert escalation.learn_attempts == 1 and escalation.learn_due_at is not None
        runs = []
        for second in sweeps(traveller, [30, 60, 120, 240, 480], start=1):
            with inline():
                if outbox_sweep().learning_redispatched:
                    runs.append(second)
    escalation.refresh_from_db()
    assert runs == [30, 60, 120, 240]  # four retries after the first run: five attempts
    assert escalation.learn_attempts == 5 and escalation.learn_due_at is None and "learned_at" not in escalation.detail
    assert ErrorLog.objects.filter(where="conversations.learning").count() == 5
    incident = Incident.objects.get()
    assert incident.kind == "side_work.learning" and f"hand-over {escalation.pk}" in incident.summary
    assert incident_alerts() == [incident.pk]


def test_learning_that_works_again_before_the_limit_learns_once(webhook, tenant_a, inline, queued, monkeypatch):
    from knowledge.suggestions import kb_suggestion_propose

    failures = {"left": 2}

    def flaky(**kwargs):
        if failures["left"]:
            failures["left"] -= 1
            raise RuntimeError("suggestion store unavailable")
        return kb_suggestion_propose(**kwargs)

    monkeypatch.setattr("conversations.services.learning.kb_suggestion_propose", flaky)
    with time_machine.travel(T0, tick=False) as traveller:
        conversation = escalate(webhook, tenant_a, inline, traveller)
        with inline():
            manager_reply_send(actor=MANAGER, conversation=conversation, text=PARKING, idempotency_key="m1")
            conversation_close(actor=MANAGER, conversation=conversation)
        for _ in sweeps(traveller, [30, 60, 120, 240, 480], start=1):
            with inline():
                outbox_sweep()
    escalation = Escalation.objects.get()
    assert escalation.learn_attempts == 3 and escalation.learn_due_at is None
    suggestion = KnowledgeSuggestion.objects.get()
    assert suggestion.answer == PARKING and RecordingNotifier.suggestions == [suggestion.pk]
    assert escalation.detail["suggestion_id"] == suggestion.pk and not Incident.objects.exists()


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
