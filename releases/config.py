"""Release bundle configuration: validate overrides, deep-merge them over the defaults, freeze the result."""

from __future__ import annotations

import copy
import string
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from imperium.exceptions import ApplicationError
from releases.defaults import DEFAULT_BUNDLE, PROMPT_PLACEHOLDERS, REPLY_PLACEHOLDERS, SECTIONS, STRICT_SECTIONS

# Model field per bundle section (Release stores each section's overrides in its own JSON field).
SECTION_FIELDS: dict[str, str] = {
    "prompts": "prompts",
    "gate": "gate",
    "eval": "eval_thresholds",
    "replies": "replies",
    "flags": "flags",
}


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """A new dict: `base` with `override` applied. Dicts merge key by key; anything else
    (scalars, lists) is replaced whole, so a release can shorten a list, not only extend it."""
    merged: dict[str, Any] = copy.deepcopy(dict(base))
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def effective_bundle(overrides: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    return deep_merge(DEFAULT_BUNDLE, overrides or {})


def freeze(value: Any) -> Any:
    """Read-only view for sharing one config between callers (a per-process cache must not be
    mutated by one turn and seen by the next): dicts become mappingproxies, lists tuples."""
    if isinstance(value, Mapping):
        return MappingProxyType({k: freeze(v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return tuple(freeze(v) for v in value)
    return value


def thaw(value: Any) -> Any:
    """Plain JSON-serialisable copy of a frozen config."""
    if isinstance(value, Mapping):
        return {k: thaw(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [thaw(v) for v in value]
    return value


# --- validation ------------------------------------------------------------------------------
def _placeholders(template: str) -> set[str]:
    try:
        return {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(template) if field}
    except ValueError as exc:
        raise ValueError(f"is not a valid template ({exc})") from None


def _type_name(value: Any) -> str:
    return {bool: "true/false", int: "an integer", float: "a number", str: "text", list: "a list"}.get(type(value), type(value).__name__)


def _check_value(section: str, key: str, default: Any, value: Any) -> str | None:
    """None when `value` may replace `default`, else what is wrong with it."""
    if isinstance(default, bool):
        return None if isinstance(value, bool) else f"must be {_type_name(default)}"
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            return "must be a number"
        if section in ("gate", "eval") and not 0.0 <= float(value) <= 1.0:
            return "must be between 0 and 1"
        return None
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be an integer"
        return None if value >= 1 else "must be at least 1"
    if isinstance(default, str):
        if not isinstance(value, str) or not value.strip():
            return "must be non-empty text"
        allowed = PROMPT_PLACEHOLDERS.get(key, frozenset()) if section == "prompts" else REPLY_PLACEHOLDERS
        try:
            unknown = _placeholders(value) - allowed
        except ValueError as exc:
            return str(exc)
        if unknown:
            return f"uses unknown placeholders {sorted(unknown)} (allowed: {sorted(allowed) or 'none'})"
        return None
    if isinstance(default, list):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return "must be a list of strings"
        return None
    return None


def validate_overrides(overrides: Mapping[str, Any]) -> dict[str, list[str]]:
    """Problems per section (empty dict when the overrides are valid).

    Known keys must keep the default's type (and 0..1 for gate/eval ratios, placeholders a template
    may use); unknown keys are refused except in `flags`, whose values must be scalars.
    """
    problems: dict[str, list[str]] = {}
    for section, values in overrides.items():
        errors: list[str] = []
        if section not in SECTIONS:
            problems.setdefault("bundle", []).append(f"unknown section {section!r} (known: {', '.join(SECTIONS)})")
            continue
        if not isinstance(values, Mapping):
            problems[section] = ["must be a JSON object"]
            continue
        defaults = DEFAULT_BUNDLE[section]
        for key, value in values.items():
            if key not in defaults:
                if section in STRICT_SECTIONS:
                    errors.append(f"unknown key {key!r} (known: {', '.join(sorted(defaults))})")
                elif not isinstance(value, bool | int | float | str):
                    errors.append(f"{key}: a flag must be true/false, a number or text")
                continue
            problem = _check_value(section, key, defaults[key], value)
            if problem:
                errors.append(f"{key}: {problem}")
        if errors:
            problems[section] = errors
    return problems


def validated_overrides(overrides: Mapping[str, Any]) -> None:
    """Raise ApplicationError naming every problem; return None when the overrides are valid."""
    problems = validate_overrides(overrides)
    if problems:
        text = "; ".join(f"{section}: {', '.join(errors)}" for section, errors in problems.items())
        raise ApplicationError(f"Invalid release bundle — {text}.", {"fields": problems})
