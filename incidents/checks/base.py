"""Running the configured sentinel checks. The protocol (`Check`, `CheckContext`, `Observation`,
`timed`) is in `imperium.core.sentinel` so that every app can implement checks; it is re-exported here."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

from imperium.core.sentinel import Check, CheckContext, Observation, timed

__all__ = ["Check", "CheckContext", "Observation", "check_for", "checks_configured", "run_check", "timed"]

logger = logging.getLogger(__name__)


@lru_cache(maxsize=8)
def _load(paths: tuple[str, ...]) -> tuple[Check, ...]:
    return tuple(import_string(path)() for path in paths)


def checks_configured() -> list[Check]:
    """Instances of settings.SENTINEL_CHECKS, in order."""
    return list(_load(tuple(settings.SENTINEL_CHECKS)))


def check_for(kind: str) -> Check | None:
    """The configured check that emits observations of `kind` (an incident's kind)."""
    for check in checks_configured():
        if kind in check.kinds():
            return check
    return None


def run_check(check: Check, ctx: CheckContext) -> list[Observation]:
    """Run one check; a crash becomes a failing observation named after the check (and an ErrorLog)."""
    try:
        observations = check.run(ctx)
    except Exception as exc:  # one broken check must not hide the others
        from incidents.errors import error_log_record

        error_log_record(where=f"sentinel.check.{check.name}", exc=exc)
        return [Observation(check=check.name, ok=False, detail=f"check crashed: {type(exc).__name__}: {exc}"[:1000],
                            severity=check.severity)]
    return [o for o in observations if ctx.wants(o.check, o.target)]
