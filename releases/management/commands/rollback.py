"""rollback --tenant S → the tenant goes back to the stable channel at once (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Move a tenant back to the stable channel at once."
    name = "rollback"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--tenant", required=True, help="Tenant slug")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.rollback(
            actor=self.actor(), tenant=options["tenant"], source=EventSource.CLI, reason=options["reason"]))
