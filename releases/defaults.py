"""The built-in release bundle: what every tenant gets when no release overrides it.

A `Release` stores only overrides (JSON dicts per section); `Release.effective_config()` is this
bundle deep-merged with them, so a tenant with no release at all — a fresh install, a stable
pointer that was never set — still has a complete, well-defined behaviour.

Sections (each one is read by running code; see docs/RELEASES.md):

- `answering` — the answer brain's behaviour: gate rule order (`rules`), thresholds
  (`thresholds`) and prompt/reply templates (`templates`). It *is*
  `conversations.answering.defaults.DEFAULTS`; the brain reads `release.config["answering"]`
  for every turn, `ask` and `kb_eval`. Validated by `validate_answering` there.
- `eval`      — the kb_eval thresholds a KB version must meet before it may be promoted to stable
  (`releases.kb_gate`, `kb_eval`).
- `flags`     — free-form switches for code that a newer image may add (values: true/false, a
  number or text). This build reads none, so it has no defaults.

The holding reply is not a release key: each tenant has its own (`ClientSettings.holding_reply_template`,
changed through `tenant.holding_reply_change`).

Changing a value here changes behaviour for every tenant that does not override it, on the next
image: treat an edit of this file (or of the brain's DEFAULTS) like a release (canary image first,
docs/ROLLBACK.md).
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
