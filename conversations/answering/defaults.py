"""Behaviour data of the answer brain: gate rule order, thresholds and prompt/reply templates.

This is the `answering` section of every release bundle: `releases.defaults.DEFAULT_BUNDLE`
carries it unchanged, a release overrides any part of it (deep-merged; lists replaced whole),
`validate_answering` below is what a release's overrides must pass, and the turn task hands the
tenant's resolved release to `decide_reply`, whose brain reads `release.config["answering"]`:

    decide_reply(..., release={"version": "2025.12.1", "answering": {"thresholds": {"ambiguity_ratio": 0.95}}})

Nothing else in a release changes how the brain decides.
"""

from __future__ import annotations

import copy
import string
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
        # Second-best item scoring at least this share of the best one → ambiguous. 0.85 chosen by
        # leave-one-business-out over the development eval sets (docs/EVAL.md "Calibration").
        "ambiguity_ratio": 0.85,
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
        # Replies to a burst that is only small talk (intents.smalltalk); an empty text turns the
        # reply off and such a burst is handed to a human like any message without a question.
        "smalltalk_greeting": "Здравствуйте! Чем могу помочь?",
        "smalltalk_thanks": "Пожалуйста! Если появятся вопросы — пишите, с радостью помогу.",
        "smalltalk_ack": "Хорошо! Если появятся вопросы — пишите.",
        # An answer through a tier another item defines (knowledge.tiers): the price item's line for the
        # tier, then the reference entry that placed the customer's car/age/weight in it.
        "tier_reply": "{line}\n\nПо вашему описанию: {basis}.",
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
    """Plain dicts and lists of a (possibly frozen: mappingproxy, tuple) config."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


# The brain's own reading of a release. Everything a release may set is checked by
# `validate_answering` when the release is created, so a bundle that reaches a turn is sound.
RULE_NAMES: tuple[str, ...] = tuple(DEFAULTS["rules"])  # every rule this build knows (gate.RULES)
# The anti-shame core: without these a reply could go out ungrounded or with no knowledge at all.
REQUIRED_RULES: tuple[str, ...] = ("knowledge_present", "composed", "grounding")
RATIO_THRESHOLDS = frozenset({"ambiguity_ratio", "min_confidence"})  # 0..1
# Placeholders each template may use (`str.format`); None: the text is used as is, never formatted.
TEMPLATE_PLACEHOLDERS: dict[str, frozenset[str] | None] = {
    "join": None,
    "llm_system": frozenset({"business"}),
    "llm_user": frozenset({"snippets", "messages"}),
    "llm_snippet": frozenset({"id", "question", "answer"}),
    "llm_verify_system": None,
    "llm_verify_user": frozenset({"snippets", "messages", "reply"}),
    "unsure_marker": None,
    "smalltalk_greeting": None,
    "smalltalk_thanks": None,
    "smalltalk_ack": None,
    "tier_reply": frozenset({"line", "basis"}),
}


def _placeholders(template: str) -> set[str]:
    return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def validate_answering(overrides: Any) -> list[str]:
    """Problems of an `answering` override (empty list: valid). Unknown keys are refused (a typo
    must not silently keep the default); rules must be known, unique and keep REQUIRED_RULES;
    thresholds keep their type (ratios within 0..1, counts at least 1); templates may use only
    their placeholders."""
    if not isinstance(overrides, Mapping):
        return ["must be a JSON object"]
    problems: list[str] = []
    for key in overrides:
        if key not in DEFAULTS:
            problems.append(f"unknown key {key!r} (known: {', '.join(DEFAULTS)})")
    if "rules" in overrides:
        rules = overrides["rules"]
        if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
            problems.append("rules: must be a list of rule names")
        else:
            unknown = [r for r in rules if r not in RULE_NAMES]
            if unknown:
                problems.append(f"rules: unknown {unknown} (known: {', '.join(RULE_NAMES)})")
            if len(set(rules)) != len(rules):
                problems.append("rules: a rule is listed twice")
            missing = [r for r in REQUIRED_RULES if r not in rules]
            if missing:
                problems.append(f"rules: must keep {missing} (answers must stay grounded in the knowledge)")
    for section in ("thresholds", "templates"):
        if section not in overrides:
            continue
        values = overrides[section]
        if not isinstance(values, Mapping):
            problems.append(f"{section}: must be a JSON object")
            continue
        for key, value in values.items():
            if key not in DEFAULTS[section]:
                problems.append(f"{section}.{key}: unknown (known: {', '.join(DEFAULTS[section])})")
                continue
            problem = _threshold_problem(key, value) if section == "thresholds" else _template_problem(key, value)
            if problem:
                problems.append(f"{section}.{key}: {problem}")
    return problems


def _threshold_problem(key: str, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "must be a number"
    if key in RATIO_THRESHOLDS:
        return None if 0.0 <= float(value) <= 1.0 else "must be between 0 and 1"
    if not isinstance(value, int):
        return "must be an integer"
    return None if value >= 1 else "must be at least 1"


def _template_problem(key: str, value: Any) -> str | None:
    if not isinstance(value, str) or not value or (key != "join" and not value.strip()):
        return "must be non-empty text"
    allowed = TEMPLATE_PLACEHOLDERS.get(key)
    if allowed is None:
        return None
    try:
        unknown = _placeholders(value) - allowed
    except ValueError as exc:
        return f"is not a valid template ({exc})"
    if unknown:
        return f"uses unknown placeholders {sorted(unknown)} (allowed: {sorted(allowed)})"
    return None


def release_overrides(release: Any) -> dict[str, Any]:
    """The answering part of a release: a dict's "answering" key, an object's `answering`, or the
    `config["answering"]` of a resolved release (`releases.selectors.release_for_tenant`)."""
    if release is None:
        return {}
    if isinstance(release, Mapping):
        return _plain(release.get("answering") or {})
    value = getattr(release, "answering", None)
    if isinstance(value, Mapping):
        return _plain(value)
    for attribute in ("config", "bundle", "behaviour"):
        config = getattr(release, attribute, None)
        if isinstance(config, Mapping):
            return _plain(config.get("answering") or {})
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
