"""Shared plumbing of the release management commands: actor, policy outcome printing, errors."""

from __future__ import annotations

import getpass
import json
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from imperium.core.actors import Actor
from imperium.core.exceptions import ApplicationError
from imperium.core.policy import PolicyOutcome
from releases.operations import describe


def cli_actor(command: str) -> Actor:
    """The person at the shell, as far as we can tell (audit entries name them)."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry inside some containers
        user = "unknown"
    return Actor.system(f"cli:{user}:{command}")


class OperationCommand(BaseCommand):
    """A command that runs one release operation through the write-risk policy and prints the outcome:
    `executed …` or `pending verification #id …` (exit 0), or the refusal (exit 1)."""

    name = ""

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        # Our `--version` (a release version) replaces Django's "show the program version" flag.
        return super().create_parser(prog_name, subcommand, conflict_handler="resolve", **kwargs)

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--json", action="store_true", help="Print the outcome as one JSON object")

    def actor(self) -> Actor:
        return cli_actor(self.name)

    def run_operation(self, options: dict[str, Any], operation: Callable[[], PolicyOutcome]) -> PolicyOutcome:
        try:
            outcome = operation()
        except ApplicationError as exc:
            raise CommandError(exc.message) from None
        if options.get("json"):
            body = {"status": outcome.status, "action": outcome.action, "risk": outcome.risk, "result": outcome.result,
                    "error": outcome.error}
            if outcome.request is not None:
                body["verification_request"] = outcome.request.pk
            self.stdout.write(json.dumps(body, ensure_ascii=False, default=str))
        else:
            style = self.style.WARNING if outcome.status == "pending" else self.style.SUCCESS
            self.stdout.write(style(describe(outcome)))
        if outcome.status not in ("executed", "pending"):
            raise CommandError(outcome.error or outcome.status)
        return outcome
