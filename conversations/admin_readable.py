"""Bot decisions as Russian text for operators: a trace's decision, its quality-gate checklist,
timings and sources, and an escalation's details — instead of raw JSON (which stays available
under "technical data")."""

from __future__ import annotations

import json
from typing import Any

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from conversations.choices import EscalationReason, TurnDecision

# What each quality-gate rule checks, as the operator would say it when it passes.
GATE_RULES = {
    "input_length": gettext_lazy("The customer's message is not too long"),
    "injection": gettext_lazy("No attempt to override the bot's instructions"),
    "toxic": gettext_lazy("No rudeness or insults"),
    "complaint": gettext_lazy("Not a complaint or refund request"),
    "booking": gettext_lazy("Not a booking, rescheduling or cancellation"),
    "manager_request": gettext_lazy("The customer did not ask for a human"),
    "offtopic": gettext_lazy("On the business's topic"),
    "knowledge_present": gettext_lazy("The client has a knowledge base in service"),
    "has_question": gettext_lazy("There is a question to answer"),
    "qualifier": gettext_lazy("The knowledge covers every part of the question"),
    "ambiguity": gettext_lazy("The best matches do not contradict each other"),
    "confidence": gettext_lazy("The search is confident enough"),
    "topic_count": gettext_lazy("Not too many topics in one message"),
    "composed": gettext_lazy("A reply could be composed"),
    "grounding": gettext_lazy("Every number, price, time and name in the reply is in the knowledge"),
    "reply_length": gettext_lazy("The reply is not too long"),
}
TIMINGS = {
    "wait_ms": gettext_lazy("waiting for more messages and the queue"), "rag_ms": gettext_lazy("knowledge search"),
    "llm_ms": gettext_lazy("composing the reply"), "qc_ms": gettext_lazy("quality check"),
    "decide_ms": gettext_lazy("the whole decision"), "send_ms": gettext_lazy("sending to the customer"),
    "total_ms": gettext_lazy("in total"),
}
DETAIL_KEYS = {
    "error": gettext_lazy("Error"), "types": gettext_lazy("Message types"), "outbound_id": gettext_lazy("Undelivered message"),
    "reported_reason": gettext_lazy("Reason reported"), "intents": gettext_lazy("Recognised in the message"),
    "text": gettext_lazy("Reply the bot prepared"), "segments": gettext_lazy("Parts of the question"),
    "composer": gettext_lazy("How the reply was composed"), "missing": gettext_lazy("What the knowledge lacked"),
}
INTENTS = {
    "booking": gettext_lazy("booking"), "complaint": gettext_lazy("complaint"), "toxic": gettext_lazy("rudeness"),
    "injection": gettext_lazy("instruction override"), "manager_request": gettext_lazy("asks for a human"),
    "offtopic": gettext_lazy("off-topic"), "greeting": gettext_lazy("greeting"), "goodbye": gettext_lazy("goodbye"),
    "thanks": gettext_lazy("thanks"),
}


def _reason(reason: str) -> str:
    return str(dict(EscalationReason.choices).get(reason, reason)) if reason else ""


def gate_checklist(gate: list[dict[str, Any]] | None) -> SafeString:
    """The gate's rules in order: ✅ passed, ❌ failed (the first failure decides), with the rule's detail."""
    rows = [r for r in (gate or []) if isinstance(r, dict)]
    if not rows:
        return format_html("<p>{}</p>", _("The quality gate did not run for this turn."))
    return format_html('<ul class="imperium-readable">{}</ul>', format_html_join(
        "", "<li>{} {}{}</li>",
        (("✅" if r.get("passed") else "❌", GATE_RULES.get(str(r.get("rule")), r.get("rule")),
          format_html(' <small class="quiet">({})</small>', r["detail"]) if r.get("detail") else "") for r in rows),
    ))


def trace_summary(trace: Any) -> SafeString:
    """What the bot decided and why, in a few Russian lines."""
    if trace.decision == TurnDecision.ANSWER:
        headline = _("The bot answered the customer.")
    elif trace.decision == TurnDecision.FORWARD:
        headline = _("A manager held the conversation: the message was forwarded to them.")
    else:
        headline = _("The bot handed the conversation to a manager: %(reason)s.") % {"reason": _reason(trace.reason) or "—"}
    lines = [headline]
    if trace.confidence is not None:
        lines.append(_("Search confidence: %(value)s (from 0 to 1).") % {"value": f"{trace.confidence:.2f}"})
    sources = [str(s) for s in (trace.sources or [])]
    lines.append(_("Knowledge used: %(items)s.") % {"items": ", ".join(sources)} if sources else _("No knowledge item was used."))
    if trace.kb_version:
        lines.append(_("Knowledge base version %(version)s, release %(release)s.") % {"version": trace.kb_version,
                                                                                         "release": trace.release or "—"})
    timings = [_("%(what)s %(ms)s ms") % {"what": TIMINGS[k], "ms": round(getattr(trace, k))}
               for k in TIMINGS if getattr(trace, k, None) is not None]
    if timings:
        lines.append(_("Time: %(list)s.") % {"list": "; ".join(timings)})
    return format_html("{}<h4>{}</h4>{}", format_html_join("", "<p>{}</p>", ((line,) for line in lines)),
                       _("Quality check"), gate_checklist(trace.gate))


def detail_text(detail: dict[str, Any] | None) -> SafeString:
    """An escalation's (or a trace's) details: known keys in Russian, anything else as compact JSON."""
    detail = detail or {}
    if not detail:
        return format_html("<p>{}</p>", _("No details."))
    items = []
    for key, value in detail.items():
        label = DETAIL_KEYS.get(key, key)
        if key == "intents" and isinstance(value, list):
            value = ", ".join(str(INTENTS.get(v, v)) for v in value) or "—"
        elif key == "reported_reason":
            value = _reason(str(value))
        elif key == "segments" and isinstance(value, list):
            value = "; ".join(str(s.get("text", s)) if isinstance(s, dict) else str(s) for s in value)
        elif not isinstance(value, str):
            value = json.dumps(value, ensure_ascii=False)
        items.append((label, value))
    return format_html('<ul class="imperium-readable">{}</ul>', format_html_join("", "<li><strong>{}:</strong> {}</li>", items))


def raw_json(value: Any) -> SafeString:
    return format_html('<details><summary>{}</summary><pre style="white-space:pre-wrap">{}</pre></details>', _("Show as JSON"),
                       json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True))
