"""What the write-risk policy runs for tenant actions (risk levels live in IMPERIUM_DECISIONS.yaml)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import register_action
from tenants import services
from tenants.models import Client


def _client(slug: str) -> Client:
    client = Client.objects.filter(slug=slug).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": slug}, status=404)
    return client


@register_action("tenant.onboard", summary="Onboard tenant {slug}")
def onboard(*, actor: Actor, **params: Any) -> dict[str, Any]:
    result = services.client_onboard(actor=actor, **params)
    return {"slug": result.client.slug, "webhook_url": result.webhook_url, "webhook_secret": result.webhook_secret}


@register_action("tenant.webhook_secret_rotate", summary="Rotate the webhook secret of {tenant}")
def rotate_secret(*, actor: Actor, tenant: str) -> dict[str, str]:
    return {"webhook_secret": services.webhook_secret_rotate(actor=actor, client=_client(tenant))}


@register_action("tenant.settings_change", summary="Change settings of {tenant}: {changes}")
def settings_change(*, actor: Actor, tenant: str, changes: dict[str, Any]) -> dict[str, Any]:
    services.client_settings_update(actor=actor, client=_client(tenant), **changes)
    return {"changed": sorted(changes)}


@register_action("tenant.holding_reply_change", summary="Change the holding reply of {tenant} to: {holding_reply_template}")
def holding_reply_change(*, actor: Actor, tenant: str, **texts: str) -> dict[str, Any]:
    """The holding reply and/or the SLA follow-up (`holding_followup_template`) customers receive."""
    unknown = set(texts) - services.CUSTOMER_FACING_SETTINGS
    if unknown or not texts:
        raise ApplicationError(f"Expected holding texts, got {sorted(texts) or 'nothing'}.")
    services.client_settings_update(actor=actor, client=_client(tenant), **texts)
    return {"changed": sorted(texts)}


@register_action("tenant.disable", summary="Disable tenant {tenant} (its customers stop getting answers)")
def disable(*, actor: Actor, tenant: str) -> dict[str, str]:
    return {"status": services.client_set_status(actor=actor, client=_client(tenant), status="disabled").status}


@register_action("tenant.enable", summary="Enable tenant {tenant}")
def enable(*, actor: Actor, tenant: str) -> dict[str, str]:
    return {"status": services.client_set_status(actor=actor, client=_client(tenant), status="active").status}
