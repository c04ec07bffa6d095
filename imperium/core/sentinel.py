"""The sentinel check protocol: `Check.run(ctx) -> list[Observation]`.

Apps implement checks of their own data in `<app>/sentinel_checks.py`; the incidents app lists
them (`settings.SENTINEL_CHECKS`), runs them and turns failures into incidents (docs/INCIDENTS.md).
A check never writes anything itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


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
