"""fix_verify --proposal ID [--note N] → mark a fix on canary as verified (low risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = "Record that a fix proved itself on canary (canary → verified)."
    name = "fix_verify"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        parser.add_argument("--proposal", type=int, required=True)
        parser.add_argument("--note", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.verify_fix(
            actor=self.actor(), proposal=options["proposal"], note=options["note"], source=EventSource.CLI))
