"""Release operations as every entry point runs them: admin, management commands, Telegram.

Each function builds the policy params (pinning the versions a verifier will read), calls
`policy_execute` and returns its `PolicyOutcome`: `executed` (low risk, done) or `pending`
(high risk: `outcome.request` is the VerificationRequest the CEO approves). `describe(outcome)`
is a one-line English report for command lines and admin messages.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import PolicyOutcome, policy_execute
from releases.choices import Channel, ReleaseStatus
from releases.selectors import pointers_current, release_get, stable_rollback_target
from tenants.models import Client

DEFAULTS_LABEL = "built-in defaults"
# Policy actions of this app (the board and release_status list their pending verifications).
RELEASE_ACTIONS = (
    "release.create_draft", "release.update_draft", "release.start_canary", "release.promote_stable",
    "release.rollback_stable", "release.prompt_change_stable", "tenant.deploy_canary", "tenant.rollback",
    "canary.auto_rollback", "fixer.propose_fix", "fixer.canary_fix", "fixer.verify_fix", "fixer.apply_code_fix",
)


def _tenant(tenant: str | Client) -> Client:
    if isinstance(tenant, Client):
        return tenant
    client = Client.objects.filter(slug=tenant).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": tenant}, status=404)
    return client


def _params(source: str | None, reason: str, **params: Any) -> dict[str, Any]:
    if source:
        params["source"] = source
    if reason:
        params["reason"] = reason
    return params


def create_draft(*, actor: Actor, version: str, image_tag: str = "", overrides: dict[str, Any] | None = None,
                 copy_from: str | None = None, notes: str = "", source: str | None = None) -> PolicyOutcome:
    params: dict[str, Any] = {"version": version, "image_tag": image_tag, "overrides": overrides or {}, "notes": notes}
    if copy_from:
        params["copy_from"] = copy_from
    return policy_execute("release.create_draft", actor, _params(source, "", **params))


def update_draft(*, actor: Actor, version: str, image_tag: str | None = None, overrides: dict[str, Any] | None = None,
                 notes: str | None = None, source: str | None = None) -> PolicyOutcome:
    params: dict[str, Any] = {"version": version}
    for name, value in (("image_tag", image_tag), ("overrides", overrides), ("notes", notes)):
        if value is not None:
            params[name] = value
    return policy_execute("release.update_draft", actor, _params(source, "", **params))


def start_canary(*, actor: Actor, version: str, source: str | None = None, reason: str = "") -> PolicyOutcome:
    return policy_execute("release.start_canary", actor, _params(source, reason, version=version), reason=reason)


def deploy_canary(*, actor: Actor, tenant: str | Client, source: str | None = None, reason: str = "") -> PolicyOutcome:
    """`/deploy canary <tenant>`: the tenant follows the canary pointer (low risk: the CEO's command
    is the verification)."""
    client = _tenant(tenant)
    return policy_execute("tenant.deploy_canary", actor, _params(source, reason, tenant=client.slug), tenant=client, reason=reason)


def rollback(*, actor: Actor, tenant: str | Client, source: str | None = None, reason: str = "") -> PolicyOutcome:
    """`/rollback <tenant>`: back to stable at once (low risk)."""
    client = _tenant(tenant)
    return policy_execute("tenant.rollback", actor, _params(source, reason, tenant=client.slug), tenant=client, reason=reason)


def deploy_stable(*, actor: Actor, version: str | None = None, tenant: str | Client | None = None,
                  source: str | None = None, reason: str = "") -> PolicyOutcome:
    """`/deploy stable`: promote the canary release to stable (high risk → a VerificationRequest).

    The request pins the canary version seen now; `version`, when given, must be it. `tenant` only
    attaches the request to a tenant (e.g. the one whose canary proved the release) so that
    tenant's operators see it; it does not change the tenant."""
    canary = pointers_current().get(Channel.CANARY)
    current = canary.release if canary is not None and canary.release_id else None
    if current is None:
        raise ApplicationError(_("No canary release to promote: start a canary first (release_canary --version V)."), status=409)
    if version and version != current.version:
        raise ApplicationError(
            _("The canary runs %(current)s, not %(version)s.") % {"current": current.version, "version": version}, status=409
        )
    client = _tenant(tenant) if tenant else None
    return policy_execute("release.promote_stable", actor, _params(source, reason, version=current.version),
                          tenant=client, reason=reason)


def rollback_stable(*, actor: Actor, to_version: str | None = None, to_defaults: bool = False,
                    source: str | None = None, reason: str = "") -> PolicyOutcome:
    """Re-point stable to the previous good stable release (high risk → a VerificationRequest).
    Pins both ends: the release being rolled back and the target (`to_version`, the built-in
    defaults with `to_defaults`, else the previous stable release)."""
    stable = pointers_current().get(Channel.STABLE)
    current = stable.release if stable is not None and stable.release_id else None
    if current is None:
        raise ApplicationError(_("Stable serves the built-in defaults; there is nothing to roll back."), status=409)
    if to_defaults:
        target = None
    elif to_version:
        target = release_get(to_version)
        if target is None:
            raise ApplicationError(_("Unknown release %(version)s.") % {"version": repr(to_version)}, status=404)
        if target.status != ReleaseStatus.RETIRED:
            raise ApplicationError(
                _("Release %(version)s is %(status)s; stable can only go back to a retired release.")
                % {"version": to_version, "status": target.status}, status=409
            )
    else:
        target = stable_rollback_target(current)
    params = _params(source, reason, from_version=current.version, to_version=target.version if target else None,
                     to_label=target.version if target else DEFAULTS_LABEL)
    return policy_execute("release.rollback_stable", actor, params, reason=reason)


def canary_auto_rollback(*, actor: Actor, reason: str, analysis: str = "", notify: bool = True,
                         source: str | None = None) -> PolicyOutcome:
    """Every canary tenant back to stable, the canary release rolled back (low risk, audited).
    Canary analysis passes `notify=False` and alerts once itself, with its numbers."""
    params = _params(source, reason, analysis=analysis)
    if not notify:
        params["notify"] = False
    return policy_execute("canary.auto_rollback", actor, params, reason=reason)


# --- fix proposals -------------------------------------------------------------------------------
def propose_fix(*, actor: Actor, title: str, branch: str, pr_url: str = "", commit_sha: str = "",
                incident: int | None = None, tenant: str | None = None, notes: str = "", source: str | None = None) -> PolicyOutcome:
    client = _tenant(tenant) if tenant else None
    params = _params(source, "", title=title, branch=branch, pr_url=pr_url, commit_sha=commit_sha, incident=incident,
                     tenant=client.slug if client else None, notes=notes)
    return policy_execute("fixer.propose_fix", actor, params, tenant=client)


def canary_fix(*, actor: Actor, proposal: int, version: str | None = None, image_tag: str = "",
               source: str | None = None) -> PolicyOutcome:
    params = _params(source, "", proposal=int(proposal), version=version, image_tag=image_tag)
    return policy_execute("fixer.canary_fix", actor, params)


def verify_fix(*, actor: Actor, proposal: int, note: str = "", source: str | None = None) -> PolicyOutcome:
    return policy_execute("fixer.verify_fix", actor, _params(source, "", proposal=int(proposal), note=note))


def release_fix(*, actor: Actor, proposal: int, source: str | None = None, reason: str = "") -> PolicyOutcome:
    """Release a verified fix to stable (high risk). Pins the fix's release version."""
    from releases.models import FixProposal

    found = FixProposal.objects.select_related("release").filter(pk=int(proposal)).first()
    if found is None:
        raise ApplicationError(_("Unknown fix proposal #%(proposal)s.") % {"proposal": proposal}, status=404)
    if found.release_id is None:
        raise ApplicationError(
            _("Fix proposal #%(proposal)s has no release yet; put it on canary first.") % {"proposal": proposal}, status=409
        )
    return policy_execute("fixer.apply_code_fix", actor, _params(source, "", proposal=found.pk, version=found.release.version),
                          tenant=found.tenant_id, reason=reason)


def describe(outcome: PolicyOutcome) -> str:
    """One line for a command line or an admin message."""
    if outcome.status == "pending" and outcome.request is not None:
        return (f"pending verification #{outcome.request.pk}: {outcome.request.summary} "
                f"(approve in admin or Telegram before {outcome.request.expires_at:%Y-%m-%d %H:%M} UTC)")
    if outcome.status == "executed":
        return f"executed {outcome.action}: {outcome.result}"
    return f"{outcome.status} {outcome.action}: {outcome.error or outcome.result}"
