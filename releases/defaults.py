"""The built-in release bundle: what every tenant gets when no release overrides it.

A `Release` stores only overrides; `Release.effective_config()` is this bundle deep-merged with
them, so a fresh install still behaves completely. Sections (docs/RELEASES.md): `answering` (it *is*
`conversations.answering.defaults.DEFAULTS`: gate rule order, thresholds, templates), `eval` (the
kb_eval thresholds of the KB promotion gate, `releases.kb_gate`), `flags` (none read by this build).

Changing a value here changes behaviour for every tenant that does not override it, on the next
image: treat an edit like a release (canary image first, docs/ROLLBACK.md).
"""

from __future__ import annotations

import copy
from typing import Any

from conversations.answering.defaults import DEFAULTS as ANSWERING_DEFAULTS

DEFAULTS_VERSION = "defaults"  # ResolvedRelease.version when no release is pointed at

DEFAULT_BUNDLE: dict[str, dict[str, Any]] = {
    "answering": copy.deepcopy(ANSWERING_DEFAULTS),
    "eval": {
        # kb_eval on the tenant's cases must reach these before a KB version may become stable.
        "min_accuracy": 0.8,
        "max_shame_rate": 0.0,
        "min_escalation_precision": 0.8,
        "min_escalation_recall": 0.95,
    },
    "flags": {},
}

SECTIONS: tuple[str, ...] = tuple(DEFAULT_BUNDLE)
