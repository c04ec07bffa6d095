"""The answer brain: intents → retrieval → gate (evidence) → composer → gate (reply).

`decide_reply` is the one interface between the reply pipeline and the brain: the turn task,
`ask`, `kb_eval` and the KB promotion gate call it (the last three with `conversation=None`).

Never raises for a message: a failing outside service (embeddings, Qdrant, LLM) becomes an
escalation with reason `dependency_down` and an ErrorLog row; an unexpected bug becomes an
escalation with reason `other` and an ErrorLog row."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from conversations.answering import intents
from conversations.answering.composer import Composition, composer_from_settings
from conversations.answering.decision import ANSWER, ESCALATE, NO_KNOWLEDGE_SERVED, Decision
from conversations.answering.defaults import effective_config, release_label
from conversations.answering.gate import REPLY_RULES, GateContext, RuleResult, missing_evidence, run_rules
from conversations.choices import EscalationReason
from imperium.core.exceptions import IntegrationError
from knowledge.models import KnowledgeVersion
from knowledge.retrieval import Retrieval, retrieve
from knowledge.selectors import kb_version_default, kb_version_get

logger = logging.getLogger(__name__)


def resolve_version(tenant: Any, kb_version: Any) -> KnowledgeVersion | None:
    if kb_version is NO_KNOWLEDGE_SERVED:
        return None
    if isinstance(kb_version, KnowledgeVersion):
        if kb_version.tenant_id != tenant.pk:
            raise ValueError("kb_version belongs to another tenant")
        return kb_version
    if kb_version is None:
        return kb_version_default(tenant)
    return kb_version_get(tenant, int(kb_version))


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def decide_reply(tenant: Any, conversation: Any, messages: Sequence[str], *, kb_version: Any = None, release: Any = None,
                 composer: Any = None) -> Decision:
    """Decide how to answer a burst of customer messages. Never raises for a bad message;
    a failing dependency becomes an escalation with reason `dependency_down`.

    `kb_version`: a KnowledgeVersion, its number, None for the version the tenant serves now
    (stable) or its newest draft when it serves none yet (ask, kb_eval), or
    NO_KNOWLEDGE_SERVED (escalate `no_knowledge`). The turn task passes
    `knowledge.selectors.kb_version_serving(tenant, channel=...)`, or NO_KNOWLEDGE_SERVED when
    that is None: customers are never answered from an unreviewed draft. `release`: None, a
    dict, or the resolved release (`releases.selectors.release_for_tenant`) whose
    `config["answering"]` sets the gate rules, thresholds and templates
    (see conversations/answering/defaults.py). `conversation` may be None (ask, kb_eval);
    only its `.pk` is read. `composer`: None for the one the settings choose.
    """
    started = time.perf_counter()
    texts = [str(m) for m in messages if m is not None and str(m).strip()]
    config = effective_config(release)
    label = release_label(release)
    version = resolve_version(tenant, kb_version)
    decision = Decision(action=ESCALATE, kb_version=version.number if version else None, release=label)
    ctx = GateContext(messages=texts, config=config, intents=intents.detect("\n".join(texts)))
    timings: dict[str, float] = {}
    gate: list[RuleResult] = []
    where = "answering.retrieval"
    try:
        evidence_rules = [r for r in config["rules"] if r not in REPLY_RULES]
        qc_started = time.perf_counter()
        pre = [r for r in evidence_rules if r in ("input_length", "injection", "toxic", "complaint", "booking", "manager_request")]
        results, failed = run_rules(ctx, pre)
        gate.extend(results)
        qc_ms = _ms(qc_started)
        if failed is None:
            if version is not None and texts:
                ctx.retrieval = retrieve(version, texts, candidates=config["thresholds"]["candidates"],
                                         ambiguity_ratio=config["thresholds"]["ambiguity_ratio"])
                timings["rag_ms"] = ctx.retrieval.rag_ms
            ctx.composition = _smalltalk_reply(ctx, gate)
            if ctx.composition is None:
                qc_started = time.perf_counter()
                results, failed = run_rules(ctx, [r for r in evidence_rules if r not in pre])
                gate.extend(results)
                qc_ms += _ms(qc_started)
        if failed is None and ctx.composition is None:
            assert ctx.retrieval is not None
            where = "answering.composer"
            composer = composer or composer_from_settings()
            answers = _reply_texts(ctx.retrieval, config)
            items = [{"id": i, "question": ctx.retrieval.snapshot.features[i].doc.question, "answer": answers[i]}
                     for i in ctx.retrieval.items]
            ctx.composition = composer.compose(messages=texts, items=items, config=config, business=getattr(tenant, "name", ""))
            for focus in ctx.retrieval.focus.values():
                if focus.reference not in ctx.composition.sources:
                    ctx.composition.sources.append(focus.reference)  # the item whose tier entry the reply quotes
            if ctx.composition.llm_ms:
                timings["llm_ms"] = ctx.composition.llm_ms
        if failed is None and ctx.composition is not None:
            # Every reply passes the reply rules, a small-talk template too: a release cannot slip a
            # price, a phone number or a name past the grounding check through a template.
            qc_started = time.perf_counter()
            results, failed = run_rules(ctx, [r for r in config["rules"] if r in REPLY_RULES])
            gate.extend(results)
            qc_ms += _ms(qc_started)
        timings["qc_ms"] = qc_ms
    except IntegrationError as exc:
        _record_failure(where, exc, tenant, conversation, version)
        decision.reason = EscalationReason.DEPENDENCY_DOWN
        gate.append(RuleResult("dependencies", False, f"{where}: {exc.message}"[:300], EscalationReason.DEPENDENCY_DOWN))
        failed = gate[-1]
    except Exception as exc:  # a bug must never leave a customer without an answer or a human
        _record_failure(f"{where}.crash", exc, tenant, conversation, version)
        gate.append(RuleResult("internal", False, f"{type(exc).__name__}: {exc}"[:300], EscalationReason.OTHER))
        failed = gate[-1]

    decision.gate = [r.as_dict() for r in gate]
    if ctx.retrieval is not None:
        chosen = [s.chosen for s in ctx.retrieval.segments if s.chosen]
        decision.confidence = round(min((c.confidence for c in chosen), default=0.0), 4)
        decision.scores = {f"{c.external_id}": c.score for c in chosen}
        decision.detail["segments"] = [s.as_dict() for s in ctx.retrieval.segments]
        quoted = sorted(set(ctx.retrieval.entries) | set(ctx.retrieval.focus))
        if quoted:
            decision.detail["quoted_lines"] = quoted  # items answered by one line/entry, not whole (knowledge.focus, tiers)
    decision.detail["intents"] = [name for name, hit in ctx.intents.items() if hit]
    if failed is None and ctx.composition is not None:
        decision.action = ANSWER
        decision.text = ctx.composition.text
        decision.sources = list(ctx.composition.sources)
        decision.reason = ""
        if ctx.composition.detail:
            decision.detail["composer"] = ctx.composition.detail
    else:
        decision.action = ESCALATE
        decision.reason = str(failed.reason) if failed is not None else EscalationReason.NO_KNOWLEDGE
        decision.sources = list(ctx.retrieval.items) if ctx.retrieval is not None and failed and failed.rule in (
            "composed", "grounding", "reply_length") else []
        if ctx.composition is not None and ctx.composition.detail:
            decision.detail["composer"] = ctx.composition.detail
        if failed is not None and failed.rule == "qualifier":
            decision.detail["missing"] = missing_evidence(ctx)
    if version is None:
        decision.reason = EscalationReason.NO_KNOWLEDGE
        detail = "the tenant serves no KB version on its channel" if kb_version is NO_KNOWLEDGE_SERVED else "the tenant has no KB version"
        decision.gate.append({"rule": "knowledge_present", "passed": False, "detail": detail})
    timings["total_ms"] = _ms(started)
    decision.timings = timings
    return decision


def _reply_texts(retrieval: Retrieval, config: dict[str, Any]) -> dict[str, str]:
    """What each chosen item contributes to the reply: its answer, or for an item chosen through a
    tier (`knowledge.tiers`) only that tier's line(s) and the reference entry that placed the
    customer in the tier (release template `tier_reply`)."""
    answers = retrieval.answer_texts()
    answers.update(retrieval.entries)  # a list item whose one entry was asked: that entry (knowledge.focus)
    for item_id, focus in retrieval.focus.items():
        answers[item_id] = str(config["templates"]["tier_reply"]).format(line="\n".join(focus.lines), basis=focus.basis)
    return answers


def _smalltalk_reply(ctx: GateContext, gate: list[RuleResult]) -> Composition | None:
    """The release's small-talk template when the burst is only a greeting, thanks or an "ок": no
    question (no content word), no fact in the reply, nothing for a manager. None otherwise (or
    when the release's template for it is empty), and the gate goes on as usual."""
    if ctx.retrieval is None or any(s.content_words for s in ctx.retrieval.segments):
        return None
    kind = intents.smalltalk("\n".join(ctx.messages))
    text = str(ctx.config["templates"].get(f"smalltalk_{kind}") or "").strip() if kind else ""
    if not text:
        return None
    gate.append(RuleResult("smalltalk", True, f"{kind} only: the release's smalltalk_{kind} template"))
    return Composition(text=text, sources=[], detail={"smalltalk": kind})


def _record_failure(where: str, exc: BaseException, tenant: Any, conversation: Any, version: KnowledgeVersion | None) -> None:
    from incidents.errors import error_log_record

    error_log_record(where=where, exc=exc, tenant=tenant,
                     context={"conversation": getattr(conversation, "pk", None), "kb_version": version.number if version else None})
