"""Fix proposals (the Fixer loop): PR → CI → canary → verified → stable, or rolled back.

status: proposed → ci_running → ci_passed / ci_failed → canary → verified → released; canary,
verified and released may become rolled_back. CI states move among themselves as CI reports
(ordered by the CI's own timestamps); once on canary, CI reports no longer change the proposal.
Every transition is a conditional update plus an append-only FixProposalEvent, audited, and
reported to the CEO (`alert_raise`, after commit).
"""

from __future__ import annotations

import logging
import re
from dataclasses import asdict, dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from incidents.selectors import incident_get
from releases import texts
from releases.choices import CIOutcome, EventSource, FixStatus
from releases.ci import FAILED, PASSED, RUNNING, CIStatus
from releases.models import CIDelivery, FixProposal, FixProposalEvent
from releases.selectors import fix_proposal_for_ci, pointers_current
from releases.services import _alert_on_commit, actor_fields, release_create_draft, release_promote_stable, release_start_canary
from tenants.models import Client

logger = logging.getLogger(__name__)

CI_STATES = (FixStatus.PROPOSED, FixStatus.CI_RUNNING, FixStatus.CI_PASSED, FixStatus.CI_FAILED)
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    FixStatus.CI_RUNNING: CI_STATES,
    FixStatus.CI_PASSED: CI_STATES,
    FixStatus.CI_FAILED: CI_STATES,
    FixStatus.CANARY: (FixStatus.CI_PASSED,),
    FixStatus.VERIFIED: (FixStatus.CANARY,),
    FixStatus.RELEASED: (FixStatus.CANARY, FixStatus.VERIFIED),
    FixStatus.ROLLED_BACK: (FixStatus.CANARY, FixStatus.VERIFIED, FixStatus.RELEASED),
}
_CI_TO_STATUS = {RUNNING: FixStatus.CI_RUNNING, PASSED: FixStatus.CI_PASSED, FAILED: FixStatus.CI_FAILED}
_SHA = re.compile(r"^[0-9a-f]{7,40}$")
_BRANCH = re.compile(r"^[A-Za-z0-9._/-]{1,255}$")


def _alert(proposal: FixProposal, status: str, detail: str = "") -> None:
    sha = f" @ {proposal.commit_sha[:12]}" if proposal.commit_sha else ""
    _alert_on_commit(
        title=texts.FIX_STATUS_TITLE.format(id=proposal.pk, status=texts.FIX_STATUS_NAMES.get(status, status)),
        text=texts.FIX_STATUS_TEXT.format(title=proposal.title, branch=proposal.branch, sha=sha, detail=detail),
        severity="warning" if status in (FixStatus.CI_FAILED, FixStatus.ROLLED_BACK) else "info",
        tenant=proposal.tenant_id,
        key=f"fix:{proposal.pk}:{status}:{proposal.commit_sha[:12]}",
    )


def fix_proposal_transition(
    *,
    proposal: FixProposal,
    to_status: str,
    actor: Actor,
    source: str | None = None,
    note: str = "",
    detail: dict[str, Any] | None = None,
    updates: dict[str, Any] | None = None,
) -> bool:
    """Move `proposal` to `to_status` with a conditional update (must touch one row) and an event.
    Returns False when it already is there; ApplicationError (409) when the move is not allowed.
    `updates` are other fields written in the same update. Audited `fix.status_changed`; CEO told."""
    old = proposal.status
    if old == to_status:
        return False
    if old not in ALLOWED_FROM.get(to_status, ()):
        raise ApplicationError(
            _("Fix proposal #%(id)s is %(old)s; it cannot become %(new)s.") % {"id": proposal.pk, "old": old, "new": to_status}, status=409
        )
    now = timezone.now()
    fields = {"status": to_status, "updated_at": now, **(updates or {})}
    if FixProposal.objects.filter(pk=proposal.pk, status=old).update(**fields) != 1:
        raise ApplicationError(_("Fix proposal #%(id)s changed meanwhile; try again.") % {"id": proposal.pk}, status=409)
    for name, value in fields.items():
        setattr(proposal, name, value)
    FixProposalEvent.objects.create(proposal=proposal, from_status=old, to_status=to_status, note=note[:2000],
                                    detail=detail or {}, **actor_fields(actor, source))
    audit_record(actor=actor, action="fix.status_changed", tenant=proposal.tenant_id, obj=proposal,
                 payload={"from": old, "to": to_status, "note": note, **(detail or {})})
    _alert(proposal, to_status, note)
    return True


def _get(proposal_id: int, *, lock: bool = True) -> FixProposal:
    queryset = FixProposal.objects.select_for_update() if lock else FixProposal.objects
    proposal = queryset.filter(pk=proposal_id).first()
    if proposal is None:
        raise ApplicationError(_("Unknown fix proposal #%(proposal)s.") % {"proposal": proposal_id}, status=404)
    return proposal


@transaction.atomic
def fix_proposal_create(
    *,
    actor: Actor,
    title: str,
    branch: str,
    pr_url: str = "",
    commit_sha: str = "",
    incident_id: int | None = None,
    tenant: Client | None = None,
    notes: str = "",
    source: str | None = None,
) -> FixProposal:
    """Record a proposed fix (status proposed). Audited `fix.proposed`; the CEO is told."""
    title = (title or "").strip()
    if not title:
        raise ApplicationError("A fix proposal needs a title.")
    if not _BRANCH.match(branch or ""):
        raise ApplicationError(f"Branch {branch!r} is not a valid git branch name.")
    commit_sha = (commit_sha or "").strip().lower()
    if commit_sha and not _SHA.match(commit_sha):
        raise ApplicationError("commit_sha must be 7–40 hexadecimal characters.")
    if pr_url and not pr_url.startswith(("https://", "http://")):
        raise ApplicationError("pr_url must be an http(s) URL.")
    incident = None
    if incident_id is not None:
        incident = incident_get(incident_id=incident_id)
        if incident is None:
            raise ApplicationError(f"Unknown incident #{incident_id}.", status=404)
        if tenant is None:
            tenant = incident.tenant
        elif incident.tenant_id not in (None, tenant.pk):
            raise ApplicationError(f"Incident #{incident_id} belongs to another tenant than {tenant.slug}.")
    proposal = FixProposal.objects.create(
        title=title[:200], branch=branch, pr_url=pr_url, commit_sha=commit_sha, incident=incident, tenant=tenant,
        notes=notes, created_by_kind=actor.kind, created_by_id=actor.id, created_by_label=actor.label[:150],
    )
    FixProposalEvent.objects.create(proposal=proposal, from_status="", to_status=FixStatus.PROPOSED, note=notes[:2000],
                                    **actor_fields(actor, source))
    audit_record(actor=actor, action="fix.proposed", tenant=tenant, obj=proposal,
                 payload={"title": proposal.title, "branch": branch, "pr_url": pr_url, "incident": incident_id})
    _alert(proposal, FixStatus.PROPOSED, pr_url)
    return proposal


@dataclass
class CIResult:
    outcome: str  # applied / unchanged / ignored / no_match / duplicate
    proposal_id: int | None = None
    proposal_status: str | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def fix_proposal_ci_update(*, delivery_id: str, ci: CIStatus, actor: Actor | None = None) -> CIResult:
    """Apply one CI delivery. Idempotent per `delivery_id` (unique row written in the same
    transaction as the change: a redelivery answers `duplicate` and changes nothing).

    Matches the proposal by commit sha, else the newest open proposal on the branch (a new push
    moves it to the new sha). A report older than the last applied one (CI timestamps) is ignored,
    as is anything for a proposal already on canary or beyond."""
    actor = actor or Actor.system("ci-webhook")
    try:
        with transaction.atomic():
            delivery = CIDelivery.objects.create(
                delivery_id=delivery_id[:100], event=ci.event[:40], branch=ci.branch[:255], commit_sha=ci.sha,
                ci_status=ci.state or "", outcome=CIOutcome.IGNORED, detail={"conclusion": ci.conclusion, "url": ci.url, "note": ci.note},
            )
            result = _apply_ci(ci, actor)
            CIDelivery.objects.filter(pk=delivery.pk).update(outcome=result.outcome, proposal_id=result.proposal_id,
                                                             detail={**delivery.detail, "note": result.note})
            return result
    except IntegrityError:
        if CIDelivery.objects.filter(delivery_id=delivery_id[:100]).exists():
            return CIResult(outcome="duplicate", note="delivery already processed")
        raise


def _apply_ci(ci: CIStatus, actor: Actor) -> CIResult:
    if ci.state is None:
        return CIResult(outcome=CIOutcome.IGNORED, note=ci.note)
    match = fix_proposal_for_ci(branch=ci.branch, sha=ci.sha)
    if match is None:
        return CIResult(outcome=CIOutcome.NO_MATCH, note=f"no fix proposal for branch {ci.branch!r} / sha {ci.sha[:12]!r}")
    proposal = _get(match.pk)
    result = CIResult(outcome=CIOutcome.UNCHANGED, proposal_id=proposal.pk, proposal_status=proposal.status)
    if proposal.status not in CI_STATES:
        result.outcome, result.note = CIOutcome.IGNORED, f"proposal is {proposal.status}; CI reports no longer change it"
        return result
    if ci.updated_at and proposal.ci_updated_at and ci.updated_at < proposal.ci_updated_at:
        result.outcome, result.note = CIOutcome.IGNORED, "older than the last CI status applied"
        return result
    to_status = _CI_TO_STATUS[ci.state]
    updates: dict[str, Any] = {"ci_conclusion": ci.conclusion[:40], "ci_url": ci.url[:500] or proposal.ci_url,
                               "ci_updated_at": ci.updated_at or timezone.now()}
    if ci.sha and ci.sha != proposal.commit_sha:
        updates["commit_sha"] = ci.sha
    detail = {"event": ci.event, "sha": ci.sha, "conclusion": ci.conclusion, "url": ci.url}
    if proposal.status == to_status:
        # Same state, maybe a new sha or url: record the facts without a transition.
        FixProposal.objects.filter(pk=proposal.pk).update(**updates, updated_at=timezone.now())
        if "commit_sha" in updates:
            audit_record(actor=actor, action="fix.ci_head_moved", tenant=proposal.tenant_id, obj=proposal,
                         payload={"from": proposal.commit_sha, "to": ci.sha})
        result.note = "same status"
        return result
    fix_proposal_transition(proposal=proposal, to_status=to_status, actor=actor, source=EventSource.CI,
                            note=f"CI {ci.event}: {ci.conclusion}", detail=detail, updates=updates)
    result.outcome, result.proposal_status = CIOutcome.APPLIED, to_status
    return result


@transaction.atomic
def fix_proposal_draft_release(
    *,
    actor: Actor,
    proposal_id: int,
    version: str,
    image_tag: str = "",
    overrides: dict[str, Any] | None = None,
    source: str | None = None,
) -> FixProposal:
    """Turn a CI-passed proposal into a draft release (linked to it). The draft starts from the
    current stable release's bundle, so the fix changes code (image) and only what `overrides`
    says. Idempotent for the same version; refused for any other status. Audited `fix.draft_release`."""
    proposal = _get(proposal_id)
    if proposal.release_id is not None:
        if proposal.release.version == version:
            return proposal
        raise ApplicationError(
            _("Fix proposal #%(id)s already has release %(version)s.")
            % {"id": proposal.pk, "version": proposal.release.version}, status=409
        )
    if proposal.status != FixStatus.CI_PASSED:
        raise ApplicationError(
            _("Fix proposal #%(id)s is %(status)s; only a CI-passed fix becomes a release.")
            % {"id": proposal.pk, "status": proposal.status}, status=409
        )
    stable = pointers_current().get("stable")
    release = release_create_draft(
        actor=actor, version=version, image_tag=image_tag, overrides=overrides or {},
        copy_from=stable.release.version if stable is not None and stable.release_id else None,
        notes=f"Fix #{proposal.pk}: {proposal.title}\n{proposal.pr_url}\nbranch {proposal.branch} @ {proposal.commit_sha}",
        source=source,
    )
    FixProposal.objects.filter(pk=proposal.pk).update(release=release, updated_at=timezone.now())
    proposal.release = release
    audit_record(actor=actor, action="fix.draft_release", tenant=proposal.tenant_id, obj=proposal,
                 payload={"version": version, "image_tag": image_tag})
    return proposal


@transaction.atomic
def fix_proposal_start_canary(
    *,
    actor: Actor,
    proposal_id: int,
    version: str | None = None,
    image_tag: str = "",
    overrides: dict[str, Any] | None = None,
    source: str | None = None,
    reason: str = "",
) -> FixProposal:
    """Put a CI-passed fix on canary: create its draft release when it has none (`version`
    required then), point the canary channel at it; the proposal becomes `canary`."""
    proposal = _get(proposal_id)
    if proposal.release_id is None:
        if not version:
            raise ApplicationError(_("This fix has no release yet: give the new release version."))
        proposal = fix_proposal_draft_release(actor=actor, proposal_id=proposal.pk, version=version, image_tag=image_tag,
                                              overrides=overrides, source=source)
    if proposal.status != FixStatus.CI_PASSED:
        raise ApplicationError(
            _("Fix proposal #%(id)s is %(status)s; only a CI-passed fix goes to canary.")
            % {"id": proposal.pk, "status": proposal.status}, status=409
        )
    release_start_canary(actor=actor, version=proposal.release.version, source=source, reason=reason or f"fix #{proposal.pk}")
    proposal.refresh_from_db()
    return proposal


@transaction.atomic
def fix_proposal_verify(*, actor: Actor, proposal_id: int, note: str = "", source: str | None = None) -> FixProposal:
    """Record that the fix proved itself on canary (canary → verified): canary analysis (or a
    person who checked it) says so. Idempotent."""
    proposal = _get(proposal_id)
    fix_proposal_transition(proposal=proposal, to_status=FixStatus.VERIFIED, actor=actor, source=source, note=note or "verified on canary")
    return proposal


@transaction.atomic
def fix_proposal_release(*, actor: Actor, proposal_id: int, version: str | None = None, source: str | None = None,
                         reason: str = "") -> FixProposal:
    """Release a verified fix to stable: promote its release (must be the canary release now).
    High risk — runs only through `fixer.apply_code_fix` approval. The proposal becomes released."""
    proposal = _get(proposal_id)
    if proposal.status == FixStatus.RELEASED:
        return proposal
    if proposal.status != FixStatus.VERIFIED or proposal.release_id is None:
        raise ApplicationError(
            _("Fix proposal #%(id)s is %(status)s; only a verified fix on canary is released.")
            % {"id": proposal.pk, "status": proposal.status}, status=409
        )
    if version is not None and proposal.release.version != version:
        raise ApplicationError(
            _("Fix #%(id)s now has release %(current)s, not %(version)s.")
            % {"id": proposal.pk, "current": proposal.release.version, "version": version}, status=409
        )
    release_promote_stable(actor=actor, version=proposal.release.version, source=source, reason=reason or f"fix #{proposal.pk}")
    proposal.refresh_from_db()
    return proposal
