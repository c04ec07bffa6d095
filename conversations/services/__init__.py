"""Writes of the reply pipeline. Import public services from here:

    from conversations.services import conversation_take_over, manager_reply_send, ...
"""

from conversations.services.delivery import outbound_deliver, outbound_enqueue, outbound_retry
from conversations.services.handover import (
    conversation_close,
    conversation_note_add,
    conversation_return_to_bot,
    conversation_take_over,
    escalation_notify,
    escalation_open,
    manager_reply_send,
    turn_forward_notify,
)
from conversations.services.inbound import (
    AcceptResult,
    InboundPayload,
    MalformedPayload,
    dead_letter_record,
    dead_letter_resolve,
    inbound_accept,
    payload_parse,
)
from conversations.services.outbox import SweepReport, outbox_sweep
from conversations.services.reminders import ReminderReport, escalation_reminders_process
from conversations.services.turns import turn_claim_due, turn_process, turn_resume_claim, turn_run_due

__all__ = [
    "AcceptResult",
    "InboundPayload",
    "MalformedPayload",
    "ReminderReport",
    "SweepReport",
    "conversation_close",
    "conversation_note_add",
    "conversation_return_to_bot",
    "conversation_take_over",
    "dead_letter_record",
    "dead_letter_resolve",
    "escalation_notify",
    "escalation_open",
    "escalation_reminders_process",
    "inbound_accept",
    "manager_reply_send",
    "outbound_deliver",
    "outbound_enqueue",
    "outbound_retry",
    "outbox_sweep",
    "payload_parse",
    "turn_claim_due",
    "turn_forward_notify",
    "turn_process",
    "turn_resume_claim",
    "turn_run_due",
]
