"""crm_connect --tenant S --kind altegio|yclients --company-id N --partner-token T --user-token U [--base-url URL]

Checks the credentials with one read call (`book_services`) and prints the services found; the
connection (tokens encrypted) and the service map are stored only when that call worked. A
wrong token is a clear error and a non-zero exit."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crm.choices import CrmKind
from crm.services import crm_connect
from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Connect a tenant to its Altegio / YCLIENTS account; prints the services found."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--kind", required=True, choices=CrmKind.values)
        parser.add_argument("--company-id", required=True, type=int, help="The salon's company id in the CRM")
        parser.add_argument("--partner-token", required=True, help="Partner (developer) token (stored encrypted)")
        parser.add_argument("--user-token", required=True, help="User token of the salon (stored encrypted)")
        parser.add_argument("--base-url", default="", help="Override the public API address (tests, self-hosted proxies)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        try:
            connection, services = crm_connect(
                actor=Actor.system("manage.py crm_connect"), tenant=tenant, kind=options["kind"], company_id=options["company_id"],
                partner_token=options["partner_token"], user_token=options["user_token"], base_url=options["base_url"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"Connected {tenant.slug} to {connection.get_kind_display()} company {connection.company_id} "
                          f"({connection.api_base}). Services found: {len(services)}")
        for service in services:
            self.stdout.write(f"  {service.crm_id}  {service.title}")
