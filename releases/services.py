"""Release writes: drafts, the channel pointers, tenant channel flips. The only code that changes them.

Every change is audited (`imperium.core.services.audit_record`) and leaves an append-only event
(ReleaseEvent, ReleasePointerEvent, TenantChannelEvent) in the same transaction. Pointer changes
lock both pointer rows (always in channel order, so two operations never deadlock); release status
transitions are conditional updates that must touch exactly one row. Alerts to the CEO go out
after commit, so they never announce a change that rolled back.

Entry points do not call these directly: they go through the write-risk policy
(`releases.operations` / `policy_execute`, actions registered in `releases.policy_actions`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.choices import ActorKind
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from incidents.alerts import alert_raise
from releases import texts
from releases.choices import Channel, EventSource, FixStatus, ReleaseStatus
from releases.config import SECTION_FIELDS, deep_merge, validated_overrides
from releases.defaults import DEFAULTS_VERSION
from releases.models import (
    FixProposal,
    Release,
    ReleaseEvent,
    ReleasePointer,
    ReleasePointerEvent,
    TenantChannelEvent,
    validate_release_version,
)
from releases.selectors import stable_rollback_target
from tenants.models import Client, ClientSettings
from tenants.services import client_set_release_channel

logger = logging.getLogger(__name__)

_SOURCE_BY_ACTOR = {
    ActorKind.USER: EventSource.ADMIN,
    ActorKind.TELEGRAM: EventSource.TELEGRAM,
    ActorKind.API: EventSource.API,
    ActorKind.SYSTEM: EventSource.SYSTEM,
}


def event_source(actor: Actor, source: str | None = None) -> str:
    """The entry point an event came through: explicit, else guessed from the actor kind."""
    if source:
        if source not in EventSource.values:
            raise ApplicationError(f"Unknown source {source!r}; use one of {', '.join(EventSource.values)}.")
        return source
    return _SOURCE_BY_ACTOR.get(actor.kind, EventSource.SYSTEM)


def actor_fields(actor: Actor, source: str | None = None) -> dict[str, str]:
    return {"actor_kind": actor.kind, "actor_id": actor.id, "actor_label": actor.label[:150], "source": event_source(actor, source)}


def _version_name(release: Release | None) -> str:
    return release.version if release is not None else texts.DEFAULTS_NAME


def _alert_on_commit(*, title: str, text: str, severity: str = "info", key: str = "", tenant: Any = None) -> None:
    transaction.on_commit(lambda: alert_raise(title=title, text=text, severity=severity, tenant=tenant, key=key))


# --- drafts ----------------------------------------------------------------------------------
def _bundle_fields(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    overrides = dict(overrides or {})
    validated_overrides(overrides)
    return {SECTION_FIELDS[section]: dict(values) for section, values in overrides.items()}


def _check_version(version: str) -> None:
    try:
        validate_release_version(version)
    except ValidationError as exc:
        raise ApplicationError(f"version {version!r}: {' '.join(exc.messages)}") from None


def release_get_or_error(version: str, *, lock: bool = False) -> Release:
    queryset = Release.objects.select_for_update() if lock else Release.objects
    release = queryset.filter(version=version).first()
    if release is None:
        raise ApplicationError(_("Unknown release %(version)s.") % {"version": repr(version)}, status=404)
    return release


@transaction.atomic
def release_create_draft(
    *,
    actor: Actor,
    version: str,
    image_tag: str = "",
    overrides: Mapping[str, Any] | None = None,
    copy_from: str | None = None,
    notes: str = "",
    source: str | None = None,
) -> Release:
    """Create a draft release. `overrides` maps bundle sections (prompts, gate, eval, replies, flags)
    to the keys they change; with `copy_from`, the new draft starts from that release's overrides
    and `overrides` are deep-merged on top. Validated (refuses unknown keys, wrong types, bad
    placeholders); a duplicate version is refused (409). Audited `release.draft_created`."""
    _check_version(version)
    base: dict[str, Any] = {}
    if copy_from:
        base = release_get_or_error(copy_from).overrides()
    merged = deep_merge(base, overrides or {})
    fields = _bundle_fields(merged)
    if Release.objects.filter(version=version).exists():
        raise ApplicationError(
            _("Release %(version)s already exists; releases are immutable — pick a new version.") % {"version": version}, status=409
        )
    release = Release(
        version=version, image_tag=image_tag.strip(), notes=notes, status=ReleaseStatus.DRAFT,
        author_kind=actor.kind, author_id=actor.id, author_label=actor.label[:150], **fields,
    )
    try:
        with transaction.atomic():
            release.save()
    except IntegrityError:  # a concurrent create won the race for the version
        raise ApplicationError(_("Release %(version)s already exists.") % {"version": version}, status=409) from None
    ReleaseEvent.objects.create(release=release, from_status="", to_status=ReleaseStatus.DRAFT,
                                reason=f"copied from {copy_from}" if copy_from else "", **actor_fields(actor, source))
    audit_record(actor=actor, action="release.draft_created", obj=release,
                 payload={"version": version, "image_tag": release.image_tag, "overrides": release.overrides(), "copy_from": copy_from})
    return release


@transaction.atomic
def release_update_draft(
    *,
    actor: Actor,
    version: str,
    image_tag: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    notes: str | None = None,
    source: str | None = None,
) -> Release:
    """Change a draft. Each section given in `overrides` replaces that section's overrides whole
    (an empty dict clears it). Refused once the release left draft (409). Audited with the diff."""
    release = release_get_or_error(version, lock=True)
    if not release.is_draft:
        raise ApplicationError(
            _("Release %(version)s is %(status)s; only drafts can change. Create a new version.")
            % {"version": version, "status": release.status}, status=409
        )
    changes: dict[str, Any] = dict(_bundle_fields(overrides)) if overrides else {}
    if image_tag is not None:
        changes["image_tag"] = image_tag.strip()
    if notes is not None:
        changes["notes"] = notes
    diff = {}
    for name, value in changes.items():
        if getattr(release, name) != value:
            diff[name] = {"from": getattr(release, name), "to": value}
            setattr(release, name, value)
    if diff:
        release.save()
        audit_record(actor=actor, action="release.draft_updated", obj=release, payload=diff)
    return release


# --- status transitions ----------------------------------------------------------------------
def _transition(release: Release, to_status: str, *, allowed_from: Iterable[str], actor: Actor,
                source: str | None, reason: str = "") -> bool:
    """Move `release` to `to_status` when it is in one of `allowed_from`. Returns whether it moved."""
    old = release.status
    if old == to_status:
        return False
    if old not in allowed_from:
        raise ApplicationError(
            _("Release %(version)s is %(old)s; it cannot become %(new)s.")
            % {"version": release.version, "old": old, "new": to_status}, status=409
        )
    now = timezone.now()
    if Release.objects.filter(pk=release.pk, status=old).update(status=to_status, updated_at=now) != 1:
        raise ApplicationError(_("Release %(version)s changed meanwhile; try again.") % {"version": release.version}, status=409)
    release.status, release.updated_at = to_status, now
    ReleaseEvent.objects.create(release=release, from_status=old, to_status=to_status, reason=reason[:2000],
                                **actor_fields(actor, source))
    return True


def _lock_pointers() -> dict[str, ReleasePointer]:
    for channel in Channel.values:
        ReleasePointer.objects.get_or_create(channel=channel)
    # of=self: the release side of the join is nullable (no release = defaults) and cannot be locked.
    locked = (ReleasePointer.objects.select_for_update(of=("self",)).select_related("release")
              .filter(channel__in=Channel.values).order_by("channel"))
    return {p.channel: p for p in locked}


def _move_pointer(pointer: ReleasePointer, to: Release | None, *, actor: Actor, source: str | None,
                  operation: str, reason: str = "") -> ReleasePointerEvent | None:
    if pointer.release_id == (to.pk if to is not None else None):
        return None
    previous = pointer.release
    pointer.release = to
    pointer.revision += 1
    pointer.save(update_fields=["release", "revision", "updated_at"])
    return ReleasePointerEvent.objects.create(
        channel=pointer.channel, from_release=previous, to_release=to, operation=operation,
        revision=pointer.revision, reason=reason[:2000], **actor_fields(actor, source),
    )


def _fix_proposals_follow(release: Release, *, statuses: Iterable[str], to_status: str, actor: Actor,
                          source: str | None, note: str) -> list[int]:
    """Linked fix proposals follow their release's fate (canary, released, rolled back)."""
    from releases.fix_services import fix_proposal_transition

    moved = []
    for proposal in FixProposal.objects.filter(release=release, status__in=list(statuses)):
        if fix_proposal_transition(proposal=proposal, to_status=to_status, actor=actor, source=source, note=note):
            moved.append(proposal.pk)
    return moved


# --- pointer operations ----------------------------------------------------------------------
@transaction.atomic
def release_start_canary(*, actor: Actor, version: str, source: str | None = None, reason: str = "") -> Release:
    """Point the canary channel at draft `version` (draft → canary). The release that was on canary
    and never reached stable becomes retired. Idempotent: already on canary → nothing changes.
    Affects canary tenants only. Audited `release.canary_started`; the CEO is told."""
    pointers = _lock_pointers()
    canary = pointers[Channel.CANARY]
    release = release_get_or_error(version, lock=True)
    if canary.release_id == release.pk:
        return release
    if not release.is_draft:
        raise ApplicationError(
            _("Release %(version)s is %(status)s; only a draft can start a canary (create a new version).")
            % {"version": version, "status": release.status}, status=409
        )
    previous = canary.release
    _transition(release, ReleaseStatus.CANARY, allowed_from=[ReleaseStatus.DRAFT], actor=actor, source=source, reason=reason)
    if previous is not None and previous.status == ReleaseStatus.CANARY:
        _transition(previous, ReleaseStatus.RETIRED, allowed_from=[ReleaseStatus.CANARY], actor=actor, source=source,
                    reason=f"superseded on canary by {version}")
    _move_pointer(canary, release, actor=actor, source=source, operation="start_canary", reason=reason)
    _fix_proposals_follow(release, statuses=[FixStatus.CI_PASSED], to_status=FixStatus.CANARY, actor=actor, source=source,
                          note=f"release {version} on canary")
    tenants = list(Client.objects.filter(settings__release_channel=Channel.CANARY).values_list("slug", flat=True))
    audit_record(actor=actor, action="release.canary_started", obj=release,
                 payload={"version": version, "previous": previous.version if previous else None, "reason": reason, "tenants": tenants})
    _alert_on_commit(
        title=texts.CANARY_STARTED_TITLE.format(version=version),
        text=texts.CANARY_STARTED_TEXT.format(version=version, previous=_version_name(previous), image_tag=release.image_tag or "—",
                                              tenants=", ".join(tenants) or "нет", actor=actor.label),
        key=f"release:canary:{version}",
    )
    return release


@transaction.atomic
def release_promote_stable(*, actor: Actor, version: str | None = None, source: str | None = None, reason: str = "") -> Release:
    """Promote the canary release to stable (high risk: every stable tenant gets it on its next turn).

    `version` pins what was approved: if the canary pointer names another release now, refuse
    (409) rather than promote something nobody verified. The previous stable release becomes
    retired; the canary pointer is cleared (canary tenants now get stable until the next canary).
    Linked fix proposals become released. Audited `release.promoted_stable`; the CEO is told."""
    pointers = _lock_pointers()
    canary, stable = pointers[Channel.CANARY], pointers[Channel.STABLE]
    release = canary.release
    if release is None:
        raise ApplicationError(_("No canary release to promote: start a canary first (release_canary)."), status=409)
    if version is not None and release.version != version:
        raise ApplicationError(
            _("The canary now runs %(current)s, not %(version)s: this request is stale; ask again.")
            % {"current": release.version, "version": version}, status=409
        )
    release = release_get_or_error(release.version, lock=True)
    previous = stable.release
    _transition(release, ReleaseStatus.STABLE, allowed_from=[ReleaseStatus.CANARY], actor=actor, source=source, reason=reason)
    if previous is not None and previous.pk != release.pk:
        _transition(previous, ReleaseStatus.RETIRED, allowed_from=[ReleaseStatus.STABLE], actor=actor, source=source,
                    reason=f"superseded on stable by {release.version}")
    _move_pointer(stable, release, actor=actor, source=source, operation="promote_stable", reason=reason)
    _move_pointer(canary, None, actor=actor, source=source, operation="promote_stable", reason=f"{release.version} is stable now")
    _fix_proposals_follow(release, statuses=[FixStatus.CANARY, FixStatus.VERIFIED], to_status=FixStatus.RELEASED, actor=actor,
                          source=source, note=f"release {release.version} promoted to stable")
    audit_record(actor=actor, action="release.promoted_stable", obj=release,
                 payload={"version": release.version, "previous": previous.version if previous else None, "reason": reason})
    _alert_on_commit(
        title=texts.STABLE_PROMOTED_TITLE.format(version=release.version),
        text=texts.STABLE_PROMOTED_TEXT.format(version=release.version, previous=_version_name(previous),
                                               image_tag=release.image_tag or "—", actor=actor.label),
        key=f"release:stable:{release.version}",
    )
    return release


@dataclass
class StableRollback:
    from_version: str
    to_version: str | None  # None: the built-in defaults
    fix_proposals: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@transaction.atomic
def release_rollback_stable(
    *,
    actor: Actor,
    expected_version: str | None = None,
    to_version: str | None = None,
    to_defaults: bool = False,
    source: str | None = None,
    reason: str = "",
) -> StableRollback:
    """Re-point stable to the previous good stable release (high risk).

    Target: `to_version` (must be a retired release, i.e. one that was stable before), the built-in
    defaults with `to_defaults`, else `stable_rollback_target()`. `expected_version` pins the
    release being rolled back: if stable moved since the request, refuse (409). The rolled-back
    release becomes rolled_back (a running canary is left alone: the canary pointer never names the
    stable release, promotion clears it). Linked fix proposals become rolled_back. Audited `release.stable_rolled_back`; the CEO is told."""
    stable = _lock_pointers()[Channel.STABLE]
    current = stable.release
    if current is None:
        raise ApplicationError(_("Stable serves the built-in defaults; there is nothing to roll back."), status=409)
    if expected_version is not None and current.version != expected_version:
        raise ApplicationError(
            _("Stable now runs %(current)s, not %(version)s: this request is stale; ask again.")
            % {"current": current.version, "version": expected_version}, status=409
        )
    if to_defaults:
        target = None
    elif to_version:
        target = release_get_or_error(to_version, lock=True)
        if target.status != ReleaseStatus.RETIRED:
            raise ApplicationError(
                _("Release %(version)s is %(status)s; stable can only go back to a release that was stable before (retired).")
                % {"version": to_version, "status": target.status},
                status=409,
            )
    else:
        target = stable_rollback_target(current)
    current = release_get_or_error(current.version, lock=True)
    _transition(current, ReleaseStatus.ROLLED_BACK, allowed_from=[ReleaseStatus.STABLE], actor=actor, source=source, reason=reason)
    if target is not None:
        _transition(target, ReleaseStatus.STABLE, allowed_from=[ReleaseStatus.RETIRED], actor=actor, source=source,
                    reason=f"stable rolled back from {current.version}")
    _move_pointer(stable, target, actor=actor, source=source, operation="rollback_stable", reason=reason)
    moved = _fix_proposals_follow(current, statuses=[FixStatus.CANARY, FixStatus.VERIFIED, FixStatus.RELEASED],
                                  to_status=FixStatus.ROLLED_BACK, actor=actor, source=source,
                                  note=f"release {current.version} rolled back on stable")
    result = StableRollback(from_version=current.version, to_version=target.version if target else None, fix_proposals=moved)
    audit_record(actor=actor, action="release.stable_rolled_back", obj=current, payload={**result.as_dict(), "reason": reason})
    _alert_on_commit(
        title=texts.STABLE_ROLLED_BACK_TITLE.format(from_version=current.version, to_version=_version_name(target)),
        text=texts.STABLE_ROLLED_BACK_TEXT.format(from_version=current.version, to_version=_version_name(target),
                                                  reason=reason or "—", actor=actor.label),
        severity="warning",
        key=f"release:stable-rollback:{current.version}",
    )
    return result


# --- tenant channel flips --------------------------------------------------------------------
@dataclass
class ChannelFlip:
    tenant: str
    from_channel: str
    to_channel: str
    changed: bool
    release_version: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _flip(*, actor: Actor, tenant: Client, to_channel: str, operation: str, release_version: str,
          source: str | None, reason: str) -> ChannelFlip:
    current = ClientSettings.objects.select_for_update().filter(client=tenant).values_list("release_channel", flat=True).first()
    if current is None:
        raise ApplicationError(_("Tenant %(tenant)s has no settings; onboard it first.") % {"tenant": tenant.slug}, status=409)
    if current == to_channel:
        return ChannelFlip(tenant=tenant.slug, from_channel=current, to_channel=to_channel, changed=False, release_version=release_version)
    client_set_release_channel(actor=actor, client=tenant, channel=to_channel)
    TenantChannelEvent.objects.create(tenant=tenant, from_channel=current, to_channel=to_channel, operation=operation,
                                      release_version=release_version, reason=reason[:2000], **actor_fields(actor, source))
    return ChannelFlip(tenant=tenant.slug, from_channel=current, to_channel=to_channel, changed=True, release_version=release_version)


@transaction.atomic
def tenant_deploy_canary(*, actor: Actor, tenant: Client, source: str | None = None, reason: str = "") -> ChannelFlip:
    """Move `tenant` to the canary channel: its next turn uses the canary release (and, once the
    pipeline routes by channel, the canary workers). Refused when no canary release is set.
    Idempotent (already on canary → changed=False, no event). Audited `release.tenant_deployed_canary`."""
    canary = _lock_pointers()[Channel.CANARY]
    if canary.release is None:
        raise ApplicationError(_("No canary release is set: start one first (release_canary --version V)."), status=409)
    flip = _flip(actor=actor, tenant=tenant, to_channel=Channel.CANARY, operation="deploy_canary",
                 release_version=canary.release.version, source=source, reason=reason)
    if flip.changed:
        audit_record(actor=actor, action="release.tenant_deployed_canary", tenant=tenant, obj=tenant, payload=flip.as_dict())
    return flip


@transaction.atomic
def tenant_rollback(*, actor: Actor, tenant: Client, source: str | None = None, reason: str = "",
                    operation: str = "rollback") -> ChannelFlip:
    """Move `tenant` back to the stable channel at once. Idempotent. Audited `release.tenant_rolled_back`."""
    stable = _lock_pointers()[Channel.STABLE]
    flip = _flip(actor=actor, tenant=tenant, to_channel=Channel.STABLE, operation=operation,
                 release_version=stable.release.version if stable.release else DEFAULTS_VERSION, source=source, reason=reason)
    if flip.changed:
        audit_record(actor=actor, action="release.tenant_rolled_back", tenant=tenant, obj=tenant,
                     payload={**flip.as_dict(), "reason": reason})
    return flip


@dataclass
class CanaryRollback:
    version: str | None
    tenants: list[str]
    release_rolled_back: bool
    fix_proposals: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.tenants) or self.release_rolled_back

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@transaction.atomic
def canary_rollback(*, actor: Actor, reason: str, source: str | None = None, analysis_ref: str = "",
                    notify: bool = True) -> CanaryRollback:
    """Take the canary down: every canary tenant goes back to stable, the canary release (unless it
    is also stable) becomes rolled_back, the canary pointer is cleared, linked fix proposals are
    rolled back. Used by canary analysis (`canary.auto_rollback`). Idempotent: nothing on canary →
    nothing changes and no alert. Audited `release.canary_rolled_back`; one alert to the CEO —
    unless `notify=False`: canary analysis sends its own single alert with the numbers."""
    canary = _lock_pointers()[Channel.CANARY]
    release = canary.release
    flipped = []
    for tenant in Client.objects.filter(settings__release_channel=Channel.CANARY).order_by("slug"):
        flip = tenant_rollback(actor=actor, tenant=tenant, source=source, reason=reason, operation="canary_rollback")
        if flip.changed:
            flipped.append(tenant.slug)
    rolled_back = False
    moved: list[int] = []
    if release is not None and release.status == ReleaseStatus.CANARY:
        locked = release_get_or_error(release.version, lock=True)
        rolled_back = _transition(locked, ReleaseStatus.ROLLED_BACK, allowed_from=[ReleaseStatus.CANARY], actor=actor,
                                  source=source, reason=reason)
        moved = _fix_proposals_follow(locked, statuses=[FixStatus.CANARY, FixStatus.VERIFIED], to_status=FixStatus.ROLLED_BACK,
                                      actor=actor, source=source, note=f"canary {locked.version} rolled back: {reason}")
    if release is not None:
        _move_pointer(canary, None, actor=actor, source=source, operation="canary_rollback", reason=reason)
    result = CanaryRollback(version=release.version if release else None, tenants=flipped, release_rolled_back=rolled_back,
                            fix_proposals=moved)
    if result.changed:
        audit_record(actor=actor, action="release.canary_rolled_back", obj=release,
                     payload={**result.as_dict(), "reason": reason, "analysis": analysis_ref})
    if result.changed and notify:
        _alert_on_commit(
            title=texts.CANARY_ROLLED_BACK_TITLE.format(version=_version_name(release)),
            text=texts.CANARY_ROLLED_BACK_TEXT.format(version=_version_name(release), tenants=", ".join(flipped) or "—",
                                                      reason=reason or "—", actor=actor.label),
            severity="warning",
            key=f"release:canary-rollback:{release.version if release else 'none'}",
        )
    return result
