"""kb_promote --tenant S --version N → through the write-risk policy (`kb.promote`, high risk):
a verification request that a verifier (CEO) approves in Telegram or admin; approval promotes
the draft to stable. When the tenant has evaluation cases, the version must meet the stable
release's eval thresholds — checked now (so nobody is asked to approve a failing version) and
again when the promotion runs (policy precondition, releases.kb_gate).

Contract: docs/CONTRACTS.md "Command line".
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import policy_execute
from knowledge.choices import VersionStatus
from knowledge.selectors import kb_version_get
from tenants.selectors import client_get_by_slug


class Command(BaseCommand):
    help = "Ask to promote a draft KB version to stable (a verifier approves it; the previous stable one is archived)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The contract's --version N (docs/CONTRACTS.md "Command line") means the KB version; Django's own --version yields to it.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--version", type=int, required=True)
        parser.add_argument("--reason", default="", help="why (shown to the verifier)")

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        version = kb_version_get(tenant, options["version"])
        if version is None:
            raise CommandError(f"{tenant.slug} has no KB v{options['version']}.")
        if version.status != VersionStatus.DRAFT:
            raise CommandError(f"KB v{version.number} is {version.status}; only a draft can be promoted.")
        try:
            outcome = policy_execute("kb.promote", Actor.system("kb_promote"), {"tenant": tenant.slug, "version": version.number},
                                     tenant=tenant, reason=options["reason"])
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if outcome.executed:
            self.stdout.write(f"{tenant.slug}: KB v{version.number} is now stable.")
        else:
            self.stdout.write(f"{tenant.slug}: promotion of KB v{version.number} waits for verification "
                              f"(request #{outcome.request.pk}); approve it in Telegram or admin.")
