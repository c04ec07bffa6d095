"""crm_disconnect --tenant S: the bot stops using the tenant's CRM (bookings go to managers again)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.services import crm_disconnect
from imperium.core.actors import Actor
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Disconnect a tenant's CRM (the service map is kept for a later crm_connect)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        changed = crm_disconnect(actor=Actor.system("manage.py crm_disconnect"), tenant=tenant)
        self.stdout.write(f"Disconnected the CRM of {tenant.slug}." if changed else f"{tenant.slug} had no active CRM connection.")
