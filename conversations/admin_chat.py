"""The conversation page as a chat: the timeline turned into bubbles an operator reads like a
messenger (customer on the left; bot, holding and manager replies on the right; internal notes
and state changes in the middle), in Russian, with nothing that pretends: a managers' notice
counts as delivered only when it was."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from conversations.choices import ConversationState, OutboundKind, OutboundStatus, TurnStatus
from conversations.models import Conversation, WrongAnswerMark
from conversations.notifier import escalation_deliveries
from conversations.selectors import TimelineEntry, conversation_timeline

_OUTBOUND_STYLE = {OutboundKind.REPLY: "bot", OutboundKind.HOLDING: "holding", OutboundKind.MANAGER: "manager"}


@dataclass
class Bubble:
    at: datetime
    style: str  # customer | bot | holding | manager | note | system | error
    text: str
    who: str = ""
    meta: list[str] = field(default_factory=list)
    warning: str = ""
    link: str = ""
    # A bot answer the operator can mark «❌ Бот ответил неверно» (services.feedback); `marked` once it was.
    turn_id: int | None = None
    marked: bool = False


def _who_outbound(kind: str, created_by: str) -> str:
    if kind == OutboundKind.MANAGER:
        return _("Manager %(name)s") % {"name": created_by.split(":", 1)[-1]} if created_by else _("Manager")
    if kind == OutboundKind.HOLDING:
        return _("Bot: holding reply")
    return _("Bot")


def _outbound_meta(o: Any) -> tuple[list[str], str]:
    status = {
        OutboundStatus.SENT: _("delivered"), OutboundStatus.PENDING: _("waiting to be sent"), OutboundStatus.SENDING: _("sending"),
        OutboundStatus.UNKNOWN: _("being re-sent"), OutboundStatus.CANCELLED: _("not sent: a manager took over"),
        OutboundStatus.FAILED: _("NOT delivered"),
    }.get(o.status, o.status)
    meta = [str(status)]
    warning = ""
    if o.status == OutboundStatus.FAILED:
        warning = _("The customer did not get this message: %(error)s") % {"error": (o.last_error or _("the gateway refused it"))[:200]}
    elif o.attempts > 1:
        meta.append(_("%(n)s attempts") % {"n": o.attempts})
    return meta, warning


def _turn_line(turn: Any) -> str:
    if turn.status == TurnStatus.ANSWERED:
        line = _("The bot answered")
    elif turn.status == TurnStatus.ESCALATED:
        line = _("The bot handed the conversation to a manager: %(reason)s") % {"reason": turn.get_reason_display() or "—"}
    elif turn.status == TurnStatus.FORWARDED:
        line = _("Forwarded to the manager who holds the conversation")
    elif turn.status == TurnStatus.SUPPRESSED:
        line = _("Not answered: a manager took the conversation meanwhile")
    else:
        line = _("The bot is thinking…")
    trace = getattr(turn, "trace", None)
    if trace is not None and trace.confidence is not None:
        line += " · " + _("confidence %(value)s") % {"value": f"{trace.confidence:.2f}"}
    return line


def _notice_text(delivery: Any) -> tuple[str, str]:
    """(neutral line, warning) about the managers' notice of an escalation."""
    if delivery is None:
        return "", _("Managers have not been notified.")
    if delivery.delivered:
        where = delivery.channel or _("their channel")
        return _("Managers notified (%(where)s).") % {"where": where}, ""
    if delivery.pending:
        reason = f" ({delivery.error[:200]})" if delivery.error else ""
        return "", _("Managers have not been notified yet: the notice is still being delivered%(reason)s.") % {"reason": reason}
    return "", _("Managers were NOT notified: %(reason)s. Answer the customer here or fix the notifications.") % {
        "reason": (delivery.error or _("unknown error"))[:300]}


def _trace_link(trace_id: int | None) -> str:
    return reverse("admin:conversations_messagetrace_change", args=[trace_id]) if trace_id else ""


def conversation_chat(conversation: Conversation) -> list[Bubble]:
    entries: list[TimelineEntry] = conversation_timeline(conversation)
    escalations = [e.obj for e in entries if e.kind == "escalation"]
    deliveries = escalation_deliveries(escalations) if escalations else {}
    traces = {e.obj.pk: e.obj.trace.pk for e in entries if e.kind == "turn" and getattr(e.obj, "trace", None) is not None}
    marked = set(WrongAnswerMark.objects.for_tenant(conversation.tenant_id).filter(conversation=conversation)
                 .values_list("turn_id", flat=True))
    bubbles: list[Bubble] = []
    state_labels = dict(ConversationState.choices)
    for entry in entries:
        o = entry.obj
        if entry.kind == "inbound":
            text = o.text or _("(%(type)s without text)") % {"type": o.message_type}
            meta = [] if o.message_type == "text" else [o.message_type]
            bubbles.append(Bubble(entry.at, "customer", text, who=conversation.customer_name or _("Customer"), meta=meta))
        elif entry.kind == "outbound":
            meta, warning = _outbound_meta(o)
            answer_turn = o.turn_id if o.kind == OutboundKind.REPLY else None
            if answer_turn in marked:
                meta.append(str(_("marked wrong")))
            bubbles.append(Bubble(entry.at, _OUTBOUND_STYLE.get(o.kind, "bot"), o.text, who=_who_outbound(o.kind, o.created_by),
                                  meta=meta, warning=warning, link=_trace_link(traces.get(o.turn_id)),
                                  turn_id=answer_turn, marked=answer_turn in marked))
        elif entry.kind == "note":
            bubbles.append(Bubble(entry.at, "note", o.text, who=_("Internal note by %(name)s, not sent to the customer") % {
                "name": o.actor_label or "—"}))
        elif entry.kind == "turn":
            if o.status in (TurnStatus.ANSWERED, TurnStatus.PROCESSING):
                continue  # the bubble of the reply says it; a trace link stays available in the trace list
            bubbles.append(Bubble(entry.at, "system", _turn_line(o), link=_trace_link(traces.get(o.pk))))
        elif entry.kind == "escalation":
            line, warning = _notice_text(deliveries.get(o.pk))
            text = _("Escalation: %(reason)s.") % {"reason": o.get_reason_display()}
            if o.taken_by:
                text += " " + _("Taken by %(who)s.") % {"who": o.taken_by}
            bubbles.append(Bubble(entry.at, "system", f"{text} {line}".strip(), warning=warning))
        elif entry.kind == "event":
            if o.source == "system":
                continue  # the escalation bubble above already says it
            bubbles.append(Bubble(entry.at, "system", _("%(who)s: %(from)s → %(to)s") % {
                "who": o.actor_label or o.source, "from": state_labels.get(o.from_state, o.from_state),
                "to": state_labels.get(o.to_state, o.to_state)}))
        elif entry.kind == "error":
            bubbles.append(Bubble(entry.at, "error", _("Error in %(where)s: %(message)s") % {"where": o.where, "message": o.message[:200]}))
    return bubbles


def notice_warning(conversation: Conversation) -> str:
    """The warning for the page's top when the conversation's open escalation reached no manager."""
    from conversations.selectors import conversation_latest_escalation

    escalation = conversation_latest_escalation(conversation)
    if escalation is None or escalation.status not in ("open", "taken"):
        return ""
    return _notice_text(escalation_deliveries([escalation]).get(escalation.pk))[1]


def notice_line(escalation: Any) -> str:
    """One line about whether the managers got this escalation."""
    line, warning = _notice_text(escalation_deliveries([escalation]).get(escalation.pk))
    return warning or line
