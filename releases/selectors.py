"""Reads of the releases app. `release_for_tenant` is what the pipeline and the answer brain use.

`release_for_tenant(tenant)` costs two small queries (the tenant's channel, both pointers with
their releases) and never caches pointers or channels, so a flip or a re-point takes effect on
the very next turn. The merged, frozen config of a release is cached per process keyed by the
release's content itself (version + overrides), which cannot go stale: released bundles are
immutable, and a different content is a different key.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from releases.choices import Channel, FixStatus, ReleaseStatus
from releases.config import effective_bundle, freeze, thaw
from releases.defaults import DEFAULTS_VERSION
from releases.models import CanaryAnalysis, FixProposal, Release, ReleasePointer, ReleasePointerEvent
from tenants.models import Client
from tenants.selectors import tenant_channel


@dataclass(frozen=True)
class ResolvedRelease:
    """The behaviour bundle one tenant is served right now.

    - `version`: the release version, or "defaults" when no release is pointed at;
    - `channel`: the tenant's channel (stable/canary);
    - `serving_channel`: the pointer that decided it (a canary tenant with no canary release is
      served by the stable pointer);
    - `config`: read-only mapping with sections prompts/gate/eval/replies/flags (releases.defaults);
    - `release`: the Release row (a snapshot: its status may change later, its bundle cannot), or None.
    """

    version: str
    channel: str
    serving_channel: str
    config: Mapping[str, Any]
    release: Release | None
    image_tag: str = ""
    pointer_revision: int = 0

    @property
    def is_default(self) -> bool:
        return self.release is None

    def section(self, name: str) -> Mapping[str, Any]:
        return self.config[name]

    def as_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "channel": self.channel,
            "serving_channel": self.serving_channel,
            "image_tag": self.image_tag,
            "pointer_revision": self.pointer_revision,
            "config": thaw(self.config),
        }


_CACHE_SIZE = 64
_config_cache: OrderedDict[tuple[str, str], Mapping[str, Any]] = OrderedDict()
_cache_lock = threading.Lock()


def _frozen_config(release: Release | None) -> Mapping[str, Any]:
    overrides = release.overrides() if release is not None else {}
    key = (release.version if release is not None else DEFAULTS_VERSION, json.dumps(overrides, sort_keys=True))
    with _cache_lock:
        cached = _config_cache.get(key)
        if cached is not None:
            _config_cache.move_to_end(key)
            return cached
    config = freeze(effective_bundle(overrides))
    with _cache_lock:
        _config_cache[key] = config
        while len(_config_cache) > _CACHE_SIZE:
            _config_cache.popitem(last=False)
    return config


def _resolve(channel: str, pointers: dict[str, ReleasePointer]) -> ResolvedRelease:
    stable = pointers.get(Channel.STABLE)
    canary = pointers.get(Channel.CANARY)
    serving = stable
    serving_channel = Channel.STABLE
    if channel == Channel.CANARY and canary is not None and canary.release_id is not None:
        serving, serving_channel = canary, Channel.CANARY
    release = serving.release if serving is not None and serving.release_id is not None else None
    return ResolvedRelease(
        version=release.version if release is not None else DEFAULTS_VERSION,
        channel=str(channel),
        serving_channel=str(serving_channel),
        config=_frozen_config(release),
        release=release,
        image_tag=release.image_tag if release is not None else "",
        pointer_revision=serving.revision if serving is not None else 0,
    )


def pointers_current() -> dict[str, ReleasePointer]:
    """Both channel pointers with their releases (one query). Missing rows are absent keys."""
    return {p.channel: p for p in ReleasePointer.objects.select_related("release")}


def release_for_tenant(tenant: Client | int) -> ResolvedRelease:
    """The release (or the built-in defaults) this tenant is served now. Two queries; never raises
    for a tenant without settings (treated as stable)."""
    return _resolve(tenant_channel(tenant), pointers_current())


@dataclass(frozen=True)
class _PointerRow:
    release_id: int | None
    revision: int
    release: Release | None


_release_rows: OrderedDict[tuple[int, Any], Release] = OrderedDict()


def _release_row(release_id: int, updated_at: Any) -> Release:
    """A Release row by id, cached per process under its `updated_at`: every change to a release
    (its bundle while a draft, any status move) bumps it, so a cached row is never stale."""
    key = (release_id, updated_at)
    with _cache_lock:
        cached = _release_rows.get(key)
        if cached is not None:
            _release_rows.move_to_end(key)
    if cached is None:
        cached = Release.objects.get(pk=release_id)
        with _cache_lock:
            _release_rows[(release_id, cached.updated_at)] = cached
            while len(_release_rows) > _CACHE_SIZE:
                _release_rows.popitem(last=False)
    return copy.copy(cached)  # callers get their own instance; the cached one is never changed


def release_for_channel(channel: str) -> ResolvedRelease:
    """What a tenant on `channel` would be served now: one small query per call (both pointers,
    their revision and their release's `updated_at`), read fresh so a flip or a re-point shows on
    the very next turn; the release rows themselves come from `_release_row`."""
    if channel not in Channel.values:
        raise ValueError(f"unknown channel {channel!r}")
    pointers = {
        pointer_channel: _PointerRow(release_id, revision, _release_row(release_id, stamp) if release_id is not None else None)
        for pointer_channel, release_id, revision, stamp in ReleasePointer.objects.values_list(
            "channel", "release_id", "revision", "release__updated_at"
        )
    }
    return _resolve(channel, pointers)  # type: ignore[arg-type]


def serving_context(tenant: Any) -> tuple[Any, ResolvedRelease]:
    """(kb_version, release) that serve this tenant's next turn, resolved in this one place
    (registered with the pipeline at startup: `releases.apps`; `/status` shows the same).

    - release: what the tenant's channel points at now (read fresh, so a flip shows on the next
      turn); its `config["answering"]` drives the brain;
    - kb_version: what its customers get on that channel (`kb_version_serving`: canary → its
      candidate draft if any, else stable; stable → its stable version), or NO_KNOWLEDGE_SERVED
      when that is nothing: customers are never answered from an unreviewed draft."""
    from conversations.answering.decision import NO_KNOWLEDGE_SERVED
    from knowledge.selectors import kb_version_serving

    # A turn's claim read the tenant's settings with the conversation row milliseconds ago: its
    # channel is as fresh as a second query would be.
    tenant_settings = getattr(tenant, "settings", None)
    release = release_for_channel(tenant_settings.release_channel) if tenant_settings is not None else release_for_tenant(tenant)
    kb_version = kb_version_serving(tenant, channel=release.channel)
    return (kb_version if kb_version is not None else NO_KNOWLEDGE_SERVED), release


def eval_thresholds_for(tenant: Client | int | None = None) -> Mapping[str, Any]:
    """kb_eval thresholds a KB version must meet to become stable: those of the stable release,
    since promoting a KB version changes what stable customers see."""
    return release_for_channel(Channel.STABLE).config["eval"]


def release_get(version: str) -> Release | None:
    return Release.objects.filter(version=version).first()


def releases_all() -> QuerySet[Release]:
    return Release.objects.all()


def tenants_on_channel(channel: str, *, user: Any = None) -> QuerySet[Client]:
    """Tenants on `channel` (all of them, or those `user` may see)."""
    queryset = Client.objects.filter(settings__release_channel=channel).select_related("settings").order_by("slug")
    return queryset.visible_to(user) if user is not None else queryset


def canary_tenants() -> QuerySet[Client]:
    return tenants_on_channel(Channel.CANARY)


def stable_tenants() -> QuerySet[Client]:
    return tenants_on_channel(Channel.STABLE)


def canary_release() -> Release | None:
    """The release the canary pointer names now (None: no canary running)."""
    pointer = ReleasePointer.objects.select_related("release").filter(channel=Channel.CANARY).first()
    return pointer.release if pointer is not None and pointer.release_id else None


def fix_proposals_on_canary() -> QuerySet[FixProposal]:
    """Fix proposals whose release is on canary now (canary analysis verifies or rolls them back)."""
    return FixProposal.objects.filter(status=FixStatus.CANARY, release__status=ReleaseStatus.CANARY).select_related("release", "tenant")


def stable_rollback_target(current: Release | None = None) -> Release | None:
    """The release stable served before `current` (default: the stable pointer's release), skipping
    releases that were rolled back; None means the built-in defaults.

    Walks the stable pointer's events newest first and takes the first earlier release that is
    neither the current one nor rolled back — so rolling back twice goes back two good releases,
    never forward to the bad one.
    """
    if current is None:
        pointer = ReleasePointer.objects.select_related("release").filter(channel=Channel.STABLE).first()
        current = pointer.release if pointer is not None else None
    if current is None:
        return None
    events = ReleasePointerEvent.objects.filter(channel=Channel.STABLE).select_related("from_release").order_by("-id")
    for event in events:
        candidate = event.from_release
        if event.from_release_id is None:
            return None
        if candidate.pk != current.pk and candidate.status != ReleaseStatus.ROLLED_BACK:
            return candidate
    return None


OPEN_FIX_STATUSES = (FixStatus.PROPOSED, FixStatus.CI_RUNNING, FixStatus.CI_PASSED, FixStatus.CI_FAILED)


def fix_proposal_for_ci(*, branch: str, sha: str) -> FixProposal | None:
    """The proposal a CI status is about: the one with this commit, else the newest open one on
    this branch (a new push to a proposal's branch moves it to the new head)."""
    if sha:
        by_sha = FixProposal.objects.filter(commit_sha__iexact=sha).order_by("-created_at", "-id").first()
        if by_sha is not None:
            return by_sha
    if branch:
        return FixProposal.objects.filter(branch=branch, status__in=OPEN_FIX_STATUSES).order_by("-created_at", "-id").first()
    return None


def fix_proposals_visible_to(user: Any) -> QuerySet[FixProposal]:
    return FixProposal.objects.visible_to(user).select_related("release", "tenant")


def next_fix_version(proposal: FixProposal) -> str:
    """A release version for a fix: the stable version's next patch, tagged with the proposal id
    (1.4.0 → 1.4.1-fix.12; 0.0.1-fix.12 when stable serves the defaults)."""
    pointer = ReleasePointer.objects.select_related("release").filter(channel=Channel.STABLE).first()
    base = pointer.release.version if pointer is not None and pointer.release_id else "0.0.0"
    core = base.split("-", 1)[0].split("+", 1)[0]
    major, minor, patch = (int(part) for part in core.split("."))
    return f"{major}.{minor}.{patch + 1}-fix.{proposal.pk}"


ANALYSIS_METRICS = ("turns", "qc_fail_rate", "escalation_rate", "delivery_failure_rate", "error_rate", "total_ms_p95")


def canary_analysis_latest() -> CanaryAnalysis | None:
    return CanaryAnalysis.objects.select_related("release").first()


def canary_analysis_summary(analysis: CanaryAnalysis, *, with_tenants: bool = True) -> dict[str, Any]:
    """One analysis as plain data (task result, `canary_analysis --json`, the board)."""
    return {
        "id": analysis.pk,
        "created_at": analysis.created_at.isoformat() if analysis.created_at else None,
        "result": analysis.result,
        "release": analysis.release_version,
        "stable": analysis.stable_version,
        "window_start": analysis.window_start.isoformat(),
        "window_end": analysis.window_end.isoformat(),
        "canary_tenants": list(analysis.canary_tenants) if with_tenants else len(analysis.canary_tenants),
        "stable_tenant_count": analysis.stable_tenant_count,
        "metrics": [{"name": m, "canary": analysis.canary_metrics.get(m), "stable": analysis.stable_metrics.get(m)}
                    for m in ANALYSIS_METRICS],
        "reasons": [r.get("text", "") for r in analysis.reasons],
        "action": analysis.action,
        "action_detail": analysis.action_detail,
        "thresholds": analysis.thresholds,
    }


def board_canary_analysis(user: Any) -> dict[str, Any] | None:
    """The latest canary analysis for the releases board (None: none yet). Canary tenant slugs are
    shown to superusers only; an operator sees how many there are."""
    analysis = canary_analysis_latest()
    if analysis is None:
        return None
    superuser = bool(getattr(user, "is_superuser", False))
    summary = canary_analysis_summary(analysis, with_tenants=superuser)
    summary["canary_tenant_label"] = ", ".join(analysis.canary_tenants) if superuser else f"{len(analysis.canary_tenants)}"
    return summary
