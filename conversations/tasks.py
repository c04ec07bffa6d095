"""Celery entry points of the reply pipeline: ids in, one service call, a small result out."""

from __future__ import annotations

from typing import Any

from celery import shared_task


@shared_task(name="conversations.turn_run", bind=True)
def turn_run(self: Any, conversation_id: int) -> str:
    """Answer a conversation's unanswered messages if their coalescing window has passed."""
    from conversations.services.turns import IDLE, LOCKED, NOT_DUE, turn_run_now
    from imperium.core import metrics

    outcome = turn_run_now(conversation_id, (self.request.delivery_info or {}).get("routing_key"))
    found = {IDLE: "redundant", NOT_DUE: "not_due", LOCKED: "locked"}.get(outcome)
    metrics.turn_task_finished(task="turn_run", outcome=found or ("rerouted" if outcome.startswith("rerouted") else "work"))
    return outcome


@shared_task(name="conversations.turn_resume")
def turn_resume(turn_id: int, claim_token: str) -> str:
    """Finish a turn whose first worker died (re-claimed by the sweeper with `claim_token`)."""
    from conversations.services.turns import turn_resume_now
    from imperium.core import metrics

    outcome = turn_resume_now(turn_id, claim_token)
    metrics.turn_task_finished(task="turn_resume", outcome="redundant" if outcome == "lost" else "work")
    return outcome


@shared_task(name="conversations.outbound_deliver")
def outbound_deliver(outbound_id: int) -> str:
    from conversations.services.delivery import outbound_deliver as deliver

    return deliver(outbound_id=outbound_id).status


@shared_task(name="conversations.escalation_notify")
def escalation_notify(escalation_id: int) -> None:
    from conversations.services.handover import escalation_notify as notify

    notify(escalation_id=escalation_id)


@shared_task(name="conversations.turn_forward_notify")
def turn_forward_notify(turn_id: int) -> None:
    from conversations.services.handover import turn_forward_notify as notify

    notify(turn_id=turn_id)


@shared_task(name="conversations.answer_notify")
def answer_notify(turn_id: int) -> bool:
    """A bot answer shown to the managers of a conversation they dealt with (services.handover.turn_answer_notify)."""
    from conversations.services.handover import turn_answer_notify

    return turn_answer_notify(turn_id=turn_id)


@shared_task(name="conversations.handover_learn")
def handover_learn(conversation_id: int) -> int:
    """Knowledge suggestions from a closed or returned hand-over (conversations.services.learning)."""
    from conversations.services.learning import handover_learn as learn

    return sum(1 for proposal in learn(conversation_id=conversation_id) if proposal.created)


@shared_task(name="conversations.outbox_sweep")
def outbox_sweep() -> dict[str, int]:
    """Beat job: queue again whatever is due and not done (lost messages, dead workers)."""
    from conversations.services.outbox import outbox_sweep as sweep

    return sweep().as_dict()


@shared_task(name="conversations.reminders_process")
def reminders_process() -> dict[str, int]:
    """Beat job: escalation SLA reminders to managers and the customer's one follow-up."""
    from conversations.services.reminders import escalation_reminders_process

    report = escalation_reminders_process()
    return {"checked": report.checked, "reminders": len(report.reminders), "holding_followups": len(report.holding_followups),
            "failed": len(report.failed)}
