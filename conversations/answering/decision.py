"""The answering brain's result types: `Decision` (what `decide_reply` returns), its two actions,
and `NO_KNOWLEDGE_SERVED` (the `kb_version` that means "this tenant serves no KB version").
Escalation reasons are `conversations.choices.EscalationReason`."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

ANSWER = "answer"
ESCALATE = "escalate"


class _NoKnowledgeServed:
    """`kb_version=NO_KNOWLEDGE_SERVED`: the tenant serves no KB version on its channel (no stable
    version, no canary candidate). The brain then answers from nothing and escalates
    `no_knowledge` — unlike `kb_version=None`, which means "the version it serves, or its newest
    draft" (ask, kb_eval) and would answer customers from an unreviewed draft."""

    _instance: _NoKnowledgeServed | None = None

    def __new__(cls) -> _NoKnowledgeServed:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "NO_KNOWLEDGE_SERVED"

    def __bool__(self) -> bool:
        return False


NO_KNOWLEDGE_SERVED = _NoKnowledgeServed()


@dataclass
class Decision:
    action: Literal["answer", "escalate"]
    text: str = ""  # the reply for `answer`; empty for `escalate` (the holding reply is a tenant template)
    reason: str = ""  # an EscalationReason value for `escalate`
    confidence: float = 0.0
    sources: list[str] = field(default_factory=list)  # KB item external ids the answer is grounded in
    gate: list[dict[str, Any]] = field(default_factory=list)  # [{"rule": ..., "passed": bool, "detail": ...}]
    timings: dict[str, float] = field(default_factory=dict)  # rag_ms, llm_ms, qc_ms (milliseconds)
    scores: dict[str, float] = field(default_factory=dict)
    kb_version: int | None = None  # KnowledgeVersion.number used
    release: str | None = None  # release version used
    detail: dict[str, Any] = field(default_factory=dict)

    @property
    def escalated(self) -> bool:
        return self.action == ESCALATE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
