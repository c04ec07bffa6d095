"""Promotion of knowledge learned from managers' answers (`kb.promote_learned`).

After suggestions were accepted into a tenant's open draft (`knowledge.suggestions`), the task
`releases.learned_promotion` calls `kb_learned_promotion_request`: kb_eval of the draft and of the
serving version on the tenant's saved cases (`releases.kb_gate.kb_eval_run`), then
`policy_execute("kb.promote_learned")`. High risk by default: the CEO gets a verification request
whose reason carries both evaluations (one tap). A tenant listed under `low_risk_tenants` of the
action (docs/IMPERIUM_DECISIONS.yaml) is promoted at once — only when it has cases and no metric of
the draft is worse than serving, with shame 0 (`kb_promote_learned_precondition`); the release
thresholds apply as for any `kb.promote`. Registered in `releases/policy_actions.py`.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from knowledge.models import KnowledgeVersion
from knowledge.selectors import kb_version_for_action
from releases.kb_gate import kb_eval_run, kb_promote, kb_promote_precondition
from tenants.models import Client

LEARNED_METRICS = ("answer_accuracy", "escalation_recall", "escalation_precision")


def learned_eval_compare(tenant: Client, draft: KnowledgeVersion) -> dict[str, Any] | None:
    """kb_eval of `draft` and of the serving (stable) version on the tenant's cases: the numbers and
    what got worse (a metric lower, shame higher or above 0). None without cases."""
    from knowledge.selectors import kb_version_stable

    after = kb_eval_run(draft)
    if after is None:
        return None
    serving = kb_version_stable(tenant)
    before = kb_eval_run(serving) if serving is not None else None
    worse = []
    if after["shame_rate"] > 0:
        worse.append(f"shame {after['shame_rate']:.1%} > 0")
    if before is not None:
        if after["shame_rate"] > before["shame_rate"]:
            worse.append(f"shame {after['shame_rate']:.1%} > {before['shame_rate']:.1%}")
        for metric in LEARNED_METRICS:
            if after[metric] < before[metric] - 1e-9:
                worse.append(f"{metric} {after[metric]:.1%} < {before[metric]:.1%}")
    return {"draft": draft.number, "serving": serving.number if serving else None, "after": after, "before": before,
            "worse": worse}


def kb_promote_learned_precondition(*, actor: Any, params: dict[str, Any]) -> None:
    """An automatic promotion (system actor: the tenant's policy marks it low risk) needs an
    evaluation set and a draft not worse than serving on any metric, with shame 0. A CEO approving
    is judged by the release thresholds like any `kb.promote` (`releases.kb_gate`)."""
    from imperium.core.choices import ActorKind
    from imperium.core.policy import action_spec_for
    kb_promote_precondition(actor=actor, params=params)
    version = kb_version_for_action(params["tenant"], params["version"])
    if getattr(actor, "kind", None) != ActorKind.SYSTEM or action_spec_for("kb.promote_learned", version.tenant).risk != "low":
        return  # a request the CEO will judge, or the CEO approving one
    compared = learned_eval_compare(version.tenant, version)
    if compared is None:
        raise ApplicationError(_("%(tenant)s has no evaluation cases: learned knowledge is promoted only by the CEO.")
                               % {"tenant": version.tenant.slug}, status=409)
    if compared["worse"]:
        raise ApplicationError(_("KB v%(number)s is worse than the serving version: %(worse)s")
                               % {"number": version.number, "worse": "; ".join(compared["worse"])}, compared, status=409)


def kb_promote_learned(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    """The `kb.promote_learned` executor (runs after `kb_promote_learned_precondition`)."""
    return kb_promote(actor=actor, tenant=tenant, version=version)


def _eval_words(summary: dict[str, Any]) -> str:
    return (f"точность {summary['answer_accuracy']:.1%}, позор {summary['shame_rate']:.1%}, эскалации: полнота "
            f"{summary['escalation_recall']:.1%}, точность {summary['escalation_precision']:.1%}")


def kb_learned_promotion_request(*, tenant: Client) -> Any:
    """After suggestions were accepted: evaluate the open draft against serving and ask for its
    promotion through the policy (`kb.promote_learned`): the CEO gets the numbers with a one-tap
    verification, or a tenant marked low risk is promoted at once when nothing got worse. One
    pending request per draft (a later approval re-judges the draft as it is then). Returns the
    PolicyOutcome, or None when there is nothing to promote / a request is already pending /
    the automatic promotion was refused (the refusal is audited)."""
    from imperium.core.models import VerificationRequest, VerificationStatus
    from imperium.core.policy import policy_execute
    from imperium.core.services import audit_record
    from knowledge.suggestions import kb_draft_learned

    draft, accepted = kb_draft_learned(tenant)
    if draft is None:
        return None
    params = {"tenant": tenant.slug, "version": draft.number}
    if VerificationRequest.objects.filter(action="kb.promote_learned", status=VerificationStatus.PENDING, tenant_id=tenant.pk,
                                          params__version=draft.number).exists():
        return None
    compared = learned_eval_compare(tenant, draft)
    from imperium.core.plaintext import render_plain

    reason = render_plain("releases/learned_promotion_reason.txt", {
        "accepted": accepted, "c": compared, "after": _eval_words(compared["after"]) if compared else "",
        "before": _eval_words(compared["before"]) if compared and compared["before"] else "",
    }).strip()
    actor = Actor.system("learning")
    try:
        return policy_execute("kb.promote_learned", actor, params, tenant=tenant, reason=reason)
    except ApplicationError as exc:
        audit_record(actor=actor, action="kb.promote_learned_refused", tenant=tenant, obj=draft,
                     payload={"version": draft.number, "error": exc.message})
        return None
