"""fix_release --proposal ID → request releasing a verified fix to stable (high risk: waits for the CEO)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Promote a verified fix's release to stable. High risk: creates a verification request."
    name = "fix_release"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--proposal", type=int, required=True)
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.release_fix(
            actor=self.actor(), proposal=options["proposal"], source=EventSource.CLI, reason=options["reason"]))
