"""The quality gate: ordered rules, each passing or failing with a reason; thresholds are
data (`defaults.DEFAULTS`, overridable per release). The first failing rule escalates.

Rules before `composed` judge the customer's messages and the retrieval evidence; the ones
after judge the reply (grounding: every number, time, price and name in the reply occurs in
the sources the reply was built from)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from conversations.answering import intents
from conversations.answering.composer import Composition
from conversations.choices import EscalationReason
from knowledge import text as T
from knowledge.retrieval import Retrieval, is_ambiguous


@dataclass
class GateContext:
    messages: list[str]
    config: dict[str, Any]
    intents: dict[str, bool] = field(default_factory=dict)
    retrieval: Retrieval | None = None
    composition: Composition | None = None

    @property
    def thresholds(self) -> dict[str, Any]:
        return self.config["thresholds"]


@dataclass
class RuleResult:
    rule: str
    passed: bool
    detail: str = ""
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "passed": self.passed, "detail": self.detail}


def _ok(rule: str, detail: str = "") -> RuleResult:
    return RuleResult(rule, True, detail)


def _fail(rule: str, reason: str, detail: str) -> RuleResult:
    return RuleResult(rule, False, detail, reason)


# --- rules on the messages ----------------------------------------------------------------------

def rule_input_length(ctx: GateContext) -> RuleResult:
    size = sum(len(m) for m in ctx.messages)
    if size > ctx.thresholds["max_input_chars"]:
        return _fail("input_length", EscalationReason.TOO_LONG, f"{size} characters > {ctx.thresholds['max_input_chars']}")
    return _ok("input_length", f"{size} characters")


def _intent_rule(name: str, reason: str) -> Callable[[GateContext], RuleResult]:
    def rule(ctx: GateContext) -> RuleResult:
        if ctx.intents.get(name):
            return _fail(name, reason, f"matched '{intents.matched_fragment(name, ' '.join(ctx.messages))}'")
        return _ok(name)

    rule.__name__ = f"rule_{name}"
    return rule


def rule_offtopic(ctx: GateContext) -> RuleResult:
    """Off-topic words only count when the business's own knowledge does not use them (a
    clinic may well answer about prescriptions)."""
    if not ctx.intents.get("offtopic"):
        return _ok("offtopic")
    fragment = intents.matched_fragment("offtopic", " ".join(ctx.messages))
    vocabulary = ctx.retrieval.snapshot.vocabulary if ctx.retrieval else set()
    words = [w for w in T.words(T.normalize(fragment)) if not w.isdigit()]
    if words and any(w in vocabulary or T.stem(w) in vocabulary for w in words):
        return _ok("offtopic", f"'{fragment}' is in the knowledge")
    return _fail("offtopic", EscalationReason.OFFTOPIC, f"matched '{fragment}'")


# --- rules on the retrieval evidence ------------------------------------------------------------

def rule_knowledge_present(ctx: GateContext) -> RuleResult:
    if ctx.retrieval is None or ctx.retrieval.item_count == 0:
        return _fail("knowledge_present", EscalationReason.NO_KNOWLEDGE, "the knowledge base is empty")
    return _ok("knowledge_present", f"{ctx.retrieval.item_count} items in v{ctx.retrieval.version_number}")


def rule_has_question(ctx: GateContext) -> RuleResult:
    assert ctx.retrieval is not None
    if not any(s.content_words or s.aspects for s in ctx.retrieval.segments):
        return _fail("has_question", EscalationReason.LOW_CONFIDENCE, "no question to answer (greeting or filler only)")
    return _ok("has_question", f"{len(ctx.retrieval.segments)} segment(s)")


def missing_evidence(ctx: GateContext) -> dict[str, Any] | None:
    """What the knowledge lacks for the first part of the message no item covers: the nearest
    item, the customer's words it does not contain (qualifiers) and the aspects asked that it does
    not state (price, duration, hours, days, address, age, phone). Kept in the trace and the
    escalation so an operator can add the missing fact or an alternative phrasing."""
    if ctx.retrieval is None:
        return None
    for segment in ctx.retrieval.segments:
        if segment.chosen is not None:
            continue
        nearest = segment.candidates[0] if segment.candidates else None
        return {
            "question": segment.text,
            "nearest_item": nearest.external_id if nearest else None,
            "words": list(dict.fromkeys(nearest.uncovered)) if nearest else [],
            "aspects": [f.removeprefix("no_") for f in nearest.failures if f.startswith("no_")] if nearest else [],
            "asked_aspects": sorted(segment.aspects),
        }
    return None


def rule_qualifier(ctx: GateContext) -> RuleResult:
    """Every part of the message needs an item that covers all its content words and states
    every aspect it asks about."""
    missing = missing_evidence(ctx)
    if missing is None:
        return _ok("qualifier", "every part covered")
    if missing["nearest_item"] is None:
        return _fail("qualifier", EscalationReason.NO_KNOWLEDGE, f"nothing in the knowledge resembles '{missing['question']}'")
    parts = []
    if missing["words"]:
        parts.append(f"lacks {', '.join(missing['words'])}")
    if missing["aspects"]:
        parts.append(f"states no {', '.join(missing['aspects'])}")
    return _fail("qualifier", EscalationReason.UNSUPPORTED_QUALIFIER,
                 f"'{missing['question']}': nearest item {missing['nearest_item']} {'; '.join(parts) or 'does not cover it'}")


def rule_ambiguity(ctx: GateContext) -> RuleResult:
    assert ctx.retrieval is not None
    ratio = ctx.thresholds["ambiguity_ratio"]
    for segment in ctx.retrieval.segments:
        best, second = segment.chosen, segment.runner_up
        if best and second and not segment.resolved_by_context and not segment.variants and is_ambiguous(best, second, ratio):
            return _fail("ambiguity", EscalationReason.AMBIGUOUS,
                         f"'{segment.text}': {best.external_id} {best.score} vs {second.external_id} {second.score}")
    both = [s for s in ctx.retrieval.segments if s.variants]
    if both:
        return _ok("ambiguity", "; ".join(
            f"'{s.text}': both parallel variants {', '.join(v.external_id for v in s.variants)}" for s in both))
    return _ok("ambiguity")


def rule_confidence(ctx: GateContext) -> RuleResult:
    assert ctx.retrieval is not None
    lowest = min((s.chosen.confidence for s in ctx.retrieval.segments if s.chosen), default=0.0)
    if lowest < ctx.thresholds["min_confidence"]:
        return _fail("confidence", EscalationReason.LOW_CONFIDENCE, f"confidence {lowest} < {ctx.thresholds['min_confidence']}")
    return _ok("confidence", f"confidence {lowest}")


def rule_topic_count(ctx: GateContext) -> RuleResult:
    assert ctx.retrieval is not None
    count = len(ctx.retrieval.items)
    if count > ctx.thresholds["max_items"]:
        return _fail("topic_count", EscalationReason.LOW_CONFIDENCE, f"{count} topics in one turn > {ctx.thresholds['max_items']}")
    return _ok("topic_count", f"{count} item(s)")


# --- rules on the reply -------------------------------------------------------------------------

def rule_composed(ctx: GateContext) -> RuleResult:
    composition = ctx.composition
    if composition is None or not composition.ok or not composition.text.strip():
        failure = composition.failure if composition else "no reply"
        reason = EscalationReason.LOW_CONFIDENCE if failure == "unsure" else EscalationReason.UNGROUNDED
        return _fail("composed", reason, f"composer: {failure}")
    return _ok("composed", f"{len(composition.text)} characters")


_NAME = re.compile(r"(?<![.!?\n]\s)(?<!^)\b[A-ZА-ЯЁ][\w'-]+|@[\w.]+|https?://\S+")


def ungrounded_facts(reply: str, sources: list[str]) -> list[str]:
    """Numbers, times, prices, @handles, links and capitalised names in the reply that no
    source contains."""
    source_text = "\n".join(sources)
    source_numbers = T.numbers_in(source_text)
    missing = sorted(n for n in T.numbers_in(reply) if n not in source_numbers)
    folded_sources = T.fold(source_text)
    source_keys = T.key_set(source_text)
    for match in _NAME.finditer(reply):
        token = match.group(0)
        if token.startswith(("@", "http")):
            if T.fold(token).rstrip(".,)") not in folded_sources:
                missing.append(token)
            continue
        word = T.fold(token)
        if word in folded_sources or T.stem(word) in source_keys:
            continue
        missing.append(token)
    return missing


def rule_grounding(ctx: GateContext) -> RuleResult:
    assert ctx.retrieval is not None and ctx.composition is not None
    answers = ctx.retrieval.answer_texts()
    sources = [answers[i] for i in ctx.composition.sources if i in answers]
    questions = [ctx.retrieval.snapshot.features[i].doc.question for i in ctx.composition.sources if i in answers]
    missing = ungrounded_facts(ctx.composition.text, sources + questions)
    if missing:
        return _fail("grounding", EscalationReason.UNGROUNDED, f"not in the sources: {', '.join(missing[:8])}")
    return _ok("grounding", "every fact found in the sources")


def rule_reply_length(ctx: GateContext) -> RuleResult:
    assert ctx.composition is not None
    size = len(ctx.composition.text)
    if size > ctx.thresholds["max_reply_chars"]:
        return _fail("reply_length", EscalationReason.TOO_LONG, f"reply {size} characters > {ctx.thresholds['max_reply_chars']}")
    return _ok("reply_length", f"{size} characters")


RULES: dict[str, Callable[[GateContext], RuleResult]] = {
    "input_length": rule_input_length,
    "injection": _intent_rule("injection", EscalationReason.INJECTION),
    "toxic": _intent_rule("toxic", EscalationReason.TOXIC),
    "complaint": _intent_rule("complaint", EscalationReason.COMPLAINT),
    "booking": _intent_rule("booking", EscalationReason.BOOKING),
    "manager_request": _intent_rule("manager_request", EscalationReason.MANAGER_REQUESTED),
    "offtopic": rule_offtopic,
    "knowledge_present": rule_knowledge_present,
    "has_question": rule_has_question,
    "qualifier": rule_qualifier,
    "ambiguity": rule_ambiguity,
    "confidence": rule_confidence,
    "topic_count": rule_topic_count,
    "composed": rule_composed,
    "grounding": rule_grounding,
    "reply_length": rule_reply_length,
}
REPLY_RULES = ("composed", "grounding", "reply_length")


def run_rules(ctx: GateContext, names: list[str]) -> tuple[list[RuleResult], RuleResult | None]:
    """Run rules in order until one fails; returns the results and the failing one."""
    results = []
    for name in names:
        rule = RULES.get(name)
        if rule is None:
            continue  # a release may list rules this build does not know; never a crash
        result = rule(ctx)
        results.append(result)
        if not result.passed:
            return results, result
    return results, None
