"""The releases part of incident RCA bundles: the release the tenant is served and the KB version
its customers get on that channel. Registered by `releases/apps.py`."""

from __future__ import annotations

from typing import Any

from incidents.models import Incident
from incidents.rca import register_rca_section
from knowledge.selectors import kb_version_serving
from releases.selectors import release_for_tenant


def rca_in_effect(incident: Incident, start: Any, end: Any) -> dict[str, Any]:
    tenant = incident.tenant
    resolved = release_for_tenant(tenant)
    version = kb_version_serving(tenant, channel=resolved.channel)
    return {
        "release": {"version": resolved.version, "channel": resolved.channel, "serving_channel": resolved.serving_channel,
                    "image_tag": resolved.image_tag, "pointer_revision": resolved.pointer_revision},
        "kb_version": {"number": version.number, "status": version.status, "items": version.item_count,
                       "content_hash": version.content_hash} if version is not None else None,
    }


def register() -> None:
    register_rca_section("in_effect", rca_in_effect)
