from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from conversations.models import Escalation, InboundMessage, MessageTrace, OutboundMessage, SandboxMessage, Turn
from conversations.services import outbox_sweep, turn_claim_due, turn_run_due
from conversations.tests.helpers import RecordingNotifier, conversation_of
from incidents.models import ErrorLog

pytestmark = pytest.mark.django_db

T0 = datetime(2025, 11, 26, 10, 0, tzinfo=UTC)


def _at(traveller, seconds):
    traveller.move_to(T0 + timedelta(seconds=seconds))


def test_it_answers_a_burst_once_after_the_window(webhook, tenant_a, brain, inline, queued):
    fake = brain("Маникюр — 5000 ₸, педикюр — 7000 ₸.")
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="Здравствуйте")
        _at(traveller, 2)
        webhook.post(tenant_a, text="Сколько стоит маникюр?")
        conversation = conversation_of(tenant_a)
        _at(traveller, 3)  # the first message's window has passed, but the second extended it
        assert turn_run_due(conversation_id=conversation.pk) == "not_due"
        assert queued[-1].eta == T0 + timedelta(seconds=5)
        _at(traveller, 4)
        webhook.post(tenant_a, text="И педикюр?")
        _at(traveller, 5)
        assert turn_run_due(conversation_id=conversation.pk) == "not_due"
        _at(traveller, 7)
        with inline():
            assert turn_run_due(conversation_id=conversation.pk) == "answered"
            assert turn_run_due(conversation_id=conversation.pk) == "idle"  # a second run finds nothing

    assert [c["messages"] for c in fake.calls] == [["Здравствуйте", "Сколько стоит маникюр?", "И педикюр?"]]
    turn = Turn.objects.get()
    assert turn.status == "answered" and turn.message_count == 3
    assert InboundMessage.objects.filter(turn=turn).count() == 3
    sent = SandboxMessage.objects.get()
    assert sent.text == "Маникюр — 5000 ₸, педикюр — 7000 ₸." and sent.to_masked.startswith("+7701•••4567·")
    outbound = OutboundMessage.objects.get()
    assert outbound.status == "sent" and outbound.attempts == 1 and outbound.idempotency_key == f"t{tenant_a.pk}-turn{turn.pk}"


def test_it_never_waits_longer_than_the_maximum_after_the_first_message(webhook, tenant_a, brain, inline):
    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        for second in range(0, 15, 2):  # a customer typing every 2 s for 14 s
            _at(traveller, second)
            webhook.post(tenant_a, text=f"часть {second}")
            if second == 12:
                with inline():
                    assert turn_run_due(conversation_id=conversation_of(tenant_a).pk) == "answered"
    first = Turn.objects.order_by("id").first()
    assert first.message_count == 7  # 0..12 s answered at 12 s; the 14 s message waits for the next turn
    assert InboundMessage.objects.filter(turn__isnull=True).count() == 1


def test_it_records_a_trace_with_the_decision_and_timings(webhook, tenant_a, brain, inline):
    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
    trace = MessageTrace.objects.get()
    assert trace.decision == "answer" and trace.confidence == 0.91 and trace.sources == ["price-manicure"]
    assert (trace.rag_ms, trace.llm_ms, trace.qc_ms) == (4.5, 0.0, 0.7)
    assert trace.kb_version == 3 and trace.release == "r1" and trace.scores == {"top": 0.91}
    assert trace.wait_ms == 3000.0
    assert trace.send_status == "sent" and trace.send_ms is not None and trace.total_ms is not None
    assert trace.correlation_id and trace.correlation_id == Turn.objects.get().correlation_id


def test_it_escalates_with_the_placeholder_brain_and_sends_the_holding_reply(webhook, tenant_a, inline):
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            assert turn_run_due(conversation_id=conversation_of(tenant_a).pk) == "escalated"
    escalation = Escalation.objects.get()
    assert escalation.reason == "no_knowledge" and escalation.status == "open"
    assert conversation_of(tenant_a).state == "human"
    holding = OutboundMessage.objects.get()
    assert holding.kind == "holding" and holding.status == "sent"
    assert holding.text == tenant_a.settings.holding_reply_template
    assert RecordingNotifier.escalations == [escalation]
    assert Escalation.objects.get().notified_at is not None


def test_it_hands_non_text_messages_to_a_human(webhook, tenant_a, brain, inline):
    fake = brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, type="audio", text=None)
        _at(traveller, 3)
        with inline():
            assert turn_run_due(conversation_id=conversation_of(tenant_a).pk) == "escalated"
    assert fake.calls == []  # the brain is not asked about a voice note
    assert Escalation.objects.get().reason == "non_text"
    assert OutboundMessage.objects.get().kind == "holding"


def test_a_failing_brain_becomes_an_escalation_not_a_lost_message(webhook, tenant_a, brain, inline):
    brain(raises=TimeoutError("qdrant timed out"))
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            assert turn_run_due(conversation_id=conversation_of(tenant_a).pk) == "escalated"
    assert Escalation.objects.get().reason == "dependency_down"
    error = ErrorLog.objects.get(where="conversations.decide_reply")
    assert error.exception_type == "TimeoutError" and error.tenant == tenant_a
    trace = MessageTrace.objects.get()
    assert trace.reason == "dependency_down"
    assert error.correlation_id == trace.correlation_id  # the trace finds the errors of its turn
    assert OutboundMessage.objects.get().status == "sent"


@pytest.mark.parametrize(("text", "reason"), [("   ", "other"), ("я" * 5000, "too_long")])
def test_it_does_not_send_an_empty_or_overlong_answer(webhook, tenant_a, brain, inline, text, reason):
    brain(text)
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            turn_run_due(conversation_id=conversation_of(tenant_a).pk)
    assert Escalation.objects.get().reason == reason
    assert OutboundMessage.objects.get().kind == "holding"


def test_the_bot_stays_silent_while_a_human_holds_the_conversation(webhook, tenant_a, brain, inline):
    fake = brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a, text="первое")
        conversation = conversation_of(tenant_a)
        conversation.state = "human"
        conversation.save()
        webhook.post(tenant_a, text="Алло, вы тут?")
        _at(traveller, 3)
        with inline():
            assert turn_run_due(conversation_id=conversation.pk) == "forwarded"
    assert fake.calls == []
    assert OutboundMessage.objects.count() == 0 and SandboxMessage.objects.count() == 0
    assert [m.text for m in RecordingNotifier.messages] == ["первое", "Алло, вы тут?"]
    assert InboundMessage.objects.filter(forwarded_at__isnull=True).count() == 0


def test_a_manager_taking_over_while_the_bot_decides_silences_the_bot(webhook, tenant_a, monkeypatch, inline):
    from conversations.answering.decision import Decision
    from conversations.services import conversation_take_over
    from imperium.core.actors import Actor

    def decide_while_manager_takes_over(tenant, conversation, messages, **kwargs):
        conversation_take_over(actor=Actor.telegram(42, "manager"), conversation=conversation)
        return Decision(action="answer", text="late answer")

    monkeypatch.setattr("conversations.services.turns.decide_reply", decide_while_manager_takes_over)
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            assert turn_run_due(conversation_id=conversation_of(tenant_a).pk) == "suppressed"
    assert OutboundMessage.objects.count() == 0
    assert len(RecordingNotifier.messages) == 1


def test_it_hands_the_brain_the_registered_serving_context(webhook, tenant_a, brain, monkeypatch, inline):
    fake = brain()
    monkeypatch.setattr("conversations.services.turns._serving_context", lambda tenant: (7, "canary-2"))
    from conversations.services.turns import turn_run_now

    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            assert turn_run_now(conversation_of(tenant_a).pk) == "answered"
    assert fake.calls[0]["kb_version"] == 7 and fake.calls[0]["release"] == "canary-2"


def test_without_a_registered_serving_context_the_turn_goes_to_a_human(webhook, tenant_a, brain, monkeypatch, inline):
    fake = brain()
    monkeypatch.setattr("conversations.services.turns._serving_context", None)
    from conversations.services.turns import turn_run_now

    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        with inline():
            assert turn_run_now(conversation_of(tenant_a).pk) == "escalated"
    assert fake.calls == []  # never answered without knowing which release and KB serve it
    assert Escalation.objects.get().reason == "dependency_down"


def test_a_turn_whose_worker_died_is_resumed_by_the_sweeper_and_finished_once(webhook, tenant_a, brain, inline):
    fake = brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        claim = turn_claim_due(conversation_id=conversation_of(tenant_a).pk)  # the worker claims, then dies
        assert claim.outcome == "claimed"
        _at(traveller, 10)
        with inline():
            assert outbox_sweep().turns_resumed == 0  # lease still valid: the worker may be alive
        _at(traveller, 3 + 121)
        with inline():
            report = outbox_sweep()
            assert outbox_sweep().turns_resumed == 0
    assert report.turns_resumed == 1
    turn = Turn.objects.get()
    assert turn.status == "answered" and turn.runs == 2
    assert len(fake.calls) == 1 and SandboxMessage.objects.count() == 1


def test_a_turn_that_keeps_killing_its_worker_goes_to_a_human(webhook, tenant_a, brain, inline):
    fake = brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 3)
        turn_claim_due(conversation_id=conversation_of(tenant_a).pk)
        Turn.objects.update(runs=3)  # three earlier runs died mid-way
        _at(traveller, 3 + 121)
        with inline():
            outbox_sweep()
    assert fake.calls == []
    assert Escalation.objects.get().reason == "dependency_down"
    assert ErrorLog.objects.filter(where="conversations.turn").exists()


def test_a_lost_turn_message_only_delays_the_reply(webhook, tenant_a, brain, inline, queued):
    """The broker lost the task (filesystem broker, killed worker): the sweeper queues it again."""
    brain()
    with time_machine.travel(T0, tick=False) as traveller:
        webhook.post(tenant_a)
        _at(traveller, 10)
        assert outbox_sweep().turns_dispatched == 0  # queued 10 s ago: give the worker time
        _at(traveller, 31)
        with inline():
            assert outbox_sweep().turns_dispatched == 1
    assert Turn.objects.get().status == "answered"
    assert SandboxMessage.objects.count() == 1
