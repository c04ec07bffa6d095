"""Release bundle configuration: validate overrides, deep-merge them over the defaults, freeze the result."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from conversations.answering.defaults import validate_answering
from imperium.core.exceptions import ApplicationError
from releases.defaults import DEFAULT_BUNDLE, SECTIONS

# Model field per bundle section (Release stores each section's overrides in its own JSON field).
SECTION_FIELDS: dict[str, str] = {
    "answering": "answering",
    "eval": "eval_thresholds",
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
def _eval_problem(key: str, value: Any) -> str | None:
    if key not in DEFAULT_BUNDLE["eval"]:
        return f"unknown key {key!r} (known: {', '.join(sorted(DEFAULT_BUNDLE['eval']))})"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"{key}: must be a number"
    if not 0.0 <= float(value) <= 1.0:
        return f"{key}: must be between 0 and 1"
    return None


def validate_overrides(overrides: Mapping[str, Any]) -> dict[str, list[str]]:
    """Problems per section (empty dict when the overrides are valid).

    `answering`: the brain's own check (`conversations.answering.defaults.validate_answering`);
    `eval`: known keys, ratios within 0..1; `flags`: any name, scalar values. Unknown sections
    are refused (a typo must never quietly keep the default behaviour).
    """
    problems: dict[str, list[str]] = {}
    for section, values in overrides.items():
        if section not in SECTIONS:
            problems.setdefault("bundle", []).append(f"unknown section {section!r} (known: {', '.join(SECTIONS)})")
            continue
        if not isinstance(values, Mapping):
            problems[section] = ["must be a JSON object"]
            continue
        if section == "answering":
            errors = validate_answering(values)
        elif section == "eval":
            errors = [p for p in (_eval_problem(k, v) for k, v in values.items()) if p]
        else:
            errors = [f"{key}: a flag must be true/false, a number or text" for key, value in values.items()
                      if not isinstance(value, bool | int | float | str)]
        if errors:
            problems[section] = errors
    return problems


def validated_overrides(overrides: Mapping[str, Any]) -> None:
    """Raise ApplicationError naming every problem; return None when the overrides are valid."""
    problems = validate_overrides(overrides)
    if problems:
        text = "; ".join(f"{section}: {', '.join(errors)}" for section, errors in problems.items())
        raise ApplicationError(f"Invalid release bundle — {text}.", {"fields": problems})
