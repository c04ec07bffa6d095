"""Behaviour data of the answer brain: gate rule order, thresholds and prompt/reply templates.

A release bundle can override any of it with a dict of the same shape (deep-merged), which
is how the releases work versions prompts and gate thresholds without code changes:

    decide_reply(..., release={"version": "2025.12.1", "answering": {"thresholds": {"ambiguity_ratio": 0.95}}})
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

DEFAULTS: dict[str, Any] = {
    # Evaluated in this order; the first failing rule decides the escalation reason.
    "rules": [
        "input_length",
        "injection",
        "toxic",
        "complaint",
        "booking",
        "manager_request",
        "offtopic",
        "knowledge_present",
        "has_question",
        "qualifier",
        "ambiguity",
        "confidence",
        "topic_count",
        "composed",
        "grounding",
        "reply_length",
    ],
    "thresholds": {
        "max_input_chars": 1200,
        "max_reply_chars": 1600,
        "max_items": 3,
        # Second-best item scoring at least this share of the best one → ambiguous.
        "ambiguity_ratio": 0.9,
        # Share of the question's weight found in the chosen item (question field counts 1.0,
        # answer text 0.8), shaped by how much of the item's own question was asked.
        "min_confidence": 0.4,
        "candidates": 12,
    },
    "templates": {
        "join": "\n\n",
        "llm_system": (
            "You are the WhatsApp assistant of the business \"{business}\". Answer the customer ONLY with facts "
            "from the knowledge snippets below. Copy prices, times, addresses and names exactly as written. "
            "Do not add anything that is not in the snippets. Reply in the customer's language, briefly and politely. "
            "If the snippets do not answer exactly what was asked, reply with the single word UNSURE. "
            "End the reply with the ids of the snippets you used in square brackets, e.g. [price-manicure]."
        ),
        "llm_user": "Knowledge snippets:\n{snippets}\n\nCustomer messages:\n{messages}",
        "llm_snippet": "[{id}] Q: {question}\nA: {answer}",
        "llm_verify_system": (
            "You check a draft reply of a customer-service bot against its knowledge snippets. Answer with one JSON "
            "object and nothing else: {\"item_id\": \"<snippet id the reply relies on>\", \"quote\": \"<exact words "
            "copied from that snippet that carry the answer>\", \"answers_exactly\": true|false} — answers_exactly is "
            "true only when the snippet answers exactly what the customer asked (same service, same qualifier, same "
            "branch or day) and the reply adds no fact the snippets lack."
        ),
        "llm_verify_user": "Knowledge snippets:\n{snippets}\n\nCustomer messages:\n{messages}\n\nDraft reply:\n{reply}",
        "unsure_marker": "UNSURE",
    },
}


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


# Keys of the releases bundle's generic `gate` section that mean the same here. (Its
# `max_answer_chars` is not mapped: extractive replies join whole items, and 900 characters
# would refuse two-part answers that the reply_length rule, at 1,600, lets through.)
_GATE_KEYS = {"max_sources": "max_items"}


def release_overrides(release: Any) -> dict[str, Any]:
    """The answering part of a release: a dict's "answering" key, or an object's `answering`,
    or the `config` of a resolved release (releases.selectors.release_for_tenant): its
    "answering" section plus the generic `gate` keys that mean the same here. Other generic
    keys (min_confidence, min_retrieval_score, max_answer_chars, prompts) are on other scales
    or protocols and are not read — see docs/KNOWLEDGE.md."""
    if release is None:
        return {}
    if isinstance(release, Mapping):
        return _plain(release.get("answering") or {})
    value = getattr(release, "answering", None)
    if isinstance(value, Mapping):
        return _plain(value)
    for attribute in ("config", "bundle", "behaviour"):
        config = getattr(release, attribute, None)
        if not isinstance(config, Mapping):
            continue
        overrides = _plain(config.get("answering") or {})
        gate = config.get("gate")
        if isinstance(gate, Mapping):
            mapped = {ours: gate[theirs] for theirs, ours in _GATE_KEYS.items() if theirs in gate}
            if mapped:
                overrides.setdefault("thresholds", {}).update(
                    {k: v for k, v in mapped.items() if k not in overrides.get("thresholds", {})}
                )
        return overrides
    return {}


def release_label(release: Any) -> str | None:
    if release is None:
        return None
    if isinstance(release, Mapping):
        value = release.get("version") or release.get("name")
    else:
        value = getattr(release, "version", None) or getattr(release, "name", None)
    return str(value) if value else None


def effective_config(release: Any = None) -> dict[str, Any]:
    return _merge(DEFAULTS, release_overrides(release))
