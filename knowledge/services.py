"""Knowledge writes: import, versions (draft → stable → archived), draft edits, clone,
index builds, import jobs and evaluation records. Every state change is audited."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError, IntegrationError
from imperium.core.services import audit_record
from knowledge.choices import ImportJobStatus, SourceKind, SyncStatus, VersionStatus
from knowledge.models import (
    KnowledgeEvalRun,
    KnowledgeEvalSet,
    KnowledgeImportJob,
    KnowledgeItem,
    KnowledgeSource,
    KnowledgeSyncLog,
    KnowledgeVersion,
)
from knowledge.parsing import ParsedItem, parse_kb
from tenants.models import Client

logger = logging.getLogger(__name__)

# (passed, summary) for a version; supplied by entry points that can run the answer brain.
PromotionCheck = Callable[[KnowledgeVersion], tuple[bool, dict[str, Any]]]


def kb_content_hash(items: Sequence[dict[str, Any]]) -> str:
    canonical = sorted(
        (
            {"id": i["id"], "question": i["question"], "answer": i["answer"], "tags": list(i.get("tags") or []),
             "alt_questions": list(i.get("alt_questions") or [])}
            for i in items
        ),
        key=lambda row: row["id"],
    )
    return hashlib.sha256(json.dumps(canonical, ensure_ascii=False, sort_keys=True).encode()).hexdigest()


def _item_rows(version: KnowledgeVersion) -> list[dict[str, Any]]:
    return [
        {"id": i.external_id, "question": i.question, "answer": i.answer, "tags": i.tags, "alt_questions": i.alt_questions}
        for i in KnowledgeItem.objects.filter(version=version).order_by("position", "id")
    ]


def kb_version_refresh_hash(*, version: KnowledgeVersion) -> KnowledgeVersion:
    """Recompute content hash and item count after items changed (the index key follows)."""
    rows = _item_rows(version)
    version.content_hash = kb_content_hash(rows)
    version.item_count = len(rows)
    KnowledgeVersion.objects.filter(pk=version.pk).update(content_hash=version.content_hash, item_count=version.item_count)
    return version


@transaction.atomic
def kb_version_create(
    *,
    actor: Actor,
    tenant: Client,
    items: Sequence[ParsedItem],
    source: KnowledgeSource | None = None,
    based_on: KnowledgeVersion | None = None,
    notes: str = "",
) -> KnowledgeVersion:
    """A new draft version with these items. Numbers are per tenant, allocated under a row
    lock on the tenant so two imports never get the same number. Audited `kb.version_created`."""
    Client.objects.select_for_update().filter(pk=tenant.pk).first()
    number = (KnowledgeVersion.objects.for_tenant(tenant).aggregate(top=Max("number"))["top"] or 0) + 1
    version = KnowledgeVersion.objects.create(
        tenant=tenant, number=number, status=VersionStatus.DRAFT, source=source, based_on=based_on, notes=notes,
        created_by=actor.label[:150],
    )
    KnowledgeItem.objects.bulk_create(
        [
            KnowledgeItem(version=version, external_id=item.external_id, question=item.question, answer=item.answer,
                          tags=list(item.tags), alt_questions=list(item.alt_questions), position=position)
            for position, item in enumerate(items)
        ],
        batch_size=500,
    )
    kb_version_refresh_hash(version=version)
    audit_record(actor=actor, action="kb.version_created", tenant=tenant, obj=version,
                 payload={"number": number, "items": len(items), "source": source.name if source else "",
                          "based_on": based_on.number if based_on else None})
    return version


def kb_import(
    *,
    actor: Actor,
    tenant: Client,
    file_name: str,
    content: str,
    kind: str | None = None,
    index: bool = True,
    progress: Callable[[int, str], None] | None = None,
) -> KnowledgeVersion:
    """Parse a JSONL or Markdown file into a new draft version and index it.

    All-or-nothing: a malformed line raises `KBParseError` (naming the line) before anything
    is written. Indexing failures leave the draft in place (Postgres is the truth) and are
    recorded in a failed `KnowledgeSyncLog`; the error is re-raised."""
    kind, items = parse_kb(file_name, content, kind)
    if progress:
        progress(30, f"parsed {len(items)} items")
    with transaction.atomic():
        source = KnowledgeSource.objects.create(
            tenant=tenant, kind=kind, name=file_name[:255], content=content,
            content_sha256=hashlib.sha256(content.encode()).hexdigest(), created_by=actor.label[:150],
        )
        version = kb_version_create(actor=actor, tenant=tenant, items=items, source=source, notes=f"imported from {file_name}")
    if progress:
        progress(60, f"stored as version {version.number}")
    if index:
        kb_version_index(version=version)
    if progress:
        progress(100, f"version {version.number} ready ({len(items)} items)")
    return version


def kb_version_index(*, version: KnowledgeVersion, force: bool = False) -> KnowledgeSyncLog:
    """Build (or rebuild with `force`) the version's index in this process's store; recorded
    in a `KnowledgeSyncLog`. Idempotent: point ids are deterministic."""
    from knowledge.index import IndexKey, embedder_from_settings, get_index, index_mode
    from knowledge.retrieval import snapshot_for

    log = KnowledgeSyncLog.objects.create(version=version, backend=index_mode(), content_hash=version.content_hash,
                                          items=version.item_count)
    started = time.perf_counter()
    try:
        snapshot = snapshot_for(version)
        built = time.perf_counter()
        get_index().ensure(IndexKey(version.tenant_id, version.pk, version.content_hash), snapshot, embedder_from_settings(),
                           force=True)
    except (IntegrationError, Exception) as exc:
        KnowledgeSyncLog.objects.filter(pk=log.pk).update(status=SyncStatus.FAILED, finished_at=timezone.now(), error=str(exc)[:5000])
        raise
    done = time.perf_counter()
    timings = {"features_ms": round((built - started) * 1000, 1), "index_ms": round((done - built) * 1000, 1)}
    KnowledgeSyncLog.objects.filter(pk=log.pk).update(status=SyncStatus.OK, finished_at=timezone.now(), timings=timings)
    log.refresh_from_db()
    return log


def kb_reindex(*, actor: Actor, tenant: Client | None = None, version: KnowledgeVersion | None = None) -> list[KnowledgeSyncLog]:
    """Rebuild the index from Postgres for one version, one tenant's live versions (stable
    and drafts), or every tenant. Audited `kb.reindexed` per tenant."""
    if version is not None:
        versions = [version]
    else:
        queryset = KnowledgeVersion.objects.exclude(status=VersionStatus.ARCHIVED).select_related("tenant")
        if tenant is not None:
            queryset = queryset.for_tenant(tenant)
        versions = list(queryset.order_by("tenant_id", "number"))
    logs = [kb_version_index(version=v, force=True) for v in versions]
    for tenant_id in sorted({v.tenant_id for v in versions}):
        audit_record(actor=actor, action="kb.reindexed", tenant=tenant_id,
                     payload={"versions": [v.number for v in versions if v.tenant_id == tenant_id]})
    return logs


def _eval_gate(version: KnowledgeVersion, check: PromotionCheck | None) -> dict[str, Any] | None:
    """Refuse promotion when the tenant has evaluation cases and the version does not pass. The
    verdict comes from the KB promotion gate (`releases.kb_gate`, via `check`); without it a tenant
    with cases is refused (fails closed)."""
    if not KnowledgeEvalSet.objects.for_tenant(version.tenant).exists():
        return None
    if check is None:
        raise ApplicationError(
            _("KB v%(number)s has evaluation cases and no verdict of the promotion gate; promote it with kb_promote.")
            % {"number": version.number},
            status=409,
        )
    passed, summary = check(version)
    if not passed:
        raise ApplicationError(
            _("KB v%(number)s is below the release thresholds: %(failed)s")
            % {"number": version.number, "failed": summary.get("failed_thresholds")},
            {"summary": summary}, status=409,
        )
    return summary


@transaction.atomic
def kb_version_promote(*, actor: Actor, version: KnowledgeVersion, check: PromotionCheck | None = None) -> KnowledgeVersion:
    """Make a draft the tenant's stable version; the previous stable one is archived.

    Locks the tenant's versions; refuses a non-draft, an empty version, and (when the tenant
    has evaluation cases) a version the promotion gate did not pass. Audited `kb.promoted`.
    The write-risk policy (`kb.promote`: high, executor in `releases.kb_gate`) wraps it."""
    list(KnowledgeVersion.objects.select_for_update().for_tenant(version.tenant_id))
    version.refresh_from_db()
    if version.status != VersionStatus.DRAFT:
        raise ApplicationError(
            _("KB v%(number)s is %(status)s; only a draft can be promoted.")
            % {"number": version.number, "status": version.status}, status=409
        )
    if version.item_count == 0:
        raise ApplicationError(_("KB v%(number)s has no items.") % {"number": version.number}, status=409)
    summary = _eval_gate(version, check)
    previous = KnowledgeVersion.objects.for_tenant(version.tenant_id).filter(status=VersionStatus.STABLE).first()
    now = timezone.now()
    if previous is not None:
        previous.status = VersionStatus.ARCHIVED
        previous.save(update_fields=["status"])
    updated = KnowledgeVersion.objects.filter(pk=version.pk, status=VersionStatus.DRAFT).update(
        status=VersionStatus.STABLE, candidate=False, promoted_at=now, promoted_by=actor.label[:150]
    )
    if updated != 1:
        raise ApplicationError(_("KB v%(number)s changed while promoting; try again.") % {"number": version.number}, status=409)
    version.refresh_from_db()
    version.save(update_fields=["status"])  # one history row for the transition
    audit_record(actor=actor, action="kb.promoted", tenant=version.tenant_id, obj=version,
                 payload={"number": version.number, "previous": previous.number if previous else None,
                          "content_hash": version.content_hash, "eval": (summary or {}).get("headline")})
    return version


@transaction.atomic
def kb_version_make_first_stable(*, actor: Actor, version: KnowledgeVersion) -> KnowledgeVersion:
    """Onboarding: the first version of a tenant that has never served one becomes stable
    (nothing to shame yet). Refuses when any version was ever stable. Audited `kb.first_stable`."""
    list(KnowledgeVersion.objects.select_for_update().for_tenant(version.tenant_id))
    ever_live = KnowledgeVersion.objects.for_tenant(version.tenant_id).filter(promoted_at__isnull=False).exists()
    if ever_live:
        raise ApplicationError(_("This tenant has served a KB before; promote with kb_promote (verified)."), status=409)
    if version.item_count == 0:
        raise ApplicationError(_("KB v%(number)s has no items.") % {"number": version.number}, status=409)
    now = timezone.now()
    KnowledgeVersion.objects.filter(pk=version.pk).update(status=VersionStatus.STABLE, promoted_at=now, promoted_by=actor.label[:150])
    version.refresh_from_db()
    version.save(update_fields=["status"])
    audit_record(actor=actor, action="kb.first_stable", tenant=version.tenant_id, obj=version,
                 payload={"number": version.number, "content_hash": version.content_hash})
    return version


@transaction.atomic
def kb_version_mark_candidate(*, actor: Actor, version: KnowledgeVersion, candidate: bool = True) -> KnowledgeVersion:
    """Offer a draft to canary tenants (or withdraw it). Audited `kb.candidate_changed`."""
    if version.status != VersionStatus.DRAFT:
        raise ApplicationError(_("Only a draft can be a canary candidate."), status=409)
    KnowledgeVersion.objects.filter(pk=version.pk).update(candidate=candidate)
    version.refresh_from_db()
    audit_record(actor=actor, action="kb.candidate_changed", tenant=version.tenant_id, obj=version, payload={"candidate": candidate})
    return version


def kb_version_clone(*, actor: Actor, version: KnowledgeVersion) -> KnowledgeVersion:
    """A new draft with a copy of the version's items (usually: clone stable, then edit)."""
    items = [
        ParsedItem(external_id=i.external_id, question=i.question, answer=i.answer, tags=list(i.tags),
                   alt_questions=list(i.alt_questions))
        for i in KnowledgeItem.objects.filter(version=version).order_by("position", "id")
    ]
    with transaction.atomic():
        source = KnowledgeSource.objects.create(tenant_id=version.tenant_id, kind=SourceKind.MANUAL,
                                                name=f"clone of v{version.number}", created_by=actor.label[:150])
        return kb_version_create(actor=actor, tenant=version.tenant, items=items, source=source, based_on=version,
                                 notes=f"clone of v{version.number}")


def _require_draft(version: KnowledgeVersion) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ApplicationError(
            _("KB v%(number)s is %(status)s: only drafts can be edited; clone it first.")
            % {"number": version.number, "status": version.status}, status=409
        )


@transaction.atomic
def kb_item_save(
    *,
    actor: Actor,
    version: KnowledgeVersion,
    external_id: str,
    question: str,
    answer: str,
    tags: Sequence[str] = (),
    alt_questions: Sequence[str] = (),
    item: KnowledgeItem | None = None,
) -> KnowledgeItem:
    """Create or change one item of a draft; the content hash (and so the index key)
    follows. Audited `kb.draft_edited` with what changed."""
    version = KnowledgeVersion.objects.select_for_update().get(pk=version.pk)
    _require_draft(version)
    external_id, question, answer = external_id.strip(), question.strip(), answer.strip()
    if not (external_id and question and answer):
        raise ApplicationError("id, question and answer are required.")
    clash = KnowledgeItem.objects.filter(version=version, external_id=external_id)
    if item is not None:
        clash = clash.exclude(pk=item.pk)
    if clash.exists():
        raise ApplicationError(f"Another item of v{version.number} already has id '{external_id}'.", status=409)
    new = {"external_id": external_id, "question": question, "answer": answer, "tags": [t.strip() for t in tags if t.strip()],
           "alt_questions": [a.strip() for a in alt_questions if a.strip()]}
    if item is None:
        position = (KnowledgeItem.objects.filter(version=version).aggregate(top=Max("position"))["top"] or 0) + 1
        item = KnowledgeItem.objects.create(version=version, position=position, **new)
        changes: dict[str, Any] = {"created": external_id}
    else:
        if item.version_id != version.pk:
            raise ApplicationError("The item belongs to another version.")
        changes = {k: {"from": getattr(item, k), "to": v} for k, v in new.items() if getattr(item, k) != v}
        for key, value in new.items():
            setattr(item, key, value)
        item.save()
    kb_version_refresh_hash(version=version)
    if changes:
        audit_record(actor=actor, action="kb.draft_edited", tenant=version.tenant_id, obj=version,
                     payload={"item": external_id, "changes": changes})
    return item


@transaction.atomic
def kb_item_delete(*, actor: Actor, item: KnowledgeItem) -> None:
    version = KnowledgeVersion.objects.select_for_update().get(pk=item.version_id)
    _require_draft(version)
    external_id = item.external_id
    item.delete()
    kb_version_refresh_hash(version=version)
    audit_record(actor=actor, action="kb.draft_edited", tenant=version.tenant_id, obj=version, payload={"deleted": external_id})


# --- admin uploads -------------------------------------------------------------------------------

def kb_import_job_create(*, actor: Actor, tenant: Client, file_name: str, content: str) -> KnowledgeImportJob:
    """Store an upload as a queued job; the caller enqueues `knowledge.tasks.kb_import_job_run`
    on commit (or runs it inline)."""
    from knowledge.parsing import detect_kind

    job = KnowledgeImportJob.objects.create(tenant=tenant, file_name=file_name[:255], kind=detect_kind(file_name, content),
                                            content=content, created_by=actor.label[:150])
    audit_record(actor=actor, action="kb.import_queued", tenant=tenant, obj=job, payload={"file": file_name})
    return job


def kb_import_job_run(*, job_id: int) -> KnowledgeImportJob:
    """Run a queued import job once (a guarded status flip claims it, so a duplicate task
    delivery does nothing); progress is written as it goes; failures end in status failed."""
    claimed = KnowledgeImportJob.objects.filter(pk=job_id, status=ImportJobStatus.QUEUED).update(
        status=ImportJobStatus.RUNNING, progress=5, message="parsing"
    )
    job = KnowledgeImportJob.objects.select_related("tenant").get(pk=job_id)
    if claimed != 1:
        return job

    def progress(percent: int, message: str) -> None:
        KnowledgeImportJob.objects.filter(pk=job_id).update(progress=percent, message=message[:2000])

    actor = Actor.system(f"import by {job.created_by}" if job.created_by else "import")
    try:
        version = kb_import(actor=actor, tenant=job.tenant, file_name=job.file_name, content=job.content, kind=job.kind,
                            progress=progress)
    except (ApplicationError, IntegrationError) as exc:
        KnowledgeImportJob.objects.filter(pk=job_id).update(status=ImportJobStatus.FAILED, message=exc.message[:2000],
                                                            finished_at=timezone.now())
    except Exception as exc:
        from imperium.core.errors import error_report

        error_report(where="knowledge.import_job", exc=exc, tenant=job.tenant, context={"job": job_id})
        KnowledgeImportJob.objects.filter(pk=job_id).update(status=ImportJobStatus.FAILED, message=f"internal error: {exc}"[:2000],
                                                            finished_at=timezone.now())
    else:
        KnowledgeImportJob.objects.filter(pk=job_id).update(status=ImportJobStatus.DONE, progress=100, version=version,
                                                            finished_at=timezone.now())
    job.refresh_from_db()
    return job


# --- evaluation records --------------------------------------------------------------------------

def kb_eval_set_save(*, actor: Actor, tenant: Client, cases: list[dict[str, Any]]) -> KnowledgeEvalSet:
    """Store the tenant's evaluation cases (promotion then requires a passing run)."""
    eval_set, _ = KnowledgeEvalSet.objects.update_or_create(tenant=tenant, defaults={"cases": cases})
    audit_record(actor=actor, action="kb.eval_cases_saved", tenant=tenant, obj=eval_set, payload={"cases": len(cases)})
    return eval_set


def kb_eval_run_record(*, version: KnowledgeVersion, summary: dict[str, Any], passed: bool) -> KnowledgeEvalRun:
    summary = {**summary, "content_hash": version.content_hash}
    return KnowledgeEvalRun.objects.create(version=version, cases=int(summary.get("cases", 0)), passed=passed, summary=summary)
