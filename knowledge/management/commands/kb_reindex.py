"""kb_reindex [--tenant S] [--version N] → rebuild the index from Postgres."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.actors import Actor
from imperium.core.exceptions import IntegrationError
from knowledge.index import index_mode
from knowledge.selectors import kb_version_get
from knowledge.services import kb_reindex
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = ("Rebuild the knowledge index from Postgres (every live version, one tenant's, or one version). With the "
            "embedded index this only proves the build works: each process rebuilds its own on first use.")

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The contract's --version N (docs/CONTRACTS.md "Command line") means the KB version; Django's own --version yields to it.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", default=None)
        parser.add_argument("--version", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = version = None
        if options["tenant"]:
            tenant = client_get_by_slug(options["tenant"])
            if tenant is None:
                raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        if options["version"] is not None:
            if tenant is None:
                raise CommandError("--version needs --tenant.")
            version = kb_version_get(tenant, options["version"])
            if version is None:
                raise CommandError(f"{tenant.slug} has no KB v{options['version']}.")
        try:
            logs = kb_reindex(actor=Actor.system("kb_reindex"), tenant=tenant, version=version)
        except IntegrationError as exc:
            raise CommandError(exc.message) from None
        for log in logs:
            self.stdout.write(f"{log.version.tenant.slug} v{log.version.number}: {log.items} items, {log.status} {log.timings}")
        self.stdout.write(f"{len(logs)} version(s) indexed ({index_mode()}).")
