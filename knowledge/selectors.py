"""Knowledge reads, always scoped to one tenant."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from imperium.core.exceptions import ApplicationError
from imperium.core.prepared import PreparedRead
from knowledge.choices import VersionStatus
from knowledge.models import KnowledgeEvalRun, KnowledgeItem, KnowledgeVersion


def kb_versions_for(tenant: Any) -> QuerySet[KnowledgeVersion]:
    return KnowledgeVersion.objects.for_tenant(tenant).order_by("-number")


def kb_version_get(tenant: Any, number: int) -> KnowledgeVersion | None:
    return KnowledgeVersion.objects.for_tenant(tenant).filter(number=number).first()


def kb_version_for_action(tenant: str | int, number: int) -> KnowledgeVersion:
    """The KB version a policy action names (tenant slug or id, version number); refuses an unknown
    tenant or version (404)."""
    from tenants.models import Client

    client = Client.objects.filter(**({"pk": tenant} if isinstance(tenant, int) else {"slug": tenant})).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": tenant}, status=404)
    found = KnowledgeVersion.objects.for_tenant(client).filter(number=int(number)).select_related("tenant").first()
    if found is None:
        raise ApplicationError(_("%(tenant)s has no KB v%(number)s.") % {"tenant": client.slug, "number": number}, status=404)
    return found


def kb_version_stable(tenant: Any) -> KnowledgeVersion | None:
    return _STABLE_READ.first(getattr(tenant, "pk", tenant))


# At most one row (a constraint); no ORDER BY (the model's default one joins the tenant table).
# Compiled once per process: every reply turn runs it (imperium.core.prepared).
_STABLE_READ: PreparedRead[KnowledgeVersion] = PreparedRead(
    lambda pk: KnowledgeVersion.objects.for_tenant(pk).filter(status=VersionStatus.STABLE).order_by()
)


def kb_version_serving(tenant: Any, *, channel: str = "stable") -> KnowledgeVersion | None:
    """The version a tenant's customers get on `channel`: stable → its stable version;
    canary → its newest candidate draft if any, else the stable one."""
    if channel == "canary":
        candidate = (
            KnowledgeVersion.objects.for_tenant(tenant).filter(status=VersionStatus.DRAFT, candidate=True).order_by("-number").first()
        )
        if candidate is not None:
            return candidate
    return kb_version_stable(tenant)


def kb_version_default(tenant: Any) -> KnowledgeVersion | None:
    """For `ask` / `kb_eval` / the pipeline without an explicit version: the version the tenant
    serves now, or its newest draft when it serves none yet."""
    return kb_version_stable(tenant) or (
        KnowledgeVersion.objects.for_tenant(tenant).filter(status=VersionStatus.DRAFT).order_by("-number").first()
    )


def kb_items_for(version: KnowledgeVersion) -> QuerySet[KnowledgeItem]:
    return KnowledgeItem.objects.filter(version=version).order_by("position", "id")


def kb_version_diff(old: KnowledgeVersion, new: KnowledgeVersion) -> dict[str, list[dict[str, Any]]]:
    """Items added, removed and changed between two versions of the same tenant (by id)."""
    if old.tenant_id != new.tenant_id:
        raise ValueError("versions of different tenants cannot be compared")
    fields = ("question", "answer", "tags", "alt_questions")
    before = {i.external_id: i for i in kb_items_for(old)}
    after = {i.external_id: i for i in kb_items_for(new)}
    added = [{"id": k, "question": after[k].question, "answer": after[k].answer} for k in after if k not in before]
    removed = [{"id": k, "question": before[k].question, "answer": before[k].answer} for k in before if k not in after]
    changed = []
    for key in after:
        if key in before:
            diffs = {f: {"from": getattr(before[key], f), "to": getattr(after[key], f)} for f in fields
                     if getattr(before[key], f) != getattr(after[key], f)}
            if diffs:
                changed.append({"id": key, "changes": diffs})
    return {"added": added, "removed": removed, "changed": changed}


def kb_versions_with_same_content(version: KnowledgeVersion) -> QuerySet[KnowledgeVersion]:
    """Other versions of the tenant whose items are identical to `version`'s (same content hash),
    newest first: an import that changes nothing is worth a warning."""
    if not version.content_hash:
        return KnowledgeVersion.objects.none()
    return (KnowledgeVersion.objects.for_tenant(version.tenant_id).filter(content_hash=version.content_hash)
            .exclude(pk=version.pk).order_by("-number"))


def kb_eval_run_latest(version: KnowledgeVersion) -> KnowledgeEvalRun | None:
    """The version's latest recorded evaluation (kb_eval --record, a promotion check, or the admin's
    "run the evaluation" button), or None."""
    return KnowledgeEvalRun.objects.filter(version=version).order_by("-created_at", "-id").first()
