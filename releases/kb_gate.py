"""The KB promotion rule: a KB version may not become stable while the tenant's kb_eval is below
the release thresholds — when the tenant has evaluation cases at all.

The `kb.promote` executor lives with the knowledge app; this module only *judges*. It is wired
as a write-risk policy precondition (`releases.policy_actions`), so it runs when promotion is
requested (the CEO is never asked to approve something that would be refused) and again right
before an approved promotion executes (the numbers may have changed in between).

The numbers come from a provider the knowledge integration registers:

    from releases.kb_gate import KbEvalSummary, register_kb_eval_provider

    def kb_eval_for_promotion(tenant, kb_version: int) -> KbEvalSummary | None:
        ...  # run or look up kb_eval of that version on the tenant's cases; None = no cases

    register_kb_eval_provider(kb_eval_for_promotion)   # e.g. in an AppConfig.ready()

Until one is registered, promotion is allowed and the check says so ("unchecked") in its result.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from imperium.core.exceptions import ApplicationError
from releases.selectors import eval_thresholds_for
from tenants.models import Client

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class KbEvalSummary:
    """kb_eval of one KB version on the tenant's cases (ratios 0..1; None = not measurable,
    e.g. recall without any escalate case)."""

    cases: int
    accuracy: float
    shame_rate: float
    escalation_precision: float | None = None
    escalation_recall: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class KbGateResult:
    allowed: bool
    status: str  # passed / failed / no_cases / unchecked
    failures: tuple[str, ...] = ()
    summary: KbEvalSummary | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "status": self.status, "failures": list(self.failures),
                "summary": asdict(self.summary) if self.summary else None, "thresholds": self.thresholds}


KbEvalProvider = Callable[[Client, int], "KbEvalSummary | None"]
_provider: KbEvalProvider | None = None


def register_kb_eval_provider(provider: KbEvalProvider | None) -> None:
    """Set (or with None, clear) the function that reports kb_eval for (tenant, kb version number)."""
    global _provider
    _provider = provider


def kb_eval_failures(summary: KbEvalSummary, thresholds: Mapping[str, Any]) -> list[str]:
    """Each threshold the summary misses, in words (empty: it meets them all)."""
    failures = []
    checks = (
        ("accuracy", summary.accuracy, "min_accuracy", "min"),
        ("shame rate", summary.shame_rate, "max_shame_rate", "max"),
        ("escalation precision", summary.escalation_precision, "min_escalation_precision", "min"),
        ("escalation recall", summary.escalation_recall, "min_escalation_recall", "min"),
    )
    for label, value, key, kind in checks:
        limit = thresholds.get(key)
        if value is None or limit is None:
            continue
        if (kind == "min" and value < limit) or (kind == "max" and value > limit):
            failures.append(f"{label} {value:.3f} {'<' if kind == 'min' else '>'} {limit}")
    return failures


def kb_promotion_check(*, tenant: Client, kb_version: int) -> KbGateResult:
    """Judge whether KB version `kb_version` of `tenant` may become stable (no side effects)."""
    thresholds = dict(eval_thresholds_for(tenant))
    if _provider is None:
        logger.warning("kb.promote for %s v%s: no kb_eval provider registered; promotion unchecked", tenant.slug, kb_version)
        return KbGateResult(allowed=True, status="unchecked", thresholds=thresholds)
    summary = _provider(tenant, kb_version)
    if summary is None or summary.cases <= 0:
        return KbGateResult(allowed=True, status="no_cases", thresholds=thresholds)
    failures = kb_eval_failures(summary, thresholds)
    return KbGateResult(allowed=not failures, status="failed" if failures else "passed", failures=tuple(failures),
                        summary=summary, thresholds=thresholds)


def _tenant_from_params(params: Mapping[str, Any]) -> Client:
    ref = params.get("tenant")
    queryset = Client.objects.all()
    client = queryset.filter(pk=ref).first() if isinstance(ref, int) else queryset.filter(slug=str(ref or "")).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": ref}, status=404)
    return client


def kb_promote_precondition(*, actor: Any, params: Mapping[str, Any]) -> None:
    """Policy precondition for `kb.promote` (params: tenant slug or id, version/kb_version number)."""
    version = params.get("version", params.get("kb_version"))
    if not isinstance(version, int) or isinstance(version, bool):
        try:
            version = int(str(version))
        except ValueError:
            raise ApplicationError(_("kb.promote needs a KB version number, got %(value)s.") % {"value": repr(version)}) from None
    tenant = _tenant_from_params(params)
    result = kb_promotion_check(tenant=tenant, kb_version=version)
    if not result.allowed:
        raise ApplicationError(
            _(
                "KB v%(number)s of %(tenant)s is below the release thresholds on its kb_eval cases: %(failures)s. "
                "Fix the KB draft and evaluate again."
            ) % {"number": version, "tenant": tenant.slug, "failures": "; ".join(result.failures)},
            result.as_dict(),
            status=409,
        )
