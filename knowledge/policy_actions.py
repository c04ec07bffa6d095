"""What the write-risk policy runs for knowledge actions (risk levels: IMPERIUM_DECISIONS.yaml).

`kb.promote` is high risk: entry points (kb_promote, Telegram `/kb promote`, admin) call
`policy_execute("kb.promote", actor, {"tenant": slug, "version": n})`, and the verifier's
approval runs the executor below — which re-runs the tenant's evaluation cases, if any,
against the exact version before promoting it."""

from __future__ import annotations

from typing import Any

from imperium.actors import Actor
from imperium.exceptions import ApplicationError
from imperium.policy import register_action
from knowledge import services
from knowledge.models import KnowledgeVersion
from tenants.models import Client


def _version(tenant: str, version: int) -> KnowledgeVersion:
    client = Client.objects.filter(slug=tenant).first()
    if client is None:
        raise ApplicationError(f"Unknown tenant '{tenant}'.", status=404)
    found = KnowledgeVersion.objects.for_tenant(client).filter(number=int(version)).select_related("tenant").first()
    if found is None:
        raise ApplicationError(f"{tenant} has no KB v{version}.", status=404)
    return found


def eval_check(version: KnowledgeVersion) -> tuple[bool, dict[str, Any]]:
    """Run the tenant's stored cases against `version` with the real answer brain; the run is
    recorded on the version."""
    from django.conf import settings

    from conversations.reply_decision import decide_reply
    from knowledge.evaluation import Thresholds, run_eval
    from knowledge.models import KnowledgeEvalSet

    cases = KnowledgeEvalSet.objects.for_tenant(version.tenant).get().cases
    thresholds = Thresholds(min_accuracy=settings.KB_EVAL_MIN_ACCURACY, max_shame_rate=settings.KB_EVAL_MAX_SHAME_RATE)
    result = run_eval(cases, lambda messages: decide_reply(version.tenant, None, messages, kb_version=version),
                      thresholds=thresholds)
    summary = result["summary"]
    services.kb_eval_run_record(version=version, summary=summary, passed=summary["passed"])
    return summary["passed"], summary


def eval_precheck(version: KnowledgeVersion) -> None:
    """Refuse early (before a verifier is bothered) when the version fails the tenant's cases."""
    from knowledge.models import KnowledgeEvalSet

    if KnowledgeEvalSet.objects.for_tenant(version.tenant).exists():
        passed, summary = eval_check(version)
        if not passed:
            raise ApplicationError(f"KB v{version.number} is below the release thresholds: {summary['failed_thresholds']}",
                                   {"summary": summary}, status=409)


@register_action("kb.promote", summary="Promote KB v{version} of {tenant} to stable")
def kb_promote(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_promote(actor=actor, version=_version(tenant, version), check=eval_check)
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}


@register_action("kb.first_stable", summary="Serve KB v{version} as the first stable version of {tenant}")
def kb_first_stable(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_make_first_stable(actor=actor, version=_version(tenant, version))
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}
