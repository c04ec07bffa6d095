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
