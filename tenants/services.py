"""Tenant writes: onboarding, settings changes, secret rotation. Each one is audited."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from imperium.core.actors import Actor
from imperium.core.crypto import generate_webhook_secret
from imperium.core.exceptions import ApplicationError
from imperium.core.services import audit_record
from tenants.choices import ClientStatus, ReleaseChannel
from tenants.models import Client, ClientSettings, TenantMembership

# Fields an operator may change through `client_settings_update`; secrets have their own services.
EDITABLE_SETTINGS = frozenset(
    {
        "chatflow_instance_id",
        "telegram_chat_id",
        "telegram_topic_id",
        "coalesce_window_seconds",
        "coalesce_max_seconds",
        "holding_reply_template",
        "holding_followup_template",
        "escalation_sla_minutes",
    }
)

# Of those, the texts customers read (changes need the CEO's verification: tenant.holding_reply_change).
CUSTOMER_FACING_SETTINGS = frozenset({"holding_reply_template", "holding_followup_template"})


@dataclass(frozen=True)
class OnboardResult:
    client: Client
    webhook_url: str
    webhook_secret: str  # shown once to the operator, stored only encrypted


def webhook_url_for(client: Client) -> str:
    return f"{settings.PUBLIC_BASE_URL}/webhook/{client.slug}"


def _validated(instance: Any) -> None:
    try:
        instance.full_clean()
    except ValidationError as exc:
        raise ApplicationError(
            "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items()),
            {"fields": exc.message_dict},
        ) from None


@transaction.atomic
def client_onboard(
    *,
    actor: Actor,
    slug: str,
    name: str,
    chatflow_token: str = "",
    chatflow_instance_id: str = "",
    telegram_chat_id: int | None = None,
    telegram_topic_id: int | None = None,
    timezone_name: str = "Asia/Almaty",
    locale: str = "ru",
    status: str = ClientStatus.ACTIVE,
) -> OnboardResult:
    """Create a tenant with its settings and a fresh webhook secret.

    Refuses a duplicate slug with ApplicationError. Audited as `tenant.onboarded`.
    """
    if Client.objects.filter(slug=slug).exists():
        raise ApplicationError(_("A tenant with slug '%(slug)s' already exists; choose another slug.") % {"slug": slug}, status=409)
    client = Client(slug=slug, name=name, timezone=timezone_name, locale=locale, status=status)
    _validated(client)
    secret = generate_webhook_secret()
    client_settings = ClientSettings(
        client=client,
        webhook_secret=secret,
        chatflow_token=chatflow_token,
        chatflow_instance_id=chatflow_instance_id,
        telegram_chat_id=telegram_chat_id,
        telegram_topic_id=telegram_topic_id,
    )
    try:
        client.save()
    except IntegrityError:  # a concurrent onboarding won the race for the slug
        raise ApplicationError(
            _("A tenant with slug '%(slug)s' already exists; choose another slug.") % {"slug": slug}, status=409
        ) from None
    client_settings.client = client
    _validated(client_settings)
    client_settings.save()
    audit_record(
        actor=actor,
        action="tenant.onboarded",
        tenant=client,
        obj=client,
        payload={
            "slug": slug,
            "name": name,
            "chatflow_configured": bool(chatflow_token),
            "telegram_chat_id": telegram_chat_id,
            "telegram_topic_id": telegram_topic_id,
        },
    )
    return OnboardResult(client=client, webhook_url=webhook_url_for(client), webhook_secret=secret)


CLIENT_EDITABLE = frozenset({"name", "timezone", "locale"})


def _apply_audited_changes(*, actor: Actor, client: Client, instance: Any, changes: dict[str, Any],
                           allowed: frozenset[str], action: str) -> Any:
    """Set `changes` on a locked `instance`, validate, save and audit the diff (nothing if unchanged)."""
    unknown = set(changes) - allowed
    if unknown:
        raise ApplicationError(f"Not editable here: {', '.join(sorted(unknown))}.")
    diff = {}
    for field, value in changes.items():
        old = getattr(instance, field)
        if old != value:
            diff[field] = {"from": old, "to": value}
            setattr(instance, field, value)
    if not diff:
        return instance
    _validated(instance)
    instance.save()
    audit_record(actor=actor, action=action, tenant=client, obj=instance, payload=diff)
    return instance


@transaction.atomic
def client_update(*, actor: Actor, client: Client, **changes: Any) -> Client:
    """Change a tenant's name, timezone or locale; audited as `tenant.updated` with the diff.
    Status has its own service (`client_set_status`)."""
    locked = Client.objects.select_for_update().get(pk=client.pk)
    return _apply_audited_changes(actor=actor, client=locked, instance=locked, changes=changes,
                                  allowed=CLIENT_EDITABLE, action="tenant.updated")


@transaction.atomic
def client_settings_update(*, actor: Actor, client: Client, **changes: Any) -> ClientSettings:
    """Change non-secret settings; audited as `tenant.settings_changed` with old and new values."""
    locked = ClientSettings.objects.select_for_update().get(client=client)
    return _apply_audited_changes(actor=actor, client=client, instance=locked, changes=changes,
                                  allowed=EDITABLE_SETTINGS, action="tenant.settings_changed")


@transaction.atomic
def webhook_secret_rotate(*, actor: Actor, client: Client) -> str:
    """Make a new current secret; the old one stays valid as `previous` until the next rotation.

    Returns the new secret (to show once). Audited as `tenant.webhook_secret_rotated`.
    """
    client_settings = ClientSettings.objects.select_for_update().get(client=client)
    secret = generate_webhook_secret()
    client_settings.webhook_secret_previous = client_settings.webhook_secret
    client_settings.webhook_secret = secret
    client_settings.webhook_secret_rotated_at = timezone.now()
    client_settings.save()
    audit_record(actor=actor, action="tenant.webhook_secret_rotated", tenant=client, obj=client_settings)
    return secret


@transaction.atomic
def chatflow_token_set(*, actor: Actor, client: Client, token: str, instance_id: str | None = None) -> ClientSettings:
    client_settings = ClientSettings.objects.select_for_update().get(client=client)
    client_settings.chatflow_token = token
    if instance_id is not None:
        client_settings.chatflow_instance_id = instance_id
    client_settings.save()
    audit_record(actor=actor, action="tenant.chatflow_token_set", tenant=client, obj=client_settings,
                 payload={"instance_id": client_settings.chatflow_instance_id})
    return client_settings


@transaction.atomic
def client_set_status(*, actor: Actor, client: Client, status: str) -> Client:
    if status not in ClientStatus.values:
        raise ApplicationError(f"Unknown status {status!r}.")
    old = client.status
    if old == status:
        return client
    Client.objects.filter(pk=client.pk).update(status=status, updated_at=timezone.now())
    client.refresh_from_db()
    audit_record(actor=actor, action="tenant.status_changed", tenant=client, obj=client, payload={"from": old, "to": status})
    return client


@transaction.atomic
def client_set_release_channel(*, actor: Actor, client: Client, channel: str) -> ClientSettings:
    """Low-level channel flip. Callers outside `releases` should go through the release services."""
    if channel not in ReleaseChannel.values:
        raise ApplicationError(_("Unknown release channel %(channel)s; use stable or canary.") % {"channel": repr(channel)})
    client_settings = ClientSettings.objects.select_for_update().get(client=client)
    old = client_settings.release_channel
    if old == channel:
        return client_settings
    client_settings.release_channel = channel
    client_settings.save(update_fields=["release_channel", "updated_at"])
    audit_record(actor=actor, action="tenant.release_channel_changed", tenant=client, obj=client_settings,
                 payload={"from": old, "to": channel})
    return client_settings


@transaction.atomic
def membership_save(*, actor: Actor, membership: TenantMembership) -> TenantMembership:
    """Create or change a membership (user ↔ tenant with a role); audited."""
    created = membership.pk is None
    _validated(membership)
    membership.save()
    audit_record(
        actor=actor,
        action="tenant.membership_added" if created else "tenant.membership_changed",
        tenant=membership.client,
        obj=membership,
        payload={"user": membership.user.get_username(), "role": membership.role},
    )
    return membership


@transaction.atomic
def membership_remove(*, actor: Actor, membership: TenantMembership) -> None:
    audit_record(actor=actor, action="tenant.membership_removed", tenant=membership.client, obj=membership,
                 payload={"user": membership.user.get_username(), "role": membership.role})
    membership.delete()
