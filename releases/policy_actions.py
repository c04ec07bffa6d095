"""What the write-risk policy runs for release actions (risk levels live in IMPERIUM_DECISIONS.yaml).

Params are JSON (stored in a VerificationRequest until approved). High-risk actions carry the
versions they were requested for (`version`, `from_version`/`to_version`), so an approval never
executes something other than what the verifier read; `releases.operations` fills them in.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action, register_precondition
from releases import fix_services, kb_gate, services
from tenants.models import Client


def _client(slug: str) -> Client:
    client = Client.objects.select_related("settings").filter(slug=slug).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": slug}, status=404)
    return client


def _tenant_or_none(slug: str | None) -> Client | None:
    return _client(slug) if slug else None


# --- releases ----------------------------------------------------------------------------------
@register_action("release.create_draft", summary="Create draft release {version}")
def create_draft(*, actor: Actor, version: str, image_tag: str = "", overrides: dict[str, Any] | None = None,
                 copy_from: str | None = None, notes: str = "", source: str | None = None) -> dict[str, Any]:
    release = services.release_create_draft(actor=actor, version=version, image_tag=image_tag, overrides=overrides,
                                            copy_from=copy_from, notes=notes, source=source)
    return {"version": release.version, "status": release.status, "image_tag": release.image_tag}


@register_action("release.update_draft", summary="Change draft release {version}")
def update_draft(*, actor: Actor, version: str, image_tag: str | None = None, overrides: dict[str, Any] | None = None,
                 notes: str | None = None, source: str | None = None) -> dict[str, Any]:
    release = services.release_update_draft(actor=actor, version=version, image_tag=image_tag, overrides=overrides,
                                            notes=notes, source=source)
    return {"version": release.version, "status": release.status}


@register_action("release.start_canary", summary="Point the canary channel at release {version}")
def start_canary(*, actor: Actor, version: str, source: str | None = None, reason: str = "") -> dict[str, Any]:
    release = services.release_start_canary(actor=actor, version=version, source=source, reason=reason)
    return {"version": release.version, "status": release.status}


@register_action("release.promote_stable", summary="Promote canary release {version} to stable (every stable tenant gets it)")
def promote_stable(*, actor: Actor, version: str, source: str | None = None, reason: str = "") -> dict[str, Any]:
    release = services.release_promote_stable(actor=actor, version=version, source=source, reason=reason)
    return {"version": release.version, "status": release.status}


@register_action("release.rollback_stable", summary="Roll stable back from {from_version} to {to_label}")
def rollback_stable(*, actor: Actor, from_version: str, to_version: str | None, to_label: str = "",
                    source: str | None = None, reason: str = "") -> dict[str, Any]:
    return services.release_rollback_stable(
        actor=actor, expected_version=from_version, to_version=to_version, to_defaults=to_version is None,
        source=source, reason=reason,
    ).as_dict()


@register_action("canary.auto_rollback", summary="Roll canary tenants back to stable: {reason}")
def auto_rollback(*, actor: Actor, reason: str, analysis: str = "", source: str | None = None, notify: bool = True) -> dict[str, Any]:
    return services.canary_rollback(actor=actor, reason=reason, source=source, analysis_ref=analysis, notify=notify).as_dict()


# --- tenants -----------------------------------------------------------------------------------
@register_action("tenant.deploy_canary", summary="Move {tenant} to the canary channel")
def deploy_canary(*, actor: Actor, tenant: str, source: str | None = None, reason: str = "") -> dict[str, Any]:
    return services.tenant_deploy_canary(actor=actor, tenant=_client(tenant), source=source, reason=reason).as_dict()


@register_action("tenant.rollback", summary="Move {tenant} back to the stable channel")
def rollback(*, actor: Actor, tenant: str, source: str | None = None, reason: str = "") -> dict[str, Any]:
    return services.tenant_rollback(actor=actor, tenant=_client(tenant), source=source, reason=reason).as_dict()


# --- fix proposals -----------------------------------------------------------------------------
def _proposal_result(proposal: Any) -> dict[str, Any]:
    return {"proposal": proposal.pk, "status": proposal.status,
            "release": proposal.release.version if proposal.release_id else None}


@register_action("fixer.propose_fix", summary="Record fix proposal: {title}")
def propose_fix(*, actor: Actor, title: str, branch: str, pr_url: str = "", commit_sha: str = "", incident: int | None = None,
                tenant: str | None = None, notes: str = "", source: str | None = None) -> dict[str, Any]:
    proposal = fix_services.fix_proposal_create(actor=actor, title=title, branch=branch, pr_url=pr_url, commit_sha=commit_sha,
                                                incident_id=incident, tenant=_tenant_or_none(tenant), notes=notes, source=source)
    return _proposal_result(proposal)


@register_action("fixer.canary_fix", summary="Put fix #{proposal} on canary as release {version}")
def canary_fix(*, actor: Actor, proposal: int, version: str | None = None, image_tag: str = "",
               overrides: dict[str, Any] | None = None, source: str | None = None) -> dict[str, Any]:
    result = fix_services.fix_proposal_start_canary(actor=actor, proposal_id=int(proposal), version=version, image_tag=image_tag,
                                                    overrides=overrides, source=source)
    return _proposal_result(result)


@register_action("fixer.verify_fix", summary="Mark fix #{proposal} verified on canary")
def verify_fix(*, actor: Actor, proposal: int, note: str = "", source: str | None = None) -> dict[str, Any]:
    return _proposal_result(fix_services.fix_proposal_verify(actor=actor, proposal_id=int(proposal), note=note, source=source))


@register_action("fixer.apply_code_fix", summary="Release fix #{proposal} (release {version}) to stable")
def apply_code_fix(*, actor: Actor, proposal: int, version: str, source: str | None = None) -> dict[str, Any]:
    return _proposal_result(fix_services.fix_proposal_release(actor=actor, proposal_id=int(proposal), version=version, source=source))


# --- KB promotion: executor and precondition, both in the one gate module (releases/kb_gate.py) --
register_action("kb.promote", summary="Promote KB v{version} of {tenant} to stable")(kb_gate.kb_promote)
register_precondition("kb.promote", kb_gate.kb_promote_precondition)
