"""What the write-risk policy runs for knowledge actions (risk levels: docs/IMPERIUM_DECISIONS.yaml).

`kb.promote` is not here: the KB promotion gate owns it (`releases/kb_gate.py`, it needs the release
thresholds and the answer brain). `fixer.reindex_tenant` is the fixer's remediation for the
knowledge index check (`knowledge/sentinel_checks.py`).
"""

from __future__ import annotations

from typing import Any

from imperium.core.actors import Actor
from imperium.core.policy import register_action
from knowledge import services
from knowledge.selectors import kb_version_for_action
from tenants.selectors import client_or_every


@register_action("kb.first_stable", summary="Serve KB v{version} as the first stable version of {tenant}")
def kb_first_stable(*, actor: Actor, tenant: str, version: int) -> dict[str, Any]:
    promoted = services.kb_version_make_first_stable(actor=actor, version=kb_version_for_action(tenant, version))
    return {"tenant": tenant, "version": promoted.number, "status": promoted.status}


@register_action("fixer.reindex_tenant", summary="Rebuild the knowledge index of {tenant} from Postgres")
def fixer_reindex_tenant(*, actor: Actor, tenant: str) -> dict[str, Any]:
    from knowledge.index import reset_index

    client = client_or_every(tenant)
    # This process remembers which collections it created and which versions it synced; after the
    # collection vanished under it that memory is wrong, so start from nothing.
    reset_index()
    logs = services.kb_reindex(actor=actor, tenant=client)
    return {"tenant": tenant, "versions": [log.version_id for log in logs], "items": sum(log.items for log in logs)}
