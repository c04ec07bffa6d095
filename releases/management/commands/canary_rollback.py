"""canary_rollback --reason R → every canary tenant back to stable, the canary release rolled back (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Take the canary down: all canary tenants back to stable, the canary release marked rolled back, canary pointer cleared."
    name = "canary_rollback"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--reason", required=True)

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.canary_auto_rollback(actor=self.actor(), reason=options["reason"],
                                                                                       source=EventSource.CLI))
