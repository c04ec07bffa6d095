"""What the write-risk policy runs for knowledge actions (risk levels: IMPERIUM_DECISIONS.yaml).

`kb.promote` is high risk: entry points (kb_promote, Telegram `/kb promote`, admin) call
`policy_execute("kb.promote", actor, {"tenant": slug, "version": n})`. The releases app judges the
tenant's evaluation against the stable release's `eval` thresholds as a policy precondition
(`releases.kb_gate`), when the request is made and again right before an approved promotion
runs; this module supplies the numbers (`kb_eval_for_promotion`, registered as its provider) and
the executor. This is an entry-point module (discovered by the policy), so it may import the
answer brain and the releases app."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action
from knowledge import services
from knowledge.models import KnowledgeEvalSet, KnowledgeVersion
from tenants.models import Client


def _version(tenant: str | int, version: int) -> KnowledgeVersion:
    client = Client.objects.filter(**({"pk": tenant} if isinstance(tenant, int) else {"slug": tenant})).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": tenant}, status=404)
    found = KnowledgeVersion.objects.for_tenant(client).filter(number=int(version)).select_related("tenant").first()
    if found is None:
        raise ApplicationError(_("%(tenant)s has no KB v%(number)s.") % {"tenant": client.slug, "number": version}, status=404)
    return found


def kb_eval_run(version: KnowledgeVersion) -> dict[str, Any] | None:
    """kb_eval of `version` on the tenant's stored cases, answered as the stable channel would be
    (the promoted version serves stable customers); recorded on the version. None without cases."""
    from conversations.answering.brain import decide_reply
    from knowledge.evaluation import Thresholds, run_eval
    from releases.selectors import eval_thresholds_for, release_for_channel

    eval_set = KnowledgeEvalSet.objects.for_tenant(version.tenant).first()
    if eval_set is None or not eval_set.cases:
        return None
    release = release_for_channel("stable")
    result = run_eval(eval_set.cases, lambda messages: decide_reply(version.tenant, None, messages, kb_version=version,
                                                                    release=release),
                      thresholds=Thresholds.from_mapping(eval_thresholds_for(version.tenant)))
    summary = result["summary"]
    services.kb_eval_run_record(version=version, summary=summary, passed=summary["passed"])
    return summary


def kb_eval_for_promotion(tenant: Client, kb_version: int) -> Any:
    """The `releases.kb_gate` provider: KbEvalSummary of (tenant, version), or None without cases."""
    from releases.kb_gate import KbEvalSummary

    if not KnowledgeEvalSet.objects.for_tenant(tenant).exists():
        return None  # nothing to judge; a missing version is the executor's error to report
    summary = kb_eval_run(_version(tenant.pk, kb_version))
    if summary is None:
        return None
    return KbEvalSummary(
        cases=summary["cases"], accuracy=summary["answer_accuracy"], shame_rate=summary["shame_rate"],
        escalation_precision=summary["escalation_precision"], escalation_recall=summary["escalation_recall"],
        detail={"headline": summary["headline"], "shame_cases": summary["shame_cases"]},
    )


def _judged_by_release_gate(version: KnowledgeVersion) -> tuple[bool, dict[str, Any]]:
    # The policy precondition (releases.kb_gate) has just run the cases against the release
    # thresholds; the executor only runs after it allowed the promotion.
    return True, {"headline": "judged by the release thresholds (releases.kb_gate)"}


@register_action("kb.promote", summary="Promote KB v{version} of {tenant} to stable")
def kb_promote(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_promote(actor=actor, version=_version(tenant, version), check=_judged_by_release_gate)
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}


@register_action("kb.first_stable", summary="Serve KB v{version} as the first stable version of {tenant}")
def kb_first_stable(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_make_first_stable(actor=actor, version=_version(tenant, version))
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}


def _register_provider() -> None:
    from releases.kb_gate import register_kb_eval_provider

    register_kb_eval_provider(kb_eval_for_promotion)


_register_provider()


# --- promotion of learned knowledge ---------------------------------------------------------------
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
    from releases.kb_gate import kb_promote_precondition

    kb_promote_precondition(actor=actor, params=params)
    version = _version(params["tenant"], params["version"])
    if getattr(actor, "kind", None) != ActorKind.SYSTEM or action_spec_for("kb.promote_learned", version.tenant).risk != "low":
        return  # a request the CEO will judge, or the CEO approving one
    compared = learned_eval_compare(version.tenant, version)
    if compared is None:
        raise ApplicationError(_("%(tenant)s has no evaluation cases: learned knowledge is promoted only by the CEO.")
                               % {"tenant": version.tenant.slug}, status=409)
    if compared["worse"]:
        raise ApplicationError(_("KB v%(number)s is worse than the serving version: %(worse)s")
                               % {"number": version.number, "worse": "; ".join(compared["worse"])}, compared, status=409)


@register_action("kb.promote_learned", summary="Promote KB v{version} of {tenant} (learned from managers' answers) to stable")
def kb_promote_learned(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_promote(actor=actor, version=_version(tenant, version), check=_judged_by_release_gate)
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}


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

    reason = render_plain("knowledge/learned_promotion_reason.txt", {
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


def _register_learned_precondition() -> None:
    from imperium.core.policy import register_precondition

    register_precondition("kb.promote_learned", kb_promote_learned_precondition)


_register_learned_precondition()
