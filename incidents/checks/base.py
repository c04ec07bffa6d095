"""The check protocol: `Check.run(ctx) -> list[Observation]`."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


@dataclass
class Observation:
    """What one check saw on one target.

    `check` names the kind of failure (it becomes the incident's `kind`), `target` where (a
    tenant slug, a collection; empty for system-wide). `skipped` marks "not configured" or
    "nothing to judge": recorded, shown, but neither a pass nor a failure for the lifecycle.
    """

    check: str
    ok: bool
    detail: str = ""
    target: str = ""
    tenant_id: int | None = None
    latency_ms: float | None = None
    skipped: bool = False
    severity: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return f"{self.check}:{self.target}" if self.target else self.check

    @property
    def state(self) -> str:
        return "skip" if self.skipped else ("ok" if self.ok else "FAIL")


@dataclass(frozen=True)
class CheckContext:
    """`only`: a fingerprint — the fixer re-runs one check for one target to verify a fix.
    `watchdog`: run by the fixer's watchdog rather than by the sentinel itself."""

    now: datetime
    only: str | None = None
    watchdog: bool = False

    def wants(self, check: str, target: str = "") -> bool:
        if self.only is None:
            return True
        return self.only == (f"{check}:{target}" if target else check)

    def wants_target_of(self, check: str) -> str | None:
        """The target `only` asks for when it is about `check` ('' for system-wide); None when
        every target is wanted or `only` is about another check."""
        if self.only is None:
            return None
        name, _, target = self.only.partition(":")
        return target if name == check else None


class Check:
    """Base class. `name` identifies the class (CLI, crash observations); `produces` lists the
    observation kinds it emits (default: just `name`); `severity` is the incident severity."""

    name: str = ""
    produces: tuple[str, ...] = ()
    severity: str = "warning"

    def kinds(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys((*self.produces, self.name)))

    def run(self, ctx: CheckContext) -> list[Observation]:
        raise NotImplementedError

    def observe(self, ok: bool, detail: str = "", *, check: str = "", **fields: Any) -> Observation:
        return Observation(check=check or self.name, ok=ok, detail=detail, severity=fields.pop("severity", "") or self.severity,
                           **fields)

    def skip(self, detail: str, *, check: str = "", **fields: Any) -> Observation:
        return self.observe(True, detail, check=check, skipped=True, **fields)


def timed(func: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    value = func()
    return value, round((time.perf_counter() - started) * 1000, 2)


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
        from incidents.services import error_log_record

        error_log_record(where=f"sentinel.check.{check.name}", exc=exc)
        return [Observation(check=check.name, ok=False, detail=f"check crashed: {type(exc).__name__}: {exc}"[:1000],
                            severity=check.severity)]
    return [o for o in observations if ctx.wants(o.check, o.target)]
