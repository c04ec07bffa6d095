from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from imperium.core.exceptions import ApplicationError
from tenants.choices import ClientStatus, ReleaseChannel
from tenants.models import Client, ClientSettings


def client_get_by_slug(slug: str) -> Client | None:
    """The tenant with this slug and its settings, or None. Used by unauthenticated entry points
    (webhooks), which then prove the caller knows the tenant's secret."""
    return Client.objects.select_related("settings").filter(slug=slug).first()


def clients_visible_to(user: Any) -> QuerySet[Client]:
    return Client.objects.visible_to(user)


def clients_active() -> QuerySet[Client]:
    return Client.objects.filter(status=ClientStatus.ACTIVE).select_related("settings")


def client_or_every(slug: str) -> Client | None:
    """A policy parameter naming one tenant by slug (with its settings), or every tenant ("*" or
    empty: None). Refuses an unknown slug (404)."""
    if slug in ("", "*"):
        return None
    client = Client.objects.select_related("settings").filter(slug=slug).first()
    if client is None:
        raise ApplicationError(_("Unknown tenant '%(tenant)s'.") % {"tenant": slug}, status=404)
    return client


def client_settings_for(client: Client) -> ClientSettings:
    return ClientSettings.objects.for_tenant(client).get()


def tenant_channel(tenant: Client | int) -> str:
    """The tenant's release channel, read fresh (a flip must show on the next turn)."""
    tenant_id = getattr(tenant, "pk", tenant)
    channel = ClientSettings.objects.filter(client_id=tenant_id).values_list("release_channel", flat=True).first()
    return channel or ReleaseChannel.STABLE


def channel_queue(channel: str) -> str:
    """The Celery queue serving a channel's customer work (docker-compose: `worker` reads
    stable, `worker-canary` — the canary image — reads canary)."""
    return ReleaseChannel.CANARY.value if channel == ReleaseChannel.CANARY else ReleaseChannel.STABLE.value
