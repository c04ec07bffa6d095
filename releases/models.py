"""Release bundles, the stable/canary pointers, tenant channel flips, fix proposals — and their event logs.

A `Release` is immutable once it leaves draft. Three guards keep it so, because the bundle a
tenant was served must stay what it was (traces name the release version):
1. services refuse (`releases.services`), admin shows released bundles read-only;
2. `Release.save()` and the `Release.objects` queryset refuse to change a released bundle (and
   releases are never deleted: traces and audit entries name them);
3. a database trigger (migrations 0002/0003, Postgres and SQLite) refuses it for any SQL that gets past both.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from imperium.core.choices import ActorKind
from imperium.core.exceptions import ApplicationError
from releases.choices import AnalysisResult, Channel, CIOutcome, EventSource, FixStatus, ReleaseStatus
from releases.config import SECTION_FIELDS, effective_bundle
from tenants.scoping import TenantScopedQuerySet

SEMVER_PATTERN = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z][0-9A-Za-z.-]*)?(\+[0-9A-Za-z][0-9A-Za-z.-]*)?$"
validate_release_version = RegexValidator(
    SEMVER_PATTERN, "Use a semantic version such as 1.4.0, 1.5.0-rc1 or 1.5.0+fix.12 (no leading 'v')."
)

# Everything but the status (and its timestamp) is frozen once a release leaves draft.
FROZEN_FIELDS: tuple[str, ...] = (
    "version", "image_tag", "answering", "eval_thresholds", "flags", "notes",
    "author_kind", "author_id", "author_label", "created_at",
)


class ReleaseImmutableError(ApplicationError):
    def __init__(self, message: str) -> None:
        super().__init__(message, status=409)


class ActorFields(models.Model):
    """Who did it (an `imperium.core.actors.Actor`, flattened) and through which entry point."""

    actor_kind = models.CharField(_("actor kind"), max_length=10, choices=ActorKind.choices)
    actor_id = models.CharField(_("actor id"), max_length=64, blank=True, default="")
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, default="")
    source = models.CharField(_("source"), max_length=10, choices=EventSource.choices)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        abstract = True


class AppendOnly(models.Model):
    """Event rows are written once by a service and never changed or deleted through the ORM."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None and not self._state.adding:
            raise ApplicationError(f"{type(self).__name__} rows are append-only.", status=409)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise ApplicationError(f"{type(self).__name__} rows are append-only.", status=409)


class ReleaseQuerySet(models.QuerySet):
    def released(self) -> ReleaseQuerySet:
        return self.exclude(status=ReleaseStatus.DRAFT)

    def drafts(self) -> ReleaseQuerySet:
        return self.filter(status=ReleaseStatus.DRAFT)

    def update(self, **kwargs: Any) -> int:
        frozen = sorted(set(kwargs) & set(FROZEN_FIELDS))
        if frozen and self.released().exists():
            raise ReleaseImmutableError(f"Released bundles are immutable; refusing to update {', '.join(frozen)}.")
        if kwargs.get("status") == ReleaseStatus.DRAFT and self.released().exists():
            raise ReleaseImmutableError("A release that left draft cannot go back to draft.")
        return super().update(**kwargs)

    def bulk_update(self, objs: Any, fields: Any, batch_size: int | None = None) -> int:
        if set(fields) & (set(FROZEN_FIELDS) | {"status"}):
            raise ReleaseImmutableError("Release bundles change only through releases.services.")
        return super().bulk_update(objs, fields, batch_size=batch_size)

    def delete(self) -> Any:
        raise ReleaseImmutableError("Releases cannot be deleted: they are kept for the audit trail.")


class Release(models.Model):
    """An immutable bundle of behaviour. Section fields hold overrides of `releases.defaults`."""

    version = models.CharField(_("version"), max_length=64, unique=True, validators=[validate_release_version])
    status = models.CharField(_("status"), max_length=12, choices=ReleaseStatus.choices, default=ReleaseStatus.DRAFT, db_index=True)
    image_tag = models.CharField(_("image tag"),
        max_length=128, blank=True, default="",
        help_text=_("App version / Docker image tag this bundle is meant for (IMAGE_TAG / CANARY_TAG)."),
    )
    answering = models.JSONField(_("answering"),
        default=dict, blank=True,
        help_text=_("Overrides of how the bot answers: quality-check rules and their order, thresholds, reply templates."),
    )
    eval_thresholds = models.JSONField(_("eval thresholds"), default=dict, blank=True,
        help_text=_("Overrides of the knowledge evaluation thresholds (accuracy, shameful answers) a version must pass."))
    flags = models.JSONField(_("flags"), default=dict, blank=True, help_text=_("Free-form switches (true/false, a number or text)."))
    notes = models.TextField(_("notes"), blank=True, default="")
    author_kind = models.CharField(_("author kind"), max_length=10, choices=ActorKind.choices)
    author_id = models.CharField(_("author id"), max_length=64, blank=True, default="")
    author_label = models.CharField(_("author label"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()
    objects = ReleaseQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release")
        verbose_name_plural = _("releases")

    def __str__(self) -> str:
        return f"{self.version} ({self.status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk is not None:
            stored = type(self).objects.filter(pk=self.pk).values("status", *FROZEN_FIELDS).first()
            if stored and stored["status"] != ReleaseStatus.DRAFT:
                changed = [f for f in FROZEN_FIELDS if getattr(self, f) != stored[f]]
                if changed:
                    raise ReleaseImmutableError(
                        f"Release {stored['version']} left draft ({stored['status']}); its bundle is immutable "
                        f"(tried to change {', '.join(changed)}). Create a new version instead."
                    )
                if self.status == ReleaseStatus.DRAFT:
                    raise ReleaseImmutableError("A release that left draft cannot go back to draft.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        # Traces and audit entries name release versions; a deleted release would leave them dangling.
        raise ReleaseImmutableError(f"Release {self.version} cannot be deleted: releases are kept for the audit trail.")

    @property
    def is_draft(self) -> bool:
        return self.status == ReleaseStatus.DRAFT

    def overrides(self) -> dict[str, dict[str, Any]]:
        """The bundle sections this release overrides (only non-empty ones)."""
        return {section: dict(getattr(self, field)) for section, field in SECTION_FIELDS.items() if getattr(self, field)}

    def effective_config(self) -> dict[str, Any]:
        """The built-in defaults deep-merged with this release's overrides (a fresh dict)."""
        return effective_bundle(self.overrides())


class ReleaseEvent(AppendOnly, ActorFields):
    """One status transition of a release (append-only)."""

    release = models.ForeignKey(Release, verbose_name=_("release"), on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(_("from status"), max_length=12, choices=ReleaseStatus.choices, blank=True, default="")
    to_status = models.CharField(_("to status"), max_length=12, choices=ReleaseStatus.choices)
    reason = models.TextField(_("reason"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release event")
        verbose_name_plural = _("release events")

    def __str__(self) -> str:
        return f"{self.release.version}: {self.from_status or '∅'} → {self.to_status}"


class ReleasePointer(models.Model):
    """Which release a channel serves. One row per channel; `release=None` means the built-in defaults
    (stable) or "same as stable" (canary). Changed only by `releases.services`; each change bumps
    `revision` and writes a ReleasePointerEvent."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, unique=True)
    release = models.ForeignKey(Release, verbose_name=_("release"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    revision = models.PositiveIntegerField(_("revision"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["channel"]
        verbose_name = _("releases board")
        verbose_name_plural = _("releases board")

    def __str__(self) -> str:
        return f"{self.channel} → {self.release.version if self.release_id else 'defaults'}"


class ReleasePointerEvent(AppendOnly, ActorFields):
    """One change of a channel pointer (append-only): from which release to which, by whom, why."""

    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, db_index=True)
    from_release = models.ForeignKey(Release, verbose_name=_("from release"), null=True, blank=True, on_delete=models.PROTECT,
            related_name="+")
    to_release = models.ForeignKey(Release, verbose_name=_("to release"), null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    operation = models.CharField(_("operation"), max_length=40,
            help_text=_("start_canary, promote_stable, rollback_stable, canary_rollback, ..."))
    revision = models.PositiveIntegerField(_("revision"), help_text=_("Pointer revision after this change."))
    reason = models.TextField(_("reason"), blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("release pointer change")
        verbose_name_plural = _("release pointer changes")

    def __str__(self) -> str:
        def name(release_id: int | None, release: Release | None) -> str:
            return release.version if release_id and release else "defaults"

        return f"{self.channel}: {name(self.from_release_id, self.from_release)} → {name(self.to_release_id, self.to_release)}"


class TenantChannelEvent(AppendOnly, ActorFields):
    """One flip of a tenant's release channel (append-only); tenant-owned."""

    tenant_scope_path = "tenant"

    tenant = models.ForeignKey("tenants.Client", verbose_name=_("client (tenant)"), on_delete=models.CASCADE, related_name="+")
    from_channel = models.CharField(_("from channel"), max_length=10, choices=Channel.choices)
    to_channel = models.CharField(_("to channel"), max_length=10, choices=Channel.choices)
    operation = models.CharField(_("operation"), max_length=40, help_text=_("deploy_canary, rollback, canary_rollback"))
    release_version = models.CharField(_("release version"), max_length=64, blank=True, default="",
            help_text=_("Release the tenant serves after the flip."))
    reason = models.TextField(_("reason"), blank=True, default="")

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-created_at"], name="chanevent_tenant_created")]
        verbose_name = _("client channel change")
        verbose_name_plural = _("client channel changes")

    def __str__(self) -> str:
        return f"{self.tenant_id}: {self.from_channel} → {self.to_channel}"


class FixProposal(models.Model):
    """A code fix on its way through PR → CI → canary → stable (the Fixer loop)."""

    tenant_scope_path = "tenant"

    title = models.CharField(_("title"), max_length=200)
    incident = models.ForeignKey(
        "incidents.Incident", verbose_name=_("incident"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        db_column="incident_ref",
        help_text=_("The incident this fixes (its tenant becomes the proposal's when none is given)."),
    )
    tenant = models.ForeignKey(
        "tenants.Client", verbose_name=_("client (tenant)"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Tenant whose incident this fixes (empty: not tenant-specific; visible to superusers only)."),
    )
    pr_url = models.URLField(_("pr url"), max_length=500, blank=True, default="")
    branch = models.CharField(_("branch"), max_length=255, db_index=True)
    commit_sha = models.CharField(_("commit sha"), max_length=40, blank=True, default="", db_index=True)
    status = models.CharField(_("status"), max_length=12, choices=FixStatus.choices, default=FixStatus.PROPOSED, db_index=True)
    ci_url = models.URLField(_("ci url"), max_length=500, blank=True, default="")
    ci_conclusion = models.CharField(_("ci conclusion"), max_length=40, blank=True, default="")
    # Time of the last CI status applied (the CI's own clock): deliveries may arrive out of order,
    # and an older one must not undo a newer one.
    ci_updated_at = models.DateTimeField(_("ci updated at"), null=True, blank=True)
    release = models.ForeignKey(Release, verbose_name=_("release"), null=True, blank=True, on_delete=models.PROTECT,
            related_name="fix_proposals")
    notes = models.TextField(_("notes"), blank=True, default="")
    created_by_kind = models.CharField(_("created by kind"), max_length=10, choices=ActorKind.choices)
    created_by_id = models.CharField(_("created by id"), max_length=64, blank=True, default="")
    created_by_label = models.CharField(_("created by label"), max_length=150, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("fix proposal")
        verbose_name_plural = _("fix proposals")

    def __str__(self) -> str:
        return f"#{self.pk} {self.title} ({self.status})"


class FixProposalEvent(AppendOnly, ActorFields):
    """One status transition of a fix proposal (append-only)."""

    tenant_scope_path = "proposal__tenant"

    proposal = models.ForeignKey(FixProposal, verbose_name=_("proposal"), on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("from status"), max_length=12, choices=FixStatus.choices, blank=True, default="")
    to_status = models.CharField(_("to status"), max_length=12, choices=FixStatus.choices)
    note = models.TextField(_("note"), blank=True, default="")
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("fix proposal event")
        verbose_name_plural = _("fix proposal events")

    def __str__(self) -> str:
        return f"#{self.proposal_id}: {self.from_status or '∅'} → {self.to_status}"


class CIDelivery(models.Model):
    """One accepted CI webhook delivery; the unique delivery id makes redeliveries no-ops."""

    delivery_id = models.CharField(_("delivery id"), max_length=100, unique=True)
    event = models.CharField(_("event"), max_length=40)
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    branch = models.CharField(_("branch"), max_length=255, blank=True, default="")
    commit_sha = models.CharField(_("commit sha"), max_length=40, blank=True, default="")
    ci_status = models.CharField(_("ci status"), max_length=40, blank=True, default="")
    proposal = models.ForeignKey(FixProposal, verbose_name=_("proposal"), null=True, blank=True, on_delete=models.SET_NULL,
            related_name="ci_deliveries")
    outcome = models.CharField(_("outcome"), max_length=10, choices=CIOutcome.choices)
    detail = models.JSONField(_("detail"), default=dict, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("CI delivery")
        verbose_name_plural = _("CI deliveries")

    def __str__(self) -> str:
        return f"{self.delivery_id} {self.event} ({self.outcome})"


class CanaryAnalysis(models.Model):
    """One run of canary analysis: the canary release's turns on canary tenants against the stable
    release's turns on stable tenants over a window, the verdict, and what was done about it.

    Written by `releases.analysis.canary_analysis_run` (never edited). Not tenant-owned: it
    aggregates many tenants (the board shows it; canary tenant slugs only to superusers).
    `notice_key` is unique: the CEO hears about one canary release's failure, or its lack of
    data, exactly once however many runs (or concurrent runs) see it."""

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    release = models.ForeignKey(Release, verbose_name=_("release"), null=True, blank=True, on_delete=models.PROTECT,
            related_name="canary_analyses")
    release_version = models.CharField(_("release version"), max_length=64, db_index=True, help_text=_("Canary release analysed."))
    stable_version = models.CharField(_("stable version"), max_length=64,
            help_text=_("Release the stable tenants were served (or 'defaults')."))
    result = models.CharField(_("result"), max_length=12, choices=AnalysisResult.choices, db_index=True)
    window_start = models.DateTimeField(_("window start"))
    window_end = models.DateTimeField(_("window end"))
    canary_tenants = models.JSONField(_("canary tenants"), default=list, blank=True, help_text=_("Slugs of the canary tenants."))
    stable_tenant_count = models.PositiveIntegerField(_("stable tenant count"), default=0)
    canary_metrics = models.JSONField(_("canary metrics"), default=dict, blank=True)
    stable_metrics = models.JSONField(_("stable metrics"), default=dict, blank=True)
    thresholds = models.JSONField(_("thresholds"), default=dict, blank=True, help_text=_("Limits applied (the CANARY_* settings)."))
    reasons = models.JSONField(_("reasons"), default=list, blank=True, help_text=_("Why it failed, or why it is inconclusive."))
    action = models.CharField(_("action"), max_length=20, blank=True, default="",
                              help_text=_("rolled_back, fixes_verified, notified (inconclusive), or empty."))
    action_detail = models.JSONField(_("action detail"), default=dict, blank=True)
    notice_key = models.CharField(_("notice key"), max_length=100, null=True, blank=True, unique=True, default=None,
                                  help_text=_("Set on the one run that told the CEO (failed:<version> / inconclusive:<version>)."))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("canary analysis")
        verbose_name_plural = _("canary analyses")

    def __str__(self) -> str:
        return f"{self.release_version}: {self.result} ({self.created_at:%Y-%m-%d %H:%M})"
