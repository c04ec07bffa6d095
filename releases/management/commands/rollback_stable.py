"""rollback_stable [--to V | --to-defaults] → request re-pointing stable to the previous stable release (high risk)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from releases import operations
from releases.choices import EventSource
from releases.management.base import OperationCommand


class Command(OperationCommand):
    help = ("Roll the stable pointer back to the previous good stable release (or --to V, a retired release, "
            "or --to-defaults). High risk: creates a verification request.")
    name = "rollback_stable"

    def add_arguments(self, parser: CommandParser) -> None:
        super().add_arguments(parser)
        target = parser.add_mutually_exclusive_group()
        target.add_argument("--to", dest="to_version", default=None, help="A retired release to go back to")
        target.add_argument("--to-defaults", action="store_true", help="Go back to the built-in defaults")
        parser.add_argument("--reason", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        self.run_operation(options, lambda: operations.rollback_stable(
            actor=self.actor(), to_version=options["to_version"], to_defaults=options["to_defaults"], source=EventSource.CLI,
            reason=options["reason"]))
