"""deploy_canary --tenant S → the tenant follows the canary pointer (low risk: the operator's command is the verification)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Move a tenant to the canary channel (its next turn uses the canary release)."
    name = "deploy_canary"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.deploy_canary(
            actor=self.actor(), tenant=options["tenant"], source=EventSource.CLI, reason=options["reason"]))
