"""release_canary --version V → point the canary channel at draft V (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Point the canary channel at a draft release (canary tenants get it on their next turn)."
    name = "release_canary"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--version", required=True)
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.start_canary(
            actor=self.actor(), version=options["version"], source=EventSource.CLI, reason=options["reason"]))
