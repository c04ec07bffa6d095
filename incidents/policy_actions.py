"""What the write-risk policy runs for incident actions and the fixer's remediations (risk
levels: docs/IMPERIUM_DECISIONS.yaml — all of these are low risk, so they run at once, audited
as `policy.executed`).

An entry-point module (discovered by the policy, like every `policy_actions.py`), so the
remediations may call knowledge and conversations services. Parameters are plain JSON (tenant
slugs, ids); `"*"` as tenant means every tenant.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action
from tenants.models import Client


def _tenant(slug: str) -> Client | None:
    if slug in ("", "*"):
        return None
    client = Client.objects.select_related("settings").filter(slug=slug).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": slug}, status=404)
    return client


@register_action("incident.acknowledge", summary="Acknowledge incident #{incident_id}")
def incident_acknowledge(*, actor: Actor, incident_id: int, source: str = "") -> dict[str, Any]:
    from incidents.services import incident_acknowledge as acknowledge

    incident, changed = acknowledge(incident_id=int(incident_id), actor=actor, source=source or None)
    return {"incident": incident.pk, "changed": changed, "status": incident.status, "acknowledged_by": incident.acknowledged_by}


@register_action("fixer.reindex_tenant", summary="Rebuild the knowledge index of {tenant} from Postgres")
def fixer_reindex_tenant(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from knowledge.index import reset_index
    from knowledge.services import kb_reindex

    client = _tenant(tenant)
    # This process remembers which collections it created and which versions it synced; after the
    # collection vanished under it that memory is wrong, so start from nothing.
    reset_index()
    logs = kb_reindex(actor=actor, tenant=client)
    return {"tenant": tenant, "versions": [log.version_id for log in logs], "items": sum(log.items for log in logs)}


@register_action("fixer.requeue_turns", summary="Re-enqueue the stuck turns of {tenant}")
def fixer_requeue_turns(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from conversations.services.recovery import turns_requeue_stuck

    return {"tenant": tenant, **turns_requeue_stuck(tenant=_tenant(tenant)).as_dict()}


@register_action("fixer.resend_failed_deliveries", summary="Resend the failed deliveries of {tenant} (same idempotency keys)")
def fixer_resend_failed_deliveries(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from conversations.services.recovery import deliveries_resend_failed

    client = _tenant(tenant)
    if client is None:
        raise ApplicationError(_("fixer.resend_failed_deliveries needs one tenant."))
    return {"tenant": tenant, **deliveries_resend_failed(actor=actor, tenant=client).as_dict()}
