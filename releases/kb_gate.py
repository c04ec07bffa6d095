"""The KB promotion gate: the one place that decides whether a KB version may become stable.

A version may not become stable while the tenant's kb_eval is below the stable release's `eval`
thresholds, when the tenant has evaluation cases at all. This module runs that evaluation (the
tenant's stored cases answered by the brain as the stable channel would answer them, recorded on
the version), judges it, and holds the `kb.promote` executor and its write-risk policy
precondition (both registered in `releases/policy_actions.py`): the precondition runs when
promotion is requested (the CEO is never asked to approve something that would be refused) and
again right before an approved promotion executes (the numbers may have changed in between).

It fails closed: when the tenant has cases and the evaluation cannot run, promotion is refused
with the reason; `knowledge.services.kb_version_promote` itself refuses a tenant with cases
unless it is handed this gate's verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from knowledge import services as kb_services
from knowledge.models import KnowledgeEvalSet, KnowledgeVersion
from knowledge.selectors import kb_version_for_action
from releases.selectors import eval_thresholds_for, release_for_channel
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
    status: str  # passed / failed / no_cases / unevaluated
    failures: tuple[str, ...] = ()
    summary: KbEvalSummary | None = None
    thresholds: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"allowed": self.allowed, "status": self.status, "failures": list(self.failures),
                "summary": asdict(self.summary) if self.summary else None, "thresholds": self.thresholds}


def kb_eval_run(version: KnowledgeVersion) -> dict[str, Any] | None:
    """kb_eval of `version` on the tenant's stored cases, answered as the stable channel would be
    (the promoted version serves stable customers); recorded on the version. None without cases."""
    from conversations.answering.brain import decide_reply
    from knowledge.evaluation import Thresholds, run_eval

    eval_set = KnowledgeEvalSet.objects.for_tenant(version.tenant).first()
    if eval_set is None or not eval_set.cases:
        return None
    release = release_for_channel("stable")
    result = run_eval(eval_set.cases, lambda messages: decide_reply(version.tenant, None, messages, kb_version=version,
                                                                    release=release),
                      thresholds=Thresholds.from_mapping(eval_thresholds_for(version.tenant)))
    summary = result["summary"]
    kb_services.kb_eval_run_record(version=version, summary=summary, passed=summary["passed"])
    return summary


def kb_eval_summary(tenant: Client, kb_version: int) -> KbEvalSummary | None:
    """KbEvalSummary of (tenant, version number), or None when the tenant has no cases."""
    if not KnowledgeEvalSet.objects.for_tenant(tenant).exists():
        return None  # nothing to judge; a missing version is the executor's error to report
    summary = kb_eval_run(kb_version_for_action(tenant.pk, kb_version))
    if summary is None:
        return None
    return KbEvalSummary(
        cases=summary["cases"], accuracy=summary["answer_accuracy"], shame_rate=summary["shame_rate"],
        escalation_precision=summary["escalation_precision"], escalation_recall=summary["escalation_recall"],
        detail={"headline": summary["headline"], "shame_cases": summary["shame_cases"]},
    )


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
    """Judge whether KB version `kb_version` of `tenant` may become stable (records the evaluation run)."""
    thresholds = dict(eval_thresholds_for(tenant))
    try:
        summary = kb_eval_summary(tenant, kb_version)
    except ApplicationError:
        raise  # an unknown tenant or version: the caller's mistake, reported as such
    except Exception as exc:  # the brain, the index or the cases failed: no verdict, so no promotion
        logger.exception("kb.promote for %s v%s: the evaluation could not run", tenant.slug, kb_version)
        return KbGateResult(allowed=False, status="unevaluated", failures=(f"{type(exc).__name__}: {exc}"[:300],),
                            thresholds=thresholds)
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
    if result.status == "unevaluated":
        raise ApplicationError(
            _("KB v%(number)s of %(tenant)s could not be evaluated on its kb_eval cases (%(error)s); promotion is refused.")
            % {"number": version, "tenant": tenant.slug, "error": result.failures[0]},
            result.as_dict(),
            status=409,
        )
    if not result.allowed:
        raise ApplicationError(
            _(
                "KB v%(number)s of %(tenant)s is below the release thresholds on its kb_eval cases: %(failures)s. "
                "Fix the KB draft and evaluate again."
            ) % {"number": version, "tenant": tenant.slug, "failures": "; ".join(result.failures)},
            result.as_dict(),
            status=409,
        )


def _judged_by_this_gate(version: KnowledgeVersion) -> tuple[bool, dict[str, Any]]:
    # The policy precondition (`kb_promote_precondition`) has just evaluated the version against the
    # release thresholds; the executor only runs after it allowed the promotion.
    return True, {"headline": "judged by the release thresholds (releases.kb_gate)"}


def kb_promote(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    """The `kb.promote` executor (high risk; runs after `kb_promote_precondition`)."""
    promoted = kb_services.kb_version_promote(actor=actor, version=kb_version_for_action(tenant, version), check=_judged_by_this_gate)
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}
