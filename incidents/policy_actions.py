"""What the write-risk policy runs for incident actions (risk levels: docs/IMPERIUM_DECISIONS.yaml).

The fixer's remediations live beside the domain they repair (`fixer.reindex_tenant` in
`knowledge/policy_actions.py`, `fixer.requeue_turns` and `fixer.resend_failed_deliveries` in
`conversations/policy_actions.py`); the fixer runs them by name through the policy.
"""

from __future__ import annotations

from typing import Any

from imperium.core.actors import Actor
from imperium.core.policy import register_action


@register_action("incident.acknowledge", summary="Acknowledge incident #{incident_id}")
def incident_acknowledge(*, actor: Actor, incident_id: int, source: str = "") -> dict[str, Any]:
    from incidents.services import incident_acknowledge as acknowledge

    incident, changed = acknowledge(incident_id=int(incident_id), actor=actor, source=source or None)
    return {"incident": incident.pk, "changed": changed, "status": incident.status, "acknowledged_by": incident.acknowledged_by}
