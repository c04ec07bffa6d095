"""kb_promote --tenant S --version N → the draft becomes the tenant's stable KB version.

The service refuses when the tenant has evaluation cases and the version is below the
release thresholds (this command runs the evaluation first). The lead wraps the call in the
write-risk policy (`kb.promote` is high risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.actors import Actor
from imperium.exceptions import ApplicationError
from knowledge.selectors import kb_version_get
from knowledge.services import kb_version_promote
from tenants.selectors import client_get_by_slug


def eval_check(version: Any) -> tuple[bool, dict[str, Any]]:
    """Run the tenant's stored cases against `version` with the real answer brain."""
    from conversations.reply_decision import decide_reply
    from knowledge.evaluation import run_eval
    from knowledge.management.commands.kb_eval import thresholds_from_settings
    from knowledge.models import KnowledgeEvalSet
    from knowledge.services import kb_eval_run_record

    cases = KnowledgeEvalSet.objects.for_tenant(version.tenant).get().cases
    result = run_eval(cases, lambda messages: decide_reply(version.tenant, None, messages, kb_version=version),
                      thresholds=thresholds_from_settings())
    summary = result["summary"]
    kb_eval_run_record(version=version, summary=summary, passed=summary["passed"])
    return summary["passed"], summary


class Command(BaseCommand):
    help = "Promote a draft KB version to stable (archives the previous stable one)."

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # The contract's --version N means the KB version; Django's own --version yields to it.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--tenant", required=True)
        parser.add_argument("--version", type=int, required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        tenant = client_get_by_slug(options["tenant"])
        if tenant is None:
            raise CommandError(f"Unknown tenant '{options['tenant']}'.")
        version = kb_version_get(tenant, options["version"])
        if version is None:
            raise CommandError(f"{tenant.slug} has no KB v{options['version']}.")
        try:
            version = kb_version_promote(actor=Actor.system("kb_promote"), version=version, check=eval_check)
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"{tenant.slug}: KB v{version.number} is now stable.")
